// PID 1 of test/guest-run.ts's machines: runs each command listed in /guest-run.json with its output
// captured in a tmpfs, reports one result event per command on the probe channel (ordered before the
// power-off event there, which the console's separately drained bytes would not be), syncs the disk and
// powers off.
import * as sys from "sys";
import { encodeEvent, type Phase } from "../../src/events/index.ts";
import { decodeUtf8 } from "../../src/hive/index.ts";

interface Command {
  argv: string[];
  env?: string[];
  stdin?: string;
}

const probe = sys.open("/dev/ttyS1", sys.O_WRONLY | sys.O_NOCTTY);
const report = (phase: string, data?: Record<string, unknown>) =>
  sys.write(probe, encodeEvent({ t: 0, phase: phase as Phase, status: "done", ...(data ? { data } : {}) }));
sys.mount("proc", "/proc", "proc", 0, "");
sys.mount("tmpfs", "/tmp", "tmpfs", 0, "size=4m");
const commands = JSON.parse(decodeUtf8(sys.readFile("/guest-run.json"))) as Command[];
commands.forEach((command, index) => {
  const capture = (name: string) => sys.open(`/tmp/${index}.${name}`, sys.O_RDWR | sys.O_CREAT | sys.O_TRUNC, 0o600);
  sys.writeFile(`/tmp/${index}.stdin`, command.stdin ?? "");
  const [stdin, stdout, stderr] = [sys.open(`/tmp/${index}.stdin`, sys.O_RDONLY), capture("stdout"), capture("stderr")];
  let result: Record<string, unknown>;
  try {
    const pid = sys.spawn(command.argv[0], command.argv, command.env ?? [], { stdin, stdout, stderr, cwd: "/" });
    const status = sys.waitpid(pid)!;
    result = { code: status.code, signal: status.signal };
  } catch (error) {
    result = { spawnError: String(error) };
  }
  for (const fd of [stdin, stdout, stderr]) sys.close(fd);
  const text = (name: string) => decodeUtf8(sys.readFile(`/tmp/${index}.${name}`));
  report("guest-run", { index, ...result, stdout: text("stdout"), stderr: text("stderr") });
});
sys.sync();
report("power-off");
sys.reboot("power-off");
