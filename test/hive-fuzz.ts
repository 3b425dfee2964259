// Seeded, reproducible mutation fuzzer for src/hive: mutates real and edge-case hives (and transaction
// logs), then opens, walks, exports (as `smss86 hive export` does), checks and changes them. Every failure
// must be a HiveError (or, from the export, a RegExportError for a name .reg text cannot hold); anything
// else, or a case that takes too long, is recorded as a finding. Shared by test/hive-fuzz.test.ts (1,000
// cases) and bench/hive-fuzz.ts (10,000 by default).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Hive, HiveError, type HiveKey, REG_BINARY, REG_SZ, encodeString } from "../src/hive/index.ts";
import { baseBlockChecksum } from "../src/hive/base-block.ts";
import { exportRegTo, RegExportError } from "../src/regtext/index.ts";
import { edgeDir, hivesDir, realHivePath } from "./hive-helpers.ts";

export interface CorpusEntry {
  name: string;
  primary: Uint8Array;
  log1?: Uint8Array;
  log2?: Uint8Array;
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Index of the first case; each case draws from its own generator, so any one can be rerun alone. */
  firstCase?: number;
  /** A case slower than this is a finding. */
  maxCaseMs: number;
  corpus: CorpusEntry[];
}

export interface FuzzFinding {
  caseIndex: number;
  corpus: string;
  mutation: string;
  problem: string;
}

export interface FuzzReport {
  cases: number;
  opened: number;
  typedErrors: number;
  errorCodes: Record<string, number>;
  keysWalked: number;
  valuesRead: number;
  /** Exports that wrote the whole tree; the others stopped at damage with a typed error. */
  exportsCompleted: number;
  /** Exports stopped at a key or value name .reg text cannot hold. */
  exportsRefused: number;
  writesSurvived: number;
  /** Changes refused with a HiveError (each checked to have left the hive unchanged). */
  writesRefused: number;
  recoveries: number;
  slowestCaseMs: number;
  /** Which case that was, to rerun it alone with firstCase. */
  slowestCase: string;
  totalMs: number;
  findings: FuzzFinding[];
}

/** xorshift32: small, fast and the same on every platform. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

const INTERESTING_U32 = [0, 1, 2, 4, 8, 0x20, 0x7f, 0x80, 0xff, 0x1000, 0x3fd8, 0x3fd9, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000004, 0x80000005, 0xfffffff8, 0xfffffffc, 0xffffffff];

/** Offsets of the allocated cells of a primary image (so mutations can aim at records, not only at data). */
function cellOffsets(primary: Uint8Array): number[] {
  const view = new DataView(primary.buffer, primary.byteOffset, primary.byteLength);
  const out: number[] = [];
  let bin = 0x1000;
  while (bin + 32 <= primary.length && view.getUint32(bin, true) === 0x6e696268) {
    const size = view.getUint32(bin + 8, true);
    if (size < 0x1000 || bin + size > primary.length) break;
    let at = bin + 32;
    while (at + 4 <= bin + size) {
      const raw = view.getInt32(at, true);
      const length = Math.abs(raw);
      if (length < 8 || at + length > bin + size) break;
      if (raw < 0) out.push(at);
      at += length;
    }
    bin += size;
  }
  return out;
}

function mutate(source: Uint8Array, cells: number[], random: Random): { bytes: Uint8Array; description: string } {
  const bytes = source.slice();
  const view = new DataView(bytes.buffer);
  const steps: string[] = [];
  const count = 1 + random.below(4);
  for (let i = 0; i < count; i++) {
    const kind = random.below(8);
    if (kind <= 2 && cells.length > 0) {
      // A field near the start of a record: sizes, counts, offsets and signatures live there.
      const cell = random.pick(cells);
      const at = Math.min(cell + 4 * random.below(20), bytes.length - 4);
      const value = random.below(3) === 0 ? random.next() : random.pick(INTERESTING_U32);
      view.setUint32(at, value >>> 0, true);
      steps.push(`u32@0x${at.toString(16)}=0x${(value >>> 0).toString(16)}`);
    } else if (kind === 3 && cells.length > 0) {
      // Point a field at some other cell (or just past it), building plausible but wrong structures.
      const at = Math.min(random.pick(cells) + 4 * random.below(20), bytes.length - 4);
      const target = random.pick(cells) - 0x1000 + (random.below(4) === 0 ? 8 : 0);
      view.setUint32(at, target >>> 0, true);
      steps.push(`ptr@0x${at.toString(16)}=0x${(target >>> 0).toString(16)}`);
    } else if (kind === 4) {
      const at = random.below(bytes.length);
      bytes[at] ^= 1 << random.below(8);
      steps.push(`bit@0x${at.toString(16)}`);
    } else if (kind === 5) {
      const at = random.below(bytes.length);
      const length = Math.min(1 + random.below(64), bytes.length - at);
      for (let k = 0; k < length; k++) bytes[at + k] = random.next() & 0xff;
      steps.push(`rand@0x${at.toString(16)}+${length}`);
    } else if (kind === 6) {
      const at = random.below(0x200);
      view.setUint32(at & ~3, random.pick(INTERESTING_U32), true);
      steps.push(`base@0x${(at & ~3).toString(16)}`);
    } else {
      const from = random.below(bytes.length);
      const to = random.below(bytes.length);
      const length = Math.min(1 + random.below(256), bytes.length - from, bytes.length - to);
      bytes.copyWithin(to, from, from + length);
      steps.push(`copy 0x${from.toString(16)}->0x${to.toString(16)}+${length}`);
    }
  }
  if (random.below(8) === 0) {
    const length = random.below(bytes.length);
    steps.push(`truncate ${length}`);
    return { bytes: bytes.slice(0, length), description: steps.join(" ") };
  }
  // Mostly keep the base block verifying, so the mutations reach the bins instead of stopping at "dirty".
  if (bytes.length >= 512 && random.below(4) !== 0) view.setUint32(508, baseBlockChecksum(bytes), true);
  return { bytes, description: steps.join(" ") };
}

