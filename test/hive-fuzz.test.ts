// A few hundred seeded mutation-fuzzing cases (bench/hive-fuzz.ts runs 10,000+): mutated real and edge
// hives and logs must open, walk, check and change without anything but HiveErrors, each case quickly.

import { describe, expect, it } from "vitest";
import { loadFuzzCorpus, runHiveFuzz } from "./hive-fuzz.ts";

describe("mutation fuzzing", () => {
  it("1,000 cases over the edge-case, hivex and small real hives: only typed errors, bounded time", () => {
    const report = runHiveFuzz({ cases: 1000, seed: 20240601, maxCaseMs: 3000, corpus: loadFuzzCorpus(false) });
    expect(report.findings).toEqual([]);
    expect(report.cases).toBe(1000);
    // The run exercised both outcomes: hives that opened and were walked, and typed refusals.
    expect(report.opened).toBeGreaterThan(100);
    expect(report.keysWalked).toBeGreaterThan(10000);
    expect(report.exportsCompleted).toBeGreaterThan(100);
    expect(report.typedErrors).toBeGreaterThan(100);
    expect(report.writesSurvived).toBeGreaterThan(10);
    expect(report.writesRefused).toBeGreaterThan(0);
    expect(report.recoveries).toBeGreaterThan(0);
  });

  it("is reproducible: the same seed gives the same results", () => {
    const corpus = loadFuzzCorpus(false);
    const first = runHiveFuzz({ cases: 40, seed: 7, firstCase: 100, maxCaseMs: 3000, corpus });
    const second = runHiveFuzz({ cases: 40, seed: 7, firstCase: 100, maxCaseMs: 3000, corpus });
    expect(second.errorCodes).toEqual(first.errorCodes);
    expect(second.keysWalked).toBe(first.keysWalked);
    expect(second.valuesRead).toBe(first.valuesRead);
  });
});
