// The default machine's disk, assembled from the sources: smss86's boot loader + kernel + smss.exe + win32k.sys + the
// SYSTEM and SOFTWARE hives built from images/hives/SYSTEM.reg and SOFTWARE.reg + the SAM hive from
// images/hives/accounts.json. Node only. Cached in build/ and rebuilt when any input changes.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { buildDiskImage, KERNEL_FILE } from "../emulator/disk/image.ts";
import { describeSystemError, FileError, FileLock, readOptional, replaceFile } from "../emulator/files.ts";
import { DISK_IMAGE_FILE, REPO_ROOT } from "../emulator/node.ts";
import { Hive } from "../src/hive/index.ts";
import { SHARED_RUNTIME_PATH } from "../src/programs/index.ts";
import { applyReg, parseReg } from "../src/regtext/index.ts";
import { buildGuestProgram } from "./guest.ts";
import { buildDefaultSamHive } from "./sam.ts";
import { loadBootParts } from "./loader/parts.ts";

export const DEFAULT_DISK = join(REPO_ROOT, "build", "disk.img");
export const SYSTEM_REG = join(REPO_ROOT, "images", "hives", "SYSTEM.reg");
export const SOFTWARE_REG = join(REPO_ROOT, "images", "hives", "SOFTWARE.reg");
/** Everything the disk is made from; a change to any file below these rebuilds it. */
const INPUT_ROOTS = ["src", "guest", "images", "emulator/disk"];
/**
 * Empty directories the guest needs: mount points (/NT: the object namespace), Temp as on Windows, and the
 * profiles of the accounts (uid = RID: Administrator 500, User 1000) with Public, as Windows Setup makes them.
 */
const DIRECTORIES = ["/dev", "/proc", "/sys", "/NT", "/Windows/Temp", "/Users/Administrator", "/Users/User", "/Users/Public"];
/**
 * The page file the default hive asks for (PagingFiles "?:\pagefile.sys 4 8"), made here as Windows
 * Setup makes it at installation: creating it on FAT in the guest means zero-filling every page through
 * the emulated CPU (1.8e7 instructions per MiB, measured), so smss finds it and only activates it.
 */
const PAGE_FILE_MIB = 4;
/**
 * The kernel's command line (the boot loader's map holds it; BOOT_IMAGE= comes first). console=ttyS0: COM1 is
 * the console. quiet: kernel messages cost emulated serial output (panics still print). tsc=reliable: v86's
 * TSC is steady; without it the kernel falls back to the slow PIT clock. libata.force=2.00:disable: skip
 * probing the CD-ROM on the secondary channel. C: (the first partition) is the root, read-only until
 * autochk has checked it; smss.exe is PID 1.
 */
export const KERNEL_COMMAND_LINE =
  "console=ttyS0 quiet tsc=reliable libata.force=2.00:disable root=/dev/sda1 rootfstype=vfat ro init=/Windows/System32/smss.exe";
/**
 * The guest programs (and csrss's server DLLs) in C:\Windows\System32, by entry module. smss.exe carries
 * the runtime (it runs before anything is set up); the others are bytecode for the shared runtime qjs.exe,
 * which smss registers with binfmt_misc (guest/smss/mounts.ts); a DLL is a compiled module csrss imports.
 */
const SYSTEM32_PROGRAMS: Record<string, { entry: string; runtime: "embedded" | "system" }> = {
  "smss.exe": { entry: "guest/smss/main.ts", runtime: "embedded" },
  "autochk.exe": { entry: "guest/system32/autochk.ts", runtime: "system" },
  "csrss.exe": { entry: "guest/system32/csrss.ts", runtime: "system" },
  "basesrv.dll": { entry: "guest/system32/basesrv.ts", runtime: "system" },
  "winsrv.dll": { entry: "guest/system32/winsrv.ts", runtime: "system" },
  "psxss.exe": { entry: "guest/system32/psxss.ts", runtime: "system" },
  "wininit.exe": { entry: "guest/system32/wininit.ts", runtime: "system" },
  "services.exe": { entry: "guest/system32/services.ts", runtime: "system" },
  "lsass.exe": { entry: "guest/system32/lsass.ts", runtime: "system" },
  "winlogon.exe": { entry: "guest/system32/winlogon.ts", runtime: "system" },
  "userenv.dll": { entry: "guest/system32/userenv.ts", runtime: "system" },
  "userinit.exe": { entry: "guest/system32/userinit.ts", runtime: "system" },
  "cmd.exe": { entry: "guest/system32/cmd.ts", runtime: "system" },
};
/** A fixed time on every file, so the same sources give the same image. */
const IMAGE_TIME = new Date(Date.UTC(2026, 0, 1));

export interface DiskBuildOptions {
  out?: string;
  log?: (line: string) => void;
}

/**
 * Returns the path of an up-to-date default disk image, building it if needed: when it is missing, when
 * the sources changed since it was built, or when the image itself no longer is what was built (written
 * over, truncated). Builds of the same output wait for each other.
 */
