// Memory Management\PagingFiles: "<path> [<min MB> [<max MB>]]" per string, as smss reads it.

export const MAX_PAGING_FILES = 16;
const MIB = 1024 * 1024;
/** The floor a page file cut down to the free space, or shrunk by retries, must stay at. */
export const MIN_PAGING_FILE_MIB = 16;
/** The smallest page file created when one is asked for explicitly (ReactOS's minimum is 256 pages). */
export const SMALLEST_PAGING_FILE_MIB = 1;

export interface PagingFileSpec {
  /** As written: C:\pagefile.sys, or ?:\pagefile.sys for "any drive". */
  path: string;
  anyDrive: boolean;
  /** Both undefined: system-managed (no numbers, or both zero). In MiB. */
  minMiB?: number;
  maxMiB?: number;
}

export class PagingFileError extends Error {
  constructor(
    readonly entry: string,
    why: string,
  ) {
    super(`paging file entry ${JSON.stringify(entry.slice(0, 200))}: ${why}`);
    this.name = "PagingFileError";
  }
}

/** Numbers as RtlUnicodeStringToInteger with base 0 reads them: decimal, or 0x hex, 0o octal, 0b binary. */
function parseSize(token: string, entry: string): number {
  const match = /^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)$/i.exec(token);
  if (!match) throw new PagingFileError(entry, `size ${JSON.stringify(token)} is not a number`);
  const value = Number(token.toLowerCase());
  if (!Number.isSafeInteger(value) || value > 0xffffffff / MIB) throw new PagingFileError(entry, `size ${token} MB is beyond 4 GB`);
  return value;
}

export function parsePagingFileEntry(entry: string): PagingFileSpec {
  const tokens = entry.trim().split(/\s+/).filter((token) => token !== "");
  const path = tokens[0];
  if (path === undefined) throw new PagingFileError(entry, "names no file");
  if (tokens.length > 3) throw new PagingFileError(entry, "has more than a path and two sizes");
  if (!/^[A-Za-z?]:\\./.test(path)) throw new PagingFileError(entry, "the path must be a drive letter (or ?:) and a file, e.g. C:\\pagefile.sys");
  const min = tokens[1] === undefined ? 0 : parseSize(tokens[1], entry);
  let max = tokens[2] === undefined ? 0 : parseSize(tokens[2], entry);
  const anyDrive = path[0] === "?";
  if (min === 0 && max === 0) return { path, anyDrive };
  if (max < min) max = min;
  return { path, anyDrive, minMiB: min, maxMiB: max };
}

/**
 * System-managed sizes, as the reference gives them: min = RAM (1.5 x RAM under 1 GB), max = 3 x RAM, in
 * whole MiB.
 */
export function systemManagedSizes(ramBytes: number): { minMiB: number; maxMiB: number } {
  const ramMiB = Math.ceil(ramBytes / MIB);
  return { minMiB: ramMiB >= 1024 ? ramMiB : Math.ceil(ramMiB * 1.5), maxMiB: ramMiB * 3 };
}
