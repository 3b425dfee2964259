// `smss86 log FILE`: prints a log that `smss86 boot --console-log/--probe-log` wrote. A probe log becomes a
// readable line per event; a console log is printed with a marker line wherever a phase event came, taken
// from the probe log its header names (the one written by the same boot, found beside it) or from
// --probe-log. --phase keeps one phase's span (from its start event to its done or failed event, every time
// it ran); -f follows a log that a boot is still writing, until the boot writes its end marker.
import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { PHASES, type PhaseEvent } from "../../src/events/index.ts";
import { FileError, GiB, GrowingFile, type ReadOptions } from "../files.ts";
import {
  describeEventLine,
  LineSplitter,
  parseLogLine,
  phaseMarker,
  PhaseSpans,
  probeEvent,
  type LogEnd,
  type LogEntry,
  type LogHeader,
  type LogKind,
} from "../serial-log.ts";
import { action, fileName, StdoutClosed, writeStdoutSync, type Settle } from "./common.ts";

/** Every phase a probe log can hold: the ordered ones and those that come outside the order. */
const LOG_PHASES = [...PHASES, "autochk", "restart", "stop", "power-off"];
/** A boot's logs are a few KB; a console flooded for hours stays far below this. */
const LOG_FILE: ReadOptions = { what: "log", limit: GiB };
/** How often a followed log is looked at for new lines. */
const FOLLOW_POLL_MS = 100;

interface LogOptions {
  phase?: string;
  probeLog?: string;
  follow?: boolean;
}

export function declareLog(program: Command, settle: Settle): void {
  program
    .command("log")
    .summary("print a console or probe log saved by boot, with phase markers")
    .description(
      "print a log written by `smss86 boot --console-log/--probe-log`: a probe log as a line per event; a console log " +
        "with a marker where each phase event came, from the probe log its boot wrote beside it (named in its first " +
        "line) or --probe-log. Exit status 1 when the log cannot be read or the phase never ran.",
    )
    .argument("<FILE>", "the log", fileName("FILE"))
    .addOption(new Option("--phase <NAME>", "only the span of this phase (from its start to its done or failed event)").choices(LOG_PHASES))
    .addOption(new Option("--probe-log <FILE>", "the probe log giving a console log its phase markers").argParser(fileName("--probe-log")))
    .option("-f, --follow", "keep printing what a running boot adds, until its end marker (or Ctrl-C)")
    .action(action("smss86 log", settle, printLog));
}

/** One log file read as it grows, its lines parsed; `where` numbers them for messages. */
class LogSource {
  private readonly splitter = new LineSplitter();
  private lineNumber = 0;
  /** Lines read to learn the kind of log, not yet returned. */
  private backlog: { hostMs: number; text: string }[] = [];
  header: LogHeader | undefined;
  kind: LogKind | undefined;
  end: LogEnd | undefined;

  constructor(private readonly file: GrowingFile) {}

  static open(path: string): LogSource {
    return new LogSource(GrowingFile.open(path, LOG_FILE));
  }

  get path(): string {
    return this.file.path;
  }

  /** Reads what is there so far to learn the log's kind; read() still returns those lines. */
  readKind(): LogKind | undefined {
    const lines = this.read();
    this.backlog = lines;
    return this.kind;
  }

  /** Lines completed since the last call (the header and the end marker are kept, not returned). */
  read(): { hostMs: number; text: string }[] {
    const lines = this.backlog;
    this.backlog = [];
    for (const line of this.splitter.push(this.file.readNew())) {
      this.lineNumber++;
      if (this.end) throw new FileError(this.path, `line ${this.lineNumber}: more after the end marker`);
      const entry: LogEntry = parseLogLine(line, `${this.path}:${this.lineNumber}`, this.lineNumber === 1);
      if (entry.type === "header") {
        this.header = entry.header;
        this.kind = entry.kind;
      } else if (entry.type === "end") this.end = entry.end;
      else lines.push(entry);
    }
    return lines;
  }

  close(): void {
    this.file.close();
  }
}

