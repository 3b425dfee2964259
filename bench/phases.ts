// smss's phases on the default hive: guest instructions and wall time per phase (medians of cold boots),
// smss exec → all phases done, and what an idle guest still executes. `npm run bench phases` runs only
// this; scenarios per minute are bench/scenarios.ts.
import { Machine } from "../emulator/machine.ts";
import { loadFirmware } from "../emulator/node.ts";
import { prepareDisk } from "../emulator/scenario.ts";
import { PHASES } from "../src/events/index.ts";
import { machineName, median } from "./stats.ts";

const BOOTS = 5;
const IDLE_MS = 3000;
const TIMEOUT_MS = 120_000;

async function bootToReady(disk: Uint8Array): Promise<Machine> {
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk } });
  try {
    await machine.waitForPhase("ready", TIMEOUT_MS);
  } finally {
    await machine.stop();
  }
  return machine;
}

/** A booted machine left alone for a while: what the guest still executes (timer ticks, nothing polling). */
async function idleInstructionsPerSecond(): Promise<number> {
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk: await prepareDisk() } });
  try {
    await machine.waitForPhase("ready", TIMEOUT_MS);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [before, beforeMs] = [machine.instructions(), machine.elapsedMs()];
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return ((machine.instructions() - before) * 1000) / (machine.elapsedMs() - beforeMs);
  } finally {
    await machine.stop();
  }
}

export async function benchPhases(): Promise<Record<string, unknown>> {
  const perPhase = new Map<string, { instructions: number[]; ms: number[] }>();
  const smssToDone: number[] = [];
  for (let boot = 0; boot < BOOTS; boot++) {
    const machine = await bootToReady(await prepareDisk());
    const start = machine.events.find((e) => e.phase === "smss-start" && e.status === "start")!;
    for (const phase of PHASES) {
      const begin = machine.events.find((e) => e.phase === phase && e.status === "start");
      const end = machine.events.find((e) => e.phase === phase && e.status === "done");
      if (!begin || !end) continue;
      const entry = perPhase.get(phase) ?? { instructions: [], ms: [] };
      entry.instructions.push(end.instructions - begin.instructions);
      entry.ms.push(end.hostMs - begin.hostMs);
      perPhase.set(phase, entry);
    }
    const lastPhase = machine.events.find((e) => e.phase === "dynamic-environment" && e.status === "done")!;
    smssToDone.push(lastPhase.instructions - start.instructions);
  }
  const results: Record<string, unknown> = { machine: machineName(), "boots (medians of)": BOOTS };
  for (const [phase, { instructions, ms }] of perPhase) {
    results[`${phase}: instructions, wall ms`] = [median(instructions).toExponential(2), median(ms).toFixed(0)];
  }
  results["smss exec → phases done: instructions (target ≤ 3e7)"] = median(smssToDone).toExponential(2);
  results["idle after ready: guest instructions per second (smss waits in poll)"] = (await idleInstructionsPerSecond()).toExponential(2);

  return results;
}
