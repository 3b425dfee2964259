// Serial logs as `smss86 boot --console-log/--probe-log` write them and `smss86 log` reads them. One line per
// guest line, stamped with the host's wall time since power-on (`+1.234s text`); the probe log's text is the
// JSON event line as smss sent it. A line starting with "# " is the log's own: the first names the kind of
// log and what was booted (a JSON object), the last ("# end {...}") says how the run ended, so a follower
// knows the log is complete. Guest lines always start with "+", so nothing the guest prints looks like them.
import { decodeEvent, ProbeParseError, type PhaseEvent } from "../src/events/index.ts";

export type LogKind = "console" | "probe";

export interface LogHeader {
  /** The --disk given, or "default disk". */
  disk: string;
  /** ISO 8601, host clock. */
  started: string;
  /** Console logs only: the probe log written by the same boot, relative to the console log's folder. */
  probeLog?: string;
}

export interface LogEnd {
  /** As in the boot's --json report; "error" when the boot failed before it ran (a bad disk, say). */
  result: string;
  wallMs: number;
}

export type LogEntry =
  | { type: "header"; kind: LogKind; header: LogHeader }
  | { type: "line"; hostMs: number; text: string }
  | { type: "end"; end: LogEnd };

const TITLE: Record<LogKind, string> = { console: "# smss86 console log ", probe: "# smss86 probe log " };
const END = "# end ";

export class LogFormatError extends Error {
  override name = "LogFormatError";
}

export function formatHeader(kind: LogKind, header: LogHeader): string {
  return `${TITLE[kind]}${JSON.stringify(header)}\n`;
}

export function formatLine(hostMs: number, text: string): string {
  return `+${(hostMs / 1000).toFixed(3)}s ${text}\n`;
}

export function formatEnd(end: LogEnd): string {
  return `${END}${JSON.stringify(end)}\n`;
}

/** One log line (without its line break); `where` names it in errors ("boot.log:12"). */
export function parseLogLine(line: string, where: string, first: boolean): LogEntry {
  if (first) {
    for (const kind of ["console", "probe"] as const) {
      if (line.startsWith(TITLE[kind])) return { type: "header", kind, header: parseJson(line.slice(TITLE[kind].length), where) as unknown as LogHeader };
    }
    throw new LogFormatError(`${where}: not a log written by smss86 boot (it starts with neither "${TITLE.console.trim()}" nor "${TITLE.probe.trim()}")`);
  }
  if (line.startsWith(END)) return { type: "end", end: parseJson(line.slice(END.length), where) as unknown as LogEnd };
  const stamped = /^\+(\d+\.\d{3})s (.*)$/s.exec(line);
  if (!stamped) throw new LogFormatError(`${where}: neither a stamped line ("+1.234s ...") nor one of the log's own ("# ...")`);
  return { type: "line", hostMs: Math.round(Number(stamped[1]) * 1000), text: stamped[2] };
}

function parseJson(text: string, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch {
    // Reported below, with the line.
  }
  throw new LogFormatError(`${where}: the log's own line does not end in a JSON object`);
}

/** Splits chunks of a file into lines as they arrive; a line is complete only with its line break. */
export class LineSplitter {
  private partial = "";
  private readonly decoder = new TextDecoder();

  push(bytes: Uint8Array): string[] {
    const text = this.partial + this.decoder.decode(bytes, { stream: true });
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    return lines;
  }
}

/** A probe line as an event, or undefined for a line that is not one (smss only sends events). */
export function probeEvent(text: string): PhaseEvent | undefined {
  try {
    return decodeEvent(text);
  } catch (error) {
    if (error instanceof ProbeParseError) return undefined;
    throw error;
  }
}

/** Where a phase ran: from its start event to its done or failed event (open while it runs). */
export interface PhaseSpan {
  fromMs: number;
  toMs?: number;
}

/** Follows probe events as they come and keeps every span of one phase (a phase runs again after a restart). */
export class PhaseSpans {
  readonly spans: PhaseSpan[] = [];

  constructor(readonly phase: string) {}

  add(hostMs: number, event: PhaseEvent): void {
    if (event.phase !== this.phase) return;
    const open = this.spans.at(-1);
    if (event.status === "start") this.spans.push({ fromMs: hostMs });
    else if (open && open.toMs === undefined) open.toMs = hostMs;
    // Reported done without a start: the span is the moment it was reported.
    else this.spans.push({ fromMs: hostMs, toMs: hostMs });
  }

  contains(hostMs: number): boolean {
    return this.spans.some((span) => hostMs >= span.fromMs && (span.toMs === undefined || hostMs <= span.toMs));
  }

  /** Every span seen has closed. */
  get closed(): boolean {
    return this.spans.length > 0 && this.spans.every((span) => span.toMs !== undefined);
  }
}

/** A probe event as a person reads it: time, phase, status, then its data cut to one screen line. */
export function describeEventLine(hostMs: number, event: PhaseEvent): string {
  const data = event.data === undefined ? "" : `  ${JSON.stringify(event.data)}`;
  const shown = data.length > 100 ? `${data.slice(0, 99)}…` : data;
  return `${formatLine(hostMs, "").trimEnd()} ${event.phase.padEnd(20)} ${event.status.padEnd(6)} guest ${String(event.t).padStart(6)} ms${shown}`;
}

/** The marker put among console lines where a phase event came. */
export function phaseMarker(hostMs: number, event: PhaseEvent): string {
  return `${formatLine(hostMs, "").trimEnd()} ── ${event.phase} ${event.status} ──`;
}
