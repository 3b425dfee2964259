// Phase events: the probe channel's vocabulary, shared by the guest (producer) and the host (parser).
// One JSON object per line on the probe serial port (COM2 in the guest, /dev/ttyS1).

/** Phases smss reports, in the order they happen on a good boot. Later issues add more. */
export const PHASES = ["smss-start", "mount", "system-info", "volume-write", "ready"] as const;
/** `stop` (a bugcheck) and `power-off` end the machine; they are not part of the ordered list. */
export type Phase = (typeof PHASES)[number] | "stop" | "power-off";

export type PhaseStatus = "start" | "done" | "failed";

export interface SmssStartData {
  pid: number;
  /** The guest path smss was started from, e.g. /Windows/System32/smss.exe. */
  image: string;
  /** The same as an NT path, e.g. \SystemRoot\System32\smss.exe. */
  ntImage: string;
  argv: string[];
}

export interface SystemInfoData {
  commandLine: string;
  memoryKiB: number;
  kernelRelease: string;
}

export interface StopData {
  /** Bugcheck code, e.g. 0xC000021A. */
  code: number;
  params: [number, number, number, number];
  reason: string;
}

export interface PhaseEvent {
  /** Milliseconds since smss started (guest clock). */
  t: number;
  phase: Phase;
  status: PhaseStatus;
  data?: Record<string, unknown>;
}

export class ProbeParseError extends Error {
  constructor(readonly line: string, why: string) {
    super(`probe channel: ${why}: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = "ProbeParseError";
  }
}

export function encodeEvent(event: PhaseEvent): string {
  return JSON.stringify(event) + "\n";
}

export function decodeEvent(line: string): PhaseEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new ProbeParseError(line, "not JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw new ProbeParseError(line, "not an object");
  const e = parsed as Record<string, unknown>;
  if (typeof e.t !== "number") throw new ProbeParseError(line, "no numeric t");
  if (typeof e.phase !== "string") throw new ProbeParseError(line, "no phase");
  if (e.status !== "start" && e.status !== "done" && e.status !== "failed") throw new ProbeParseError(line, "bad status");
  if (e.data !== undefined && (typeof e.data !== "object" || e.data === null)) throw new ProbeParseError(line, "bad data");
  return e as unknown as PhaseEvent;
}

export function formatStopCode(code: number): string {
  return "0x" + (code >>> 0).toString(16).toUpperCase().padStart(8, "0");
}
