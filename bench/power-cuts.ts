// `npm run power-cuts`: the rename queue of test/power-cuts.ts cut after every disk write of the renames
// phase (N of them), each disk booted again and checked. Prints N, the failures (goal 0) and the time.
// Two machines run at a time (2 cores).
import { bootAfterCut, recordRenameWrites } from "../test/power-cuts.ts";
import { machineName } from "./stats.ts";

const PARALLEL = 2;
const started = performance.now();
const recording = await recordRenameWrites();
const cuts = Array.from({ length: recording.last - recording.first + 1 }, (_, i) => recording.first + i);
process.stdout.write(`${machineName()}\nrenames phase: writes ${recording.first}..${recording.last} of ${recording.writes.length} (N = ${cuts.length})\n`);
const failures: string[] = [];
let next = 0;
let finished = 0;
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    while (next < cuts.length) {
      const k = cuts[next++];
      const problems = await bootAfterCut(recording, k);
      finished++;
      if (problems.length > 0) failures.push(`cut after write ${k}: ${problems.join("; ")}`);
      process.stdout.write(`  [${finished}/${cuts.length}] cut after write ${k}: ${problems.length === 0 ? "ok" : problems.join("; ")}\n`);
    }
  }),
);
process.stdout.write(`N = ${cuts.length}, failures = ${failures.length}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
for (const failure of failures) process.stdout.write(`FAILED ${failure}\n`);
process.exitCode = failures.length === 0 ? 0 : 1;
