// `npm run bench processes`: a new process's cost from exec to its first line in guest instructions, and
// memory per idle process, on the shared runtime (bytecode run by qjs.exe through binfmt_misc) and as a
// self-contained program (runtime + bytecode in one file). Runs in the emulated PC (test/guest-run.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Machine, type ObservedEvent } from "../emulator/machine.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildGuestProgram, runtimePath } from "../images/guest.ts";
import { runInGuest } from "../test/guest-run.ts";
import { machineName, median } from "./stats.ts";

export async function benchProcesses(): Promise<Record<string, unknown>> {
  const entry = join(REPO_ROOT, "bench", "guest", "processes.ts");
  const [shared, own, setup] = await Promise.all([
    buildGuestProgram(entry, undefined, { runtime: "system" }),
    buildGuestProgram(entry),
    buildGuestProgram(join(REPO_ROOT, "test", "fixtures", "runtime", "shared-setup.ts")),
  ]);
  let events: ObservedEvent[] = [];
  const stop = Machine.prototype.stop;
  Machine.prototype.stop = async function (this: Machine) {
    events = [...this.events];
    return stop.call(this);
  };
  try {
    await runInGuest(
      {
        "/qjs.exe": readFileSync(runtimePath),
        "/t/setup.exe": setup,
        ...Object.fromEntries(Array.from({ length: 7 }, (_, index) => [`/t/shared/${index}.exe`, shared])),
        ...Object.fromEntries(Array.from({ length: 7 }, (_, index) => [`/t/own/${index}.exe`, own])),
      },
      [{ argv: ["/t/setup.exe"] }, { argv: ["/t/own/0.exe", "/t/shared", "/t/own"] }],
      { timeoutMs: 180_000 },
    );
  } finally {
    Machine.prototype.stop = stop;
  }
  const label = (e: ObservedEvent) => (e.data as { label?: string } | undefined)?.label;
  const startCosts: Record<string, number[]> = { "system runtime": [], "embedded runtime": [] };
  events.forEach((event, index) => {
    if (label(event) !== "before spawn") return;
    const first = events.slice(index + 1).find((e) => label(e) === "child first line");
    if (first) startCosts[(event.data as { kind: string }).kind].push(first.instructions - event.instructions);
  });
  const memory = Object.fromEntries(events.filter((e) => label(e) === "memory").map((e) => [(e.data as { kind: string }).kind, (e.data as { perProcessKiB: number }).perProcessKiB]));
  return {
    machine: machineName(),
    "exec → first line, shared runtime: guest instructions (median of 5)": median(startCosts["system runtime"]).toExponential(2),
    "exec → first line, self-contained program: guest instructions (median of 5)": median(startCosts["embedded runtime"]).toExponential(2),
    "memory per idle process, each from its own file, shared runtime: KiB (MemFree drop / 6)": memory["system runtime"],
    "memory per idle process, each from its own file, self-contained: KiB": memory["embedded runtime"],
  };
}
