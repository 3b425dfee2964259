// Machine: one emulated PC (v86) running the smss86 guest, observed through its console (COM1) and the
// probe channel (COM2, JSON-lines phase events). No Node APIs here: the browser page uses the same class;
// emulator/node.ts loads the files it needs in Node.
import { V86, type V86Options } from "v86";
import { decodeEvent, formatStopCode, ProbeParseError, type Phase, type PhaseEvent, type PhaseStatus } from "../src/events/index.ts";

export interface Firmware {
  bios: Uint8Array;
  vgaBios: Uint8Array;
  /** Where v86.wasm lives (a file path in Node, a URL in a browser). */
  wasmPath: string;
  /**
   * v86.wasm compiled once for every machine of the process: each would otherwise compile it again and
   * start on unoptimised code (V8 keeps the optimised tier with the module). Without it v86 loads wasmPath.
   */
  wasmModule?: Promise<WebAssembly.Module>;
}

function instantiateFrom(module: Promise<WebAssembly.Module>) {
  return async (imports: WebAssembly.Imports) => (await WebAssembly.instantiate(await module, imports)).exports;
}

export type BootSource =
  | { kind: "disk"; disk: Uint8Array }
  | { kind: "kernel"; bzImage: Uint8Array; cmdline: string; initrd?: Uint8Array; disk?: Uint8Array };

export interface MachineOptions {
  firmware: Firmware;
  boot: BootSource;
  memoryMiB?: number;
  /** A second IDE disk (hdb), e.g. a FAT volume the guest sees as D:. Used in place, like the boot disk. */
  secondDisk?: Uint8Array;
  /** A state from `saveState()` of a machine made with the same options. */
  initialState?: ArrayBuffer;
  /** With `initialState`: the events the saved machine had seen, so this one's list starts with them. */
  history?: readonly ObservedEvent[];
  /**
   * v86's x86→wasm JIT. Off by default: a boot runs most guest code only a few times, and compiling it costs
   * more wall time than it saves (measured: smss ready in 1.56 s without, 1.5–3.7 s with; see npm run bench).
   */
  jit?: boolean;
  /**
   * Browsers only: an element for v86's screen adapter to draw the VGA screen in (it uses the element's first
   * div for text modes and its first canvas for graphics, creating them if missing). Without it the screen
   * is kept headless and read through `screenText()`.
   */
  screenContainer?: HTMLElement;
}

/** An event as the host saw it arrive: the guest's own fields plus host wall time and guest instructions. */
export interface ObservedEvent extends PhaseEvent {
  hostMs: number;
  instructions: number;
}

/** A moment of the run as the host saw it: wall time since power-on and guest instructions executed. */
export interface MachineMark {
  hostMs: number;
  instructions: number;
}

/**
 * Boot stages seen from outside the guest, before smss has its probe line: the boot loader's first byte
 * on COM1 (the boot loader writes to the serial console from its start), and the kernel taking over, seen as the
 * CPU turning paging on (SeaBIOS, the boot loader and the kernel's setup code all run without paging; Linux
 * enables it first thing after unpacking).
 */
export interface BootMarks {
  loaderStart?: MachineMark;
  kernelStart?: MachineMark;
}

export type Outcome =
  | { kind: "power-off"; hostMs: number }
  | { kind: "stop"; code: number; params: number[]; reason: string; hostMs: number }
  | { kind: "panic"; message: string; hostMs: number }
  | { kind: "halted-by-host"; hostMs: number };

export class MachineTimeoutError extends Error {
  constructor(readonly waitingFor: string, readonly timeoutMs: number, readonly lastEvent: ObservedEvent | undefined) {
    super(
      `timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${waitingFor}` +
        (lastEvent ? ` (last event: ${lastEvent.phase} ${lastEvent.status})` : " (no probe event arrived)"),
    );
    this.name = "MachineTimeoutError";
  }
}

export class MachineEndedError extends Error {
  constructor(readonly waitingFor: string, readonly outcome: Outcome) {
    super(`the machine ended (${describeOutcome(outcome)}) before ${waitingFor}`);
    this.name = "MachineEndedError";
  }
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case "power-off":
      return "powered off";
    case "stop":
      return `STOP ${formatStopCode(outcome.code)}: ${outcome.reason}`;
    case "panic":
      return `kernel panic: ${outcome.message}`;
    case "halted-by-host":
      return "stopped by the host";
  }
}

