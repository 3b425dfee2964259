// Starting and reaping processes with the probe events the host follows (src/events: `process`): every
// guest program that starts another goes through startProcess, and whoever reaps one reports its end.
import * as sys from "sys";
import type { ProcessExitData, ProcessStartData } from "../../src/events/index.ts";
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

let cachedUid: number | undefined;

/** This process's real uid (the runtime has no getuid: the kernel's status file says it). */
export function ownUid(): number {
  if (cachedUid === undefined) {
    const status = String.fromCharCode.apply(null, sys.readFile("/proc/self/status") as unknown as number[]);
    const line = status.split("\n").find((text) => text.startsWith("Uid:"));
    cachedUid = Number(line?.split(/\s+/)[1] ?? NaN);
    if (!Number.isInteger(cachedUid)) throw new Error("/proc/self/status has no Uid line");
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
