// `--timeline FILE` for `smss86 boot`: the boot chart as SVG or HTML, chosen by the file's extension.
import { relative } from "node:path";
import { replaceFile } from "../files.ts";
import type { Machine } from "../machine.ts";
import { renderTimelineHtml, renderTimelineSvg, type TimelineInput } from "../timeline.ts";

/** The usage error for a timeline file name, or undefined when it is fine. */
export function timelineFileProblem(file: string): string | undefined {
  return /\.(svg|html?)$/i.test(file) ? undefined : `--timeline takes a file ending in .svg or .html, not "${file}"`;
}

/** Writes the chart of the run so far; called once the machine has stopped, so its last moment is the end. */
export async function writeTimeline(
  file: string,
  machine: Machine,
  end: { hostMs: number; instructions: number },
  run: { disk: string; memoryMiB: number },
): Promise<void> {
  const subtitle = `${relative(process.cwd(), run.disk) || run.disk}, ${run.memoryMiB} MiB RAM, booted in v86`;
  const input: TimelineInput = { events: machine.events, marks: machine.bootMarks, end, subtitle };
  const chart = /\.svg$/i.test(file) ? renderTimelineSvg(input) : renderTimelineHtml(input);
  await replaceFile(file, "timeline", () => new TextEncoder().encode(chart));
}
