// Boot timeline: the observed events of one run drawn as a chart in the manner of `systemd-analyze plot`
// (time runs left to right, one bar per row), with the boot phases Windows' own boot tracing names: the
// firmware, the OS loader, the kernel before smss (PreSMSS), smss's initialisation (SMSSInit) and, once it
// exists, WinlogonInit; then a bar per process and per smss phase. Pure string building, no Node or DOM APIs:
// `smss86 boot --timeline` and the web page render with the same code.
import type { BootMarks, MachineMark, ObservedEvent } from "./machine.ts";

export interface TimelineInput {
  events: readonly ObservedEvent[];
  /** What the host saw before smss could report (Machine.bootMarks). */
  marks?: BootMarks;
  /** Where the chart ends: the machine's present, or the moment it stopped. */
  end: MachineMark;
  /** One line under the title, e.g. the disk and memory. */
  subtitle?: string;
}

export type BarKind = "stage" | "process" | "phase" | "event";
export type BarState = "done" | "running" | "failed";

export interface TimelineBar {
  kind: BarKind;
  label: string;
  startMs: number;
  endMs: number;
  /** Guest instructions executed between the bar's start and end. */
  instructions: number;
  state: BarState;
  /** For the Windows boot stages: which one (colours them apart). */
  stage?: StageName;
}

export type StageName = "BIOS" | "OS loader" | "PreSMSS" | "SMSSInit" | "WinlogonInit";

const STAGE_LABELS: Record<StageName, string> = {
  BIOS: "BIOS (SeaBIOS)",
  "OS loader": "OS loader (smss86 loader)",
  PreSMSS: "Kernel (PreSMSS)",
  SMSSInit: "SMSSInit",
  WinlogonInit: "WinlogonInit",
};

/** Events that end a machine: drawn as a mark, not as a phase with a duration. */
const FINAL_PHASES = new Set(["stop", "power-off"]);
/** Events that are no phase of their own: processes get their own bars, the rest are moments of the sessions. */
const NOT_PHASES = new Set(["process", "session", "subsystem", "services", "logon", "logon-prompt", "command"]);