/** Walks everything reachable, continuing past damaged subtrees; returns [keys, values]. */
function walk(hive: Hive, countError: (error: HiveError) => void): [number, number] {
  let keys = 0;
  let values = 0;
  const pending: HiveKey[] = [hive.root];
  while (pending.length > 0) {
    const key = pending.pop() as HiveKey;
    keys++;
    const guarded = (action: () => void): void => {
      try {
        action();
      } catch (error) {
        if (!(error instanceof HiveError)) throw error;
        countError(error);
      }
    };
    guarded(() => {
      void key.name;
      void key.path;
      void key.lastWritten;
      void key.className;
      void key.securityDescriptor;
    });
    guarded(() => {
      for (const value of key.values()) {
        values++;
        guarded(() => {
          void value.name;
          void value.type;
          const data = value.data;
          if (data.length !== value.dataLength) throw new Error(`data length ${data.length} != ${value.dataLength}`);
          value.asString();
          value.asMultiString();
          if (data.length === 4) value.asDword();
          if (data.length === 8) value.asQword();
        });
      }
    });
    guarded(() => {
      for (const value = key.valueCursor(); value.next(); ) void value.data[value.dataStart + value.dataLength - 1];
    });
    guarded(() => {
      for (const child of key.subkeys()) pending.push(child);
    });
  }
  return [keys, values];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Makes one change and writes the hive out: the writer must cope with what it finds or refuse with a
 * HiveError that leaves the hive exactly as it was.
 */
function change(hive: Hive, random: Random): void {
  const keys = hive.root.subkeys();
  const target = keys.length > 0 ? random.pick(keys) : hive.root;
  const before = hive.toBytes();
  try {
    switch (random.below(5)) {
      case 0:
        target.createSubkey(`fuzz${random.below(100)}`);
        break;
      case 1:
        target.setValue(`big${random.below(3)}`, REG_BINARY, new Uint8Array(random.below(40000)));
        break;
      case 2:
        if (target !== hive.root) hive.root.deleteSubkey(target.name, { recursive: true });
        break;
      case 3: {
        const values = target.values();
        if (values.length > 0) target.deleteValue(random.pick(values).name);
        break;
      }
      default:
        target.setValue("", REG_SZ, encodeString("default"));
    }
  } catch (error) {
    if (error instanceof HiveError && !sameBytes(hive.toBytes(), before)) {
      throw new Error(`a refused change altered the hive: ${error.message}`);
    }
    throw error;
  }
  const reopened = Hive.open(hive.toBytes(), { name: hive.name });
  walk(reopened, () => undefined);
}

export function runHiveFuzz(options: FuzzOptions): FuzzReport {
  const report: FuzzReport = {
    cases: 0,
    opened: 0,
    typedErrors: 0,
    errorCodes: {},
    keysWalked: 0,
    valuesRead: 0,
    exportsCompleted: 0,
    exportsRefused: 0,
    writesSurvived: 0,
    writesRefused: 0,
    recoveries: 0,
    slowestCaseMs: 0,
    slowestCase: "",
    totalMs: 0,
    findings: [],
  };
  const cellsOf = new Map<CorpusEntry, number[]>();
  const countError = (error: HiveError): void => {
    report.typedErrors++;
    report.errorCodes[error.code] = (report.errorCodes[error.code] ?? 0) + 1;
  };
  const started = performance.now();
  const first = options.firstCase ?? 0;
  for (let index = first; index < first + options.cases; index++) {
    const random = new Random(Math.imul(options.seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
    random.next();
    const entry = random.pick(options.corpus);
    let cells = cellsOf.get(entry);
    if (cells === undefined) {
      cells = cellOffsets(entry.primary);
      cellsOf.set(entry, cells);
    }
    const caseStart = performance.now();
    const withLogs = entry.log1 !== undefined && random.below(2) === 0;
    let description: string;
    let primary = entry.primary;
    let log1 = entry.log1;
    if (withLogs) {
      const mutated = mutate(entry.log1 as Uint8Array, [], random);
      log1 = mutated.bytes;
      description = `LOG1: ${mutated.description}`;
    } else {
      const mutated = mutate(entry.primary, cells, random);
      primary = mutated.bytes;
      description = mutated.description;
    }
    try {
      const hive = Hive.open(primary, { name: entry.name, log1, log2: entry.log2, recover: withLogs });
      report.opened++;
      if (hive.dirtyState === "recovered") report.recoveries++;
      const [keys, values] = walk(hive, countError);
      report.keysWalked += keys;
      report.valuesRead += values;
      try {
        // The export's own walk (KeyWalk) and text writer, on the same damage.
        exportRegTo(hive, "", () => undefined);
        report.exportsCompleted++;
      } catch (error) {
        if (error instanceof RegExportError) report.exportsRefused++;
        else if (error instanceof HiveError) countError(error);
        else throw error;
      }
      hive.check();
      if (hive.dirtyState !== "dirty" && random.below(3) === 0) {
        try {
          change(hive, random);
          report.writesSurvived++;
        } catch (error) {
          if (error instanceof HiveError) report.writesRefused++;
          throw error;
        }
      }
    } catch (error) {
      if (error instanceof HiveError) countError(error);
      else {
        report.findings.push({ caseIndex: index, corpus: entry.name, mutation: description, problem: String((error as Error)?.stack ?? error) });
      }
    }
    const elapsed = performance.now() - caseStart;
    if (elapsed > report.slowestCaseMs) {
      report.slowestCaseMs = elapsed;
      report.slowestCase = `#${index} ${entry.name}: ${description}`;
    }
    if (elapsed > options.maxCaseMs) {
      report.findings.push({ caseIndex: index, corpus: entry.name, mutation: description, problem: `took ${elapsed.toFixed(0)} ms` });
    }
    report.cases++;
  }
  report.totalMs = performance.now() - started;
  return report;
}

/**
 * The fuzzing corpus: every edge-case and hivex hive, the smaller real hives, and (when asked) real/SYSTEM;
 * dirty hives come with their logs so recovery is fuzzed too.
 */
export function loadFuzzCorpus(includeLargeHives: boolean): CorpusEntry[] {
  const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
  const corpus: CorpusEntry[] = [];
  for (const name of readdirSync(edgeDir).sort()) {
    const path = join(edgeDir, name);
    if (name === "LICENSE") continue;
    if (statSync(path).isDirectory()) {
      for (const file of readdirSync(path).sort()) {
        if (file.includes(".LOG")) continue;
        const logPath = join(path, `${file}.LOG1`);
        const hasLogs = readdirSync(path).includes(`${file}.LOG1`);
        corpus.push({
          name: `${name}/${file}`,
          primary: read(join(path, file)),
          log1: hasLogs ? read(logPath) : undefined,
          log2: hasLogs ? read(join(path, `${file}.LOG2`)) : undefined,
        });
      }
    } else corpus.push({ name, primary: read(path) });
  }
  for (const name of ["minimal", "rlenvalue_test_hive", "special"]) corpus.push({ name, primary: read(join(hivesDir, "hivex", name)) });
  for (const name of ["BCD", "SAM", "SECURITY", "NTUSER.DAT"]) corpus.push({ name, primary: read(realHivePath(name)) });
  if (includeLargeHives) {
    corpus.push({ name: "SYSTEM", primary: read(realHivePath("SYSTEM")) });
  }
  return corpus;
}

/**
 * The fuzzer's mutations of the corpus' primary files, reproducible from the seed: targets for tests that
 * hand damaged hives to the command line tools.
 */
export function mutatedPrimaries(corpus: CorpusEntry[], count: number, seed: number): { name: string; mutation: string; bytes: Uint8Array }[] {
  const out: { name: string; mutation: string; bytes: Uint8Array }[] = [];
  for (let index = 0; index < count; index++) {
    const random = new Random(Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
    const entry = random.pick(corpus);
    const { bytes, description } = mutate(entry.primary, cellOffsets(entry.primary), random);
    out.push({ name: entry.name, mutation: description, bytes });
  }
  return out;
}
