// LOGOFF and SHUTDOWN: ExitWindowsEx through csrss, which asks the session's logon process (winlogon) to log
// the user off or to shut the machine down; winlogon then ends every process of the session, cmd included.
// Once a logoff is asked for cmd exits at once (its end, through userinit's, is a logoff too); once a
// shutdown is, it waits to be ended. A request that cannot be delivered or is refused is reported, and cmd
// goes on.
import * as sys from "sys";
import { NtStatus } from "../../src/smapi/index.ts";
import { exitWindows, mySession } from "../lib/csr-client.ts";
import { apiPortName, type ExitWindowsAction } from "../lib/csr.ts";
import type { Shell } from "./shell.ts";

const SHUTDOWN_USAGE = "Usage: SHUTDOWN [/S] [/T 0] shuts the machine down; SHUTDOWN /L logs off.";

function statusName(status: number): string {
  const name = Object.entries(NtStatus).find(([, value]) => value === status)?.[0];
  return `0x${status.toString(16).toUpperCase().padStart(8, "0")}${name === undefined ? "" : ` (STATUS_${name})`}`;
}

/** Whether csrss took the request. */
function request(shell: Shell, action: ExitWindowsAction): boolean {
  let status: number;
  try {
    status = exitWindows(action).status;
  } catch (error) {
    if (error instanceof sys.SysError) {
      shell.fail(`The ${action} request could not be sent: csrss does not answer on ${apiPortName(mySession())} (${error.code}).`);
      return false;
    }
    // csrss answered with something that is not a reply (SyntaxError from JSON, or a malformed object).
    if (error instanceof Error) {
      shell.fail(`The ${action} request failed: ${error.message}.`);
      return false;
    }
    throw error;
  }
  if (status !== NtStatus.SUCCESS) {
    shell.fail(`The ${action} request was refused: status ${statusName(status)}.`);
    return false;
  }
  return true;
}

/** Once the logon process has the request, the end of the session is its work. */
function ended(action: ExitWindowsAction): never {
  if (action === "logoff") sys.exit(0);
  for (;;) sys.sleep(60_000);
}

export function logoff(shell: Shell, rest: string): void {
  if (rest.trim() !== "") return shell.fail("LOGOFF takes no arguments here: it logs off the current session.");
  if (request(shell, "logoff")) ended("logoff");
}

/**
 * SHUTDOWN, SHUTDOWN /S, SHUTDOWN /S /T 0 (`-` works for `/`, as in Windows): shut down now. /L: log off.
 * A delay, a restart (/R) or the other switches are not supported.
 */
export function shutdown(shell: Shell, rest: string): void {
  const words = rest.trim().split(/[ \t]+/).filter((word) => word !== "").map((word) => word.toLowerCase().replace(/^-/, "/"));
  let action: ExitWindowsAction = "shutdown";
  for (let at = 0; at < words.length; at++) {
    const word = words[at];
    if (word === "/s") continue;
    if (word === "/l") {
      action = "logoff";
    } else if (word === "/t" && words[at + 1] === "0") {
      at++;
    } else if (word === "/t") {
      return shell.fail(`SHUTDOWN /T ${words[at + 1] ?? "without a delay"}: only /T 0 (at once) is supported.\n${SHUTDOWN_USAGE}`);
    } else {
      return shell.fail(`SHUTDOWN ${word} is not supported.\n${SHUTDOWN_USAGE}`);
    }
  }
  if (request(shell, action)) ended(action);
}
