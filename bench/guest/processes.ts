// Guest side of `npm run bench processes`: what a new process costs. Marks on the probe channel bracket
// a child's start (the host counts guest instructions between the parent's mark and the child's first
// line), and MemFree before and after starting idle children, each from a file of its own (as csrss,
// lsass and winlogon are), gives memory per process, for programs on the shared runtime and for
// self-contained ones. argv: the directory of each kind's copies (0.exe .. 5.exe).
import * as sys from "sys";

const probe = sys.open("/dev/ttyS1", sys.O_WRONLY | sys.O_NOCTTY, 0);
const mark = (label: string, data: Record<string, unknown> = {}) => sys.write(probe, JSON.stringify({ t: 0, phase: "bench", status: "done", data: { label, ...data } }) + "\n");

if (sys.argv[1] === "first-line") {
  mark("child first line");
  sys.exit(0);
}
if (sys.argv[1] === "idle") {
  mark("idle child up");
  sys.poll([{ fd: 0, events: sys.POLLIN }], -1);
  sys.exit(0);
}

const IDLE_CHILDREN = 6;
// MemFree, not MemAvailable: the point is the page cache each program's file takes.
const freeKiB = () => {
  const line = String.fromCharCode(...sys.readFile("/proc/meminfo")).split("\n").find((l) => l.startsWith("MemFree:"))!;
  return Number(line.split(/\s+/)[1]);
};

for (const [kind, directory] of [["system runtime", sys.argv[1]], ["embedded runtime", sys.argv[2]]] as const) {
  const program = `${directory}/0.exe`;
  for (let run = 0; run < 5; run++) {
    mark("before spawn", { kind });
    sys.waitpid(sys.spawn(program, [program, "first-line"], []));
  }
  // Idle children hold stdin open on a file that never becomes readable... a tmpfs file is always
  // readable, so each waits on a port of its own instead: the listening socket of a port nobody calls.
  sys.sync();
  const before = freeKiB();
  const pids: number[] = [];
  for (let index = 1; index <= IDLE_CHILDREN; index++) {
    const port = sys.createPort(`/tmp/idle-${kind}-${index}`);
    const copy = `${directory}/${index}.exe`;
    pids.push(sys.spawn(copy, [copy, "idle"], [], { stdin: port }));
    sys.close(port);
  }
  sys.sleep(1000);
  const after = freeKiB();
  mark("memory", { kind, perProcessKiB: Math.round((before - after) / IDLE_CHILDREN) });
  for (const pid of pids) sys.kill(pid, 9);
  for (const pid of pids) sys.waitpid(pid);
}
