// Phase "paging-files": Memory Management\PagingFiles as the reference describes it (src/config/pagingfiles):
// at most 16 entries; ?: tries each volume from C: on; system-managed sizes from RAM; a size larger than
// the volume can hold is cut to its free space less a reserve, then retried 16 MiB smaller down to the
// 16 MiB floor; nothing created → the emergency ?:\pagefile.sys; a value that is only the list terminator
// → no page file. Each file is created at its size, given a swap header and activated as swap in the
// kernel (/proc/swaps lists it). ExistingPageFiles is written back with what was activated.
// Never fatal: every problem is logged.
// Deviation: the reserve kept free is 5% of the volume (at least 1 MiB), not 64-256 MB as in ReactOS: this
// machine's disks are 64 MiB.
import * as sys from "sys";
import { MAX_PAGING_FILES, MIN_PAGING_FILE_MIB, SMALLEST_PAGING_FILE_MIB, PagingFileError, parsePagingFileEntry, systemManagedSizes, type PagingFileSpec } from "../../src/config/pagingfiles.ts";
import { multiStringValue, splitMultiString, type SessionManagerKey } from "../../src/config/values.ts";
import type { PagingFilesData } from "../../src/events/index.ts";
import { decodeLatin1, encodeMultiString, REG_MULTI_SZ } from "../../src/hive/index.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import type { Volume } from "./namespace.ts";

const MIB = 1024 * 1024;
const PAGE = 4096;
const SWAP_SIGNATURE = "SWAPSPACE2";

type FileReport = PagingFilesData["files"][number];

/** Linux's swap header in the file's first page: version 1, the last usable page, the signature at its end. */
function swapHeader(bytes: number): Uint8Array {
  const header = new Uint8Array(PAGE);
  const view = new DataView(header.buffer);
  view.setUint32(1024, 1, true);
  view.setUint32(1028, bytes / PAGE - 1, true);
  for (let i = 0; i < SWAP_SIGNATURE.length; i++) header[PAGE - SWAP_SIGNATURE.length + i] = SWAP_SIGNATURE.charCodeAt(i);
  return header;
}

function freeMiB(guestDirectory: string): { free: number; reserve: number } {
  const fs = sys.statfs(guestDirectory);
  const total = (fs.blocks * fs.blockSize) / MIB;
  return { free: (fs.availableBlocks * fs.blockSize) / MIB, reserve: Math.max(1, total * 0.05) };
}

function existingSizeMiB(guestPath: string): number {
  try {
    return sys.stat(guestPath).size / MIB;
  } catch {
    return 0;
  }
}

/** Creates (or reuses, at the same size) and activates one page file; throws a SysError when it cannot. */
function createPagingFile(guestPath: string, sizeMiB: number): void {
  const bytes = sizeMiB * MIB;
  const fd = sys.open(guestPath, sys.O_RDWR | sys.O_CREAT, 0o600);
  try {
    if (sys.fstat(fd).size !== bytes) sys.ftruncate(fd, bytes);
    sys.lseek(fd, 0, sys.SEEK_SET);
    sys.write(fd, swapHeader(bytes));
    sys.fsync(fd);
  } finally {
    sys.close(fd);
  }
  sys.swapon(guestPath);
}

