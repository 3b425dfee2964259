// `import { bootMachine } from "smss86"`: the machine for other people's tests (and this project's own boot
// tests). bootMachine boots the real default disk — SeaBIOS, smss86's boot loader, the kernel, smss.exe — changed as asked
// (a SYSTEM hive as .reg text, extra files), and hands back a handle that waits for phases and events, types
// on the console, expects a STOP and reads files back from the disk. Every wait has a timeout, and a wait
// that fails says what it awaited, the last probe event and the tail of the console. Node only.
import { describeOutcome, Machine, MachineEndedError, MachineTimeoutError, type ObservedEvent, type Outcome } from "./machine.ts";
import { openVolume } from "./disk/image.ts";
import { replaceFile } from "./files.ts";
import { loadFirmware } from "./node.ts";
import { prepareDisk, type HiveSource } from "./scenario.ts";
import { sharedScenarioPoint } from "./scenario-point.ts";
import type { FatVolume } from "../src/fat/fat.ts";
import { TEST_CONTROL_SWITCH, type CommandData, type LogonData, type Phase, type PhaseStatus } from "../src/events/index.ts";
import { withKernelSwitch } from "./scenario.ts";

export type { ObservedEvent, Outcome } from "./machine.ts";
export type { Phase, PhaseStatus } from "../src/events/index.ts";

/** Long enough for a boot on a loaded machine with two cores (a cold boot takes about 1.5 s alone). */
const DEFAULT_TIMEOUT_MS = 90_000;
/** How much of the console a failed wait quotes. */
const CONSOLE_TAIL_CHARS = 2000;

export interface BootMachineOptions {
  /**
   * The SYSTEM hive as .reg text: a string replaces the default hive whole; `{ merge }` applies a fragment
   * over the default hive (images/hives/SYSTEM.reg).
   */
  hive?: string | { merge: string };
  /** Volume paths ("/Temp/a.txt") to contents, put on C: before the boot; parent directories are made. */
  files?: Record<string, Uint8Array | string>;
  /** Guest RAM, 8 to 2047 MiB (default 64). */
  memoryMiB?: number;
  /** A second IDE disk: a FAT volume the guest sees as D:. Used in place: the guest's writes land in it. */
  secondDisk?: Uint8Array;
  /** Changes the prepared disk image before it boots (to damage it on purpose, say). */
  beforeBoot?: (disk: Uint8Array) => void;
  /** The default timeout of every wait on this machine, in ms (default 90 s). */
  timeoutMs?: number;
  /**
   * Start from a machine saved where smss is about to read the hive (emulator/scenario-point.ts) instead of
   * powering on: the same phases on the same disk, 1 s sooner. Used when the disk keeps everything that
   * machine had read and there is no second disk; otherwise the machine boots (`startedFrom` says which,
   * `coldBootReason` why). The first use in a process boots once to save the point.
   */
  fromScenarioPoint?: boolean;
  /**
   * Lets `command("kill <pid>")` end guest processes (the kernel command line gets smss86.test-control).
   * Machines started from the scenario point always have it: that machine is test machinery anyway.
   */
  testControl?: boolean;
}

export interface WaitOptions {
  timeoutMs?: number;
}

/** What a STOP screen showed: the bugcheck code, its four parameters and smss's reason. */
export interface StopInfo {
  code: number;
  params: number[];
  reason: string;
}

/** A wait that failed: what it waited for, the last probe event and the console's tail are in its message. */
export class BootMachineError extends Error {
  override name = "BootMachineError";
}

export class BootedMachine {
  constructor(
    /** The emulated PC itself, for what this handle does not cover. */
    readonly machine: Machine,
    /** The boot disk, used in place: the guest's writes land in it (after a restore, see diskBytes()). */
    readonly disk: Uint8Array,
    readonly secondDisk: Uint8Array | undefined,
    private readonly timeoutMs: number,
    /** How the machine got to smss: from power-on, or restored at the scenario point. */
    readonly startedFrom: "power-on" | "scenario point" = "power-on",
    /** Why a machine asked to start from the scenario point was booted instead. */
    readonly coldBootReason?: string,
  ) {}

  /** Every probe event so far, with host time and guest instructions. */
  get events(): readonly ObservedEvent[] {
    return this.machine.events;
  }

  /** Everything the guest wrote on its console (COM1). */
  get console(): string {
    return this.machine.console;
  }

