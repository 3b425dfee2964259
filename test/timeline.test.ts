// The boot timeline: bars computed from observed events, drawn as SVG/HTML, and written by `smss86 boot`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ObservedEvent } from "../emulator/machine.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { renderTimelineHtml, renderTimelineSvg, timelineBars, timelineSummary, type TimelineInput } from "../emulator/timeline.ts";
import { PHASES } from "../src/events/index.ts";

/** An event as the host would have seen it: guest time t, host time and instruction count given. */
function seen(phase: string, status: "start" | "done" | "failed", hostMs: number, instructions: number, data?: Record<string, unknown>): ObservedEvent {
  return { t: hostMs - 1000, phase: phase as ObservedEvent["phase"], status, hostMs, instructions, ...(data ? { data } : {}) };
}

const GOOD_BOOT: TimelineInput = {
  marks: { loaderStart: { hostMs: 400, instructions: 4e6 }, kernelStart: { hostMs: 600, instructions: 9e6 } },
  events: [
    seen("smss-start", "start", 1000, 20e6),
    seen("smss-start", "done", 1004, 20.1e6, { pid: 1, image: "/Windows/System32/smss.exe" }),
    seen("mount", "start", 1005, 20.2e6),
    seen("mount", "done", 1015, 20.5e6),
    seen("ready", "start", 1016, 20.6e6),
    seen("ready", "done", 1020, 20.7e6),
  ],
  end: { hostMs: 1100, instructions: 21e6 },
};

describe("timeline bars", () => {
  it("splits the boot into Windows' stages at the loader, the kernel and smss, each with its instructions", () => {
    const stages = timelineBars(GOOD_BOOT).filter((bar) => bar.kind === "stage");
    expect(stages.map((bar) => [bar.stage, bar.startMs, bar.endMs, bar.instructions, bar.state])).toEqual([
      ["BIOS", 0, 400, 4e6, "done"],
      ["OS loader", 400, 600, 5e6, "done"],
      ["PreSMSS", 600, 1000, 11e6, "done"],
      ["SMSSInit", 1000, 1020, 0.7e6, "done"],
    ]);
    expect(timelineSummary(GOOD_BOOT)).toBe(
      "Startup finished in 400 ms (BIOS) + 200 ms (OS loader) + 400 ms (PreSMSS) + 20 ms (SMSSInit) = 1.02 s, 20.7 M instructions",
    );
  });

  it("draws smss as a process that is still running, and a bar per phase", () => {
    const bars = timelineBars(GOOD_BOOT);
    expect(bars.filter((bar) => bar.kind === "process")).toEqual([
      { kind: "process", label: "smss.exe (pid 1)", startMs: 1000, endMs: 1100, instructions: 1e6, state: "running" },
    ]);
    expect(bars.filter((bar) => bar.kind === "phase").map((bar) => [bar.label, bar.endMs - bar.startMs, bar.state])).toEqual([
      ["smss-start", 4, "done"],
      ["mount", 10, "done"],
      ["ready", 4, "done"],
    ]);
  });

  it("mid-boot, the unfinished stage and phase run to the chart's end", () => {
    const input: TimelineInput = { ...GOOD_BOOT, events: GOOD_BOOT.events.slice(0, 3), end: { hostMs: 1010, instructions: 20.3e6 } };
    const bars = timelineBars(input);
    expect(bars.find((bar) => bar.stage === "SMSSInit")).toMatchObject({ endMs: 1010, state: "running" });
    expect(bars.find((bar) => bar.label === "mount")).toMatchObject({ startMs: 1005, endMs: 1010, state: "running" });
    expect(timelineSummary(input)).toMatch(/^Startup so far: .*10 ms \(SMSSInit, running\)/);
  });

  it("before anything is seen there is only the BIOS, running", () => {
    const bars = timelineBars({ events: [], end: { hostMs: 300, instructions: 1e6 } });
    expect(bars).toEqual([{ kind: "stage", stage: "BIOS", label: "BIOS (SeaBIOS)", startMs: 0, endMs: 300, instructions: 1e6, state: "running" }]);
  });

  it("a STOP marks the running phase failed and shows as an event with its reason", () => {
    const input: TimelineInput = {
      ...GOOD_BOOT,
      events: [...GOOD_BOOT.events.slice(0, 3), seen("stop", "done", 1012, 20.4e6, { code: 0xc000021a, reason: "mount <failed> & more" })],
    };
    const bars = timelineBars(input);
    expect(bars.find((bar) => bar.label === "mount")).toMatchObject({ endMs: 1012, state: "failed" });
    expect(bars.at(-1)).toMatchObject({ kind: "event", label: "STOP: mount <failed> & more", startMs: 1012, state: "failed" });
    expect(bars.find((bar) => bar.stage === "SMSSInit")!.state).toBe("failed");
    // smss never exits: the STOP ends it, and the chart no longer calls it running.
    expect(bars.find((bar) => bar.kind === "process")).toMatchObject({ startMs: 1000, endMs: 1012, state: "failed" });
    // Text from the guest is escaped, not taken as markup.
    const svg = renderTimelineSvg(input);
    expect(svg).toContain("STOP: mount &lt;failed&gt; &amp; more");
    expect(svg).not.toContain("<failed>");
  });
});