function place(spec: PagingFileSpec, letter: string, ramBytes: number, problems: string[]): FileReport | undefined {
  const ntPath = `\\??\\${letter}${spec.path.slice(2)}`;
  let guestPath: string;
  try {
    guestPath = ntObjectPath(ntPath);
  } catch (error) {
    problems.push(`${spec.path}: ${(error as Error).message}`);
    return undefined;
  }
  const sized = spec.minMiB === undefined ? systemManagedSizes(ramBytes) : { minMiB: spec.minMiB, maxMiB: spec.maxMiB! };
  const directory = guestPath.slice(0, guestPath.lastIndexOf("/")) || "/";
  const existing = existingSizeMiB(guestPath);
  // Only a file that must grow (or be made) asks the volume for its free space: on FAT16 the kernel answers
  // that by reading the whole FAT, which would cost more than the rest of this phase.
  let available = Infinity;
  if (existing < sized.minMiB) {
    try {
      const { free, reserve } = freeMiB(directory);
      available = Math.floor(free + existing - reserve);
    } catch (error) {
      problems.push(`${ntPath}: ${(error as Error).message}`);
      return undefined;
    }
  }
  // A size asked for is tried as asked (from 1 MiB); a size cut down to the free space, and every retry,
  // must stay at or above the 16 MiB floor.
  const capped = available < sized.minMiB;
  let size = Math.min(sized.minMiB, available);
  if (capped) problems.push(`${ntPath}: ${sized.minMiB} MiB do not fit (${available} MiB usable); trying ${size} MiB`);
  const floor = capped ? MIN_PAGING_FILE_MIB : SMALLEST_PAGING_FILE_MIB;
  for (; size >= floor; size -= 16) {
    try {
      createPagingFile(guestPath, size);
      return { path: ntPath, guestPath, minMiB: sized.minMiB, maxMiB: sized.maxMiB, sizeMiB: size, created: true, active: true };
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      problems.push(`${ntPath} at ${size} MiB: ${error.syscall}: ${error.code}`);
      try {
        sys.unlink(guestPath);
      } catch {
        // Nothing was created.
      }
    }
    if (size - 16 < MIN_PAGING_FILE_MIB) break;
  }
  problems.push(`${ntPath}: not created (${capped ? `less than the ${MIN_PAGING_FILE_MIB} MiB floor is usable` : "every size tried failed"})`);
  return undefined;
}

export function createPagingFiles(sessionManager: SessionManagerKey, volumes: Volume[]): PagingFilesData {
  const key = sessionManager.key.subkey("Memory Management");
  const displayPath = `${sessionManager.displayPath}\\Memory Management`;
  const value = key?.value("PagingFiles");
  const problems: string[] = [];
  let entries: string[];
  try {
    entries = value === undefined ? ["?:\\pagefile.sys"] : multiStringValue(value, displayPath);
  } catch (error) {
    problems.push((error as Error).message);
    entries = ["?:\\pagefile.sys"];
  }
  const ramBytes = sys.sysinfo().totalRam;
  const files: FileReport[] = [];
  const letters = volumes.map((volume) => volume.letter);
  let anyDriveSeen = false;
  if (entries.length > MAX_PAGING_FILES) {
    problems.push(`${entries.length} entries: only the first ${MAX_PAGING_FILES} are used`);
    entries = entries.slice(0, MAX_PAGING_FILES);
  }
  for (const entry of entries) {
    let spec: PagingFileSpec;
    try {
      spec = parsePagingFileEntry(entry);
    } catch (error) {
      if (!(error instanceof PagingFileError)) throw error;
      problems.push(error.message);
      continue;
    }
    if (spec.anyDrive && anyDriveSeen) {
      problems.push(`${spec.path}: a second "any drive" entry is a duplicate; skipped`);
      continue;
    }
    anyDriveSeen ||= spec.anyDrive;
    const candidates = spec.anyDrive ? letters : [spec.path.slice(0, 2).toUpperCase()];
    for (const letter of candidates) {
      if (!letters.includes(letter)) {
        problems.push(`${spec.path}: no volume ${letter}`);
        continue;
      }
      if (files.some((file) => file.path.toUpperCase() === `\\??\\${letter}${spec.path.slice(2)}`.toUpperCase())) {
        problems.push(`${spec.path}: already created`);
        break;
      }
      const file = place(spec, letter, ramBytes, problems);
      if (file) {
        files.push(file);
        break;
      }
    }
  }
  if (files.length === 0 && entries.length > 0) {
    problems.push("no page file could be created: trying the emergency ?:\\pagefile.sys");
    for (const letter of letters) {
      const file = place({ path: "?:\\pagefile.sys", anyDrive: true }, letter, ramBytes, problems);
      if (file) {
        files.push(file);
        break;
      }
    }
  }
  const existingPageFiles = files.map((file) => file.path);
  const stored = key?.value("ExistingPageFiles");
  const unchanged = stored?.type === REG_MULTI_SZ && splitMultiString(stored.data).join("\0") === existingPageFiles.join("\0");
  if (key !== undefined && !unchanged) key.setValue("ExistingPageFiles", REG_MULTI_SZ, encodeMultiString(existingPageFiles));
  return { files, problems, existingPageFiles, swaps: decodeLatin1(sys.readFile("/proc/swaps")) };
}