/** The rows of the chart, in drawing order: boot stages, processes, smss phases, final events. */
export function timelineBars(input: TimelineInput): TimelineBar[] {
  const events = input.events;
  const end = input.end;
  const bars: TimelineBar[] = [];
  const span = (from: MachineMark, to: MachineMark | undefined) => ({
    startMs: from.hostMs,
    endMs: (to ?? end).hostMs,
    instructions: (to ?? end).instructions - from.instructions,
  });
  const first = (test: (e: ObservedEvent) => boolean) => events.find(test);

  // Windows boot stages: each ends where the next is first seen.
  const smssStart = first((e) => e.phase === "smss-start");
  const ready = first((e) => e.phase === "ready" && e.status === "done");
  // As Windows' boot trace has them: SMSSInit ends when winlogon starts, WinlogonInit at its logon prompt.
  const winlogon = first((e) => e.phase === "process" && e.status === "start" && /winlogon\.exe$/i.test(String(e.data?.image)));
  const winlogonDone = first((e) => e.phase === "logon-prompt" && e.status === "done");
  const powerOn: MachineMark = { hostMs: 0, instructions: 0 };
  const failed = first((e) => e.status === "failed" || e.phase === "stop");
  const stages: { stage: StageName; from: MachineMark | undefined; to: MachineMark | undefined }[] = [
    { stage: "BIOS", from: powerOn, to: input.marks?.loaderStart ?? input.marks?.kernelStart ?? smssStart },
    { stage: "OS loader", from: input.marks?.loaderStart, to: input.marks?.kernelStart ?? smssStart },
    { stage: "PreSMSS", from: input.marks?.kernelStart, to: smssStart },
    { stage: "SMSSInit", from: smssStart, to: winlogon ?? ready },
    { stage: "WinlogonInit", from: winlogon, to: winlogonDone },
  ];
  for (const { stage, from, to } of stages) {
    if (!from) continue;
    bars.push({
      kind: "stage",
      stage,
      label: STAGE_LABELS[stage],
      ...span(from, to),
      state: to ? "done" : failed && failed.hostMs >= from.hostMs ? "failed" : "running",
    });
  }

  // Processes: smss itself (pid 1 from its first event on; it never exits), then any process an event names.
  const seenPids = new Set<number>();
  for (const e of events) {
    const pid = e.data?.pid;
    const image = e.data?.image;
    if (typeof pid !== "number" || typeof image !== "string" || seenPids.has(pid)) continue;
    seenPids.add(pid);
    const from = e.phase === "smss-start" && smssStart ? smssStart : e;
    const exited = events.find((x) => x.hostMs >= from.hostMs && x.data?.pid === pid && typeof x.data?.exitCode === "number");
    // A process that never exited ends with the machine: a STOP kills it, a power-off ends it cleanly.
    const machineEnd = exited ? undefined : lastFinal(events);
    bars.push({
      kind: "process",
      label: `${baseName(image)} (pid ${pid})`,
      ...span(from, exited ?? machineEnd),
      state: exited ? (exited.data!.exitCode === 0 ? "done" : "failed") : machineEnd ? (machineEnd.phase === "stop" ? "failed" : "done") : "running",
    });
  }

  // smss phases, in the order they started; a phase that only reports done is drawn as an instant.
  const phaseOrder: string[] = [];
  for (const e of events) if (!FINAL_PHASES.has(e.phase) && !NOT_PHASES.has(e.phase) && !phaseOrder.includes(e.phase)) phaseOrder.push(e.phase);
  for (const phase of phaseOrder) {
    const start = first((e) => e.phase === phase && e.status === "start");
    const finish = first((e) => e.phase === phase && e.status !== "start" && (!start || e.hostMs >= start.hostMs));
    const from = start ?? finish!;
    bars.push({
      kind: "phase",
      label: phase,
      ...span(from, finish ?? (input.events.some((e) => FINAL_PHASES.has(e.phase)) ? lastFinal(events) : undefined)),
      state: finish ? (finish.status === "failed" ? "failed" : "done") : failed ? "failed" : "running",
    });
  }

  for (const e of events) {
    if (!FINAL_PHASES.has(e.phase)) continue;
    const reason = typeof e.data?.reason === "string" ? `: ${e.data.reason}` : "";
    bars.push({
      kind: "event",
      label: e.phase === "stop" ? `STOP${reason}` : "power off",
      startMs: e.hostMs,
      endMs: e.hostMs,
      instructions: 0,
      state: e.phase === "stop" ? "failed" : "done",
    });
  }
  return bars;
}

function lastFinal(events: readonly ObservedEvent[]): ObservedEvent | undefined {
  return events.find((e) => FINAL_PHASES.has(e.phase));
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/** "Startup finished in …": the stages' durations as systemd-analyze sums them up. */
export function timelineSummary(input: TimelineInput): string {
  const stages = timelineBars(input).filter((bar) => bar.kind === "stage");
  if (stages.length === 0) return "no boot stage seen yet";
  const parts = stages.map((bar) => `${formatMs(bar.endMs - bar.startMs)} (${bar.stage}${bar.state === "running" ? ", running" : ""})`);
  const last = stages.at(-1)!;
  const total = `${formatMs(last.endMs)}, ${formatCount(stages.reduce((sum, bar) => sum + bar.instructions, 0))} instructions`;
  const verb = last.state === "done" && last.stage !== "BIOS" ? "Startup finished in" : "Startup so far:";
  return `${verb} ${parts.join(" + ")} = ${total}`;
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  return `${ms >= 10 || Number.isInteger(ms) ? Math.round(ms) : ms.toFixed(1)} ms`;
}

/** 52,784,105 → "52.8 M": exact digits matter less than magnitude in a chart label. */
export function formatCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)} G`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)} M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} k`;
  return String(Math.round(count));
}

const CHART_WIDTH = 1000;
const LEFT = 20;
const RIGHT = 20;
const ROW_HEIGHT = 22;
const BAR_HEIGHT = 16;
const HEADER_HEIGHT = 76;
/** A panel's heading line and its tick labels above the first row. */
const PANEL_HEAD = 44;
const PANEL_GAP = 18;
const LEGEND_HEIGHT = 60;
const FONT = "font-family:'DejaVu Sans',Verdana,Arial,sans-serif";
/** Roughly how wide a character of the label font is at 12 px, to keep labels inside the picture. */
const CHAR_WIDTH = 6.8;

