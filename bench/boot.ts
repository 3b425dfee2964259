// Boot benchmarks: cold boots of the default disk, snapshot restores, and the smallest guest memory that boots.
import { Machine, MachineEndedError, MachineTimeoutError } from "../emulator/machine.ts";
import { loadDiskImage, loadFirmware } from "../emulator/node.ts";
import { ensureDefaultDisk } from "../images/disk.ts";
import { machineName, median } from "./stats.ts";

const COLD_BOOTS = 5;
const RESTORES = 5;
const TIMEOUT_MS = 60_000;

async function coldBoot(diskFile: string, memoryMiB: number, jit = false) {
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk: loadDiskImage(diskFile) }, memoryMiB, jit });
  try {
    const start = await machine.waitForPhase("smss-start", TIMEOUT_MS);
    const ready = await machine.waitForPhase("ready", TIMEOUT_MS);
    return { machine, start, ready };
  } catch (err) {
    await machine.stop();
    throw err;
  }
}

export async function benchBoot(): Promise<Record<string, unknown>> {
  const diskFile = await ensureDefaultDisk();
  const memoryMiB = 64;
  const startWall: number[] = [];
  const startInstr: number[] = [];
  const readyWall: number[] = [];
  const readyInstr: number[] = [];
  let state: ArrayBuffer | undefined;
  for (let i = 0; i < COLD_BOOTS; i++) {
    const { machine, start, ready } = await coldBoot(diskFile, memoryMiB);
    startWall.push(start.hostMs / 1000);
    startInstr.push(start.instructions);
    readyWall.push(ready.hostMs / 1000);
    readyInstr.push(ready.instructions);
    if (i === 0) state = await machine.saveState();
    await machine.stop();
  }

  const restoreMs: number[] = [];
  for (let i = 0; i < RESTORES; i++) {
    const t0 = performance.now();
    const machine = await Machine.start({
      firmware: loadFirmware(),
      boot: { kind: "disk", disk: loadDiskImage(diskFile) },
      memoryMiB,
      initialState: state,
    });
    // Running means the restored smss answers a command on its control line.
    machine.sendProbe(new TextEncoder().encode("ver\n"));
    await machine.waitFor("smss's answer", (e) => e.phase === "command", TIMEOUT_MS);
    restoreMs.push(performance.now() - t0);
    await machine.stop();
  }

  const readyWallJit: number[] = [];
  for (let i = 0; i < COLD_BOOTS; i++) {
    const { machine, ready } = await coldBoot(diskFile, memoryMiB, true);
    readyWallJit.push(ready.hostMs / 1000);
    await machine.stop();
  }

  let smallestMiB: number | undefined;
  for (const mib of [48, 32, 24, 16, 12, 8]) {
    try {
      const { machine } = await coldBoot(diskFile, mib);
      await machine.stop();
      smallestMiB = mib;
    } catch (err) {
      if (err instanceof MachineTimeoutError || err instanceof MachineEndedError) break;
      throw err;
    }
  }

  return {
    machine: machineName(),
    coldBoots: COLD_BOOTS,
    "power-on → smss start (s, median)": median(startWall).toFixed(2),
    "power-on → smss start (instructions, median)": median(startInstr).toExponential(3),
    "power-on → smss ready (s, median)": median(readyWall).toFixed(2),
    "power-on → smss ready (instructions, median)": median(readyInstr).toExponential(3),
    "power-on → smss ready with v86's JIT (s, median)": median(readyWallJit).toFixed(2),
    "snapshot restore → running (s, median)": (median(restoreMs) / 1000).toFixed(3),
    "snapshot size (MB)": ((state?.byteLength ?? 0) / 1e6).toFixed(1),
    "smallest memory that boots (MiB)": smallestMiB ?? "none of 48..8",
  };
}