const DEFAULT_MEMORY_MIB = 64;
const PANIC_PATTERN = /Kernel panic - not syncing: ([^\r\n]*)/;

type Waiter = {
  description: string;
  test: (e: ObservedEvent) => boolean;
  resolve: (e: ObservedEvent) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
};

export class Machine {
  readonly events: ObservedEvent[] = [];
  readonly probeErrors: ProbeParseError[] = [];
  private consoleText = "";
  private probeLine = "";
  private readonly consoleListeners = new Set<(bytes: Uint8Array) => void>();
  private readonly eventListeners = new Set<(e: ObservedEvent) => void>();
  private readonly waiters = new Set<Waiter>();
  private outcomeValue: Outcome | undefined;
  private readonly outcomeListeners = new Set<(o: Outcome) => void>();
  private readonly startedAt: number;
  readonly bootMarks: BootMarks = {};
  private readonly diskWriteListeners = new Set<(offset: number, bytes: Uint8Array) => void>();
  private bootMarkTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly emulator: V86,
    readonly diskBuffer: Uint8Array | undefined,
    /** False for a machine started from a saved state: its boot happened before the state was saved. */
    private readonly observesBoot: boolean,
  ) {
    this.startedAt = performance.now();
    emulator.add_listener("serial0-output-byte", (byte) => this.onConsoleByte(byte));
    emulator.add_listener("serial1-output-byte", (byte) => this.onProbeByte(byte));
    if (!observesBoot) return;
    // v86 reports no event when paging turns on: sample CR0 between its run slices until the kernel is seen
    // (a mark is at most one interval late, a few ms against a boot of a second or more).
    this.bootMarkTimer = setInterval(() => {
      if (this.bootMarks.kernelStart || this.events.length > 0 || this.outcomeValue) {
        clearInterval(this.bootMarkTimer);
        return;
      }
      if (this.pagingEnabled()) this.bootMarks.kernelStart = this.mark();
    }, 2);
  }

  /** Builds the PC and powers it on. The disk bytes are used in place: guest writes land in them. */
  static async start(options: MachineOptions): Promise<Machine> {
    const { firmware, boot } = options;
    const disk = boot.disk;
    const v86Options: V86Options = {
      wasm_path: firmware.wasmPath,
      ...(firmware.wasmModule ? { wasm_fn: instantiateFrom(firmware.wasmModule) } : {}),
      bios: { buffer: exactBuffer(firmware.bios) },
      vga_bios: { buffer: exactBuffer(firmware.vgaBios) },
      memory_size: (options.memoryMiB ?? DEFAULT_MEMORY_MIB) * 1024 * 1024,
      vga_memory_size: 2 * 1024 * 1024,
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      uart1: true,
      uart2: true,
      uart3: true,
      log_level: 0,
      disable_jit: !options.jit,
      ...(disk ? { hda: { buffer: diskBufferInPlace(disk) } } : {}),
      ...(options.secondDisk ? { hdb: { buffer: diskBufferInPlace(options.secondDisk) } } : {}),
      ...(boot.kind === "kernel"
        ? {
            bzimage: { buffer: exactBuffer(boot.bzImage) },
            cmdline: boot.cmdline,
            ...(boot.initrd ? { initrd: { buffer: exactBuffer(boot.initrd) } } : {}),
          }
        : {}),
      ...(options.initialState ? { initial_state: { buffer: options.initialState } } : {}),
      ...(options.screenContainer ? { screen: { container: options.screenContainer } } : {}),
    };
    const emulator = new V86(v86Options);
    const machine = new Machine(emulator, disk, options.initialState === undefined);
    machine.events.push(...(options.history ?? []));
    await new Promise<void>((resolve) => emulator.add_listener("emulator-ready", () => resolve()));
    machine.watchDiskWrites();
    return machine;
  }

  /** Milliseconds since this machine was constructed (host clock). */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  instructions(): number {
    return this.emulator.get_instruction_counter();
  }

  /** Now, as wall time since power-on and guest instructions. */
  mark(): MachineMark {
    return { hostMs: this.elapsedMs(), instructions: this.instructions() };
  }

  /** Whether the CPU is running (false while paused or after the machine ended). */
  get running(): boolean {
    return this.emulator.is_running();
  }

  /** Stops the CPU where it is, keeping the machine; `resume()` goes on from there. */
  async pause(): Promise<void> {
    await this.emulator.stop();
  }

  async resume(): Promise<void> {
    if (this.outcomeValue?.kind === "halted-by-host") throw new Error("Machine: cannot resume a machine that was stopped");
    await this.emulator.run();
  }

  /**
   * Every write the guest makes to its boot disk (hda), as the IDE controller lands it: the byte offset and
   * a copy of the bytes. For replaying a run's writes up to any point (the power-cut tests).
   */
  onDiskWrite(listener: (offset: number, bytes: Uint8Array) => void): () => void {
    this.diskWriteListeners.add(listener);
    return () => this.diskWriteListeners.delete(listener);
  }

  /** v86's IDE device writes PIO and DMA sectors alike through its disk buffer's set(); that is the one place to watch. */
  private watchDiskWrites(): void {
    type DiskBuffer = { set: (offset: number, bytes: Uint8Array, done: () => void) => void };
    const buffer = (this.emulator as unknown as { v86?: { cpu?: { devices?: { ide?: { primary?: { master?: { buffer?: DiskBuffer } } } } } } }).v86?.cpu?.devices?.ide
      ?.primary?.master?.buffer;
    if (!buffer || typeof buffer.set !== "function") return;
    const write = buffer.set.bind(buffer);
    buffer.set = (offset, bytes, done) => {
      if (this.diskWriteListeners.size > 0) {
        const copy = bytes.slice();
        for (const listener of this.diskWriteListeners) listener(offset, copy);
      }
      write(offset, bytes, done);
    };
  }

  /**
   * Puts `disk` (used in place, the size of the booted one) under the running machine as its boot disk: for
   * a machine restored from a state whose disk bytes were left out (see emulator/scenario-point.ts).
   */
  replaceDisk(disk: Uint8Array): void {
    const buffer = (this.emulator as unknown as V86Internals).v86?.cpu?.devices?.ide?.primary?.master?.buffer as
      | { byteLength?: number; buffer?: unknown }
      | undefined;
    if (buffer === undefined || buffer.byteLength !== disk.byteLength) {
      throw new Error(`Machine: cannot put a disk of ${disk.byteLength} bytes in place of one of ${buffer?.byteLength} bytes`);
    }
    buffer.buffer = diskBufferInPlace(disk);
  }

  /**
   * The disk as the guest has left it. Normally the bytes given to `start`, but v86 restores a saved state
   * into a copy of its own, so the emulator's live buffer is asked first.
   */
  diskBytes(): Uint8Array | undefined {
    const live = (this.emulator as unknown as V86Internals).v86?.cpu?.devices?.ide?.primary?.master?.buffer?.buffer;
    return live instanceof ArrayBuffer ? new Uint8Array(live) : this.diskBuffer;
  }

  /**
   * The VGA text screen as it is now: SeaBIOS and the VGA BIOS print only there, never on COM1. v86's
   * screen adapters (the headless one included) keep it, though its typings do not declare it.
   */
  screenText(): string {
    const adapter = (this.emulator as unknown as { screen_adapter?: { get_text_screen?: () => string[] } }).screen_adapter;
    return (adapter?.get_text_screen?.() ?? []).map((row) => row.trimEnd()).join("\n").trimEnd();
  }

  get console(): string {
    return this.consoleText;
  }

  get outcome(): Outcome | undefined {
    return this.outcomeValue;
  }

  onConsole(listener: (bytes: Uint8Array) => void): () => void {
    this.consoleListeners.add(listener);
    return () => this.consoleListeners.delete(listener);
  }

  onEvent(listener: (e: ObservedEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onOutcome(listener: (o: Outcome) => void): () => void {
    this.outcomeListeners.add(listener);
    return () => this.outcomeListeners.delete(listener);
  }

  /** Types into the guest console (COM1). */
  sendConsole(bytes: Uint8Array | string): void {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    this.emulator.serial_send_bytes(0, data);
  }

  /** Sends bytes to the guest on the probe line (COM2): only smss's scenario point reads them. */
  sendProbe(bytes: Uint8Array): void {
    this.emulator.serial_send_bytes(1, bytes);
  }

  /** Resolves with the first event (already seen or still to come) that passes `test`. */
  waitFor(description: string, test: (e: ObservedEvent) => boolean, timeoutMs: number): Promise<ObservedEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    if (this.outcomeValue) return Promise.reject(new MachineEndedError(description, this.outcomeValue));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        description,
        test,
        resolve,
        reject,
        // Node runs a timer of Infinity ms at once, so "no timeout" must mean no timer.
        timer: Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              this.waiters.delete(waiter);
              reject(new MachineTimeoutError(description, timeoutMs, this.events.at(-1)));
            }, timeoutMs)
          : undefined,
      };
      this.waiters.add(waiter);
    });
  }

  waitForPhase(phase: Phase, timeoutMs: number, status: PhaseStatus = "done"): Promise<ObservedEvent> {
    return this.waitFor(`phase "${phase}" ${status}`, (e) => e.phase === phase && e.status === status, timeoutMs);
  }

  /** Resolves when the guest powers off, stops with a bugcheck, panics, or the host stops it. */
  ended(): Promise<Outcome> {
    if (this.outcomeValue) return Promise.resolve(this.outcomeValue);
    return new Promise((resolve) => this.onOutcome(resolve));
  }

  saveState(): Promise<ArrayBuffer> {
    return this.emulator.save_state();
  }

  /** Stops the CPU and frees the emulator. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.bootMarkTimer);
    this.finish({ kind: "halted-by-host", hostMs: this.elapsedMs() });
    await this.emulator.stop();
    await this.emulator.destroy();
  }

  private pagingEnabled(): boolean {
    const cr = (this.emulator as unknown as V86Internals).v86?.cpu?.cr;
    return cr !== undefined && (cr[0] & 0x80000000) !== 0;
  }

  private onConsoleByte(byte: number): void {
    if (!this.bootMarks.loaderStart && this.observesBoot) this.bootMarks.loaderStart = this.mark();
    this.consoleText += String.fromCharCode(byte);
    const bytes = Uint8Array.of(byte);
    for (const listener of this.consoleListeners) listener(bytes);
    if (byte === 0x0a && !this.outcomeValue) {
      const panic = PANIC_PATTERN.exec(this.consoleText.slice(-400));
      if (panic) this.finish({ kind: "panic", message: panic[1].trim(), hostMs: this.elapsedMs() });
    }
  }

  private onProbeByte(byte: number): void {
    if (byte !== 0x0a) {
      if (byte !== 0x0d) this.probeLine += String.fromCharCode(byte);
      return;
    }
    const line = this.probeLine;
    this.probeLine = "";
    if (line.trim() === "") return;
    let event: PhaseEvent;
    try {
      event = decodeEvent(line);
    } catch (err) {
      if (err instanceof ProbeParseError) {
        this.probeErrors.push(err);
        return;
      }
      throw err;
    }
    const observed: ObservedEvent = { ...event, hostMs: this.elapsedMs(), instructions: this.instructions() };
    this.events.push(observed);
    for (const listener of this.eventListeners) listener(observed);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(observed)) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(observed);
      }
    }
    if (observed.phase === "stop") {
      const data = observed.data ?? {};
      this.finish({
        kind: "stop",
        code: Number(data.code ?? 0),
        params: Array.isArray(data.params) ? data.params.map(Number) : [],
        reason: String(data.reason ?? "unknown"),
        hostMs: observed.hostMs,
      });
    } else if (observed.phase === "power-off") {
      this.finish({ kind: "power-off", hostMs: observed.hostMs });
    }
  }

  private finish(outcome: Outcome): void {
    if (this.outcomeValue) return;
    this.outcomeValue = outcome;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new MachineEndedError(waiter.description, outcome));
    }
    this.waiters.clear();
    for (const listener of this.outcomeListeners) listener(outcome);
  }
}

/** The parts of v86's emulator object this class reads that its typings leave out (names kept in its build). */
interface V86Internals {
  v86?: {
    cpu?: {
      cr?: Int32Array;
      devices?: { ide?: { primary?: { master?: { buffer?: { buffer?: unknown } } } } };
    };
  };
}

/** v86 wants an ArrayBuffer of exactly the image's size; copy only when the view does not cover its buffer. */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

/** The disk must be handed over without a copy, or the guest's writes would not be visible in `diskBuffer`. */
function diskBufferInPlace(disk: Uint8Array): ArrayBuffer {
  if (disk.byteOffset !== 0 || disk.byteLength !== disk.buffer.byteLength || !(disk.buffer instanceof ArrayBuffer)) {
    throw new TypeError("Machine: the disk image must be a Uint8Array that covers its whole ArrayBuffer");
  }
  return disk.buffer;
}
