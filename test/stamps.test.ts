// Every prebuilt binary under images/prebuilt/ matches its provenance stamp, and the stamp matches the
// sources in the tree: a changed kernel config, C shim or recipe without a rebuild fails here.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PREBUILT, REPO_ROOT } from "../emulator/node.ts";

interface Stamp {
  output: string;
  sha256: string;
  recipe: string;
  inputs: Record<string, string>;
  packages: Record<string, string>;
  notes: string;
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(join(REPO_ROOT, file))).digest("hex");
const stampFiles = readdirSync(PREBUILT).filter((name) => name.endsWith(".stamp.json"));
const binaries = readdirSync(PREBUILT).filter((name) => !name.endsWith(".stamp.json"));

describe("prebuilt provenance stamps", () => {
  it("every prebuilt file has a stamp", () => {
    expect(binaries.length).toBeGreaterThanOrEqual(6);
    for (const name of binaries) expect(stampFiles, `${name} has no stamp`).toContain(`${name}.stamp.json`);
  });

  for (const name of stampFiles) {
    describe(name, () => {
      const stamp = JSON.parse(readFileSync(join(PREBUILT, name), "utf8")) as Stamp;
      it("names its output, recipe, inputs and packages", () => {
        expect(stamp.output).toBe(`images/prebuilt/${name.replace(/\.stamp\.json$/, "")}`);
        expect(Object.keys(stamp.inputs)).toContain(stamp.recipe);
        expect(Object.keys(stamp.packages).length).toBeGreaterThan(0);
      });
      it("output matches the recorded hash", () => {
        expect(sha256(stamp.output)).toBe(stamp.sha256);
      });
      it("every input in the tree matches the recorded hash", () => {
        for (const [file, hash] of Object.entries(stamp.inputs)) expect(sha256(file), `${file} changed since the build`).toBe(hash);
      });
    });
  }
});
