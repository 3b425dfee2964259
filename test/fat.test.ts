// The FAT library against the independent tools: images made by mkfs.fat + mtools must read right, and what
// the library writes must satisfy fsck.fat and read back the same through mtools.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ATTR_DIRECTORY, FatError, FatVolume, type FatType } from "../src/fat/fat.ts";
import { planShortName, shortNameKey } from "../src/fat/names.ts";
import { pattern } from "./patterns.ts";

const work = mkdtempSync(join(tmpdir(), "smss86-fat-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const toolEnv = { ...process.env, MTOOLS_SKIP_CHECK: "1", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };
let imageCounter = 0;

/** A fresh volume made by mkfs.fat; returns its path and bytes. */
function mkfs(type: FatType, sizeKiB: number, extraArgs: string[] = []): { path: string; bytes: Uint8Array } {
  const path = join(work, `fat${type}-${imageCounter++}.img`);
  execFileSync("mkfs.fat", ["-C", "-F", String(type), "-i", "12345678", ...extraArgs, path, String(sizeKiB)], { stdio: "ignore" });
  return { path, bytes: new Uint8Array(readFileSync(path)) };
}

function mtools(command: string, args: string[]): Buffer {
  return execFileSync(command, args, { env: toolEnv, maxBuffer: 64 << 20 });
}

function fsckClean(path: string): { status: number | null; output: string } {
  const result = spawnSync("fsck.fat", ["-n", path], { encoding: "utf8" });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A digest to compare contents by: vitest's deep equality takes seconds on megabyte arrays. */
function digest(bytes: Uint8Array): string {
  return `${bytes.length}:${createHash("sha256").update(bytes).digest("hex")}`;
}

function errorOf(action: () => unknown): FatError {
  try {
    action();
  } catch (error) {
    if (error instanceof FatError) return error;
    throw new Error(`expected a FatError, got ${String(error)}`);
  }
  throw new Error("expected a FatError, nothing was thrown");
}

const volumes: { type: FatType; sizeKiB: number }[] = [
  { type: 12, sizeKiB: 4096 },
  { type: 16, sizeKiB: 32768 },
  { type: 32, sizeKiB: 65536 },
];

describe.each(volumes)("FAT$type written by mkfs.fat and mtools", ({ type, sizeKiB }) => {
  it("lists and reads long names, nested directories and a 1.5 MB file", () => {
    const { path } = mkfs(type, sizeKiB);
    const files = new Map<string, Uint8Array>([
      ["/Windows/System32/smss.exe", pattern(70_000, 1)],
      ["/Windows/System32/config/SYSTEM", pattern(8192, 2)],
      ["/A rather long file name.text", pattern(3, 3)],
      ["/Ünïcode ñame.txt", pattern(1, 4)],
      ["/big.bin", pattern(1_500_000, 5)],
      ["/empty", new Uint8Array(0)],
    ]);
    mtools("mmd", ["-i", path, "::/Windows", "::/Windows/System32", "::/Windows/System32/config"]);
    for (const [name, data] of files) {
      const source = join(work, "source.bin");
      writeFileSync(source, data);
      mtools("mcopy", ["-i", path, source, `::${name}`]);
    }
    const volume = FatVolume.open(new Uint8Array(readFileSync(path)));
    expect(volume.type).toBe(type);
    for (const [name, data] of files) expect(digest(volume.readFile(name)), name).toBe(digest(data));
    expect(volume.list("/").map((entry) => entry.name)).toEqual([
      "Windows",
      "A rather long file name.text",
      "Ünïcode ñame.txt",
      "big.bin",
      "empty",
    ]);
    const system32 = volume.list("/Windows/System32");
    // mtools stores "smss.exe" as a short name with the NT lower-case flags rather than a long name.
    expect(system32.map((entry) => [entry.name, entry.shortName, entry.isDirectory])).toEqual([
      ["config", "CONFIG", true],
      ["smss.exe", "SMSS.EXE", false],
    ]);
    expect(volume.stat("/WINDOWS/system32/SMSS.EXE")?.size).toBe(70_000);
    expect(volume.stat("/ARATHE~1.TEX")?.name).toBe("A rather long file name.text");
    expect(volume.stat("/missing")).toBeUndefined();
  });
});

describe.each(volumes)("FAT$type written by this library", ({ type, sizeKiB }) => {
  it("is clean for fsck.fat and reads back the same through mtools", () => {
    const { path, bytes } = mkfs(type, sizeKiB);
    const when = new Date(Date.UTC(2021, 5, 15, 13, 45, 30));
    const volume = FatVolume.open(bytes, { timestamp: when });
    const expected = new Map<string, Uint8Array>();
    const write = (name: string, data: Uint8Array): void => {
      volume.writeFile(name, data);
      expected.set(name, data);
    };
    volume.mkdir("/Windows/System32/config");
    volume.mkdir("/dev");
    write("/Windows/System32/smss.exe", pattern(70_000, 1));
    write("/Windows/System32/config/SYSTEM", pattern(8192, 2));
    write("/big.bin", pattern(1_500_000, 3));
    write("/README.TXT", pattern(100, 4));
    write("/A very long file name.txt", pattern(10, 5));
    write("/A very long file name too.txt", pattern(11, 6));
    write("/Ünïcode ñame.txt", pattern(12, 7));
    write("/name.with.dots.tar.gz", pattern(13, 8));
    // 150 entries with long names fill several clusters of a subdirectory: it has to grow.
    volume.mkdir("/Windows/many");
    for (let i = 0; i < 150; i++) write(`/Windows/many/file number ${i}.dat`, pattern(i, 100 + i));

    // Replace: bigger, then smaller, then by a name differing only in case (the stored name stays).
    write("/README.TXT", pattern(20_000, 9));
    volume.writeFile("/readme.txt", pattern(5, 10));
    expected.set("/README.TXT", pattern(5, 10));
    write("/Windows/System32/config/SYSTEM", pattern(3000, 11));
    // Delete a file and (empty) directories; the freed clusters get reused.
    write("/doomed.bin", pattern(50_000, 12));
    volume.delete("/doomed.bin");
    expected.delete("/doomed.bin");
    volume.mkdir("/gone/deeper");
    volume.delete("/gone/deeper");
    volume.delete("/gone");
    write("/after.bin", pattern(40_000, 13));
    writeFileSync(path, bytes);

    const fsck = fsckClean(path);
    expect(fsck.output).not.toMatch(/differ|wrong|invalid|bad|lost|free cluster summary/i);
    expect(fsck.status).toBe(0);

    const listing = mtools("mdir", ["-i", path, "-b", "-/", "::/"]).toString("utf8").trim().split("\n");
    const expectedListing = [
      ...[...expected.keys()],
      "/Windows/",
      "/Windows/System32/",
      "/Windows/System32/config/",
      "/Windows/many/",
      "/dev/",
    ].map((name) => `::${name}`);
    expect(listing.sort()).toEqual(expectedListing.sort());
    const extracted = join(work, `extracted-${type}`);
    mkdirSync(extracted);
    mtools("mcopy", ["-s", "-n", "-i", path, "::/*", extracted]);
    for (const [name, data] of expected) {
      expect(digest(new Uint8Array(readFileSync(join(extracted, name)))), name).toBe(digest(data));
      expect(digest(volume.readFile(name)), name).toBe(digest(data));
    }
    expect(digest(new Uint8Array(mtools("mtype", ["-i", path, "::/big.bin"])))).toBe(digest(pattern(1_500_000, 3)));

    // Short names: what Windows would generate, as mtools shows them next to the long names.
    const rootListing = mtools("mdir", ["-i", path, "::/"]).toString("utf8");
    expect(rootListing).toMatch(/^AVERYL~1 TXT +10 2021-06-15 +13:45 +A very long file name\.txt$/m);
    expect(rootListing).toMatch(/^AVERYL~2 TXT +11 .* A very long file name too\.txt$/m);
    expect(rootListing).toMatch(/^NAMEWI~1 GZ +13 .* name\.with\.dots\.tar\.gz$/m);
    expect(rootListing).toMatch(/^README +TXT +5 /m);
    expect(volume.stat("/Windows")).toMatchObject({ name: "Windows", shortName: "WINDOWS", isDirectory: true });
    expect(volume.stat("/Windows/System32/smss.exe")).toMatchObject({
      shortName: "SMSS.EXE",
      modified: new Date(Date.UTC(2021, 5, 15, 13, 45, 30)),
    });
    expect(volume.stat("/dev")?.attributes).toBe(ATTR_DIRECTORY);
  });

  it("refuses a file that does not fit and leaves the volume clean", () => {
    const { path, bytes } = mkfs(type, sizeKiB);
    const volume = FatVolume.open(bytes);
    volume.writeFile("/keep.bin", pattern(4000, 1));
    const free = volume.freeClusterCount;
    const tooBig = (free + 1) * volume.layout.clusterSize;
    expect(errorOf(() => volume.writeFile("/huge.bin", new Uint8Array(tooBig))).code).toBe("no-space");
    expect(errorOf(() => volume.writeFile("/keep.bin", new Uint8Array(tooBig + 4000))).code).toBe("no-space");
    expect(volume.freeClusterCount).toBe(free);
    expect(volume.stat("/huge.bin")).toBeUndefined();
    expect(volume.readFile("/keep.bin")).toEqual(pattern(4000, 1));
    // Exactly the free space fits.
    volume.writeFile("/fill.bin", new Uint8Array(free * volume.layout.clusterSize).fill(7));
    expect(volume.freeClusterCount).toBe(0);
    writeFileSync(path, bytes);
    expect(fsckClean(path).status).toBe(0);
  });
});

describe("FAT names and semantics", () => {
  it("generates short names with ~n tails only when needed", () => {
    const taken = new Set<string>();
    const plan = (name: string): [string, boolean] => {
      const { shortName, needsLongName } = planShortName(name, taken);
      taken.add(shortNameKey(shortName));
      return [String.fromCharCode(...shortName), needsLongName];
    };
    expect(plan("Windows")).toEqual(["WINDOWS    ", true]);
    expect(plan("System32")).toEqual(["SYSTEM32   ", true]);
    expect(plan("smss.exe")).toEqual(["SMSS    EXE", true]);
    expect(plan("SYSTEM")).toEqual(["SYSTEM     ", false]);
    expect(plan("ntoskrnl.exe.bak")).toEqual(["NTOSKR~1BAK", true]);
    expect(plan("ntoskrnl.exe.bak2")).toEqual(["NTOSKR~2BAK", true]);
    expect(plan("ntoskrnlexe.bak")).toEqual(["NTOSKR~3BAK", true]);
    expect(plan(".bashrc")).toEqual(["BASHRC~1   ", true]);
    expect(plan("a+b.c")).toEqual(["A_B~1   C  ", true]);
  });

  it("rejects names FAT cannot store, with a typed error", () => {
    const volume = FatVolume.open(mkfs(16, 16384).bytes);
    for (const name of ["/a:b", "/trailing.", "/trailing ", "/" + "x".repeat(256), "/ctl\u0001", "/a/../b"]) {
      expect(errorOf(() => volume.writeFile(name, new Uint8Array(1))).code, name).toBe("invalid-name");
    }
    expect(errorOf(() => volume.writeFile("/", new Uint8Array(1))).code).toBe("bad-argument");
    expect(volume.freeClusterCount).toBe(FatVolume.open(mkfs(16, 16384).bytes).freeClusterCount);
  });

  it("keeps read-only files, refuses non-empty directories and wrong kinds", () => {
    const { path } = mkfs(16, 16384);
    const source = join(work, "ro.bin");
    writeFileSync(source, "locked");
    mtools("mcopy", ["-i", path, source, "::/locked.sys"]);
    mtools("mattrib", ["-i", path, "+r", "+s", "+h", "::/locked.sys"]);
    const volume = FatVolume.open(new Uint8Array(readFileSync(path)));
    expect(errorOf(() => volume.writeFile("/LOCKED.SYS", new Uint8Array(1))).code).toBe("read-only");
    expect(errorOf(() => volume.delete("/locked.sys")).code).toBe("read-only");
    expect(new TextDecoder().decode(volume.readFile("/locked.sys"))).toBe("locked");
    volume.mkdir("/dir/sub");
    expect(errorOf(() => volume.delete("/dir")).code).toBe("directory-not-empty");
    expect(errorOf(() => volume.readFile("/dir")).code).toBe("is-a-directory");
    expect(errorOf(() => volume.writeFile("/dir", new Uint8Array(1))).code).toBe("is-a-directory");
    expect(errorOf(() => volume.writeFile("/locked.sys/x", new Uint8Array(1))).code).toBe("not-a-directory");
    expect(errorOf(() => volume.mkdir("/locked.sys")).code).toBe("not-a-directory");
    expect(errorOf(() => volume.readFile("/nothing/here")).code).toBe("not-found");
    expect(errorOf(() => volume.delete("/nothing")).code).toBe("not-found");
  });

  it("says when the fixed root directory is full", () => {
    const { bytes } = mkfs(16, 16384, ["-r", "16"]);
    const volume = FatVolume.open(bytes);
    // mkfs.fat rounds the root directory up to whole clusters.
    const entries = volume.layout.rootDirectoryEntries;
    expect(entries).toBeLessThan(512);
    for (let i = 0; i < entries; i++) volume.writeFile(`/F${i}`, new Uint8Array(1));
    const error = errorOf(() => volume.writeFile("/ONE.MOR", new Uint8Array(1)));
    expect(error.code).toBe("directory-full");
    expect(volume.stat("/ONE.MOR")).toBeUndefined();
  });

  it("tolerates the dirty bit a mounted Linux volume leaves", () => {
    const { bytes } = mkfs(16, 16384);
    FatVolume.open(bytes).writeFile("/guest.txt", pattern(10, 1));
    bytes[37] |= 0x01;
    const volume = FatVolume.open(bytes);
    expect(volume.dirty).toBe(true);
    expect(volume.readFile("/guest.txt")).toEqual(pattern(10, 1));
  });
});

describe("corrupt and truncated volumes", () => {
  const base = (): Uint8Array => {
    const { bytes } = mkfs(16, 16384);
    FatVolume.open(bytes).writeFile("/FILE.BIN", pattern(10_000, 1));
    return bytes;
  };
  const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  it("names the offset and the reason in a typed error", () => {
    const cases: [string, (bytes: Uint8Array) => Uint8Array, string, number, RegExp][] = [
      ["too short for a boot sector", (b) => b.subarray(0, 100), "truncated", 100, /too short/],
      ["truncated image", (b) => b.subarray(0, 1_000_000), "truncated", 1_000_000, /16777216 bytes/],
      ["wrong signature", (b) => (view(b).setUint16(510, 0x1234, true), b), "bad-boot-sector", 510, /0x1234/],
      ["bytes per sector 0", (b) => (view(b).setUint16(11, 0, true), b), "bad-boot-sector", 11, /BytesPerSector is 0/],
      ["sectors per cluster 3", (b) => ((b[13] = 3), b), "bad-boot-sector", 13, /SectorsPerCluster is 3/],
      ["no FATs", (b) => ((b[16] = 0), b), "bad-boot-sector", 16, /NumFATs is 0/],
      ["FAT too small", (b) => (view(b).setUint16(22, 1, true), b), "bad-boot-sector", 22, /too few/],
    ];
    for (const [what, corrupt, code, offset, message] of cases) {
      const error = errorOf(() => FatVolume.open(corrupt(base())));
      expect([error.code, error.offset], what).toEqual([code, offset]);
      expect(error.message, what).toMatch(message);
    }
  });

  it("detects a looped chain instead of hanging", () => {
    const bytes = base();
    const volume = FatVolume.open(bytes);
    const first = volume.stat("/file.bin")!.firstCluster;
    const fatEntry = volume.layout.fatOffset + (first + 1) * 2;
    const link = view(bytes).getUint16(fatEntry, true);
    view(bytes).setUint16(fatEntry, first, true); // second cluster links back to the first
    const looped = FatVolume.open(bytes);
    expect(looped.readFile("/file.bin").length).toBe(10_000); // the needed clusters are all there
    const error = errorOf(() => looped.delete("/file.bin"));
    expect(error.code).toBe("bad-chain");
    expect(error.message).toMatch(/loops/);
    view(bytes).setUint16(fatEntry, link, true);
    expect(FatVolume.open(bytes).readFile("/file.bin")).toEqual(pattern(10_000, 1));
  });

  it("detects links to free and out-of-range clusters and short chains", () => {
    const bytes = base();
    const volume = FatVolume.open(bytes);
    const entry = volume.stat("/file.bin")!;
    const fatEntry = volume.layout.fatOffset + entry.firstCluster * 2;
    view(bytes).setUint16(fatEntry, 0, true);
    let error = errorOf(() => FatVolume.open(bytes).readFile("/file.bin"));
    expect([error.code, error.offset]).toEqual(["bad-chain", fatEntry]);
    expect(error.message).toMatch(/free cluster/);
    view(bytes).setUint16(fatEntry, 0xfff0, true);
    error = errorOf(() => FatVolume.open(bytes).readFile("/file.bin"));
    expect(error.message).toMatch(/out of range/);
    view(bytes).setUint16(fatEntry, 0xffff, true);
    error = errorOf(() => FatVolume.open(bytes).readFile("/file.bin"));
    expect(error.message).toMatch(/ends after 1/);

    const rootEntry = volume.layout.rootDirectoryOffset;
    view(bytes).setUint16(rootEntry + 26, 0xfff0, true);
    error = errorOf(() => FatVolume.open(bytes).readFile("/file.bin"));
    expect([error.code, error.offset]).toEqual(["bad-chain", rootEntry]);
    view(bytes).setUint32(rootEntry + 28, 0xffffffff, true);
    error = errorOf(() => FatVolume.open(bytes).readFile("/file.bin"));
    expect([error.code, error.offset]).toEqual(["bad-directory", rootEntry + 28]);
  });
});

describe("randomly damaged volumes", () => {
  /** Reads everything reachable; any failure must be a FatError. */
  function readAll(volume: FatVolume, path: string, depth: number): void {
    for (const entry of volume.list(path)) {
      const child = `${path === "/" ? "" : path}/${entry.name}`;
      if (!entry.isDirectory) volume.readFile(child);
      else if (depth < 8) readAll(volume, child, depth + 1);
    }
  }

  it.each([12, 16, 32] as const)("FAT%i: only typed errors, never a hang or a raw exception", (type) => {
    const { bytes: pristine } = mkfs(type, type === 32 ? 40000 : type === 16 ? 16384 : 2048);
    const volume = FatVolume.open(pristine);
    volume.mkdir("/Windows/System32/config");
    for (let i = 0; i < 40; i++) volume.writeFile(`/Windows/System32/file ${i}.bin`, pattern(i * 700, i));
    volume.writeFile("/Windows/System32/config/SYSTEM", pattern(20_000, 99));
    // Damage the boot sector, the FAT, the root directory and the start of the data area.
    const { fatOffset, dataOffset } = volume.layout;
    const hot = dataOffset + 64 * volume.layout.clusterSize;
    let seed = 12345;
    const random = (limit: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % limit;
    };
    let typedErrors = 0;
    const bytes = new Uint8Array(pristine.length);
    for (let round = 0; round < 150; round++) {
      bytes.set(pristine);
      for (let flip = 0; flip < 1 + random(8); flip++) {
        const region = random(4);
        const offset = region === 0 ? random(90) : region === 1 ? fatOffset + random(512) : random(hot);
        bytes[offset] = random(256);
      }
      try {
        const damaged = FatVolume.open(bytes);
        readAll(damaged, "/", 0);
        damaged.writeFile("/Windows/System32/new file.txt", pattern(5000, round));
        damaged.delete("/Windows/System32/config/SYSTEM");
      } catch (error) {
        if (!(error instanceof FatError)) throw error;
        typedErrors++;
      }
    }
    expect(typedErrors).toBeGreaterThan(0);
  });
});
