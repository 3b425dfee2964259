// Guest program for test/win32k.test.ts: loads win32k.sys and checks its session table through /dev/win32k
// from user mode, the way smss and csrss will use it. Runs as root (PID 1's child). Modes (argv[1]):
//   drive MODULE SELF   the checks; prints one JSON report line. SELF is this program, started again in the
//                       other modes as children and grandchildren.
//   after MODULE        run by the next command of the same boot, once `drive` has exited.
//   unprivileged        run by `after` as uid 1000: what it may ask and may not change.
//   sleep | exit        a child that waits to be killed | ends at once.
//   middle SELF FILE    starts a `sleep` grandchild, writes its pid to FILE and exits without waiting.
// Around the module load and around groups of forks it marks the probe channel (COM2), where the host
// stamps each line with the guest's instruction count: test/win32k.test.ts prints what they cost.
import * as sys from "sys";
import { encodeEvent, type Phase } from "../../src/events/index.ts";
import { decodeUtf8 } from "../../src/hive/index.ts";

const DEVICE = "/dev/win32k";
const MISSING = "/t/no-such-program";

function codeOf(action: () => unknown): string {
  try {
    action();
    return "ok";
  } catch (error) {
    if (error instanceof sys.SysError) return error.code;
    throw error;
  }
}

function sysErrorOf(action: () => unknown): { code: string; syscall: string; path?: string } | null {
  try {
    action();
    return null;
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    return { code: error.code, syscall: error.syscall, path: error.path };
  }
}

/** A write of one command: "ok" or the errno's name. */
const command = (fd: number, text: string) => codeOf(() => sys.write(fd, text));

/** Reads one reply to its end of file. */
function reply(fd: number): string {
  let text = "";
  for (;;) {
    const chunk = sys.read(fd, 4096);
    if (chunk.length === 0) return text;
    text += decodeUtf8(chunk);
  }
}

/** The answer to a question, or the errno's name when the write fails. */
function ask(fd: number, question: string): string {
  const code = command(fd, question);
  return code === "ok" ? reply(fd) : code;
}

/** State letter and parent pid from /proc/PID/stat, or null when the process is gone. */
function procStat(pid: number): { state: string; ppid: number } | null {
  let text: string;
  try {
    text = decodeUtf8(sys.readFile(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], ppid: Number(fields[1]) };
}

function waitUntil(description: string, test: () => boolean): void {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (test()) return;
    sys.sleep(10);
  }
  throw new Error(`timed out waiting until ${description}`);
}

/** The last pid the kernel handed out (the fifth field of /proc/loadavg). */
const lastPid = () => Number(decodeUtf8(sys.readFile("/proc/loadavg")).trim().split(" ")[4]);

/** A spawn that fails at execve: a fork and an exit that start no program, one pid used. */
const failedSpawn = () => codeOf(() => sys.spawn(MISSING, [MISSING], []));

// Opened on first use: the unprivileged mode may not open the probe line, and never marks.
let probe = -1;
/** A mark on the probe channel; the guest then idles while the line goes out, so that the host's
 * instruction count for it is not mixed with what follows. */
function mark(name: string): void {
  if (probe < 0) probe = sys.open("/dev/ttyS1", sys.O_WRONLY | sys.O_NOCTTY);
  sys.write(probe, encodeEvent({ t: 0, phase: `win32k-${name}` as Phase, status: "done" }));
  sys.sleep(100);
}