async function printLog(file: string, options: LogOptions): Promise<number> {
  const log = LogSource.open(file);
  let probe: LogSource | undefined;
  try {
    let lines = log.read();
    if (log.kind === undefined) {
      // Not even its first line yet: a boot that has just created it.
      if (!options.follow) throw new FileError(file, "is empty, not a log written by smss86 boot");
      while (log.kind === undefined) {
        await sleep(FOLLOW_POLL_MS);
        lines = log.read();
      }
    }
    if (log.kind === "probe" && options.probeLog !== undefined) throw new FileError(file, "is a probe log itself; --probe-log goes with a console log");
    if (log.kind === "console") probe = openProbeLog(file, log.header!, options);
    const spans = options.phase === undefined ? undefined : new PhaseSpans(options.phase);
    const printer = new Printer(log.kind!, spans);
    for (;;) {
      if (probe) printer.addEvents(probe.read());
      printer.add(lines);
      if (log.end) {
        // The boot ends its probe log right after its console log: read what is left of it.
        if (probe) await readToEnd(probe, options.follow === true, printer);
        printer.finish(log.end);
        break;
      }
      if (!options.follow) {
        printer.finish(undefined);
        process.stderr.write(`smss86 log: ${file}: no end marker: its boot is still running, or was killed (-f follows it)\n`);
        break;
      }
      await sleep(FOLLOW_POLL_MS);
      lines = log.read();
    }
    if (spans && spans.spans.length === 0) throw new FileError(probe?.path ?? file, `phase "${options.phase}" never ran in this boot`);
    return 0;
  } catch (error) {
    if (error instanceof StdoutClosed) return 0;
    throw error;
  } finally {
    log.close();
    probe?.close();
  }
}

/** The probe log for a console log's markers: --probe-log, or the one its header names (relative to it). */
function openProbeLog(file: string, header: LogHeader, options: LogOptions): LogSource | undefined {
  const path = options.probeLog ?? (header.probeLog === undefined ? undefined : resolve(dirname(file), header.probeLog));
  if (path === undefined) {
    if (options.phase !== undefined) throw new FileError(file, "is a console log whose boot wrote no probe log; --phase needs one (--probe-log FILE)");
    return undefined;
  }
  const probe = LogSource.open(path);
  if (probe.readKind() === "console") throw new FileError(path, "is a console log, not a probe log");
  return probe;
}

async function readToEnd(probe: LogSource, follow: boolean, printer: Printer): Promise<void> {
  for (;;) {
    printer.addEvents(probe.read());
    if (probe.end || !follow) return;
    await sleep(FOLLOW_POLL_MS);
  }
}

/**
 * Prints lines in time order: a probe event becomes a line of its own (a probe log) or a marker before the
 * first console line that came after it (a console log). With a phase, only what lies within its spans.
 */
class Printer {
  private readonly events: { hostMs: number; event: PhaseEvent }[] = [];

  constructor(
    private readonly kind: LogKind,
    private readonly spans: PhaseSpans | undefined,
  ) {}

  addEvents(lines: { hostMs: number; text: string }[]): void {
    for (const { hostMs, text } of lines) {
      const event = probeEvent(text);
      if (!event) continue;
      this.spans?.add(hostMs, event);
      this.events.push({ hostMs, event });
    }
  }

  add(lines: { hostMs: number; text: string }[]): void {
    if (this.kind === "probe") {
      this.addEvents(lines);
      this.flushEvents(Infinity);
      for (const { hostMs, text } of lines) if (!probeEvent(text) && this.shows(hostMs)) this.write(`+${(hostMs / 1000).toFixed(3)}s ${text}`);
      return;
    }
    for (const { hostMs, text } of lines) {
      this.flushEvents(hostMs);
      if (this.shows(hostMs)) this.write(`+${(hostMs / 1000).toFixed(3)}s ${text}`);
    }
  }

  finish(end: LogEnd | undefined): void {
    this.flushEvents(Infinity);
    if (end && !this.spans) this.write(`── end of the boot: ${end.result}, ${(end.wallMs / 1000).toFixed(3)} s ──`);
  }

  /** Events up to `untilMs`, as lines or markers. */
  private flushEvents(untilMs: number): void {
    while (this.events.length > 0 && this.events[0].hostMs <= untilMs) {
      const { hostMs, event } = this.events.shift()!;
      if (!this.shows(hostMs)) continue;
      this.write(this.kind === "probe" ? describeEventLine(hostMs, event) : phaseMarker(hostMs, event));
    }
  }

  private shows(hostMs: number): boolean {
    return this.spans === undefined || this.spans.contains(hostMs);
  }

  private write(line: string): void {
    writeStdoutSync(line + "\n");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resume) => setTimeout(resume, ms));
}
