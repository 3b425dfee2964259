// A sample of the power-cut run (`npm run power-cuts` does every write): the renames phase cut after its
// first write, its last, and evenly between, then booted again: every operation done once, nothing lost.
import { beforeAll, describe, expect, it } from "vitest";
import { bootAfterCut, recordRenameWrites, type Recording } from "./power-cuts.ts";

const SAMPLES = 6;

describe("pending renames survive a power cut after any disk write", () => {
  let recording: Recording;
  beforeAll(async () => {
    recording = await recordRenameWrites();
  }, 180_000);

  it("records the renames phase's writes", () => {
    expect(recording.first).toBeGreaterThan(0);
    expect(recording.last - recording.first).toBeGreaterThanOrEqual(10);
  });

  it(`comes out right after a cut at ${SAMPLES} points of the phase`, async () => {
    const span = recording.last - recording.first;
    const cuts = [...new Set(Array.from({ length: SAMPLES }, (_, i) => recording.first + Math.round((span * i) / (SAMPLES - 1))))];
    const failures: string[] = [];
    for (const k of cuts) {
      const problems = await bootAfterCut(recording, k);
      if (problems.length > 0) failures.push(`cut after write ${k}: ${problems.join("; ")}`);
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
