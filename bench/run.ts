// `npm run bench [boot|phases|logon|scenarios|processes|hive|fuzz]`: every benchmark (or one), printed as tables. Figures are medians of several
// runs; a pair is printed as "ours / theirs".
import { benchBoot } from "./boot.ts";
import { benchHive } from "./hive.ts";
import { benchHiveFuzz } from "./hive-fuzz.ts";
import { benchLogon } from "./logon.ts";
import { benchPhases } from "./phases.ts";
import { benchProcesses } from "./processes.ts";
import { benchScenarios } from "./scenarios.ts";

const suites: [string, () => Promise<Record<string, unknown>>][] = [
  ["boot", benchBoot],
  ["phases", benchPhases],
  ["logon", benchLogon],
  ["scenarios", benchScenarios],
  ["processes", benchProcesses],
  ["hive", benchHive],
  ["fuzz", () => benchHiveFuzz()],
];

const only = process.argv[2];
for (const [name, run] of suites) {
  if (only && only !== name) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  const results = await run();
  const width = Math.max(...Object.keys(results).map((k) => k.length));
  for (const [key, value] of Object.entries(results)) {
    process.stdout.write(`${key.padEnd(width)}  ${Array.isArray(value) ? value.join(" / ") : String(value)}\n`);
  }
}
