// After initialisation smss stays resident as PID 1: it reaps every child that exits (orphans are
// re-parented to it), serves \SmApiPort (smapi.ts) and answers a few commands typed on the console. It waits
// in poll(2) on the console, the port and its connections and on a signalfd for SIGCHLD, so an idle guest
// really idles.
import * as sys from "sys";
import { bugcheck, STATUS_SYSTEM_PROCESS_TERMINATED } from "./bugcheck.ts";
import { say } from "./console.ts";
import { report } from "../lib/probe.ts";
import type { SmApiServer } from "./smapi.ts";
import { decodeLatin1 } from "../../src/hive/text.ts";

const COMMANDS: Record<string, { help: string; run: () => void }> = {
  help: { help: "list these commands", run: () => say(helpText()) },
  ver: { help: "show the kernel and smss versions", run: () => say(versionText()) },
  shutdown: { help: "sync the disk and power off", run: powerOff },
  crash: {
    help: "stop the machine with a bugcheck, as when a critical process dies",
    run: () => bugcheck(STATUS_SYSTEM_PROCESS_TERMINATED, [0, 0, 0, 0], "crash requested on the console"),
  },
};

export function stayResident(smApi: SmApiServer): never {
  const consoleFd = sys.open("/dev/console", sys.O_RDONLY | sys.O_NONBLOCK | sys.O_NOCTTY, 0);
  const childExits = sys.signalfd([sys.SIGCHLD]);
  say('smss: resident. Type "help" for commands.');
  let pending = "";
  for (;;) {
    reapChildren();
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      runCommand(pending.slice(0, newline).trim());
      pending = pending.slice(newline + 1);
    }
    const ports = smApi.descriptors();
    const [console, children, ...portEvents] = sys.poll(
      [{ fd: consoleFd, events: sys.POLLIN }, { fd: childExits, events: sys.POLLIN }, ...ports.map((fd) => ({ fd, events: sys.POLLIN }))],
      -1,
    );
    if (children !== 0) while (readAvailable(childExits) !== "");
    if (console !== 0) pending += readAvailable(consoleFd);
    portEvents.forEach((events, index) => {
      if (events !== 0) smApi.serve(ports[index]);
    });
  }
}

function reapChildren(): void {
  for (;;) {
    try {
      if (sys.waitpid(-1, sys.WNOHANG) === null) return;
    } catch (err) {
      if (err instanceof sys.SysError && err.code === "ECHILD") return;
      throw err;
    }
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
  const command = COMMANDS[line.toLowerCase()];
  if (command) command.run();
  else say(`smss: unknown command "${line}". Type "help".`);
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

function powerOff(): never {
  say("smss: syncing disks and powering off.");
  sys.sync();
  report("power-off", "done");
  for (;;) {
    sys.reboot("power-off");
  }
}
