// After initialisation smss stays resident as PID 1: it reaps every child that exits (orphans are
// re-parented to it) and tells the session manager, serves \SmApiPort (smapi.ts) and answers commands on
// the control line. It waits in poll(2) on the control line, the port and its connections and on a
// signalfd for SIGCHLD, so an idle guest really idles.
//
// The control line is COM2, the line the host already reads probe events from: COM1 belongs to winlogon
// and the user. A command is one line; its answer is a `command` event on the same line.
import * as sys from "sys";
import { TEST_CONTROL_SWITCH, type CommandData } from "../../src/events/index.ts";
import { bugcheck, STATUS_SYSTEM_PROCESS_TERMINATED } from "./bugcheck.ts";
import { say } from "./console.ts";
import { drainSignals, reapEnded } from "../lib/children.ts";
import { processStatus } from "../lib/processes.ts";
import { report } from "../lib/probe.ts";
import type { SessionManager } from "./sessions.ts";
import type { SmApiServer } from "./smapi.ts";
import { decodeLatin1 } from "../../src/hive/text.ts";

const CONTROL_LINE = "/dev/ttyS1";

interface Command {
  help: string;
  run: (args: string[]) => string;
}

const COMMANDS: Record<string, Command> = {
  help: { help: "list these commands", run: () => helpText() },
  ver: { help: "show the kernel and smss versions", run: () => versionText() },
  mem: { help: "the kernel's memory figures and each process's resident set", run: () => memoryText() },
  shutdown: { help: "sync the disk and power off at once (winlogon's shutdown is the clean way)", run: powerOff },
  crash: {
    help: "stop the machine with a bugcheck, as when a critical process dies",
    run: () => bugcheck(STATUS_SYSTEM_PROCESS_TERMINATED, [0, 0, 0, 0], "crash requested on the control line"),
  },
};

/** Test machinery: only when the kernel command line carries TEST_CONTROL_SWITCH. */
const TEST_COMMANDS: Record<string, Command> = {
  kill: { help: "kill <pid> [signal]: end a guest process (tests only)", run: killProcess },
};

export function stayResident(smApi: SmApiServer, sessions: SessionManager, kernelCommandLine: string): never {
  if (kernelCommandLine.split(" ").includes(TEST_CONTROL_SWITCH)) Object.assign(COMMANDS, TEST_COMMANDS);
  const control = sys.open(CONTROL_LINE, sys.O_RDWR | sys.O_NONBLOCK | sys.O_NOCTTY, 0);
  // Whole lines, and nothing echoed back onto the line the host parses.
  sys.setTerminalMode(control, false, true);
  const childExits = sys.signalfd([sys.SIGCHLD]);
  say("smss: resident; commands on the control line (COM2).");
  sessions.startBootSessions();
  let pending = "";
  for (;;) {
    for (const result of reapEnded()) sessions.processEnded(result);
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      runCommand(pending.slice(0, newline).trim());
      pending = pending.slice(newline + 1);
    }
    const ports = smApi.descriptors();
    const [controlEvents, children, ...portEvents] = sys.poll(
      [{ fd: control, events: sys.POLLIN }, { fd: childExits, events: sys.POLLIN }, ...ports.map((fd) => ({ fd, events: sys.POLLIN }))],
      -1,
    );
    if (children !== 0) drainSignals(childExits);
    if (controlEvents !== 0) pending += readAvailable(control);
    portEvents.forEach((events, index) => {
      if (events !== 0) smApi.serve(ports[index]);
    });
  }
}

function readAvailable(fd: number): string {
  try {
    return decodeLatin1(sys.read(fd, 4096));
  } catch (err) {
    if (err instanceof sys.SysError && err.code === "EAGAIN") return "";
    throw err;
  }
}

function runCommand(line: string): void {
  if (line === "") return;
  const [name, ...args] = line.split(/\s+/);
  const command = COMMANDS[name.toLowerCase()];
  if (command === undefined) {
    const data: CommandData = { command: line, error: `unknown command "${name}"; "help" lists them` };
    report("command", "failed", data);
    return;
  }
  let data: CommandData;
  try {
    data = { command: line, output: command.run(args) };
  } catch (error) {
    report("command", "failed", { command: line, error: error instanceof Error ? error.message : String(error) });
    return;
  }
  report("command", "done", data);
}

function helpText(): string {
  return Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
    .join("\n");
}

function versionText(): string {
  const u = sys.uname();
  return `smss86 Session Manager on ${u.sysname} ${u.release} (${u.machine})`;
}

/** /proc/meminfo's main lines, then "pid image VmRSS" for every process that has a resident set (not kernel threads). */
function memoryText(): string {
  const meminfo = decodeLatin1(sys.readFile("/proc/meminfo"))
    .split("\n")
    .filter((line) => /^(MemTotal|MemFree|MemAvailable|Buffers|Cached|Shmem):/.test(line));
  const processes: string[] = [];
  for (const name of sys.readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const status = processStatus(Number(name));
    const rss = status?.field("VmRSS");
    if (rss !== undefined) processes.push(`${name} ${status!.field("Name")} ${rss}`);
  }
  return [...meminfo, ...processes].join("\n");
}

function killProcess(args: string[]): string {
  const pid = Number(args[0]);
  const signal = args[1] === undefined ? sys.SIGKILL : Number(args[1]);
  if (!Number.isInteger(pid) || pid <= 1 || !Number.isInteger(signal) || signal <= 0 || signal > 64) throw new Error("usage: kill <pid > 1> [signal 1..64]");
  sys.kill(pid, signal);
  return `signal ${signal} sent to pid ${pid}`;
}

function powerOff(): never {
  say("smss: syncing disks and powering off.");
  sys.sync();
  report("power-off", "done");
  for (;;) {
    sys.reboot("power-off");
  }
}
