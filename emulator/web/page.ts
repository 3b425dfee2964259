// The web page served by `smss86 web`: the same Machine as in Node, with the COM1 console in xterm.js, the VGA
// screen, a live boot timeline, the probe events, machine controls, downloads, state files and a SYSTEM hive
// editor. Everything it loads comes from the serving host (files/…), so it works offline.
import { Terminal } from "@xterm/xterm";
import { describeOutcome, Machine, type Firmware, type ObservedEvent, type Outcome } from "../machine.ts";
import { renderTimelineSvg } from "../timeline.ts";
import { checkRegText, diskWithSystemHive, type HiveCheck } from "./hive-disk.ts";
import { decodeSnapshot, encodeSnapshot, firmwareOrigin, machineOrigin, originMismatch, SnapshotError, type SnapshotOrigin } from "../snapshot.ts";

const DEFAULT_MEMORY_MIB = 64;
/** How often the timeline is redrawn while the machine runs (the running bars grow). */
const TIMELINE_REFRESH_MS = 250;
const HIVE_CHECK_DELAY_MS = 300;

interface Session {
  machine: Machine;
  /** Says what was booted, for the status line and the report. */
  source: string;
  memoryMiB: number;
  /** Started from a state file: the events before the save are not in this machine's list. */
  fromState: boolean;
  /** What the machine was made from, written into a saved state (a started state's own, carried on). */
  origin: SnapshotOrigin;
  /** Phases done before this machine's state was saved, when it started from one. */
  phasesDoneBefore: string[];
  /** What the run looked like when it ended or was powered off, for the timeline and the report. */
  end?: { hostMs: number; instructions: number };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusLine = $("status");
const buttons = {
  pause: $<HTMLButtonElement>("pause"),
  reset: $<HTMLButtonElement>("reset"),
  powerOff: $<HTMLButtonElement>("power-off"),
  saveState: $<HTMLButtonElement>("save-state"),
  loadState: $<HTMLButtonElement>("load-state"),
  downloadConsole: $<HTMLButtonElement>("download-console"),
  downloadReport: $<HTMLButtonElement>("download-report"),
  downloadDisk: $<HTMLButtonElement>("download-disk"),
  hiveBoot: $<HTMLButtonElement>("hive-boot"),
  hiveRevert: $<HTMLButtonElement>("hive-revert"),
};
const stateFileInput = $<HTMLInputElement>("state-file");
const timelineBox = $("timeline");
const eventList = $<HTMLOListElement>("events");
const screenBox = $("screen");
const hiveText = $<HTMLTextAreaElement>("hive-text");
const hiveGutter = $("hive-gutter");
const hiveStatus = $("hive-status");

const terminal = new Terminal({
  cols: 80,
  rows: 25,
  fontSize: 13,
  fontFamily: '"DejaVu Sans Mono", monospace',
  cursorBlink: true,
  scrollback: 5000,
  theme: { background: "#000000" },
});
terminal.open($("terminal"));

let firmware: Firmware;
let defaultDisk: Uint8Array;
let defaultRegText = "";
let session: Session | undefined;
/** Keystrokes typed before winlogon opened the console (its first prompt): the UART would drop them. */
let heldInput: Uint8Array[] | undefined;
let timelineTimer: ReturnType<typeof setInterval> | undefined;
/** Serialises starts and stops: a click during a start waits for it rather than racing it. */
let busy: Promise<void> = Promise.resolve();

terminal.onData((data) => {
  const machine = session?.machine;
  if (!machine || machine.outcome) return;
  // xterm sends Enter as CR; the guest reads lines ending in LF, as from the CLI's terminal.
  const bytes = new TextEncoder().encode(data.replace(/\r/g, "\n"));
  if (heldInput) heldInput.push(bytes);
  else machine.sendConsole(bytes);
});

function setStatus(state: "loading" | "running" | "paused" | "ended" | "stop" | "error", text: string): void {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Stops the current machine (if any) and starts another; everything on the page follows the new one. */
function startMachine(
  disk: Uint8Array,
  source: string,
  options: { memoryMiB?: number; initialState?: ArrayBuffer; origin?: SnapshotOrigin; phasesDoneBefore?: string[] } = {},
): Promise<void> {
  const run = busy.then(async () => {
    await stopSession();
    const memoryMiB = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
    // Hashed before the guest runs: the disk as booted, not as the guest changes it.
    const origin = options.origin ?? (await machineOrigin(firmware, disk, memoryMiB));
    terminal.reset();
    eventList.replaceChildren();
    setStatus("loading", `starting: ${source}`);
    const machine = await Machine.start({
      firmware,
      boot: { kind: "disk", disk },
      memoryMiB,
      screenContainer: screenBox,
      ...(options.initialState ? { initialState: options.initialState } : {}),
    });
    const current: Session = {
      machine,
      source,
      memoryMiB,
      fromState: options.initialState !== undefined,
      origin,
      phasesDoneBefore: options.phasesDoneBefore ?? [],
    };
    session = current;
    heldInput = current.phasesDoneBefore.includes("logon-prompt") ? undefined : [];
    if (current.fromState) addNote("started from a state file: the events before it was saved are not in it");
    machine.onConsole((bytes) => terminal.write(bytes));
    machine.onEvent((event) => {
      addEvent(event);
      if (event.phase === "logon-prompt" && event.status === "done" && heldInput) {
        for (const bytes of heldInput) machine.sendConsole(bytes);
        heldInput = undefined;
      }
    });
    machine.onOutcome((outcome) => onEnded(current, outcome));
    setStatus("running", `running: ${source}`);
    setMachineButtons(true);
    clearInterval(timelineTimer);
    timelineTimer = setInterval(drawTimeline, TIMELINE_REFRESH_MS);
    drawTimeline();
    terminal.focus();
  });
  busy = run.catch(() => {});
  return run.catch((err) => {
    setStatus("error", `could not start: ${(err as Error).message}`);
  });
}

async function stopSession(): Promise<void> {
  const current = session;
  if (!current) return;
  if (!current.machine.outcome) {
    current.end = current.machine.mark();
    await current.machine.stop();
  }
}

function onEnded(current: Session, outcome: Outcome): void {
  current.end ??= { hostMs: outcome.hostMs, instructions: current.machine.instructions() };
  if (session !== current) return;
  drawTimeline();
  clearInterval(timelineTimer);
  if (outcome.kind === "stop") setStatus("stop", describeOutcome(outcome));
  else if (outcome.kind === "halted-by-host") setStatus("ended", "powered off from this page");
  else setStatus("ended", describeOutcome(outcome));
  buttons.pause.disabled = true;
  buttons.powerOff.disabled = true;
  buttons.saveState.disabled = true;
  buttons.pause.textContent = "Pause";
}

function setMachineButtons(on: boolean): void {
  for (const button of [buttons.pause, buttons.reset, buttons.powerOff, buttons.saveState, buttons.downloadConsole, buttons.downloadReport, buttons.downloadDisk]) {
    button.disabled = !on;
  }
  buttons.pause.textContent = "Pause";
}

function addEvent(event: ObservedEvent): void {
  const item = document.createElement("li");
  item.dataset.phase = event.phase;
  item.dataset.status = event.status;
  const cell = (className: string, text: string) => {
    const span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    item.append(span);
    return span;
  };
  cell("time", `${(event.hostMs / 1000).toFixed(3)} s`);
  cell("phase", event.phase);
  cell("status-text", event.status);
  const data = event.data ? JSON.stringify(event.data) : "";
  cell("data", data).title = data;
  // Only the list scrolls to its newest event: scrollIntoView would also scroll the page away from what the
  // person is looking at.
  const atBottom = eventList.scrollTop + eventList.clientHeight >= eventList.scrollHeight - 4;
  eventList.append(item);
  if (atBottom) eventList.scrollTop = eventList.scrollHeight;
}

function addNote(text: string): void {
  const item = document.createElement("li");
  item.className = "note";
  item.textContent = text;
  eventList.append(item);
}

function drawTimeline(): void {
  const current = session;
  if (!current) return;
  const { machine } = current;
  // While paused the clock runs on but the guest does not: the chart stays at the last moment it ran.
  if (!machine.outcome && !machine.running && current.end) return;
  if (current.fromState && machine.events.length === 0) {
    timelineBox.innerHTML = '<p class="placeholder">started from a state file: the boot happened before the state was saved</p>';
    return;
  }
  const end = current.end ?? machine.mark();
  const width = Math.max(600, Math.floor(timelineBox.clientWidth));
  timelineBox.innerHTML = renderTimelineSvg(
    { events: machine.events, marks: machine.bootMarks, end, subtitle: `${current.source}, ${current.memoryMiB} MiB RAM` },
    { width },
  );
}

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function report(current: Session): unknown {
  const { machine } = current;
  const outcome = machine.outcome;
  const end = current.end ?? machine.mark();
  return {
    result: outcome ? outcome.kind : "running",
    ...(outcome && outcome.kind !== "halted-by-host" ? { reason: describeOutcome(outcome) } : {}),
    disk: current.source,
    memoryMiB: current.memoryMiB,
    wallMs: Math.round(end.hostMs),
    instructions: end.instructions,
    bootMarks: machine.bootMarks,
    phases: machine.events.map((e) => ({ phase: e.phase, status: e.status, guestMs: e.t, wallMs: Math.round(e.hostMs), instructions: e.instructions })),
    events: machine.events,
  };
}

buttons.pause.addEventListener("click", async () => {
  const current = session;
  if (!current || current.machine.outcome) return;
  if (current.machine.running) {
    await current.machine.pause();
    current.end = current.machine.mark();
    buttons.pause.textContent = "Resume";
    setStatus("paused", `paused: ${current.source}`);
  } else {
    current.end = undefined;
    await current.machine.resume();
    buttons.pause.textContent = "Pause";
    setStatus("running", `running: ${current.source}`);
  }
  drawTimeline();
});

buttons.reset.addEventListener("click", () => {
  const current = session;
  if (!current) return;
  // A reset button keeps the disk: the next boot sees what the guest wrote.
  const disk = current.machine.diskBytes() ?? defaultDisk.slice();
  void startMachine(disk, `${current.source.replace(/ \(reset\)$/, "")} (reset)`, { memoryMiB: current.memoryMiB });
});

buttons.powerOff.addEventListener("click", () => {
  busy = busy.then(stopSession);
});

buttons.saveState.addEventListener("click", async () => {
  const current = session;
  if (!current || current.machine.outcome) return;
  const state = await current.machine.saveState();
  const done = current.machine.events.filter((e) => e.status === "done").map((e) => e.phase);
  const header = {
    format: 1 as const,
    ...current.origin,
    diskName: current.source,
    phasesDone: [...current.phasesDoneBefore, ...done],
    savedAt: new Date().toISOString(),
  };
  download(`smss86-${timestamp()}.snapshot`, encodeSnapshot(header, state) as Uint8Array<ArrayBuffer>, "application/octet-stream");
});

buttons.loadState.addEventListener("click", () => stateFileInput.click());
stateFileInput.addEventListener("change", async () => {
  const file = stateFileInput.files?.[0];
  stateFileInput.value = "";
  if (!file) return;
  let snapshot: ReturnType<typeof decodeSnapshot>;
  try {
    snapshot = decodeSnapshot(new Uint8Array(await file.arrayBuffer()), file.name);
    // The state carries its own disk, as the guest left it: only the firmware and v86 must be the same.
    const mismatch = originMismatch(snapshot.header, await firmwareOrigin(firmware));
    if (mismatch) throw new SnapshotError(file.name, `${mismatch}; not started`);
  } catch (err) {
    if (err instanceof SnapshotError) {
      setStatus("error", err.message);
      return;
    }
    throw err;
  }
  const { header, state } = snapshot;
  // v86 restores the disk from the state into a drive of the disk's size.
  await startMachine(new Uint8Array(header.diskBytes), `state file ${file.name}`, {
    memoryMiB: header.memoryMiB,
    initialState: state,
    origin: header,
    phasesDoneBefore: header.phasesDone,
  });
});

buttons.downloadConsole.addEventListener("click", () => {
  if (session) download("smss86-console.txt", session.machine.console, "text/plain");
});
buttons.downloadReport.addEventListener("click", () => {
  if (session) download("smss86-report.json", JSON.stringify(report(session), null, 2) + "\n", "application/json");
});
buttons.downloadDisk.addEventListener("click", () => {
  const disk = session?.machine.diskBytes();
  if (disk) download("smss86-disk.img", disk.slice(), "application/octet-stream");
});

// The hive editor: checked as the text changes, booted on request.
let hiveCheckTimer: ReturnType<typeof setTimeout> | undefined;

function checkHiveNow(): HiveCheck {
  const check = checkRegText(hiveText.value);
  drawGutter(check.ok ? undefined : check.line);
  hiveStatus.dataset.ok = String(check.ok);
  if (check.ok) {
    hiveStatus.textContent = `valid: ${check.keys} keys, a ${(check.hive.length / 1024).toFixed(0)} KiB hive`;
  } else {
    hiveStatus.textContent = check.line !== undefined ? `line ${check.line}: ${check.message}` : check.message;
  }
  return check;
}

function drawGutter(errorLine: number | undefined): void {
  const lines = hiveText.value.split("\n").length;
  const parts: string[] = [];
  for (let line = 1; line <= lines; line++) {
    parts.push(line === errorLine ? `<span class="error" title="${escapeHtml(hiveStatus.textContent ?? "")}">${line}</span>` : String(line));
  }
  hiveGutter.innerHTML = parts.join("\n") + "\n";
  hiveGutter.scrollTop = hiveText.scrollTop;
}

function showErrorLine(line: number): void {
  const lines = hiveText.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
  hiveText.focus();
  hiveText.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  const lineHeight = parseFloat(getComputedStyle(hiveText).lineHeight) || 16;
  hiveText.scrollTop = Math.max(0, (line - 5) * lineHeight);
}

hiveText.addEventListener("input", () => {
  clearTimeout(hiveCheckTimer);
  hiveCheckTimer = setTimeout(checkHiveNow, HIVE_CHECK_DELAY_MS);
});
hiveText.addEventListener("scroll", () => {
  hiveGutter.scrollTop = hiveText.scrollTop;
});

buttons.hiveBoot.addEventListener("click", async () => {
  clearTimeout(hiveCheckTimer);
  const check = checkHiveNow();
  if (!check.ok) {
    hiveStatus.textContent = `not booted: ${hiveStatus.textContent}`;
    if (check.line !== undefined) showErrorLine(check.line);
    return;
  }
  const edited = hiveText.value !== defaultRegText;
  await startMachine(diskWithSystemHive(defaultDisk, check.hive), edited ? "default disk, edited SYSTEM hive" : "default disk");
});

buttons.hiveRevert.addEventListener("click", () => {
  hiveText.value = defaultRegText;
  checkHiveNow();
});

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

async function main(): Promise<void> {
  setStatus("loading", "loading firmware and disk…");
  const [bios, vgaBios, disk, regText] = await Promise.all([
    fetchBytes("files/seabios.bin"),
    fetchBytes("files/vgabios.bin"),
    fetchBytes("files/disk.img"),
    fetch("files/SYSTEM.reg").then((response) => response.text()),
  ]);
  firmware = { bios, vgaBios, wasmPath: new URL("files/v86.wasm", location.href).href };
  defaultDisk = disk;
  defaultRegText = regText;
  hiveText.value = regText;
  checkHiveNow();
  // Until now there was nothing to boot with.
  buttons.loadState.disabled = false;
  buttons.hiveBoot.disabled = false;
  await startMachine(defaultDisk.slice(), "default disk");
}

main().catch((err) => setStatus("error", `could not load: ${(err as Error).message}`));