const STAGE_COLOURS: Record<StageName, string> = {
  BIOS: "#9e9e9e",
  "OS loader": "#b58900",
  PreSMSS: "#cb4b16",
  SMSSInit: "#268bd2",
  WinlogonInit: "#6c71c4",
};
const KIND_COLOURS: Record<Exclude<BarKind, "stage">, string> = {
  process: "#2aa198",
  phase: "#5fa3e0",
  event: "#444444",
};
const FAILED_COLOUR = "#dc322f";

export interface SvgOptions {
  /** Width of the drawing in pixels (the time axis gets what the margins leave). */
  width?: number;
  title?: string;
}

interface Panel {
  heading: string;
  bars: TimelineBar[];
  fromMs: number;
  toMs: number;
  /** Tick labels: wall time since power-on for the whole boot, time since smss started for its phases. */
  tickLabel: (ms: number) => string;
}

/**
 * Two panels on one time axis each: the whole boot (stages and processes) from power-on, then smss's
 * phases stretched over the span they cover, since at the boot's scale they are a few pixels at its end.
 */
export function renderTimelineSvg(input: TimelineInput, options: SvgOptions = {}): string {
  const bars = timelineBars(input);
  const width = options.width ?? CHART_WIDTH;
  const totalMs = Math.max(input.end.hostMs, ...bars.map((bar) => bar.endMs), 1);
  const panels: Panel[] = [
    {
      heading: "Boot stages and processes (wall time since power-on)",
      bars: bars.filter((bar) => bar.kind !== "phase"),
      fromMs: 0,
      toMs: totalMs,
      tickLabel: (ms) => formatMs(ms),
    },
  ];
  // The end of the machine (STOP, power-off) is drawn on the boot's scale: it may come long after the phases.
  const detail = bars.filter((bar) => bar.kind === "phase");
  if (detail.length > 0) {
    const smssStart = input.events.find((e) => e.phase === "smss-start")?.hostMs ?? Math.min(...detail.map((bar) => bar.startMs));
    const fromMs = Math.min(smssStart, ...detail.map((bar) => bar.startMs));
    const toMs = Math.max(fromMs + 1, ...detail.map((bar) => bar.endMs));
    panels.push({
      heading: `smss phases, zoomed in (time since smss started, at ${formatMs(fromMs)})`,
      bars: detail,
      fromMs,
      toMs,
      tickLabel: (ms) => `+${formatMs(ms - fromMs)}`,
    });
  }

  const panelHeights = panels.map((panel) => PANEL_HEAD + Math.max(panel.bars.length, 1) * ROW_HEIGHT);
  const height = HEADER_HEIGHT + panelHeights.reduce((sum, h) => sum + h + PANEL_GAP, 0) + LEGEND_HEIGHT;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" style="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold" fill="#222">${escapeXml(options.title ?? "smss86 boot timeline")}</text>`,
    `<text x="${LEFT}" y="44" font-size="12" fill="#333">${escapeXml(timelineSummary(input))}</text>`,
  );
  if (input.subtitle) out.push(`<text x="${LEFT}" y="62" font-size="11" fill="#666">${escapeXml(input.subtitle)}</text>`);
  let top = HEADER_HEIGHT;
  panels.forEach((panel, index) => {
    drawPanel(out, panel, top, width);
    top += panelHeights[index] + PANEL_GAP;
  });
  drawLegend(out, bars, top);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The label columns left of the plot: name, duration, instructions (numbers right-aligned). */
const NAME_COLUMN = 230;
const DURATION_COLUMN = 72;
const INSTRUCTIONS_COLUMN = 84;
const LABEL_COLUMNS = NAME_COLUMN + DURATION_COLUMN + INSTRUCTIONS_COLUMN + 12;