function drive(modulePath: string, self: string): Record<string, unknown> {
  const report: Record<string, unknown> = {};
  const spawnSelf = (...args: string[]) => sys.spawn(self, [self, ...args], []);

  mark("idle-start");
  mark("idle-end");
  mark("load-start");
  sys.loadKernelModule(modulePath);
  mark("load-end");
  report.loadAgain = sysErrorOf(() => sys.loadKernelModule(modulePath));
  report.loadMissing = sysErrorOf(() => sys.loadKernelModule("/t/missing.sys"));

  const node = sys.stat(DEVICE);
  report.device = { isCharacterDevice: (node.mode & sys.S_IFMT) === sys.S_IFCHR, permissions: node.mode & 0o777 };
  const fd = sys.open(DEVICE, sys.O_RDWR);
  report.emptyTable = reply(fd);
  report.seek = codeOf(() => sys.lseek(fd, 0, sys.SEEK_SET));

  const errors: Record<string, string> = {};
  for (const text of [
    "create",
    "create x",
    "create -1",
    "create +1",
    "create 01",
    "create 4294967296",
    "create 1 2",
    "frobnicate 1",
    "create 1\ncreate 2\n",
    "\n",
    `create ${"1".repeat(70)}`,
    "destroy 7",
    "attach 1 7",
    "session 7",
    "process 0",
    "process 30000",
  ]) {
    errors[text] = command(fd, text);
  }
  report.errors = errors;
  report.created = [command(fd, "create 1\n"), command(fd, "create 0"), command(fd, "create 1\n")];
  report.tableAfterCreate = reply(fd);
  // kthreadd is pid 2: a kernel thread has no place in a session.
  report.kernelThread = command(fd, "attach 2 1");

  // pid reuse: a process attached to session 1 exits, then a new process (a child of this one, which is in
  // no session) gets its pid. The kernel hands pids out cyclically and, after wrapping, from 300 up;
  // pid_max 302 leaves only 300 and 301 to cycle through once the counter has passed 300.
  const pidMax = decodeUtf8(sys.readFile("/proc/sys/kernel/pid_max")).trim();
  sys.writeFile("/proc/sys/kernel/pid_max", "302");
  while (lastPid() < 299) failedSpawn();
  const doomed = spawnSelf("sleep");
  const reuse: Record<string, unknown> = { doomed };
  reuse.attach = command(fd, `attach ${doomed} 1`);
  reuse.doomedBefore = ask(fd, `process ${doomed}`);
  sys.kill(doomed, sys.SIGKILL);
  sys.waitpid(doomed);
  reuse.doomedAfter = ask(fd, `process ${doomed}`);
  for (let spins = 0; spins < 4 && lastPid() !== (doomed === 300 ? 301 : 300); spins++) failedSpawn();
  const heir = spawnSelf("sleep");
  reuse.heir = heir;
  reuse.heirAnswer = ask(fd, `process ${heir}`);
  reuse.session1 = ask(fd, "session 1");
  sys.kill(heir, sys.SIGKILL);
  sys.waitpid(heir);
  sys.writeFile("/proc/sys/kernel/pid_max", pidMax);
  report.reuse = reuse;

  // What a fork costs the kernel outside a session and inside one (the copy of the event and its context).
  const FORKS = 20;
  mark("forks-outside-start");
  for (let index = 0; index < FORKS; index++) failedSpawn();
  mark("forks-outside-end");

  const me = sys.getpid();
  report.me = me;
  report.attachSelf = command(fd, `attach ${me} 1`);
  report.selfAnswer = ask(fd, `process ${me}`);
  report.attachSelfAgain = command(fd, `attach ${me} 0`);

  mark("forks-inside-start");
  for (let index = 0; index < FORKS; index++) failedSpawn();
  mark("forks-inside-end");

  const child = spawnSelf("sleep");
  report.child = { pid: child, answer: ask(fd, `process ${child}`) };

  const pidFile = "/tmp/win32k-grandchild";
  const middle = spawnSelf("middle", self, pidFile);
  const middleStatus = sys.waitpid(middle)!;
  const grandchild = Number(decodeUtf8(sys.readFile(pidFile)));
  report.middle = { code: middleStatus.code, answer: ask(fd, `process ${middle}`) };
  report.grandchild = { pid: grandchild, parent: procStat(grandchild)?.ppid, answer: ask(fd, `process ${grandchild}`) };

  // A process leaves the table when it exits, before its parent reaps it.
  const quitter = spawnSelf("exit");
  waitUntil(`pid ${quitter} is a zombie`, () => procStat(quitter)?.state === "Z");
  report.zombie = { pid: quitter, answer: ask(fd, `process ${quitter}`), session1: ask(fd, "session 1") };
  sys.waitpid(quitter);

  report.session1 = ask(fd, "session 1");
  report.session0 = ask(fd, "session 0");
  report.table = reply(fd);
  report.tableAgain = reply(fd);
  report.destroyBusy = command(fd, "destroy 1");
  report.destroyEmpty = command(fd, "destroy 0");

  sys.kill(child, sys.SIGKILL);
  sys.waitpid(child);
  sys.kill(grandchild, sys.SIGKILL);
  // The grandchild is PID 1's child now, and PID 1 does not reap it: it stays a zombie.
  waitUntil(`pid ${grandchild} has exited`, () => [undefined, "Z"].includes(procStat(grandchild)?.state));
  report.afterKill = { child: ask(fd, `process ${child}`), grandchild: ask(fd, `process ${grandchild}`), session1: ask(fd, "session 1") };
  sys.close(fd);
  return report;
}

function after(modulePath: string): Record<string, unknown> {
  const fd = sys.open(DEVICE, sys.O_RDWR);
  const report: Record<string, unknown> = { tableBefore: reply(fd) };
  report.destroy = command(fd, "destroy 1");
  report.tableAfter = reply(fd);
  report.createAgain = command(fd, "create 1");
  report.session1 = ask(fd, "session 1");
  report.loadAgain = sysErrorOf(() => sys.loadKernelModule(modulePath))?.code;
  sys.close(fd);
  // The same program as uid 1000, printing on a file this (root) process opened for it.
  const output = "/tmp/unprivileged.json";
  const stdout = sys.open(output, sys.O_RDWR | sys.O_CREAT | sys.O_TRUNC, 0o600);
  sys.waitpid(sys.spawn(sys.argv[0], [sys.argv[0], "unprivileged"], [], { uid: 1000, gid: 1000, stdout }));
  sys.close(stdout);
  report.unprivileged = JSON.parse(decodeUtf8(sys.readFile(output)));
  return report;
}

/** What a process that is not root may do: ask, but not change the table. */
function unprivileged(): Record<string, unknown> {
  const fd = sys.open(DEVICE, sys.O_RDWR);
  const report = { create: command(fd, "create 7"), attach: command(fd, `attach ${sys.getpid()} 1`), destroy: command(fd, "destroy 1"), session1: ask(fd, "session 1") };
  sys.close(fd);
  return report;
}

const [, mode, ...args] = sys.argv;
switch (mode) {
  case "drive":
    console.log(JSON.stringify(drive(args[0], args[1])));
    break;
  case "after":
    console.log(JSON.stringify(after(args[0])));
    break;
  case "unprivileged":
    console.log(JSON.stringify(unprivileged()));
    break;
  case "sleep":
    sys.sleep(600_000);
    break;
  case "exit":
    break;
  case "middle": {
    const [self, pidFile] = args;
    sys.writeFile(pidFile, String(sys.spawn(self, [self, "sleep"], [])));
    break;
  }
  default:
    throw new Error(`win32k.ts: unknown mode ${mode}`);
}
