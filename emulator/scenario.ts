// Disks for scenarios: the default disk with another SYSTEM hive and extra files, made on the host in
// memory (no rebuild of the guest programs). Node-only: it starts from build/disk.img.
import { readFileSync } from "node:fs";
import { buildHive, ensureDefaultDisk, fileIdentity, SYSTEM_REG } from "../images/disk.ts";
import { Hive } from "../src/hive/index.ts";
import { applyReg, parseReg } from "../src/regtext/index.ts";
import { openVolume, readBootMap, refreshBootMap, setKernelCommandLine } from "./disk/image.ts";

export const SYSTEM_HIVE_ON_DISK = "/Windows/System32/config/SYSTEM";

export type HiveSource =
  /** .reg text: the whole hive (replace), or a fragment applied over the default hive (merge). */
  | { regText: string | Uint8Array; merge: boolean; fileName?: string }
  /** A regf file as is. */
  | { regf: Uint8Array; fileName?: string };

export interface DiskChanges {
  hive?: HiveSource;
  /** Volume paths ("/Temp/a.txt") to contents; parent directories are made. */
  files?: Record<string, Uint8Array | string>;
}

/** The SYSTEM hive bytes a source stands for; .reg errors name the file and line (RegParseError). */
export function hiveBytes(source: HiveSource): Uint8Array {
  const fileName = source.fileName ?? "hive";
  if ("regf" in source) {
    Hive.open(source.regf, { name: fileName });
    return source.regf;
  }
  const text = typeof source.regText === "string" ? new TextEncoder().encode(source.regText) : source.regText;
  if (!source.merge) return buildHive(text, fileName);
  const hive = Hive.create();
  applyReg(hive, parseReg(readFileSync(SYSTEM_REG), SYSTEM_REG));
  applyReg(hive, parseReg(text, fileName));
  return hive.toBytes();
}

/** The default disk's bytes, read once per process for as long as the file stays the same. */
let defaultDisk: { identity: string; bytes: Uint8Array } | undefined;

async function defaultDiskBytes(): Promise<Uint8Array> {
  const path = await ensureDefaultDisk();
  const identity = fileIdentity(path);
  if (defaultDisk?.identity !== identity) defaultDisk = { identity, bytes: readFileSync(path) };
  return defaultDisk.bytes;
}

/** A fresh copy of the default disk (built if needed) with the changes made. */
export async function prepareDisk(changes: DiskChanges = {}): Promise<Uint8Array> {
  const base = await defaultDiskBytes();
  const disk = new Uint8Array(new ArrayBuffer(base.length));
  disk.set(base);
  const volume = openVolume(disk);
  if (changes.hive) volume.writeFile(SYSTEM_HIVE_ON_DISK, hiveBytes(changes.hive));
  for (const [path, contents] of Object.entries(changes.files ?? {})) {
    const parent = path.slice(0, path.lastIndexOf("/"));
    if (parent !== "") volume.mkdir(parent);
    volume.writeFile(path, typeof contents === "string" ? new TextEncoder().encode(contents) : contents);
  }
  // A kernel among the files lies elsewhere now: the boot loader's map follows it.
  refreshBootMap(disk);
  return disk;
}

/** The disk (changed in place) with `word` added to the kernel command line in the boot loader's map. */
export function withKernelSwitch(disk: Uint8Array, word: string): Uint8Array {
  setKernelCommandLine(disk, `${readBootMap(disk).commandLine} ${word}`);
  return disk;
}