function drawPanel(out: string[], panel: Panel, top: number, width: number): void {
  const plotLeft = LEFT + LABEL_COLUMNS;
  const plotWidth = width - plotLeft - RIGHT;
  const spanMs = Math.max(panel.toMs - panel.fromMs, 1e-3);
  const x = (ms: number) => plotLeft + ((ms - panel.fromMs) / spanMs) * plotWidth;
  const durationRight = LEFT + NAME_COLUMN + DURATION_COLUMN;
  const instructionsRight = durationRight + INSTRUCTIONS_COLUMN;
  out.push(`<text x="${LEFT}" y="${top + 14}" font-size="13" font-weight="bold" fill="#444">${escapeXml(panel.heading)}</text>`);
  const rowsTop = top + PANEL_HEAD;
  const rowsBottom = rowsTop + Math.max(panel.bars.length, 1) * ROW_HEIGHT;
  out.push(
    `<text x="${durationRight}" y="${rowsTop - 8}" font-size="10" fill="#888" text-anchor="end">duration</text>`,
    `<text x="${instructionsRight}" y="${rowsTop - 8}" font-size="10" fill="#888" text-anchor="end">instructions</text>`,
  );

  // Stripes first, so that the grid lines stay visible over them.
  panel.bars.forEach((_, row) => {
    if (row % 2 === 1) out.push(`<rect x="${LEFT - 4}" y="${rowsTop + row * ROW_HEIGHT}" width="${width - LEFT - RIGHT + 8}" height="${ROW_HEIGHT}" fill="#f6f7f9"/>`);
  });

  // Grid: a line per round step, labelled above the rows.
  // About 70 px per tick leaves room for labels like "+1.25 s" between them.
  const step = tickStep(spanMs, Math.max(2, Math.min(12, Math.floor(plotWidth / 70))));
  for (let offset = 0; offset <= spanMs + step / 1000; offset += step) {
    const ms = panel.fromMs + Math.min(offset, spanMs);
    const gx = x(ms);
    const label = offset === 0 ? panel.tickLabel(ms).replace(/[\d.]+ m?s$/, "0") : panel.tickLabel(ms);
    const anchor = offset === 0 ? "start" : gx + (label.length * 6) / 2 > width - 2 ? "end" : "middle";
    out.push(`<line x1="${gx.toFixed(1)}" y1="${rowsTop - 4}" x2="${gx.toFixed(1)}" y2="${rowsBottom}" stroke="#e4e4e4" stroke-width="1"/>`);
    out.push(
      `<text x="${gx.toFixed(1)}" y="${rowsTop - 8}" font-size="10" fill="#888" text-anchor="${anchor}">${escapeXml(label)}</text>`,
    );
  }
  if (panel.bars.length === 0) {
    out.push(`<text x="${LEFT}" y="${rowsTop + 15}" font-size="12" fill="#888">nothing seen yet</text>`);
  }

  panel.bars.forEach((bar, row) => {
    const rowTop = rowsTop + row * ROW_HEIGHT;
    const y = rowTop + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const baseline = y + BAR_HEIGHT - 4;
    // A process ended by a STOP lived normally until then: only its label says how it ended.
    const colour =
      bar.state === "failed" && bar.kind !== "process" ? FAILED_COLOUR : bar.kind === "stage" ? STAGE_COLOURS[bar.stage!] : KIND_COLOURS[bar.kind];
    const x0 = x(bar.startMs);
    const tooltip = `<title>${escapeXml(barTooltip(bar))}</title>`;
    if (bar.kind === "event") {
      out.push(`<path d="M${x0.toFixed(1)} ${y} l6 ${BAR_HEIGHT / 2} l-6 ${BAR_HEIGHT / 2} l-6 ${-BAR_HEIGHT / 2} z" fill="${colour}">${tooltip}</path>`);
    } else {
      // A phase of a few ms can be under a pixel wide: keep it visible.
      const barWidth = Math.max(x(bar.endMs) - x0, 2);
      const opacity = bar.state === "running" ? ' fill-opacity="0.45"' : "";
      out.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" rx="2" fill="${colour}"${opacity}>${tooltip}</rect>`);
    }
    const weight = bar.kind === "stage" ? ' font-weight="bold"' : "";
    const state = bar.state === "done" || bar.kind === "event" ? "" : ` (${bar.state})`;
    const name = fitText(bar.label, NAME_COLUMN - 8 - state.length * CHAR_WIDTH);
    const stateText = state ? `<tspan fill="${bar.state === "failed" ? FAILED_COLOUR : "#888"}" font-weight="normal">${escapeXml(state)}</tspan>` : "";
    out.push(`<text x="${LEFT}" y="${baseline}" font-size="12" fill="#222"${weight}>${escapeXml(name)}${stateText}${tooltip}</text>`);
    const duration = bar.kind === "event" ? `at ${formatMs(bar.startMs)}` : formatMs(bar.endMs - bar.startMs);
    out.push(`<text x="${durationRight}" y="${baseline}" font-size="12" fill="#222" text-anchor="end">${escapeXml(duration)}</text>`);
    if (bar.kind !== "event") {
      out.push(`<text x="${instructionsRight}" y="${baseline}" font-size="12" fill="#555" text-anchor="end">${escapeXml(formatCount(bar.instructions))}</text>`);
    }
  });
}