  /** How the machine ended, once it has. */
  get outcome(): Outcome | undefined {
    return this.machine.outcome;
  }

  /** The VGA text screen (SeaBIOS and a STOP screen show there). */
  screenText(): string {
    return this.machine.screenText();
  }

  /** The first event, already seen or still to come, of `phase` with `status` (default "done"). */
  waitForPhase(phase: Phase, options: WaitOptions & { status?: PhaseStatus } = {}): Promise<ObservedEvent> {
    const status = options.status ?? "done";
    return this.waitForEvent((e) => e.phase === phase && e.status === status, { ...options, description: `phase "${phase}" ${status}` });
  }

  /** The first event, already seen or still to come, that passes `test`. */
  waitForEvent(test: (event: ObservedEvent) => boolean, options: WaitOptions & { description?: string } = {}): Promise<ObservedEvent> {
    const description = options.description ?? "an event that passes the test";
    return this.machine.waitFor(description, test, options.timeoutMs ?? this.timeoutMs).catch((error: unknown) => {
      throw this.explain(error);
    });
  }

  /** Resolves with the console's text once it matches `pattern` (looked at from `from` on, default 0). */
  waitForConsole(pattern: RegExp | string, options: WaitOptions & { from?: number } = {}): Promise<string> {
    const from = options.from ?? 0;
    const matches = () => (typeof pattern === "string" ? this.console.indexOf(pattern, from) >= 0 : pattern.test(this.console.slice(from)));
    const description = `the console to show ${typeof pattern === "string" ? JSON.stringify(pattern) : String(pattern)}`;
    return this.until(description, matches, () => this.console, options.timeoutMs);
  }

  /** Resolves when the guest powers off, stops on a bugcheck, panics, or is stopped. */
  waitForEnd(options: WaitOptions = {}): Promise<Outcome> {
    return this.until("the machine to end", () => this.outcome !== undefined, () => this.outcome!, options.timeoutMs);
  }

  /**
   * Types `text` on the console (COM1), where winlogon and then the user's shell read. Keystrokes sent before
   * winlogon opened the console would be dropped by the UART, so this waits for its first prompt.
   */
  async type(text: string, options: WaitOptions = {}): Promise<void> {
    await this.waitForPhase("logon-prompt", options);
    this.machine.sendConsole(text);
  }

  /**
   * Sends a command to smss on its control line (COM2: help, ver, shutdown, crash; kill with `testControl`)
   * and resolves with its answer, or with "" when the machine ends instead (shutdown, crash); a refused
   * command rejects with smss's reason.
   */
  async command(line: string, options: WaitOptions = {}): Promise<string> {
    await this.waitForPhase("ready", options);
    const earlier = new Set(this.events);
    const isAnswer = (e: ObservedEvent) => e.phase === "command" && !earlier.has(e);
    this.machine.sendProbe(new TextEncoder().encode(`${line}\n`));
    const answered = () => this.events.some(isAnswer) || (this.outcome !== undefined && this.outcome.kind !== "panic");
    await this.until(`smss's answer to "${line}"`, answered, () => undefined, options.timeoutMs);
    const answer = this.events.find(isAnswer);
    if (answer === undefined) return "";
    const data = answer.data as unknown as CommandData;
    if (answer.status !== "done") throw new BootMachineError(`smss refused "${line}": ${data.error}`);
    return data.output ?? "";
  }

  /**
   * Logs on at the console: waits for winlogon's next prompt, types the user name, then the password once
   * winlogon asks for it, and resolves with the logon event (status "done" or "failed").
   */
  async logon(user: string, password: string, options: WaitOptions = {}): Promise<{ status: PhaseStatus; data: LogonData }> {
    const prompt = await this.waitForEvent((e) => e.phase === "logon-prompt" && !this.promptsUsed.has(e), { ...options, description: "winlogon's prompt" });
    this.promptsUsed.add(prompt);
    const earlier = new Set(this.events);
    const from = this.console.length;
    this.machine.sendConsole(`${user}\n`);
    await this.waitForConsole("Password: ", { ...options, from });
    this.machine.sendConsole(`${password}\n`);
    const event = await this.waitForEvent((e) => e.phase === "logon" && !earlier.has(e), { ...options, description: `the logon of ${user}` });
    return { status: event.status, data: event.data as unknown as LogonData };
  }

  private readonly promptsUsed = new Set<ObservedEvent>();

