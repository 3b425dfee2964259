// FatVolume.check, the checker behind the guest's autochk: every kind of damage it claims to find is made
// here by hand on volumes from mkfs.fat, found, repaired, and then fsck.fat -n (an independent checker)
// must find nothing left, with every surviving file's contents intact.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FatVolume, type FatType } from "../src/fat/fat.ts";
import { pattern } from "./patterns.ts";

const work = mkdtempSync(join(tmpdir(), "smss86-fatcheck-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fsck(bytes: Uint8Array, name: string): { status: number | null; output: string } {
  const path = join(work, name);
  writeFileSync(path, bytes);
  const result = spawnSync("fsck.fat", ["-n", path], { encoding: "utf8" });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Byte offset of the short directory entry whose 11-byte name is `shortName` ("FILEB   TXT"). */
function entryOffset(bytes: Uint8Array, shortName: string): number {
  const wanted = new TextEncoder().encode(shortName);
  for (let offset = 0; offset + 32 <= bytes.length; offset += 32) {
    if (wanted.every((byte, index) => bytes[offset + index] === byte)) return offset;
  }
  throw new Error(`no entry ${shortName}`);
}

describe.each([12, 16, 32] as FatType[])("FAT%s", (type) => {
  it("finds and repairs the dirty bit, differing FATs, bad entries, broken and cross-linked chains, wrong sizes and lost chains", () => {
    const path = join(work, `fat${type}.img`);
    execFileSync("mkfs.fat", ["-C", "-F", String(type), "-s", "1", "-i", "12345678", path, String({ 12: 2048, 16: 8192, 32: 65536 }[type])], { stdio: "ignore" });
    const bytes = new Uint8Array(readFileSync(path));
    const volume = FatVolume.open(bytes);
    const contents = { a: pattern(3000, 1), b: pattern(1500, 2), c: pattern(2000, 3), d: pattern(700, 4), e: pattern(100, 5) };
    volume.mkdir("/dir");
    volume.writeFile("/FILEA.TXT", contents.a);
    volume.writeFile("/FILEB.TXT", contents.b);
    volume.writeFile("/dir/FILEC.TXT", contents.c);
    volume.writeFile("/FILED.TXT", contents.d);
    volume.writeFile("/FILEE.TXT", contents.e);
    expect(volume.check({ repair: false }).findings).toEqual([]);
    expect(fsck(bytes, "clean.img").status).toBe(0);

    const view = new DataView(bytes.buffer);
    const { layout } = volume;
    const fatEntryOffset = (cluster: number) => layout.fatOffset + (type === 12 ? Math.floor((cluster * 3) / 2) : (cluster * type) / 8);
    const setFat = (cluster: number, value: number) => {
      const offset = fatEntryOffset(cluster);
      if (type === 12) {
        const pair = view.getUint16(offset, true);
        view.setUint16(offset, cluster & 1 ? (pair & 0x000f) | (value << 4) : (pair & 0xf000) | value, true);
      } else if (type === 16) view.setUint16(offset, value, true);
      else view.setUint32(offset, value, true);
    };
    const eoc = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff }[type];
    // The dirty bit, as Linux leaves it after a power cut.
    bytes[type === 32 ? 65 : 37] |= 1;
    // FILEB: cross-linked onto FILEA's chain (its own clusters become lost).
    const aCluster = volume.stat("/FILEA.TXT")!.firstCluster;
    const b = entryOffset(bytes, "FILEB   TXT");
    view.setUint16(b + 26, aCluster & 0xffff, true);
    view.setUint32(b + 28, 2048, true);
    // dir/FILEC: claims more bytes than its chain holds.
    view.setUint32(entryOffset(bytes, "FILEC   TXT") + 28, 9000, true);
    // FILED: a first cluster beyond the volume.
    const d = entryOffset(bytes, "FILED   TXT");
    view.setUint16(d + 26, 0xfff0, true);
    if (type === 32) view.setUint16(d + 20, 0x0fff, true);
    // FILEE: its chain links to a free cluster instead of ending.
    const eCluster = volume.stat("/FILEE.TXT")!.firstCluster;
    const free = layout.clusterCount - 5;
    setFat(eCluster, free);
    // Two allocated clusters nobody owns.
    setFat(layout.clusterCount - 2, layout.clusterCount - 1);
    setFat(layout.clusterCount - 1, eoc);
    // Only the first FAT copy changed so far: the copies differ too.

    const damaged = FatVolume.open(bytes);
    const found = damaged.check({ repair: false }).findings;
    expect(found.map((f) => f.kind).sort()).toEqual(
      expect.arrayContaining(["dirty", "fat-copies-differ", "cross-link", "size-mismatch", "bad-entry", "bad-chain", "lost-chain"]),
    );
    expect(found.find((f) => f.kind === "cross-link")?.path).toBe("/FILEB.TXT");
    expect(found.find((f) => f.kind === "bad-entry")?.path).toBe("/FILED.TXT");
    expect(found.every((f) => f.fixed === undefined)).toBe(true);
    expect(fsck(bytes, "damaged.img").status).not.toBe(0);

    const repaired = FatVolume.open(bytes).check({ repair: true }).findings;
    expect(repaired.every((f) => typeof f.fixed === "string")).toBe(true);
    expect(FatVolume.open(bytes).check({ repair: false }).findings).toEqual([]);
    const after = fsck(bytes, "repaired.img");
    expect(after.status, after.output).toBe(0);

    const again = FatVolume.open(bytes);
    expect(again.dirty).toBe(false);
    expect(again.readFile("/FILEA.TXT")).toEqual(contents.a);
    // FILEB now has its own copy of what it pointed at: FILEA's first 2048 bytes.
    expect(again.readFile("/FILEB.TXT")).toEqual(contents.a.subarray(0, 2048));
    expect(again.stat("/FILEB.TXT")!.firstCluster).not.toBe(aCluster);
    expect(again.readFile("/dir/FILEC.TXT").subarray(0, 2000)).toEqual(contents.c);
    expect(again.stat("/FILED.TXT")!.size).toBe(0);
    expect(again.readFile("/FILEE.TXT")).toEqual(contents.e);
  });
});