export async function ensureDefaultDisk(options: DiskBuildOptions = {}): Promise<string> {
  const out = options.out ?? DEFAULT_DISK;
  // The default output lives in build/, which a fresh checkout lacks; a given one must have its directory.
  if (options.out === undefined) {
    try {
      mkdirSync(dirname(out), { recursive: true });
    } catch (error) {
      throw new FileError(dirname(out), `cannot make the build directory: ${describeSystemError(error)}`);
    }
  }
  const stampFile = `${out}.inputs`;
  const inputsHash = hashInputs();
  const checked = `${inputsHash} ${fileIdentity(out)} ${fileIdentity(stampFile)}`;
  // Hashing the image costs a quarter second: an image already checked in this process, and unchanged on
  // disk since (same inode, size and times), is not hashed again.
  if (verifiedImages.get(out) === checked) return out;
  // Checked before locking too: an up-to-date image in a place this user cannot write still boots.
  if ((await staleness(out, stampFile, inputsHash)) === undefined) {
    verifiedImages.set(out, checked);
    return out;
  }
  const lock = await FileLock.acquire(out, "disk image");
  try {
    // Another build may have finished while this one waited for the lock.
    const stale = await staleness(out, stampFile, inputsHash);
    if (stale === undefined) return out;
    if (stale !== "") options.log?.(`${out} ${stale}; building it again`);
    const started = performance.now();
    const disk = await buildDefaultDisk();
    await lock.replace(disk, "disk image");
    const record: DiskStamp = { inputs: inputsHash, image: sha256(disk) };
    await replaceFile(stampFile, "build stamp", () => new TextEncoder().encode(JSON.stringify(record) + "\n"));
    options.log?.(`built ${out} (${disk.length >> 20} MiB) in ${Math.round(performance.now() - started)} ms`);
    return out;
  } finally {
    lock.release();
  }
}

/** Images found up to date in this process: output path → sources' hash and the files' identities then. */
const verifiedImages = new Map<string, string>();

/** What changes when a file is replaced or written to: inode, size, modification and change times. */
export function fileIdentity(path: string): string {
  try {
    const { dev, ino, size, mtimeMs, ctimeMs } = statSync(path);
    return `${dev}:${ino}:${size}:${mtimeMs}:${ctimeMs}`;
  } catch {
    return "absent";
  }
}

/**
 * Why the image must be built: "" when it never was from these sources, a reason when it was but has been
 * changed since, undefined when it is up to date.
 */
async function staleness(out: string, stampFile: string, inputsHash: string): Promise<string | undefined> {
  const stamp = await readStamp(stampFile);
  if (stamp?.inputs !== inputsHash) return "";
  const image = await readOptional(out, DISK_IMAGE_FILE);
  if (image === undefined) return "is missing";
  return sha256(image) === stamp.image ? undefined : "was changed since it was built";
}

/** What an image was built from and what it was: the sources' hash and the image's own. */
interface DiskStamp {
  inputs: string;
  image: string;
}

async function readStamp(file: string): Promise<DiskStamp | undefined> {
  const bytes = await readOptional(file, { what: "build stamp", limit: 4096 });
  if (bytes === undefined) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<DiskStamp>;
    return typeof parsed.inputs === "string" && typeof parsed.image === "string" ? { inputs: parsed.inputs, image: parsed.image } : undefined;
  } catch {
    // A stamp of an older layout, or damaged: the image is built again.
    return undefined;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function buildDefaultDisk(): Promise<Uint8Array> {
  const [{ template, loader }, sam, ...programs] = await Promise.all([
    loadBootParts(),
    buildDefaultSamHive(),
    ...Object.values(SYSTEM32_PROGRAMS).map(({ entry, runtime }) => buildGuestProgram(join(REPO_ROOT, entry), undefined, { runtime })),
  ]);
  const system32 = Object.fromEntries(Object.keys(SYSTEM32_PROGRAMS).map((name, index) => [`/Windows/System32/${name}`, programs[index]]));
  return buildDiskImage({
    template,
    loader,
    files: {
      // First, so that it lies in one piece, as the loader needs.
      [KERNEL_FILE]: readFileSync(join(REPO_ROOT, "images", "prebuilt", "bzImage")),
      ...system32,
      [SHARED_RUNTIME_PATH]: readFileSync(join(REPO_ROOT, "images", "prebuilt", "qjs-runtime")),
      // The Win32 subsystem's kernel part, a Linux module (guest/kernel/win32k/), where Windows keeps it.
      "/Windows/System32/win32k.sys": readFileSync(join(REPO_ROOT, "images", "prebuilt", "win32k.sys")),
      "/pagefile.sys": new Uint8Array(PAGE_FILE_MIB * 1024 * 1024),
      "/Windows/System32/config/SYSTEM": buildHive(readFileSync(SYSTEM_REG), SYSTEM_REG),
      "/Windows/System32/config/SOFTWARE": buildHive(readFileSync(SOFTWARE_REG), SOFTWARE_REG),
      "/Windows/System32/config/SAM": sam,
    },
    directories: DIRECTORIES,
    timestamp: IMAGE_TIME,
    boot: { kernel: KERNEL_FILE, commandLine: KERNEL_COMMAND_LINE },
  });
}

/** A hive holding what a whole-hive .reg text says (its first key's first two names stand for the root). */
export function buildHive(regText: Uint8Array, fileName: string): Uint8Array {
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