/** Cuts a label to about `maxWidth` pixels of the label font, marking the cut; the tooltip keeps all of it. */
function fitText(text: string, maxWidth: number): string {
  const maxChars = Math.max(4, Math.floor(maxWidth / CHAR_WIDTH));
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

function drawLegend(out: string[], bars: TimelineBar[], top: number): void {
  const entries: [string, string][] = [
    ...(Object.keys(STAGE_COLOURS) as StageName[])
      .filter((stage) => bars.some((bar) => bar.stage === stage))
      .map((stage): [string, string] => [STAGE_COLOURS[stage], stage]),
    [KIND_COLOURS.process, "process"],
    [KIND_COLOURS.phase, "smss phase"],
    [FAILED_COLOUR, "failed / STOP"],
  ];
  let lx = LEFT;
  for (const [colour, name] of entries) {
    out.push(`<rect x="${lx}" y="${top}" width="12" height="12" rx="2" fill="${colour}"/>`);
    out.push(`<text x="${lx + 17}" y="${top + 10}" font-size="11" fill="#444">${escapeXml(name)}</text>`);
    lx += 17 + name.length * 6.4 + 18;
  }
  out.push(
    `<text x="${LEFT}" y="${top + 30}" font-size="10" fill="#888">Host wall clock. OS loader: smss86's loader loads the kernel; PreSMSS: from the kernel turning paging on to smss's first event; SMSSInit: until winlogon starts; WinlogonInit: until its logon prompt.</text>`,
    `<text x="${LEFT}" y="${top + 44}" font-size="10" fill="#888">Instructions: guest instructions executed in the span. Faded bars are still running.</text>`,
  );
}

function barTooltip(bar: TimelineBar): string {
  return `${bar.label}: ${formatMs(bar.startMs)} → ${formatMs(bar.endMs)} (${formatMs(bar.endMs - bar.startMs)}), ${bar.instructions.toLocaleString("en-US")} instructions, ${bar.state}`;
}

/** The smallest round step giving at most `maxTicks` grid lines, so that their labels never run into each other. */
function tickStep(spanMs: number, maxTicks: number): number {
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000]) {
    if (spanMs / step <= maxTicks) return step;
  }
  return 300_000;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** A page of its own: the chart and a table of the same bars with exact numbers. */
export function renderTimelineHtml(input: TimelineInput, options: SvgOptions = {}): string {
  const bars = timelineBars(input);
  const rows = bars
    .map(
      (bar) =>
        `<tr class="${bar.kind}"><td>${escapeXml(bar.label)}</td><td>${bar.kind}</td><td>${bar.startMs.toFixed(1)}</td>` +
        `<td>${(bar.endMs - bar.startMs).toFixed(1)}</td><td>${bar.instructions.toLocaleString("en-US")}</td><td>${bar.state}</td></tr>`,
    )
    .join("\n");
  const title = escapeXml(options.title ?? "smss86 boot timeline");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; margin: 16px; color: #222; }
table { border-collapse: collapse; margin: 16px 0 0 16px; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
td:nth-child(3), td:nth-child(4), td:nth-child(5) { text-align: right; font-variant-numeric: tabular-nums; }
tr.stage td:first-child { font-weight: bold; }
</style>
</head>
<body>
${renderTimelineSvg(input, options)}
<table>
<thead><tr><th>bar</th><th>kind</th><th>start (ms)</th><th>duration (ms)</th><th>instructions</th><th>state</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
