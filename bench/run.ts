// `npm run bench`: every benchmark, printed as tables. Figures are medians of several runs.
import { benchBoot } from "./boot.ts";
import { benchHive } from "./hive.ts";

const suites: [string, () => Promise<Record<string, unknown>>][] = [
  ["boot", benchBoot],
  ["hive", benchHive],
];

const only = process.argv[2];
for (const [name, run] of suites) {
  if (only && only !== name) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  const results = await run();
  const width = Math.max(...Object.keys(results).map((k) => k.length));
  for (const [key, value] of Object.entries(results)) {
    process.stdout.write(`${key.padEnd(width)}  ${typeof value === "object" ? JSON.stringify(value) : String(value)}\n`);
  }
}