/** Each row's label texts (name, duration, instructions), read back from the SVG. */
function rowTexts(svg: string): string[][] {
  const rows = new Map<string, string[]>();
  for (const match of svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" font-size="12"[^>]*>(.*?)<\/text>/g)) {
    const text = match[2].replace(/<title>.*?<\/title>/g, "").replace(/<[^>]+>/g, "");
    rows.set(match[1], [...(rows.get(match[1]) ?? []), text]);
  }
  // A bar's row has its name and duration at least; the summary line above the panels is alone on its line.
  return [...rows.values()].filter((row) => row.length >= 2);
}

describe("timeline rendering", () => {
  it("SVG: the whole boot and a zoomed panel of smss phases, each row with its duration and instructions", () => {
    const svg = renderTimelineSvg(GOOD_BOOT);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="1000" height="\d+"/);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(rowTexts(svg)).toContainEqual(["Kernel (PreSMSS)", "400 ms", "11.0 M"]);
    expect(rowTexts(svg)).toContainEqual(["mount", "10 ms", "300.0 k"]);
    expect(rowTexts(svg)).toContainEqual(["smss.exe (pid 1) (running)", "100 ms", "1.0 M"]);
    expect(svg).toContain("smss phases, zoomed in (time since smss started, at 1.00 s)");
    // The boot panel spans 1100 ms, so the 400 ms BIOS bar gives the plot's width; the zoomed panel spans
    // smss's 20 ms, so its 10 ms mount phase takes half of that width.
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>([^:]+):/g)];
    const widthOf = (label: string) => Number(bars.find((m) => m[3] === label)![2]);
    const plotWidth = (widthOf("BIOS (SeaBIOS)") * 1100) / 400;
    expect(plotWidth).toBeGreaterThan(500);
    expect(widthOf("mount")).toBeCloseTo(plotWidth / 2, 0);
    // Every element opened is closed.
    const opened = (svg.match(/<(svg|text|rect|title)\b/g) ?? []).length;
    const closed = (svg.match(/<\/(svg|text|rect|title)>|<(rect|line|path)\b[^>]*\/>/g) ?? []).filter((t) => !t.startsWith("<line") && !t.startsWith("<path")).length;
    expect(closed).toBe(opened);
  });

  it("HTML: the SVG and a table of the same bars with exact numbers", () => {
    const html = renderTimelineHtml(GOOD_BOOT);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<svg ");
    expect(html).toContain('<tr class="stage"><td>Kernel (PreSMSS)</td><td>stage</td><td>600.0</td><td>400.0</td><td>11,000,000</td><td>done</td></tr>');
  });
});

describe("smss86 boot --timeline", () => {
  const dir = mkdtempSync(join(tmpdir(), "smss86-timeline-"));

  it("writes an SVG of a real boot with every stage and phase", () => {
    const file = join(dir, "boot.svg");
    const result = spawnSync(process.execPath, ["bin/smss86.cjs", "boot", "--until", "ready", "--quiet", "--timeline", file], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    expect(result.status, result.stderr.toString()).toBe(0);
    const svg = readFileSync(file, "utf8");
    const names = rowTexts(svg).map((row) => row[0]);
    expect(names).toEqual([
      "BIOS (SeaBIOS)",
      "OS loader (smss86 loader)",
      "Kernel (PreSMSS)",
      "SMSSInit",
      "smss.exe (pid 1) (running)",
      // autochk.exe reports while boot-execute runs it: its row follows the phase's.
      ...PHASES.flatMap((phase) => (phase === "boot-execute" ? [phase, "autochk"] : [phase])),
    ]);
    expect(svg).toMatch(/Startup finished in [\d.]+ m?s \(BIOS\) \+ [\d.]+ m?s \(OS loader\) \+ [\d.]+ m?s \(PreSMSS\) \+ [\d.]+ m?s \(SMSSInit\)/);
  });

  it("refuses a file name that is neither .svg nor .html, before booting", () => {
    const result = spawnSync(process.execPath, ["bin/smss86.cjs", "boot", "--until", "ready", "--timeline", join(dir, "boot.png")], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    const png = join(dir, "boot.png");
    expect(result.stderr.toString()).toBe(
      `smss86 boot: option '--timeline <FILE>' argument '${png}' is invalid. --timeline takes a file ending in .svg or .html, not "${png}" (see "smss86 boot --help")\n`,
    );
  });
});
