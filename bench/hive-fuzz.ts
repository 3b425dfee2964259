// Mutation-fuzzing benchmark for src/hive and the .reg export: part of `npm run bench` (10,000 cases, seed
// 1), or alone as `npx tsx bench/hive-fuzz.ts [cases] [seed] [first case]` (a finding's case index reruns
// it alone). Fails when any case throws something other than a typed error or runs longer than 15 s (a hang
// detector: a case on the 12 MB SYSTEM hive takes about 1 s alone, more on a busy machine).

import { pathToFileURL } from "node:url";
import { loadFuzzCorpus, runHiveFuzz, type FuzzFinding } from "../test/hive-fuzz.ts";

export async function benchHiveFuzz(cases = 10_000, seed = 1, firstCase = 0): Promise<Record<string, unknown>> {
  const { findings, totalMs, ...report } = runHiveFuzz({ cases, seed, firstCase, maxCaseMs: 15_000, corpus: loadFuzzCorpus(true) });
  for (const finding of findings.slice(0, 20)) process.stderr.write(`${JSON.stringify(finding)}\n`);
  if (findings.length > 0) process.exitCode = 1;
  return {
    seed,
    ...report,
    errorCodes: Object.entries(report.errorCodes).map(([code, count]) => `${code} ${count}`).join(", "),
    slowestCaseMs: Math.round(report.slowestCaseMs),
    "total s": Number((totalMs / 1000).toFixed(1)),
    findings: findings.length === 0 ? "none: only typed errors" : describeFindings(findings),
  };
}

function describeFindings(findings: FuzzFinding[]): string {
  return `${findings.length} (cases ${findings.slice(0, 20).map((finding) => finding.caseIndex).join(", ")}; details on stderr)`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [cases, seed, firstCase] = [process.argv[2] ?? "10000", process.argv[3] ?? "1", process.argv[4] ?? "0"].map(Number);
  if (![cases, seed, firstCase].every(Number.isInteger) || cases <= 0 || firstCase < 0) {
    console.error("usage: npx tsx bench/hive-fuzz.ts [cases] [seed] [first case]");
    process.exit(2);
  }
  console.log(JSON.stringify(await benchHiveFuzz(cases, seed, firstCase), null, 2));
}
