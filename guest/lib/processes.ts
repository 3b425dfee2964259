// Starting and reaping processes with the probe events the host follows (src/events: `process`): every
// guest program that starts another goes through startProcess, and whoever reaps one reports its end.
import * as sys from "sys";
import type { ProcessExitData, ProcessStartData } from "../../src/events/index.ts";
import { decodeLatin1 } from "../../src/hive/text.ts";
import { report } from "./probe.ts";
import { sessionOf } from "./win32k.ts";

/** sys.spawn, then a `process` start event (session as the kernel has it: the child inherits its parent's). */
export function startProcess(image: string, argv: readonly string[], envp?: readonly string[] | null, options: sys.SpawnOptions = {}): number {
  const pid = sys.spawn(image, argv, envp, options);
  const session = sessionOf(pid);
  const data: ProcessStartData = { pid, parent: sys.getpid(), ...(session === undefined ? {} : { session }), image, uid: options.uid ?? ownUid() };
  report("process", "start", data);
  return pid;
}

/** A process's status as the kernel has it (/proc/<pid>/status): `field("VmRSS")`, trimmed, or undefined. */
export interface ProcessStatus {
  field(name: string): string | undefined;
}

/**
 * The status of a process, or undefined when it has ended. Fields are looked up in the text when asked for
 * (native indexOf): splitting all fifty lines costs more than the few a caller wants, on every process start.
 */
export function processStatus(pid: number | "self"): ProcessStatus | undefined {
  let text: string;
  try {
    text = "\n" + decodeLatin1(sys.readFile(`/proc/${pid}/status`));
  } catch (error) {
    if (error instanceof sys.SysError && (error.code === "ENOENT" || error.code === "ESRCH")) return undefined;
    throw error;
  }
  return {
    field(name) {
      const at = text.indexOf(`\n${name}:`);
      if (at < 0) return undefined;
      const end = text.indexOf("\n", at + 1);
      return text.slice(at + name.length + 2, end < 0 ? text.length : end).trim();
    },
  };
}

/** A status "Uid" value's first number: the real uid. */
export function realUid(status: ProcessStatus): number {
  return Number.parseInt(status.field("Uid") ?? "", 10);
}

let cachedUid: number | undefined;

/** This process's real uid (the runtime has no getuid: the kernel's status file says it). */
export function ownUid(): number {
  if (cachedUid === undefined) {
    const status = processStatus("self");
    const uid = status === undefined ? NaN : realUid(status);
    if (!Number.isInteger(uid)) throw new Error("/proc/self/status has no Uid line");
    cachedUid = uid;
  }
  return cachedUid;
}

export function reportExit(result: sys.WaitResult, image?: string): void {
  const data: ProcessExitData = { pid: result.pid, ...(image === undefined ? {} : { image }), exitCode: result.code, signal: result.signal };
  report("process", "done", data);
}

/** Waits for one child and reports its end. */
export function waitForProcess(pid: number, image?: string): sys.WaitResult {
  const result = sys.waitpid(pid)!;
  reportExit(result, image);
  return result;
}
