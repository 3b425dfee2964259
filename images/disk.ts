// The default machine's disk, assembled from the sources: SYSLINUX + kernel + smss.exe + the SYSTEM hive
// built from images/hives/SYSTEM.reg. Node only. Cached in build/ and rebuilt when any input changes.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { buildDiskImage } from "../emulator/disk/image.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { Hive } from "../src/hive/index.ts";
import { applyReg, parseReg } from "../src/regtext/index.ts";
import { buildGuestProgram } from "./guest.ts";
import { loadSyslinuxTemplate } from "./syslinux/template.ts";

export const DEFAULT_DISK = join(REPO_ROOT, "build", "disk.img");
export const SYSTEM_REG = join(REPO_ROOT, "images", "hives", "SYSTEM.reg");
/** Everything the disk is made from; a change to any file below these rebuilds it. */
const INPUT_ROOTS = ["src", "guest", "images", "emulator/disk"];
/** Empty directories the guest needs: mount points (/NT: the object namespace), and Temp as on Windows. */
const DIRECTORIES = ["/dev", "/proc", "/sys", "/NT", "/Windows/Temp"];
/**
 * The page file the default hive asks for (PagingFiles "?:\pagefile.sys 16 32"), made here as Windows
 * Setup makes it at installation: creating 16 MiB on FAT in the guest means zero-filling every page through
 * the emulated CPU (1.8e7 instructions per MiB, measured), so smss finds it and only activates it.
 */
const PAGE_FILE_MIB = 16;
/** The guest programs in C:\Windows\System32, by entry module. */
const SYSTEM32_PROGRAMS: Record<string, string> = {
  "smss.exe": "guest/smss/main.ts",
  "autochk.exe": "guest/system32/autochk.ts",
};
/** A fixed time on every file, so the same sources give the same image. */
const IMAGE_TIME = new Date(Date.UTC(2026, 0, 1));

export interface DiskBuildOptions {
  out?: string;
  log?: (line: string) => void;
}

/** Returns the path of an up-to-date default disk image, building it if needed. */
export async function ensureDefaultDisk(options: DiskBuildOptions = {}): Promise<string> {
  const out = options.out ?? DEFAULT_DISK;
  const stampFile = out + ".inputs";
  const inputsHash = hashInputs();
  if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === inputsHash) return out;
  const started = performance.now();
  const disk = await buildDefaultDisk();
  mkdirSync(dirname(out), { recursive: true });
  // Unique temporary names: test workers and CLI runs may build the same disk at once.
  const partial = `${out}.${process.pid}.tmp`;
  writeFileSync(partial, disk);
  renameSync(partial, out);
  writeFileSync(`${stampFile}.${process.pid}.tmp`, inputsHash);
  renameSync(`${stampFile}.${process.pid}.tmp`, stampFile);
  options.log?.(`built ${relative(process.cwd(), out) || out} (${disk.length >> 20} MiB) in ${Math.round(performance.now() - started)} ms`);
  return out;
}

export async function buildDefaultDisk(): Promise<Uint8Array> {
  const [{ template, mbrCode }, ...programs] = await Promise.all([
    loadSyslinuxTemplate(),
    ...Object.values(SYSTEM32_PROGRAMS).map((entry) => buildGuestProgram(join(REPO_ROOT, entry))),
  ]);
  const system32 = Object.fromEntries(Object.keys(SYSTEM32_PROGRAMS).map((name, index) => [`/Windows/System32/${name}`, programs[index]]));
  return buildDiskImage({
    template,
    mbrCode,
    files: {
      "/syslinux.cfg": readFileSync(join(REPO_ROOT, "images", "syslinux.cfg")),
      "/boot/bzImage": readFileSync(join(REPO_ROOT, "images", "prebuilt", "bzImage")),
      ...system32,
      "/pagefile.sys": new Uint8Array(PAGE_FILE_MIB * 1024 * 1024),
      "/Windows/System32/config/SYSTEM": buildSystemHive(readFileSync(SYSTEM_REG), SYSTEM_REG),
    },
    directories: DIRECTORIES,
    timestamp: IMAGE_TIME,
  });
}

export function buildSystemHive(regText: Uint8Array, fileName: string): Uint8Array {
  const hive = Hive.create();
  applyReg(hive, parseReg(regText, fileName));
  return hive.toBytes();
}

function hashInputs(): string {
  const hash = createHash("sha256");
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
      return;
    }
    hash.update(relative(REPO_ROOT, path)).update("\0").update(readFileSync(path));
  };
  for (const root of INPUT_ROOTS) {
    const path = join(REPO_ROOT, root);
    if (existsSync(path)) visit(path);
  }
  return hash.digest("hex");
}
