// Hive benchmarks, whole processes timed as a user would run them (Node start-up included):
// (a) full walk + .reg export of real/SYSTEM (11.7 MB) by `smss86 hive export` against `hivexml` on the same
//     file, runs interleaved so both see the same machine load; ratio of medians (target ≤ 1.0, goal 0.5).
// (b) import of a generated .reg with 6,000 keys and 100 KB values by `smss86 hive import` against
//     `hivexregedit --merge` (which needs a hive to start from: hivex's minimal one): wall time, size of the
//     hive written, peak RSS.
// `npm run bench hive` runs only these.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hivesDir } from "../test/hive-helpers.ts";
import { median } from "./stats.ts";

/** Export runs take a fifth of a second, so more of them steady the medians against a busy machine. */
const EXPORT_RUNS = 15;
/** hivexregedit takes seconds per import. */
const IMPORT_RUNS = 5;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const smss86 = join(repoRoot, "bin/smss86.cjs");

interface Run {
  seconds: number;
  peakRssMiB: number;
}

/** Runs a command under /usr/bin/time; stdout goes to `stdoutFile` (default /dev/null). */
function timed(command: string, args: string[], stdoutFile = "/dev/null"): Run {
  const out = openSync(stdoutFile, "w");
  try {
    const start = process.hrtime.bigint();
    const run = spawnSync("/usr/bin/time", ["-f", "peak-rss-kib=%M", command, ...args], {
      stdio: ["ignore", out, "pipe"],
      cwd: repoRoot,
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stderr = run.stderr.toString();
    if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${run.status}): ${stderr}`);
    const rss = /peak-rss-kib=(\d+)/.exec(stderr);
    if (rss === null) throw new Error(`no peak RSS from /usr/bin/time for ${command}: ${stderr}`);
    return { seconds, peakRssMiB: Number(rss[1]) / 1024 };
  } finally {
    closeSync(out);
  }
}

function summary(runs: Run[]): { seconds: number; peakRssMiB: number } {
  return { seconds: round(median(runs.map((r) => r.seconds)), 3), peakRssMiB: round(median(runs.map((r) => r.peakRssMiB)), 1) };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function requireTools(): void {
  for (const tool of ["/usr/bin/time", "hivexml", "hivexregedit", "xz"]) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
    if (!found) throw new Error(`bench/hive.ts needs ${tool}: run scripts/setup-host.sh`);
  }
}

/** regedit text with 6,000 keys under one parent (two small values each) and ten 100 KB REG_BINARY values. */
function importInput(): string {
  const blob = Array.from({ length: 100 * 1024 }, (_, i) => ((i * 7) & 0xff).toString(16).padStart(2, "0")).join(",");
  const lines = ["Windows Registry Editor Version 5.00", "", "[HKEY_LOCAL_MACHINE\\SYSTEM\\Bench]", ""];
  for (let i = 0; i < 6000; i++) {
    lines.push(`[HKEY_LOCAL_MACHINE\\SYSTEM\\Bench\\Key${String(i).padStart(5, "0")}]`);
    lines.push(`"Name"="Key number ${i}"`, `"Index"=dword:${i.toString(16).padStart(8, "0")}`);
    if (i < 10) lines.push(`"Blob"=hex:${blob}`);
    lines.push("");
  }
  return lines.join("\r\n");
}

export async function benchHive(): Promise<Record<string, unknown>> {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), "smss86-bench-hive-"));
  try {
    const system = join(dir, "SYSTEM");
    writeFileSync(system, execFileSync("xz", ["-dc", join(hivesDir, "real/SYSTEM.xz")], { maxBuffer: 1 << 30 }));

    const exportRuns = { ours: [] as Run[], oursUtf8: [] as Run[], hivexml: [] as Run[] };
    for (let i = 0; i < EXPORT_RUNS; i++) {
      exportRuns.ours.push(timed(process.execPath, [smss86, "hive", "export", system]));
      exportRuns.hivexml.push(timed("hivexml", [system]));
      exportRuns.oursUtf8.push(timed(process.execPath, [smss86, "hive", "export", system, "--utf8"]));
    }
    const exportText = join(dir, "SYSTEM.reg");
    timed(process.execPath, [smss86, "hive", "export", system], exportText);

    const input = join(dir, "bench.reg");
    writeFileSync(input, importInput());
    const oursHive = join(dir, "ours.hive");
    const hivexHive = join(dir, "hivex.hive");
    const importRuns = { ours: [] as Run[], hivexregedit: [] as Run[] };
    for (let i = 0; i < IMPORT_RUNS; i++) {
      rmSync(oursHive, { force: true });
      importRuns.ours.push(timed(process.execPath, [smss86, "hive", "import", input, oursHive]));
      copyFileSync(join(hivesDir, "hivex/minimal"), hivexHive);
      importRuns.hivexregedit.push(timed("hivexregedit", ["--merge", "--prefix", "HKEY_LOCAL_MACHINE\\SYSTEM", hivexHive, input]));
    }

    const ours = summary(exportRuns.ours);
    const hivexml = summary(exportRuns.hivexml);
    const importOurs = summary(importRuns.ours);
    const importHivex = summary(importRuns.hivexregedit);
    const mb = (path: string) => round(statSync(path).size / 1e6, 2);
    return {
      "runs (export / import)": [EXPORT_RUNS, IMPORT_RUNS],
      "export SYSTEM: smss86 hive export (UTF-16LE) s": ours.seconds,
      "export SYSTEM: smss86 hive export --utf8 s": summary(exportRuns.oursUtf8).seconds,
      "export SYSTEM: hivexml s": hivexml.seconds,
      "export SYSTEM: ratio ours / hivexml (target <= 1.0, goal 0.5)": round(ours.seconds / hivexml.seconds, 2),
      "export SYSTEM: peak RSS MiB ours / hivexml": [ours.peakRssMiB, hivexml.peakRssMiB],
      "export SYSTEM: .reg written MB": mb(exportText),
      "import .reg (6,000 keys, 10 x 100 KB) MB": mb(input),
      "import: smss86 hive import s": importOurs.seconds,
      "import: hivexregedit --merge s": importHivex.seconds,
      "import: hive written MB ours / hivexregedit": [mb(oursHive), mb(hivexHive)],
      "import: peak RSS MiB ours / hivexregedit": [importOurs.peakRssMiB, importHivex.peakRssMiB],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
