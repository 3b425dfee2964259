// Node-side loading: firmware, v86's wasm and disk images from files, with errors that name the file.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DiskImageError, KERNEL_FILE, locateKernel, openVolume, readBootMap } from "./disk/image.ts";
import { FileError, GiB, readRegularFileSync, type ReadOptions } from "./files.ts";
import { FatError } from "../src/fat/fat.ts";
import type { Firmware } from "./machine.ts";

export { DiskImageError };

/** The checkout this code runs from, found upwards from this module (it also runs bundled, from build/). */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
export const PREBUILT = join(REPO_ROOT, "images", "prebuilt");

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === "smss86") return dir;
    } catch {
      // No package.json here, or not ours: keep climbing.
    }
    if (dirname(dir) === dir) throw new Error(`smss86: no smss86 checkout above ${start}`);
  }
}

let compiledWasm: { path: string; module: Promise<WebAssembly.Module> } | undefined;

export function loadFirmware(): Firmware {
  const require = createRequire(import.meta.url);
  const wasmPath = join(dirname(require.resolve("v86")), "v86.wasm");
  if (compiledWasm?.path !== wasmPath) compiledWasm = { path: wasmPath, module: WebAssembly.compile(readFileSync(wasmPath)) };
  return {
    bios: readFileSync(join(PREBUILT, "seabios.bin")),
    vgaBios: readFileSync(join(PREBUILT, "vgabios.bin")),
    wasmPath,
    wasmModule: compiledWasm.module,
  };
}

/** Files the boot path needs on the C: volume besides the kernel the boot map points at. */
const BOOT_FILES = ["/Windows/System32/smss.exe"];

/** v86 holds the whole disk in memory; 2 GiB is the most this host accepts (the default disk is 64 MiB). */
export const DISK_IMAGE_FILE: ReadOptions = { what: "disk image", limit: 2 * GiB };

/**
 * Reads a raw disk image into a buffer of its own (v86 writes into it) after checking that it can boot:
 * a regular file of whole sectors within DISK_IMAGE_FILE's limit, an MBR with one active partition, a
 * readable FAT volume holding the boot files.
 */
export function loadDiskImage(file: string): Uint8Array {
  let disk: Uint8Array;
  try {
    disk = readRegularFileSync(file, DISK_IMAGE_FILE);
  } catch (err) {
    if (err instanceof FileError) throw new DiskImageError(err.message);
    throw err;
  }
  const size = disk.length;
  if (size < 512 || size % 512 !== 0) throw new DiskImageError(`${file}: size ${size} is not a whole number of 512-byte sectors`);
  checkBootable(disk, file);
  return disk;
}

export function checkBootable(disk: Uint8Array, file: string): void {
  let volume;
  try {
    volume = openVolume(disk);
  } catch (err) {
    if (err instanceof DiskImageError || err instanceof FatError) {
      throw new DiskImageError(`${file}: not bootable: ${err.message}`);
    }
    throw err;
  }
  for (const path of [KERNEL_FILE, ...BOOT_FILES]) {
    if (!volume.stat(path)) throw new DiskImageError(`${file}: not bootable: the C: volume has no ${path}`);
  }
  // The loader reads the kernel from the sectors its map names (as LILO does): a kernel file written again
  // since may lie elsewhere.
  let map;
  let kernel;
  try {
    map = readBootMap(disk);
    kernel = locateKernel(disk, KERNEL_FILE);
  } catch (err) {
    if (err instanceof DiskImageError) throw new DiskImageError(`${file}: not bootable: ${err.message}`);
    throw err;
  }
  if (map.kernelLba !== kernel.kernelLba || map.kernelSectors !== kernel.kernelSectors) {
    throw new DiskImageError(`${file}: not bootable: the boot map does not name where ${KERNEL_FILE} lies (the file was written again after the map)`);
  }
}
