// Boot scenarios per minute: the default disk with a changed hive and a file, started from the scenario
// point (emulator/scenario-point.ts) and run to ready, in one process per core. Each process saves its own
// point first (one boot) and that time counts. Run alone as `node --import tsx bench/scenarios.ts N`: runs N
// scenarios and prints one JSON line with its times.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { bootMachine } from "../emulator/library.ts";
import { sharedScenarioPoint } from "../emulator/scenario-point.ts";
import { ensureDefaultDisk } from "../images/disk.ts";
import { median } from "./stats.ts";

const SCENARIOS_PER_PROCESS = 15;

interface WorkerReport {
  saveMs: number;
  scenarioMs: number[];
  startedFrom: string[];
}

async function runScenarios(count: number): Promise<WorkerReport> {
  let started = performance.now();
  await sharedScenarioPoint();
  const saveMs = performance.now() - started;
  const scenarioMs: number[] = [];
  const startedFrom: string[] = [];
  for (let index = 0; index < count; index++) {
    started = performance.now();
    const machine = await bootMachine({
      fromScenarioPoint: true,
      hive: { merge: `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager\\Environment]\r\n"SCENARIO"="${index}"\r\n` },
      files: { "/Temp/scenario.txt": String(index) },
    });
    await machine.waitForPhase("ready");
    await machine.stop();
    scenarioMs.push(performance.now() - started);
    startedFrom.push(machine.startedFrom);
  }
  return { saveMs, scenarioMs, startedFrom };
}

function runWorker(count: number): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), String(count)], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(output) as WorkerReport) : reject(new Error(`scenario worker exited with ${code}`))));
  });
}

export async function benchScenarios(): Promise<Record<string, unknown>> {
  await ensureDefaultDisk();
  const processes = availableParallelism();
  const started = performance.now();
  const reports = await Promise.all(Array.from({ length: processes }, () => runWorker(SCENARIOS_PER_PROCESS)));
  const minutes = (performance.now() - started) / 60_000;
  const total = processes * SCENARIOS_PER_PROCESS;
  const all = reports.flatMap((report) => report.scenarioMs);
  return {
    [`scenarios per minute (${total} to ready, ${processes} processes, saving the point included; target ≥ 60)`]: (total / minutes).toFixed(1),
    "one scenario, restored to ready: median wall ms": median(all).toFixed(0),
    [`scenarios per minute once the point is saved (${processes} processes, from that median)`]: ((60_000 / median(all)) * processes).toFixed(1),
    "saving the scenario point (a boot): median wall ms": median(reports.map((report) => report.saveMs)).toFixed(0),
    "scenarios started from the point": `${reports.flatMap((report) => report.startedFrom).filter((from) => from === "scenario point").length} of ${total}`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await runScenarios(Number(process.argv[2]))) + "\n");
}