  /** Resolves with the STOP the machine ends in; rejects when it ends otherwise or not in time. */
  async expectStop(options: WaitOptions = {}): Promise<StopInfo> {
    const outcome = await this.waitForEnd(options).catch((error: unknown) => {
      throw new BootMachineError(`expected a STOP: ${(error as Error).message}`);
    });
    if (outcome.kind !== "stop") throw new BootMachineError(`expected a STOP, but ${describeOutcome(outcome)}${this.context()}`);
    return { code: outcome.code, params: outcome.params, reason: outcome.reason };
  }

  /** The C: volume of the disk as it is now (what the guest has written out so far). */
  volume(): FatVolume {
    return openVolume(this.diskBytes());
  }

  /** A file of the C: volume ("/Windows/ntbtlog.txt") as the disk holds it now. */
  readFile(path: string): Uint8Array {
    return this.volume().readFile(path);
  }

  /** The disk as the guest has left it. */
  diskBytes(): Uint8Array {
    return this.machine.diskBytes() ?? this.disk;
  }

  /** A copy of the disk as the guest has left it, also written (atomically) to `file` when one is given. */
  async saveDisk(file?: string): Promise<Uint8Array> {
    const copy = this.diskBytes().slice();
    if (file !== undefined) await replaceFile(file, "disk image", () => copy);
    return copy;
  }

  /** Stops the machine and frees the emulator. Idempotent. */
  stop(): Promise<void> {
    return this.machine.stop();
  }

  /** Polls `ready` between the emulator's run slices, failing with the machine's context after the timeout. */
  private until<T>(description: string, ready: () => boolean, value: () => T, timeoutMs = this.timeoutMs): Promise<T> {
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const look = () => {
        if (ready()) return resolve(value());
        if (this.outcome) {
          return reject(new BootMachineError(`the machine ended (${describeOutcome(this.outcome)}) before ${description}${this.context()}`));
        }
        if (performance.now() - startedAt >= timeoutMs) {
          return reject(new BootMachineError(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${description}${this.context()}`));
        }
        setTimeout(look, 10);
      };
      look();
    });
  }

  private explain(error: unknown): Error {
    if (error instanceof MachineTimeoutError || error instanceof MachineEndedError) return new BootMachineError(`${error.message}${this.context()}`);
    return error as Error;
  }

  /** The last event and the console's tail, appended to every failed wait. */
  private context(): string {
    const last = this.events.at(-1);
    const lastEvent = last ? `${last.phase} ${last.status} at ${(last.hostMs / 1000).toFixed(2)} s` : "none (smss never reported on the probe channel)";
    return `\nlast event: ${lastEvent}\n--- console tail ---\n${this.console.slice(-CONSOLE_TAIL_CHARS)}`;
  }
}

/** Boots the default disk (built when needed), changed as the options say; resolves once the PC is on. */
export async function bootMachine(options: BootMachineOptions = {}): Promise<BootedMachine> {
  const hive: HiveSource | undefined =
    options.hive === undefined
      ? undefined
      : typeof options.hive === "string"
        ? { regText: options.hive, merge: false, fileName: "hive" }
        : { regText: options.hive.merge, merge: true, fileName: "hive fragment" };
  const prepared = await prepareDisk({ ...(hive ? { hive } : {}), files: options.files });
  const disk = options.testControl && !options.fromScenarioPoint ? withKernelSwitch(prepared, TEST_CONTROL_SWITCH) : prepared;
  options.beforeBoot?.(disk);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let coldBootReason: string | undefined;
  if (options.fromScenarioPoint) {
    const point = await sharedScenarioPoint(options.memoryMiB);
    const mismatch = options.secondDisk ? undefined : point.mismatch(disk);
    if (!options.secondDisk && mismatch === undefined) return new BootedMachine(await point.start(disk), disk, undefined, timeoutMs, "scenario point");
    coldBootReason = options.secondDisk ? "a second disk is attached" : `the disk cannot stand in for the saved machine's: ${mismatch}`;
  }
  const machine = await Machine.start({
    firmware: loadFirmware(),
    boot: { kind: "disk", disk },
    ...(options.memoryMiB !== undefined ? { memoryMiB: options.memoryMiB } : {}),
    ...(options.secondDisk ? { secondDisk: options.secondDisk } : {}),
  });
  return new BootedMachine(machine, disk, options.secondDisk, timeoutMs, "power-on", coldBootReason);
}
