// Mutation-fuzzing benchmark for src/hive: `npx tsx bench/hive-fuzz.ts [cases] [seed] [first case]`
// (default 10,000 cases from case 0, seed 1; a finding's case index reruns it alone). Exits 1 when any case
// throws something other than a HiveError or runs longer than 15 s (a hang detector: a case on the 12 MB
// SYSTEM hive takes about 1 s alone, more on a busy machine).

import { loadFuzzCorpus, runHiveFuzz } from "../test/hive-fuzz.ts";

const cases = Number(process.argv[2] ?? 10_000);
const seed = Number(process.argv[3] ?? 1);
const firstCase = Number(process.argv[4] ?? 0);
if (!Number.isInteger(cases) || cases <= 0 || !Number.isInteger(seed) || !Number.isInteger(firstCase) || firstCase < 0) {
  console.error("usage: npx tsx bench/hive-fuzz.ts [cases] [seed] [first case]");
  process.exit(2);
}
const report = runHiveFuzz({ cases, seed, firstCase, maxCaseMs: 15_000, corpus: loadFuzzCorpus(true) });
const { findings, ...summary } = report;
console.log(JSON.stringify(summary, null, 2));
for (const finding of findings.slice(0, 20)) console.log(JSON.stringify(finding));
console.log(findings.length === 0 ? `ok: ${cases} cases, only HiveErrors` : `${findings.length} findings`);
process.exitCode = findings.length === 0 ? 0 : 1;
