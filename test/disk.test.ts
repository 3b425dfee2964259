// The boot disk builder: MBR with smss86's loader + its stage and boot map + the FAT16 template partition +
// files, checked with mtools and fsck.fat; the committed boot parts against their stamps; read-back of a disk
// through its partition table.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatError } from "../src/fat/fat.ts";
import {
  DISK_SIGNATURE,
  DiskImageError,
  PARTITION_START_LBA,
  MAX_KERNEL_COMMAND_LINE,
  buildDiskImage,
  openVolume,
  locateKernel,
  readBootMap,
  readPartition,
  readPartitionTable,
  refreshBootMap,
  setKernelCommandLine,
  writeBootMap,
} from "../emulator/disk/image.ts";
import { SparseImageError, decodeSparseImage, encodeSparseImage } from "../emulator/disk/sparse.ts";
import { type BootParts, loadBootParts } from "../images/loader/parts.ts";
import { pattern } from "./patterns.ts";

const work = mkdtempSync(join(tmpdir(), "smss86-disk-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const toolEnv = { ...process.env, MTOOLS_SKIP_CHECK: "1", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };
const MIB = 1024 * 1024;
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const notes = text("a file\n");
const files = new Map<string, Uint8Array>([
  ["/boot/bzImage", pattern(1_500_000, 1)],
  ["/notes.txt", notes],
  ["/Windows/System32/smss.exe", pattern(300_000, 2)],
  ["/Windows/System32/config/SYSTEM", pattern(262_144, 3)],
]);
const directories = ["/dev", "/proc", "/sys", "/tmp"];

const boot = { kernel: "/boot/bzImage", commandLine: "console=ttyS0 root=/dev/sda1" };

let parts: BootParts;
beforeAll(async () => {
  parts = await loadBootParts();
});

function fsck(partition: Uint8Array): { status: number | null; output: string } {
  const path = join(work, "partition.img");
  writeFileSync(path, partition);
  const result = spawnSync("fsck.fat", ["-n", "-v", path], { encoding: "utf8" });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("the committed boot parts", () => {
  for (const name of ["fat16.sparse", "smss86-loader.bin"]) {
    it(`${name} matches its stamp`, () => {
      const output = `images/prebuilt/${name}`;
      const stamp = JSON.parse(readFileSync(`${output}.stamp.json`, "utf8"));
      expect(Object.keys(stamp)).toEqual(["output", "sha256", "recipe", "inputs", "packages", "notes"]);
      expect(stamp.output).toBe(output);
      expect(stamp.sha256).toBe(sha256(readFileSync(output)));
      expect(existsSync(stamp.recipe)).toBe(true);
      expect(stamp.inputs[stamp.recipe]).toBeDefined();
      for (const [input, hash] of Object.entries(stamp.inputs)) {
        expect(sha256(readFileSync(input)), `${input} changed since ${name} was built: rerun ${stamp.recipe}`).toBe(hash);
      }
      expect(Object.keys(stamp.packages).length).toBeGreaterThan(0);
      for (const version of Object.values(stamp.packages)) expect(version).toMatch(/^\S+$/);
      expect(stamp.notes).toMatch(/^[^\n]+$/);
    });
  }
});

describe("buildDiskImage", () => {
  let disk: Uint8Array;
  beforeAll(() => {
    disk = buildDiskImage({ ...parts, files, directories, boot });
  });

  it("writes an MBR with the loader's code and one active FAT16 partition at LBA 2048, the loader's stage after it", () => {
    expect(disk.length).toBe(64 * MIB);
    expect(disk.subarray(0, 440)).toEqual(parts.loader.subarray(0, 440));
    expect(disk.subarray(512, parts.loader.length)).toEqual(parts.loader.subarray(512));
    const view = new DataView(disk.buffer, disk.byteOffset);
    expect(view.getUint32(440, true)).toBe(DISK_SIGNATURE);
    expect(view.getUint16(510, true)).toBe(0xaa55);
    expect(readPartitionTable(disk)).toEqual([
      { index: 1, active: true, type: 0x06, startLba: PARTITION_START_LBA, sectorCount: 64 * 2048 - PARTITION_START_LBA },
    ]);
    // The CHS fields follow v86's 16-head, 63-sector geometry.
    expect([...disk.subarray(447, 450)]).toEqual([0, 33, 2]);
    // sfdisk reads the same table.
    const path = join(work, "disk.img");
    writeFileSync(path, disk);
    const table = JSON.parse(execFileSync("sfdisk", ["--json", path], { encoding: "utf8" })).partitiontable;
    expect(table.partitions).toMatchObject([{ start: 2048, size: 129024, type: "6", bootable: true }]);
  });

  it("gives a volume that fsck.fat finds clean and mtools reads the same", () => {
    const partition = readPartition(disk);
    const result = fsck(partition);
    expect(result.output).toMatch(/16 bit entries/);
    expect(result.output).toMatch(/2048 hidden sectors/);
    expect(result.output).not.toMatch(/differ|wrong|invalid|bad|lost|dirty/i);
    expect(result.status).toBe(0);

    const path = join(work, "disk.img");
    writeFileSync(path, disk);
    const image = `${path}@@${PARTITION_START_LBA * 512}`;
    const listing = execFileSync("mdir", ["-i", image, "-a", "-b", "-/", "::/"], { env: toolEnv, encoding: "utf8" });
    expect(listing.trim().split("\n").sort()).toEqual(
      [
        "::/notes.txt",
        "::/boot/",
        "::/boot/bzImage",
        "::/Windows/",
        "::/Windows/System32/",
        "::/Windows/System32/smss.exe",
        "::/Windows/System32/config/",
        "::/Windows/System32/config/SYSTEM",
        "::/dev/",
        "::/proc/",
        "::/sys/",
        "::/tmp/",
      ].sort(),
    );
    for (const [name, data] of files) {
      const copy = execFileSync("mtype", ["-i", image, `::${name}`], { env: toolEnv, maxBuffer: 8 * MIB });
      expect(sha256(copy), name).toBe(sha256(data));
    }
    const volume = openVolume(disk);
    expect(volume.list("/dev")).toEqual([]);
    expect(volume.stat("/Windows/System32/smss.exe")).toMatchObject({
      name: "smss.exe",
      shortName: "SMSS.EXE",
      modified: new Date(Date.UTC(2000, 0, 1)),
    });
  });

  it("maps the kernel for the loader: its first sector and length on the disk, and the command line", () => {
    const map = readBootMap(disk);
    const volume = openVolume(disk);
    const [extent] = volume.extents("/boot/bzImage");
    expect(map).toEqual({
      kernelLba: PARTITION_START_LBA + extent.offset / 512,
      kernelSectors: Math.ceil(1_500_000 / 512),
      commandLine: "BOOT_IMAGE=/boot/bzImage console=ttyS0 root=/dev/sda1",
    });
    expect(disk.subarray(map.kernelLba * 512, map.kernelLba * 512 + 1_500_000)).toEqual(files.get("/boot/bzImage"));
    // The boot sector changes only in its sector count.
    const templatePartition = new Uint8Array(256 * MIB);
    for (const extent of parts.template.extents) templatePartition.set(extent.bytes, extent.offset);
    const bootSector = readPartition(disk).subarray(0, 512);
    const differing = [...bootSector].flatMap((byte, i) => (byte === templatePartition[i] ? [] : [i]));
    expect(differing.every((offset) => offset >= 32 && offset < 36)).toBe(true);
  });

  it("changes the command line alone, and refuses what the loader could not boot, naming why", () => {
    const copy = disk.slice();
    setKernelCommandLine(copy, `${readBootMap(copy).commandLine} quiet`);
    expect(readBootMap(copy)).toEqual({ ...readBootMap(disk), commandLine: "BOOT_IMAGE=/boot/bzImage console=ttyS0 root=/dev/sda1 quiet" });
    expect(() => setKernelCommandLine(copy, "x".repeat(MAX_KERNEL_COMMAND_LINE + 1))).toThrow(/the map holds 493/);
    expect(() => setKernelCommandLine(copy, "caf\u00e9")).toThrow(/printable ASCII/);
    expect(() => writeBootMap(copy, { kernel: "/boot/missing", commandLine: "" })).toThrow(/\/boot\/missing is not a file/);
    // A kernel in two pieces: another file's cluster sits between its halves.
    const volume = openVolume(copy);
    volume.writeFile("/a.bin", pattern(4096, 4));
    volume.writeFile("/b.bin", pattern(4096, 5));
    volume.delete("/a.bin");
    volume.writeFile("/split.bin", pattern(8192, 6));
    expect(volume.extents("/split.bin").length).toBe(2);
    expect(() => writeBootMap(copy, { kernel: "/split.bin", commandLine: "" })).toThrow(/lies in 2 pieces; the loader needs it in one/);
    const blank = buildDiskImage({ ...parts, files: {}, sizeMiB: 20 });
    expect(() => readBootMap(blank)).toThrow(/no boot map/);
  });

  it("moves the map with a kernel written again, keeping its command line; refuses a kernel in pieces; leaves other disks alone", () => {
    const copy = disk.slice();
    const volume = openVolume(copy);
    const kernel = volume.readFile("/boot/bzImage");
    volume.delete("/boot/bzImage");
    volume.writeFile("/boot/spacer", pattern(kernel.length + 4096, 7));
    volume.writeFile("/boot/bzImage", kernel);
    // The map still names the kernel's old place.
    expect(locateKernel(copy, "/boot/bzImage").kernelLba).not.toBe(readBootMap(copy).kernelLba);
    refreshBootMap(copy);
    expect(readBootMap(copy)).toEqual({ ...locateKernel(copy, "/boot/bzImage"), commandLine: readBootMap(disk).commandLine });
    expect(readBootMap(copy).kernelLba).not.toBe(readBootMap(disk).kernelLba);
    volume.delete("/boot/spacer");
    volume.writeFile("/boot/a", pattern(4096, 8));
    volume.writeFile("/boot/b", pattern(4096, 9));
    volume.delete("/boot/a");
    volume.delete("/boot/bzImage");
    volume.writeFile("/boot/bzImage", kernel);
    expect(() => refreshBootMap(copy)).toThrow(/lies in \d+ pieces; the loader needs it in one/);
    const unmapped = buildDiskImage({ ...parts, files, sizeMiB: 20 });
    const before = unmapped.slice();
    refreshBootMap(unmapped);
    expect(Buffer.compare(unmapped, before)).toBe(0);
    const kernelless = disk.slice();
    openVolume(kernelless).delete("/boot/bzImage");
    const map = readBootMap(kernelless);
    refreshBootMap(kernelless);
    expect(readBootMap(kernelless)).toEqual(map);
  });

  it("reproduces byte for byte", () => {
    expect(sha256(buildDiskImage({ ...parts, files, directories, boot }))).toBe(sha256(disk));
    const other = buildDiskImage({ ...parts, files, directories, boot, timestamp: new Date(Date.UTC(2024, 1, 29, 12)) });
    expect(sha256(other)).not.toBe(sha256(disk));
    expect(openVolume(other).stat("/boot/bzImage")?.modified).toEqual(new Date(Date.UTC(2024, 1, 29, 12)));
  });

  it("takes disk sizes the template's FAT16 allows, and says which when not", () => {
    for (const sizeMiB of [18, 257]) {
      const sized = buildDiskImage({ ...parts, files, directories, sizeMiB });
      expect(sized.length).toBe(sizeMiB * MIB);
      expect(fsck(readPartition(sized)).status).toBe(0);
      expect(openVolume(sized).readFile("/notes.txt")).toEqual(notes);
    }
    for (const sizeMiB of [17, 258]) {
      expect(() => buildDiskImage({ ...parts, files, sizeMiB })).toThrow(/disks of 18\.\.257 MiB/);
    }
    expect(() => buildDiskImage({ ...parts, files, sizeMiB: 64.5 })).toThrow(DiskImageError);
    expect(() => buildDiskImage({ ...parts, files: { "/a\u0000b": text("x") } })).toThrow(FatError);
    expect(() => buildDiskImage({ ...parts, loader: new Uint8Array(441), files })).toThrow(/the boot loader is 441 bytes; expected 3584/);
  });
});

describe("reading a disk back", () => {
  it("opens the active partition as a view, so writes land in the disk", () => {
    const disk = buildDiskImage({ ...parts, files: { "/notes.txt": notes }, sizeMiB: 20 });
    // The guest leaves the volume dirty while mounted; read-back must not mind.
    readPartition(disk)[37] |= 0x01;
    const volume = openVolume(disk);
    expect(volume.dirty).toBe(true);
    volume.writeFile("/written-by-host.txt", text("hello"));
    expect(openVolume(disk).readFile("/WRITTEN-BY-HOST.TXT")).toEqual(text("hello"));
  });

  it("rejects disks without a usable partition table, with a typed error", () => {
    const disk = buildDiskImage({ ...parts, files: {}, sizeMiB: 20 });
    const cases: [string, (d: Uint8Array) => Uint8Array, RegExp][] = [
      ["too short", (d) => d.subarray(0, 100), /too short for an MBR/],
      ["no signature", (d) => ((d[510] = 0), d), /MBR signature is 0xaa00/],
      ["no active partition", (d) => ((d[446] = 0), d), /marks 0 partitions active/],
      ["bad status", (d) => ((d[446] = 0x12), d), /status 0x12/],
      ["beyond the disk", (d) => d.subarray(0, 10 * MIB), /does not lie within the disk's 20480 sectors/],
    ];
    for (const [what, corrupt, message] of cases) {
      expect(() => readPartition(corrupt(disk.slice())), what).toThrow(DiskImageError);
      expect(() => readPartition(corrupt(disk.slice())), what).toThrow(message);
    }
  });
});

describe("sparse images", () => {
  it("round-trips and keeps only non-zero blocks", () => {
    const image = new Uint8Array(64 * 512);
    image.set(pattern(700, 1), 512 * 3 + 100);
    image[512 * 40] = 1;
    const encoded = encodeSparseImage(image);
    const decoded = decodeSparseImage(encoded);
    expect(decoded.size).toBe(image.length);
    expect(decoded.extents.map((extent) => [extent.offset, extent.bytes.length])).toEqual([
      [512 * 3, 1024],
      [512 * 40, 512],
    ]);
    const restored = new Uint8Array(decoded.size);
    for (const extent of decoded.extents) restored.set(extent.bytes, extent.offset);
    expect(restored).toEqual(image);
  });

  it("rejects malformed input with the offset", () => {
    const image = new Uint8Array(8 * 512);
    image[0] = 1;
    image[512 * 5] = 2;
    const encoded = encodeSparseImage(image);
    const corrupt = (change: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
      const bytes = encoded.slice();
      change(bytes, new DataView(bytes.buffer));
      return bytes;
    };
    const cases: [Uint8Array, RegExp][] = [
      [encoded.subarray(0, 10), /too short/],
      [corrupt((b) => (b[0] = 0x41)), /magic/],
      [corrupt((_, v) => v.setUint32(8, 1000, true)), /block size 1000/],
      [corrupt((_, v) => v.setUint32(16, 3, true)), /extent 2 of 3 starts past the end/],
      [corrupt((_, v) => v.setUint32(20 + 8 + 512, 0, true)), /out of order/],
      [corrupt((_, v) => v.setUint32(24, 9, true)), /outside the image's 8 blocks/],
      [encoded.subarray(0, encoded.length - 1), /the file ends first/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeSparseImage(bytes)).toThrow(SparseImageError);
      expect(() => decodeSparseImage(bytes)).toThrow(message);
    }
  });
});
