// `smss86 boot`: boots a disk headless, streams the guest console, reports phases, ends with a summary.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PHASES } from "../../src/events/index.ts";
import { ensureDefaultDisk } from "../../images/disk.ts";
import { describeOutcome, Machine, MachineEndedError, MachineTimeoutError, type ObservedEvent, type Outcome } from "../machine.ts";
import { DiskImageError, loadDiskImage, loadFirmware } from "../node.ts";
import { timelineFileProblem, writeTimeline } from "./timeline-file.ts";

const QUIT_KEY = 0x1d; // Ctrl-]

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

export async function bootCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        until: { type: "string" },
        json: { type: "string" },
        disk: { type: "string" },
        timeout: { type: "string" },
        memory: { type: "string", default: "64" },
        quiet: { type: "boolean", short: "q", default: false },
        jit: { type: "boolean", default: false },
        timeline: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`smss86 boot: ${(err as Error).message}\n`);
    return 2;
  }
  const until = args.until;
  if (until !== undefined && !(PHASES as readonly string[]).includes(until)) {
    process.stderr.write(`smss86 boot: --until takes one of: ${PHASES.join(", ")}\n`);
    return 2;
  }
  const timeoutS = args.timeout === undefined ? (until ? 120 : undefined) : Number(args.timeout);
  const memoryMiB = Number(args.memory);
  if ((timeoutS !== undefined && !(timeoutS > 0)) || !(memoryMiB >= 8)) {
    process.stderr.write("smss86 boot: --timeout takes seconds > 0 and --memory MiB ≥ 8\n");
    return 2;
  }

  const timelineProblem = args.timeline === undefined ? undefined : timelineFileProblem(args.timeline);
  if (timelineProblem) {
    process.stderr.write(`smss86 boot: ${timelineProblem}\n`);
    return 2;
  }

  const [dim, plain] = process.stderr.isTTY ? ["\x1b[2m", "\x1b[0m"] : ["", ""];
  const progress = (line: string) => process.stderr.write(`${dim}[smss86] ${line}${plain}\n`);
  let diskFile: string;
  let disk: Uint8Array;
  try {
    diskFile = args.disk ?? (await ensureDefaultDisk({ log: progress }));
    disk = loadDiskImage(diskFile);
  } catch (err) {
    if (err instanceof DiskImageError) {
      process.stderr.write(`smss86 boot: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  progress(`booting ${diskFile} (${memoryMiB} MiB)`);
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk }, memoryMiB, jit: args.jit });
  machine.onConsole((bytes) => process.stdout.write(bytes));
  machine.onEvent((e) => {
    if (!args.quiet) progress(`${(e.hostMs / 1000).toFixed(2)} s  ${e.instructions.toExponential(2)} instr  ${e.phase} ${e.status}`);
  });

  const quit = attachStdin(machine);
  const finished: Promise<{ result: BootReport["result"]; reason?: string }> = (async () => {
    const deadline = timeoutS === undefined ? undefined : timeoutS * 1000;
    if (until) {
      const reached = machine.waitForPhase(until as (typeof PHASES)[number], deadline ?? Infinity).then(
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
  await machine.stop();

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
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2) + "\n");
  if (args.timeline) writeTimeline(args.timeline, machine, { hostMs: wallMs, instructions }, { disk: diskFile, memoryMiB });
  process.stderr.write(summary(report));
  return result === "ok" || result === "power-off" || result === "quit" ? 0 : 1;
}

function outcomeResult(outcome: Outcome): { result: BootReport["result"]; reason?: string } {
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
}

/**
 * Standard input goes to the guest console; on a terminal it is raw, and Ctrl-] ends the session. Input is
 * held until smss is ready: keystrokes sent before the guest opens its console would be dropped by the UART.
 */
function attachStdin(machine: Machine): { promise: Promise<{ result: "quit" }>; detach: () => void } {
  const stdin = process.stdin;
  let resolveQuit: (v: { result: "quit" }) => void = () => {};
  const promise = new Promise<{ result: "quit" }>((resolve) => (resolveQuit = resolve));
  const raw = stdin.isTTY === true;
  let held: Uint8Array[] | undefined = [];
  machine.waitForPhase("ready", Infinity).then(
    () => {
      for (const chunk of held ?? []) machine.sendConsole(chunk);
      held = undefined;
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
    if (held) held.push(bytes);
    else machine.sendConsole(bytes);
  };
  if (raw) stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.on("error", () => {});
  return {
    promise,
    detach: () => {
      stdin.off("data", onData);
      if (raw) stdin.setRawMode(false);
      // A pipe or file on stdin would keep the process alive after the machine is gone.
      stdin.destroy();
    },
  };
}

function summary(report: BootReport): string {
  const lines = ["", "─── smss86 boot summary ───"];
  const resultLine = {
    ok: "reached the requested event",
    "power-off": "the guest powered off",
    quit: "stopped at the user's request",
    stop: "STOP",
    panic: "kernel panic",
    timeout: "TIMEOUT",
  }[report.result];
  lines.push(`result:       ${resultLine}${report.reason ? `: ${report.reason}` : ""}`);
  lines.push(`disk:         ${report.disk} (${report.memoryMiB} MiB RAM)`);
  lines.push(`wall time:    ${(report.wallMs / 1000).toFixed(2)} s`);
  lines.push(`instructions: ${report.instructions.toExponential(3)}`);
  lines.push("phases:");
  if (report.phases.length === 0) lines.push("  (none: smss never reported on the probe channel)");
  for (const p of report.phases.filter((phase) => phase.status !== "start")) {
    lines.push(
      `  ${p.phase.padEnd(14)} ${p.status.padEnd(6)} guest ${String(p.guestMs).padStart(6)} ms  wall ${(p.wallMs / 1000).toFixed(2).padStart(6)} s  ${p.instructions.toExponential(2)} instr`,
    );
  }
  return lines.join("\n") + "\n";
}
