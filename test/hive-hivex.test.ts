// Our reader against hivex, an independent implementation: for every hive in the test corpus (test/fixtures/hives) that hivexml
// reads, the key/value tree (names, types, exact data, stored order) must be the same, value by value.

import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Hive } from "../src/hive/index.ts";
import { dumpTree, edgeDir, hivesDir, hivexDump, realHivePath } from "./hive-helpers.ts";

function corpus(): Array<[string, () => string]> {
  const out: Array<[string, () => string]> = [];
  for (const name of ["BCD", "NTUSER.DAT", "SAM", "SECURITY", "SYSTEM", "SYSTEM_B", "corrupted_system_hive"]) {
    out.push([`real/${name}`, () => realHivePath(name)]);
  }
  for (const name of ["minimal", "rlenvalue_test_hive", "special"]) out.push([`hivex/${name}`, () => join(hivesDir, "hivex", name)]);
  for (const name of readdirSync(edgeDir).sort()) {
    if (name === "LICENSE") continue;
    const path = join(edgeDir, name);
    if (!statSync(path).isDirectory()) out.push([`edge/${name}`, () => path]);
    else for (const file of readdirSync(path).sort()) if (!file.includes(".LOG")) out.push([`edge/${name}/${file}`, () => join(path, file)]);
  }
  return out;
}

describe("tree equals hivex's", () => {
  const readable: string[] = [];
  it.each(corpus())("%s", (label, pathOf) => {
    const path = pathOf();
    const hivexml = spawnSync("hivexml", [path], { stdio: ["ignore", "ignore", "pipe"] });
    if (hivexml.status !== 0) return; // hivex itself cannot read it: covered by the edge-case tests
    readable.push(label);
    // hivex ignores transaction logs, so dirty hives are compared as the primary stands.
    const ours = dumpTree(Hive.open(new Uint8Array(readFileSync(path)), { name: label, recover: false }));
    const theirs = hivexDump(path);
    expect(ours.length).toBe(theirs.length);
    for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) expect(ours[i]).toBe(theirs[i]);
  });

  it("covered every hive hivexml reads", () => {
    expect(readable).toContain("real/SYSTEM");
    expect(readable).toContain("real/NTUSER.DAT");
    expect(readable).toContain("edge/BigDataHive");
    expect(readable.length).toBeGreaterThanOrEqual(30);
  });
});
