// psxss.exe — STUB: a stand-in for the POSIX subsystem, the Optional subsystem of the default hive. It does
// what a subsystem does towards smss (announces itself on \SmApiPort with its own SbApiPort) and nothing
// of POSIX: it then waits on its port until the machine goes down.
import * as sys from "sys";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { NtStatus } from "../../src/smapi/index.ts";
import { report } from "../lib/probe.ts";
import { announceSubsystem } from "../lib/sm-client.ts";

const SB_API_PORT = "\\PsxSbApiPort";

const sbApiPort = sys.createPort(ntObjectPath(SB_API_PORT));
const status = announceSubsystem("Posix", 0, SB_API_PORT);
if (status !== NtStatus.SUCCESS) {
  report("subsystem", "failed", { name: "Posix", pid: sys.getpid(), status });
  sys.exit(1);
}
report("subsystem", "done", { name: "Posix", pid: sys.getpid(), stub: true });
for (;;) {
  sys.poll([{ fd: sbApiPort, events: sys.POLLIN }], -1);
  sys.close(sys.accept(sbApiPort));
}
