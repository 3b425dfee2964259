// The probe channel (COM2): one JSON phase event per line, for the host's probes. Kept apart from the
// console so that what a person types or reads never corrupts what the tests parse. Every guest program
// that reports (smss, autochk, ...) writes whole lines with one write each, so lines never interleave.
import * as sys from "sys";
import { encodeEvent, type Phase, type PhaseStatus } from "../../src/events/index.ts";

const PROBE_DEVICE = "/dev/ttyS1";
const startedAt = sys.monotonicMs();
let probeFd = -1;
/**
 * The probe line is root's (mode 0600): a process running as a logged-on user (its shell and what that
 * starts) may not open it. Such a process has no events to report as the system; it goes on without them.
 */
let probeDenied = false;

export function millisecondsSinceStart(): number {
  return Math.round(sys.monotonicMs() - startedAt);
}

export function report(phase: Phase, status: PhaseStatus, data?: object): void {
  if (probeDenied) return;
  if (probeFd < 0) {
    try {
      probeFd = sys.open(PROBE_DEVICE, sys.O_WRONLY | sys.O_NOCTTY, 0);
    } catch (error) {
      if (!(error instanceof sys.SysError && error.code === "EACCES")) throw error;
      probeDenied = true;
      return;
    }
  }
  sys.write(probeFd, encodeEvent({ t: Math.round(sys.monotonicMs()), phase, status, ...(data ? { data: data as Record<string, unknown> } : {}) }));
}

/** Runs one phase between its start and done events; a failure is reported and passed on to the caller. */
export function phase<T extends object | void>(name: Phase, body: () => T): T {
  report(name, "start");
  try {
    const data = body();
    report(name, "done", data ?? undefined);
    return data;
  } catch (err) {
    report(name, "failed", { error: String(err instanceof Error ? err.message : err) });
    throw err;
  }
}

/** phase() for a phase whose result is more than what it reports: `body` returns both. */
export function phaseWithResult<T>(name: Phase, body: () => { data: object; result: T }): T {
  let result: T | undefined;
  phase(name, () => {
    const outcome = body();
    result = outcome.result;
    return outcome.data;
  });
  return result as T;
}
