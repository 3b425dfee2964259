// Logon benchmarks: power-on → winlogon's prompt (cold, and a machine restored from a state saved at the
// prompt, saved as the scenario point is: without the disk's bytes, which come back from a copy of the disk
// as it was), smss exec → prompt in guest instructions, what an idle guest executes at the prompt (every
// resident program waits in poll), and the memory in use there (smss's `mem` on the control line).
import { bootMachine } from "../emulator/library.ts";
import { Machine } from "../emulator/machine.ts";
import { withoutDiskBytes } from "../emulator/scenario-point.ts";
import { loadFirmware } from "../emulator/node.ts";
import { ensureDefaultDisk } from "../images/disk.ts";
import { machineName, median } from "./stats.ts";

const COLD_BOOTS = 5;
const RESTORES = 5;
const IDLE_MS = 3000;
const TIMEOUT_MS = 60_000;

export async function benchLogon(): Promise<Record<string, unknown>> {
  await ensureDefaultDisk();
  const promptWall: number[] = [];
  const promptInstr: number[] = [];
  const smssToPrompt: number[] = [];
  let state: ArrayBuffer | undefined;
  let savedDisk: Uint8Array | undefined;
  let memory = "";
  let idlePerSecond = 0;
  for (let i = 0; i < COLD_BOOTS; i++) {
    const booted = await bootMachine({ timeoutMs: TIMEOUT_MS });
    const start = await booted.waitForPhase("smss-start", { status: "start" });
    const prompt = await booted.waitForPhase("logon-prompt");
    promptWall.push(prompt.hostMs / 1000);
    promptInstr.push(prompt.instructions);
    smssToPrompt.push(prompt.instructions - start.instructions);
    if (i === 0) {
      // lsass and services finish starting after the prompt shows; let them, then measure the quiet machine.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await booted.machine.pause();
      savedDisk = booted.diskBytes().slice();
      state = withoutDiskBytes(await booted.machine.saveState(), savedDisk);
      await booted.machine.resume();
      const [before, beforeMs] = [booted.machine.instructions(), booted.machine.elapsedMs()];
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      idlePerSecond = ((booted.machine.instructions() - before) * 1000) / (booted.machine.elapsedMs() - beforeMs);
      memory = await booted.command("mem");
    }
    await booted.stop();
  }

  const restoreMs: number[] = [];
  for (let i = 0; i < RESTORES; i++) {
    // What a saved machine is made of, read as from its files: the state and the disk as it was.
    const disk = savedDisk!.slice();
    const firmware = loadFirmware();
    const t0 = performance.now();
    const machine = await Machine.start({ firmware, boot: { kind: "disk", disk }, initialState: state });
    machine.replaceDisk(disk);
    // Restored means winlogon, waiting at its prompt, echoes a key.
    const echoed = new Promise<void>((resolve) => {
      const off = machine.onConsole(() => {
        if (machine.console.includes("U")) {
          off();
          resolve();
        }
      });
    });
    machine.sendConsole("U");
    await echoed;
    restoreMs.push(performance.now() - t0);
    await machine.stop();
  }

  const kib = (name: string) => Number(memory.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
  const rss = memory
    .split("\n")
    .filter((line) => /^\d+ /.test(line))
    .map((line) => line.split(" "))
    .map(([pid, name, value]) => `${name}(${pid}) ${value}`);
  return {
    machine: machineName(),
    coldBoots: COLD_BOOTS,
    "power-on → logon prompt (s, median; target ≤ 1.6)": median(promptWall).toFixed(2),
    "power-on → logon prompt (instructions, median)": median(promptInstr).toExponential(3),
    "smss exec → logon prompt (instructions, median; target ≤ 6e7)": median(smssToPrompt).toExponential(3),
    "snapshot at the prompt → winlogon echoes a key (s, median; target ≤ 0.3)": (median(restoreMs) / 1000).toFixed(3),
    "idle at the logon prompt (guest instructions per second)": idlePerSecond.toExponential(2),
    "memory in use at the prompt (MemTotal − MemFree, KiB)": kib("MemTotal") - kib("MemFree"),
    "memory in use less page cache (MemTotal − MemAvailable, KiB)": kib("MemTotal") - kib("MemAvailable"),
    "resident set per process (VmRSS)": rss.join(", "),
  };
}
