// `smss86 boot`: boots a disk headless, streams the guest console, reports phases, ends with a summary.
// The machine's modules load only when a boot runs: declaring the command (for --help, for other commands)
// costs nothing.
import { dirname, relative, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { BOOT_MILESTONES, type BootMilestone } from "../../src/events/index.ts";
import type { Machine, ObservedEvent, Outcome } from "../machine.ts";
import { FileLock, GiB, LogFile } from "../files.ts";
import { action, EXIT_USAGE, fileName, integerIn, type Settle } from "./common.ts";
import type { HiveSource } from "../scenario.ts";
import { timelineFileProblem, writeTimeline } from "./timeline-file.ts";
import { encodeSnapshot, machineOrigin, originMismatch, SnapshotError, type SnapshotHeader } from "../snapshot.ts";
import { formatEnd, formatHeader, formatLine, type LogEnd, type LogHeader } from "../serial-log.ts";
import { encodeEvent } from "../../src/events/index.ts";

const QUIT_KEY = 0x1d; // Ctrl-]

/** The guest boots in 8 MiB; v86 holds guest RAM in one wasm memory of fewer than 2^31 bytes. */
const MEMORY_MIB = { min: 8, max: 2047, default: 64 } as const;
/** Node's timers hold at most 2^31 - 1 ms; a longer one fires at once. */
const MAX_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

export interface BootReport {
  result: "ok" | "power-off" | "stop" | "panic" | "timeout" | "quit";
  reason?: string;
  disk: string;
  memoryMiB: number;
  wallMs: number;
  instructions: number;
  phases: { phase: string; status: string; guestMs: number; wallMs: number; instructions: number }[];
  events: ObservedEvent[];
}

interface BootOptions {
  until?: BootMilestone;
  json?: string;
  disk?: string;
  hive?: string;
  hiveMerge?: string;
  saveDisk?: string;
  timeline?: string;
  consoleLog?: string;
  probeLog?: string;
  snapshot?: string;
  fromSnapshot?: string;
  timeout?: number;
  memory: number;
  jit?: boolean;
  quiet?: boolean;
}

export function declareBoot(program: Command, settle: Settle): void {
  program
    .command("boot")
    .summary("boot the machine headless (the guest console on stdout; Ctrl-] quits)")
    .description(
      "boot the machine headless: the guest console is on stdout, standard input goes to it, Ctrl-] quits. " +
        "Exit status 0 for the requested event, a power-off or a quit; 1 for a timeout, a STOP, a kernel panic " +
        "or a disk that cannot boot; 2 for misuse.",
    )
    .addOption(new Option("--until <EVENT>", "stop when smss reports this phase done, or winlogon its first prompt").choices(BOOT_MILESTONES))
    .addOption(new Option("--json <FILE>", "write a report (result, phases, events) to FILE").argParser(fileName("--json")))
    .addOption(new Option("--disk <FILE>", "boot this disk image instead of the default one (built when needed)").argParser(fileName("--disk")))
    .addOption(
      new Option("--hive <FILE>", "boot with this SYSTEM hive instead of the disk's: a whole hive as .reg text or a regf file")
        .argParser(fileName("--hive"))
        .conflicts("hiveMerge"),
    )
    .addOption(new Option("--hive-merge <FILE>", "boot with the default SYSTEM hive changed by this .reg fragment").argParser(fileName("--hive-merge")))
    .addOption(new Option("--save-disk <FILE>", "write the disk image as the guest left it to FILE when the run ends").argParser(fileName("--save-disk")))
    .addOption(new Option("--timeline <FILE>", "write a boot chart (systemd-analyze plot style) to FILE.svg or FILE.html").argParser(timelineFile))
    .addOption(
      new Option("--timeout <S>", `give up after S seconds (default 120 with --until, none otherwise)`).argParser(secondsUpTo(MAX_TIMEOUT_S)),
    )
    .addOption(
      new Option("--memory <MiB>", "guest RAM")
        .default(MEMORY_MIB.default)
        .argParser(integerIn("--memory", MEMORY_MIB.min, MEMORY_MIB.max, "MiB", " (the guest needs 8; v86 holds less than 2 GiB)")),
    )
    .option("--jit", "turn on v86's x86-to-wasm JIT (slower to boot; may help long runs)")
    .addOption(new Option("--console-log <FILE>", "keep the console (COM1) in FILE, a line per guest line with host time").argParser(fileName("--console-log")))
    .addOption(new Option("--probe-log <FILE>", "keep the probe channel (COM2) in FILE, an event per line with host time").argParser(fileName("--probe-log")))
    .addOption(new Option("--snapshot <FILE>", "save the machine's state to FILE when --until is reached").argParser(fileName("--snapshot")))
    .addOption(new Option("--from-snapshot <FILE>", "start from a state saved with --snapshot (made from the same images)").argParser(fileName("--from-snapshot")))
    .option("-q, --quiet", "no progress while booting")
    .hook("preAction", (command) => {
      if (command.opts<BootOptions>().snapshot !== undefined && command.opts<BootOptions>().until === undefined) {
        command.error(`--snapshot needs --until: the state is saved when that phase is done`, { exitCode: EXIT_USAGE, code: "smss86.usage" });
      }
    })
    .action(action("smss86 boot", settle, (options: BootOptions, command: Command) => boot(options, command.getOptionValueSource("memory") === "cli")));
}

function timelineFile(text: string): string {
  const problem = timelineFileProblem(text);
  if (problem) throw new InvalidArgumentError(problem);
  return text;
}

/** .reg text or a regf file, told apart by their first bytes. */
async function hiveFromFile(file: string, merge: boolean): Promise<HiveSource> {
  const { readRequired, MiB } = await import("../files.ts");
  const bytes = await readRequired(file, { what: merge ? ".reg file" : "hive", limit: 256 * MiB });
  const isRegf = bytes.length >= 4 && bytes[0] === 0x72 && bytes[1] === 0x65 && bytes[2] === 0x67 && bytes[3] === 0x66;
  if (isRegf && !merge) return { regf: bytes, fileName: file };
  return { regText: bytes, merge, fileName: file };
}

/** Seconds > 0, fractions allowed, up to what a timer can hold. */
function secondsUpTo(max: number): (text: string) => number {
  return (text) => {
    const trimmed = text.trim();
    const value = /^(\d+(\.\d*)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!(value >= 0.001 && value <= max)) {
      throw new InvalidArgumentError(`--timeout takes seconds from 0.001 to ${max} (the longest a Node timer holds).`);
    }
    return value;
  };
}

/** The files a boot writes, claimed before it starts: a path that cannot be written fails now, not after the boot. */
interface Outputs {
  report?: FileLock;
  snapshot?: FileLock;
  consoleLog?: LogFile;
  probeLog?: LogFile;
  /** The logs got their end marker. */
  logsEnded?: boolean;
}

async function boot(options: BootOptions, memoryGiven: boolean): Promise<number> {
  const outputs: Outputs = {};
  try {
    if (options.json !== undefined) outputs.report = await FileLock.acquire(options.json, "report");
    if (options.snapshot !== undefined) outputs.snapshot = await FileLock.acquire(options.snapshot, "snapshot");
    if (options.consoleLog !== undefined) outputs.consoleLog = await LogFile.create(options.consoleLog, "console log");
    if (options.probeLog !== undefined) outputs.probeLog = await LogFile.create(options.probeLog, "probe log");
    writeLogHeaders(outputs, { disk: options.disk ?? "default disk", started: new Date().toISOString() });
    return await runBoot(options, memoryGiven, outputs);
  } finally {
    // A boot that failed before its machine ran still ends its logs: a follower would wait for ever.
    if (!outputs.logsEnded) endLogs(outputs, { result: "error", wallMs: 0 });
    outputs.report?.release();
    outputs.snapshot?.release();
    outputs.consoleLog?.close();
    outputs.probeLog?.close();
  }
}

/** A snapshot holds the whole guest memory (below 2 GiB) and the disk (at most 2 GiB). */
const SNAPSHOT_LIMIT = 4 * GiB;

async function readSnapshot(file: string): Promise<{ header: SnapshotHeader; state: ArrayBuffer }> {
  const [{ readRequired }, { decodeSnapshot }] = await Promise.all([import("../files.ts"), import("../snapshot.ts")]);
  return decodeSnapshot(await readRequired(file, { what: "snapshot", limit: SNAPSHOT_LIMIT }), file);
}

async function runBoot(options: BootOptions, memoryGiven: boolean, outputs: Outputs): Promise<number> {
  const reportFile = outputs.report;
  const [{ ensureDefaultDisk }, { describeOutcome, Machine, MachineEndedError, MachineTimeoutError }, { loadDiskImage, loadFirmware }] = await Promise.all([
    import("../../images/disk.ts"),
    import("../machine.ts"),
    import("../node.ts"),
  ]);
  const until = options.until;
  const timeoutS = options.timeout ?? (until ? 120 : undefined);
  const snapshot = options.fromSnapshot === undefined ? undefined : await readSnapshot(options.fromSnapshot);
  if (snapshot && until && snapshot.header.phasesDone.includes(until)) {
    throw new SnapshotError(options.fromSnapshot!, `was saved after phase "${until}" was done: --until ${until} would never come`);
  }
  // A snapshot's machine has the memory it was saved with; --memory may only say the same.
  const memoryMiB = snapshot && !memoryGiven ? snapshot.header.memoryMiB : options.memory;

  const status = new StatusLine(!options.quiet && process.stderr.isTTY === true);
  const [dim, plain] = process.stderr.isTTY ? ["\x1b[2m", "\x1b[0m"] : ["", ""];
  const progress = (line: string) => status.above(`${dim}[smss86] ${line}${plain}\n`);
  const diskFile = options.disk ?? (await ensureDefaultDisk({ log: progress }));
  const disk = loadDiskImage(diskFile);
  const hiveFile = options.hive ?? options.hiveMerge;
  if (hiveFile !== undefined) {
    const [{ hiveBytes, SYSTEM_HIVE_ON_DISK }, { openVolume }] = await Promise.all([import("../scenario.ts"), import("../disk/image.ts")]);
    openVolume(disk).writeFile(SYSTEM_HIVE_ON_DISK, hiveBytes(await hiveFromFile(hiveFile, options.hiveMerge !== undefined)));
    progress(`SYSTEM hive from ${hiveFile}${options.hiveMerge !== undefined ? " (merged over the default)" : ""}`);
  }

  const outcomeResult = (outcome: Outcome): { result: BootReport["result"]; reason?: string } => {
    switch (outcome.kind) {
      case "power-off":
        return { result: "power-off" };
      case "stop":
        return { result: "stop", reason: describeOutcome(outcome) };
      case "panic":
        return { result: "panic", reason: describeOutcome(outcome) };
      case "halted-by-host":
        return { result: "quit" };
    }
  };

  const firmware = loadFirmware();
  // Hashed before the guest runs: the disk as booted, not as the guest changes it.
  const origin = snapshot || outputs.snapshot ? await machineOrigin(firmware, disk, memoryMiB) : undefined;
  if (snapshot && origin) {
    const mismatch = originMismatch(snapshot.header, { ...origin, diskName: diskFile });
    if (mismatch) throw new SnapshotError(options.fromSnapshot!, `${mismatch}; not started`);
  }

  progress(snapshot ? `starting from ${options.fromSnapshot} (saved after ${snapshot.header.phasesDone.at(-1) ?? "no phase"}; ${diskFile}, ${memoryMiB} MiB)` : `booting ${diskFile} (${memoryMiB} MiB)`);
  const machine = await Machine.start({
    firmware,
    boot: { kind: "disk", disk },
    memoryMiB,
    jit: options.jit ?? false,
    ...(snapshot ? { initialState: snapshot.state } : {}),
  });
  const logs = recordLogs(machine, outputs);
  machine.onConsole((bytes) => status.console(bytes));
  machine.onEvent((e) => {
    if (options.quiet) return;
    if (status.live) status.phase(`${e.phase} ${e.status}`);
    else progress(`${(e.hostMs / 1000).toFixed(2)} s  ${e.instructions.toExponential(2)} instr  ${e.phase} ${e.status}`);
  });
  status.start(machine);

  const quit = attachStdin(machine, snapshot?.header.phasesDone.includes("logon-prompt") ?? false);
  const finished: Promise<{ result: BootReport["result"]; reason?: string }> = (async () => {
    const deadline = timeoutS === undefined ? undefined : timeoutS * 1000;
    if (until) {
      const reached = machine.waitForPhase(until, deadline ?? Infinity).then(
        () => ({ result: "ok" as const }),
        (err) => {
          if (err instanceof MachineTimeoutError) return { result: "timeout" as const, reason: err.message };
          if (err instanceof MachineEndedError) return outcomeResult(err.outcome);
          throw err;
        },
      );
      return Promise.race([reached, quit.promise]);
    }
    const racers: Promise<{ result: BootReport["result"]; reason?: string }>[] = [
      machine.ended().then(outcomeResult),
      quit.promise,
    ];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (deadline !== undefined) {
      racers.push(
        new Promise((resolve) => {
          timer = setTimeout(() => resolve({ result: "timeout", reason: `no power-off or halt within ${timeoutS} s` }), deadline);
        }),
      );
    }
    try {
      return await Promise.race(racers);
    } finally {
      clearTimeout(timer);
    }
  })();

  const { result, reason } = await finished;
  quit.detach();
  const wallMs = machine.elapsedMs();
  const instructions = machine.instructions();
  const savedState = result === "ok" && outputs.snapshot ? await machine.saveState() : undefined;
  // v86 keeps a restored disk in a buffer of its own: read it before the emulator is freed.
  const finalDisk = machine.diskBytes() ?? disk;
  await machine.stop();
  status.stop();
  logs.end({ result, wallMs: Math.round(wallMs) });

  const report: BootReport = {
    result,
    ...(reason ? { reason } : {}),
    disk: diskFile,
    memoryMiB,
    wallMs: Math.round(wallMs),
    instructions,
    phases: machine.events.map((e) => ({
      phase: e.phase,
      status: e.status,
      guestMs: e.t,
      wallMs: Math.round(e.hostMs),
      instructions: e.instructions,
    })),
    events: machine.events,
  };
  // The summary first: should the report fail to be written, what the boot found is still shown.
  process.stderr.write(summary(report));
  await reportFile?.replace(new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n"), "report");
  if (savedState && origin && outputs.snapshot) {
    const phasesDone = [...(snapshot?.header.phasesDone ?? []), ...machine.events.filter((e) => e.status === "done").map((e) => e.phase)];
    const header: SnapshotHeader = { format: 1, ...origin, diskName: diskFile, phasesDone, savedAt: new Date().toISOString() };
    await outputs.snapshot.replace(encodeSnapshot(header, savedState), "snapshot");
    progress(`saved the machine's state to ${options.snapshot} (${(savedState.byteLength / 2 ** 20).toFixed(0)} MiB)`);
  }
  if (options.timeline) await writeTimeline(options.timeline, machine, { hostMs: wallMs, instructions }, { disk: diskFile, memoryMiB });
  if (options.saveDisk) {
    const { replaceFile } = await import("../files.ts");
    await replaceFile(options.saveDisk, "disk image", () => finalDisk);
  }
  return result === "ok" || result === "power-off" || result === "quit" ? 0 : 1;
}

/** COM1 runs at 115200 baud: about 11.5 KB/s, fed in 20 ms slices so that typing shows at once. */
const CONSOLE_BYTES_PER_SLICE = 230;
const CONSOLE_SLICE_MS = 20;
/** Input read ahead of the console line; beyond it, standard input is not read until the line catches up. */
const CONSOLE_READ_AHEAD = 64 * 1024;

/**
 * Standard input goes to the guest console; on a terminal it is raw, and Ctrl-] ends the session. Input is
 * held until winlogon first prompts (keystrokes sent before the guest opens its console would be dropped by the
 * UART), then fed at the serial line's rate: v86's UART queues whatever it is given, so an endless input
 * (/dev/zero) would otherwise fill the host's memory. At most CONSOLE_READ_AHEAD bytes wait on the host.
 */
function attachStdin(machine: Machine, promptAlready: boolean): { promise: Promise<{ result: "quit" }>; detach: () => void } {
  const stdin = process.stdin;
  let resolveQuit: (v: { result: "quit" }) => void = () => {};
  const promise = new Promise<{ result: "quit" }>((resolve) => (resolveQuit = resolve));
  const raw = stdin.isTTY === true;
  const waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  let feeder: ReturnType<typeof setInterval> | undefined;
  const feed = () => {
    let budget = CONSOLE_BYTES_PER_SLICE;
    while (budget > 0 && waiting.length > 0) {
      const chunk = waiting[0];
      const piece = chunk.subarray(0, budget);
      machine.sendConsole(piece);
      budget -= piece.length;
      waitingBytes -= piece.length;
      if (piece.length === chunk.length) waiting.shift();
      else waiting[0] = chunk.subarray(piece.length);
    }
    if (waitingBytes < CONSOLE_READ_AHEAD / 2 && stdin.isPaused()) stdin.resume();
  };
  const ready = promptAlready ? Promise.resolve() : machine.waitForPhase("logon-prompt", Infinity);
  ready.then(
    () => {
      feeder = setInterval(feed, CONSOLE_SLICE_MS);
      feed();
    },
    () => {},
  );
  const onData = (chunk: Buffer) => {
    const quitAt = raw ? chunk.indexOf(QUIT_KEY) : -1;
    if (quitAt >= 0) {
      resolveQuit({ result: "quit" });
      return;
    }
    const bytes = raw ? chunk.map((b) => (b === 0x0d ? 0x0a : b)) : chunk;
    waiting.push(bytes);
    waitingBytes += bytes.length;
    if (waitingBytes >= CONSOLE_READ_AHEAD) stdin.pause();
  };
  if (raw) stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.on("error", () => {});
  return {
    promise,
    detach: () => {
      clearInterval(feeder);
      stdin.off("data", onData);
      if (raw) stdin.setRawMode(false);
      // A pipe or file on stdin would keep the process alive after the machine is gone.
      stdin.destroy();
    },
  };
}

export function summary(report: BootReport): string {
  const lines = ["", "─── smss86 boot summary ───"];
  const resultLine = {
    ok: "reached the requested event",
    "power-off": "the guest powered off",
    quit: "stopped at the user's request",
    stop: "STOP",
    panic: "kernel panic",
    timeout: "TIMEOUT",
  }[report.result];
  // A STOP's or a panic's description already says what it is ("kernel panic: ...").
  const said = report.result === "stop" || report.result === "panic" ? report.reason ?? resultLine : `${resultLine}${report.reason ? `: ${report.reason}` : ""}`;
  lines.push(`result:       ${said}`);
  lines.push(`disk:         ${report.disk} (${report.memoryMiB} MiB RAM)`);
  lines.push(`wall time:    ${(report.wallMs / 1000).toFixed(2)} s`);
  lines.push(`instructions: ${report.instructions.toExponential(3)}`);
  lines.push("phases:");
  if (report.phases.length === 0) lines.push("  (none: smss never reported on the probe channel)");
  const shown = report.phases.filter((phase) => phase.status !== "start");
  // The column as wide as the longest phase name shown, so that the figures line up.
  const width = Math.max(0, ...shown.map((p) => p.phase.length));
  for (const p of shown) {
    lines.push(
      `  ${p.phase.padEnd(width)} ${p.status.padEnd(6)} guest ${String(p.guestMs).padStart(6)} ms  wall ${(p.wallMs / 1000).toFixed(2).padStart(6)} s  ${p.instructions.toExponential(2)} instr`,
    );
  }
  return lines.join("\n") + "\n";
}

/** How often the live line is redrawn: elapsed time and instructions move on between phase events. */
const STATUS_REFRESH_MS = 200;

/**
 * Progress on a terminal: one line at the bottom of stderr, rewritten in place with the current phase, the
 * wall time and the guest instructions so far. The guest console shares the terminal, so the line is wiped
 * before console output and drawn again only where the console's cursor is at the start of a line (it
 * would otherwise overwrite what the guest is half-way through printing). Off the terminal (or with
 * --quiet) it is inert and console bytes go straight to stdout.
 */
class StatusLine {
  private shown = false;
  private consoleAtLineStart = true;
  private currentPhase = "starting";
  private machine: Machine | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly live: boolean) {}

  start(machine: Machine): void {
    this.machine = machine;
    if (!this.live) return;
    this.timer = setInterval(() => this.draw(), STATUS_REFRESH_MS);
    // The line alone must not keep the process alive should the boot end by an error.
    this.timer.unref();
    this.draw();
  }

  phase(text: string): void {
    this.currentPhase = text;
    this.draw();
  }

  /** A line of the host's own, printed above the live line. */
  above(text: string): void {
    this.wipe();
    process.stderr.write(text);
    this.draw();
  }

  console(bytes: Uint8Array): void {
    this.wipe();
    process.stdout.write(bytes);
    this.consoleAtLineStart = bytes[bytes.length - 1] === 0x0a;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.wipe();
  }

  private wipe(): void {
    if (!this.shown) return;
    process.stderr.write("\r\x1b[K");
    this.shown = false;
  }

  private draw(): void {
    if (!this.live || !this.machine || this.timer === undefined || !this.consoleAtLineStart) return;
    const { hostMs, instructions } = this.machine.mark();
    const line = `[smss86] ${(hostMs / 1000).toFixed(1).padStart(5)} s  ${instructions.toExponential(2)} instr  ${this.currentPhase}`;
    // A pseudo-terminal nobody sized reports 0 columns.
    const width = process.stderr.columns || 80;
    process.stderr.write(`\r\x1b[K\x1b[2m${line.slice(0, Math.max(0, width - 1))}\x1b[0m`);
    this.shown = true;
  }
}

/** The console log names the probe log written beside it, so that `smss86 log` finds the phases. */
function writeLogHeaders(outputs: Outputs, header: LogHeader): void {
  const { consoleLog, probeLog } = outputs;
  if (consoleLog) {
    const probeName = probeLog ? relative(dirname(resolve(consoleLog.path)), resolve(probeLog.path)) : undefined;
    consoleLog.append(formatHeader("console", { ...header, ...(probeName ? { probeLog: probeName } : {}) }));
  }
  probeLog?.append(formatHeader("probe", header));
}

function endLogs(outputs: Outputs, end: LogEnd): void {
  outputs.logsEnded = true;
  outputs.consoleLog?.append(formatEnd(end));
  outputs.probeLog?.append(formatEnd(end));
}

/**
 * --console-log and --probe-log: each guest line as it completes, stamped with the host's wall time when
 * its first byte came; `end` adds the end marker a follower waits for.
 */
function recordLogs(machine: Machine, outputs: Outputs): { end: (end: LogEnd) => void } {
  const { consoleLog, probeLog } = outputs;
  let line: number[] = [];
  let lineStartMs = 0;
  const flushLine = () => {
    consoleLog?.append(formatLine(lineStartMs, new TextDecoder().decode(Uint8Array.from(line)).replace(/\r/g, "")));
    line = [];
  };
  if (consoleLog) {
    machine.onConsole((bytes) => {
      for (const byte of bytes) {
        if (line.length === 0) lineStartMs = machine.elapsedMs();
        if (byte === 0x0a) flushLine();
        else line.push(byte);
      }
    });
  }
  if (probeLog) machine.onEvent((event) => probeLog.append(formatLine(event.hostMs, encodeEvent({ t: event.t, phase: event.phase, status: event.status, ...(event.data ? { data: event.data } : {}) }).trimEnd())));
  return {
    end: (end) => {
      if (line.length > 0) flushLine();
      endLogs(outputs, end);
    },
  };
}
