// TASKLIST: every process, from /proc: the image (the program file's name: /proc/<pid>/comm, which for a
// program of the shared runtime is its own .exe name, completed from the command line when the kernel cut it
// to 15 characters), the PID, the session from win32k's table (session 0 "Services"; any other "Console",
// the only kind of session there is; a process in no session, as PID 1 and whatever started before win32k
// was loaded, is listed in session 0 with the services), the working set (VmRSS) and the user: uid 0 is
// NT AUTHORITY\SYSTEM, the caller's own uid is %USERDOMAIN%\%USERNAME%, any other is shown as its number.
// Kernel threads (no command line) and zombies are not processes Windows would list.
import * as sys from "sys";
import { tasklistTable, type TaskRow } from "../../src/cmd/format.ts";
import { decodeUtf8 } from "../../src/hive/index.ts";
import { ownUid, processStatus, realUid } from "../lib/processes.ts";
import { sessionOf } from "../lib/win32k.ts";
import type { Shell } from "./shell.ts";

/** TASK_COMM_LEN - 1: the longest name the kernel keeps in comm. */
const COMM_LENGTH = 15;

/** comm, or the command-line argument it was cut from: for the shared runtime the program's path is argv[1]. */
function imageName(comm: string, argv: string[]): string {
  if (comm.length < COMM_LENGTH) return comm;
  for (const argument of argv) {
    const base = argument.slice(Math.max(argument.lastIndexOf("/"), argument.lastIndexOf("\\")) + 1);
    if (base.length > comm.length && base.startsWith(comm)) return base;
  }
  return comm;
}

function userName(uid: number, shell: Shell): string {
  if (uid === 0) return "NT AUTHORITY\\SYSTEM";
  const [domain, user] = [shell.environment.get("USERDOMAIN"), shell.environment.get("USERNAME")];
  if (uid === ownUid() && domain !== undefined && user !== undefined) return `${domain}\\${user}`;
  return `uid ${uid}`;
}

/** The process's row, or undefined when it is not one to list or ended while it was being read. */
function row(pid: number, shell: Shell): TaskRow | undefined {
  const text = (file: string) => decodeUtf8(sys.readFile(`/proc/${pid}/${file}`));
  try {
    const cmdline = text("cmdline");
    if (cmdline === "") return undefined;
    const status = processStatus(pid);
    if (status === undefined) return undefined;
    const session = sessionOf(pid) ?? 0;
    return {
      image: imageName(text("comm").trim(), cmdline.split("\0")),
      pid,
      session,
      memoryKiB: Number.parseInt(status.field("VmRSS") ?? "0", 10),
      user: userName(realUid(status), shell),
    };
  } catch (error) {
    if (error instanceof sys.SysError && (error.code === "ENOENT" || error.code === "ESRCH")) return undefined;
    throw error;
  }
}

export function tasklist(shell: Shell, rest: string): void {
  const option = rest.trim();
  if (option !== "") return shell.fail(`ERROR: TASKLIST ${option.split(/[ \t]/)[0]} is not supported by this cmd.exe.`);
  const pids = sys
    .readdir("/proc")
    .filter((name) => name !== "" && name.charCodeAt(0) >= 0x30 && name.charCodeAt(0) <= 0x39)
    .map(Number)
    .sort((a, b) => a - b);
  const rows: TaskRow[] = [];
  for (const pid of pids) {
    const entry = row(pid, shell);
    if (entry !== undefined) rows.push(entry);
  }
  shell.out(tasklistTable(rows));
}
