// Transaction logs: recovery of a dirty primary from old-format (DIRT) or new-format (HvLE) LOG1/LOG2 the
// way Windows 8.1+ does it, and the new-format entry our commits write.

import {
  BASE_BLOCK_SIZE,
  BaseOffset,
  FILE_TYPE_LOG_NEW,
  FILE_TYPE_LOG_OLD,
  FILE_TYPE_LOG_OLD_W2K,
  FILE_TYPE_PRIMARY,
  HBIN_ALIGN,
  LOG_BASE_BLOCK_SIZE,
  baseBlockChecksum,
  readBaseBlock,
  type BaseBlockInfo,
} from "./base-block.ts";
import { HiveError } from "./errors.ts";
import type { RecoveryInfo } from "./hive.ts";
import { marvin32 } from "./marvin32.ts";
import type { HiveFile } from "./storage.ts";

const HVLE = 0x454c7648; // "HvLE" as a little-endian u32
const DIRT = 0x54524944; // "DIRT"
const ENTRY_HEADER_SIZE = 40;
const SECTOR = 512;

export interface RecoveredImage {
  /** The recovered primary: a clean base block followed by the hive bins. */
  image: Uint8Array;
  info: RecoveryInfo;
  /** Ranges of the hive bins ([offset, length]) written from the logs. */
  touched: Array<[number, number]>;
}

interface LogFile {
  role: HiveFile;
  label: string;
  bytes: Uint8Array;
  base: BaseBlockInfo;
}

interface LogEntry {
  sequence: number;
  binsSize: number;
  flags: number;
  /** [bins offset, length, offset of the page data in the log]. */
  pages: Array<[number, number, number]>;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** The image being rebuilt: grows as entries declare larger hive bins. */
class Image {
  bytes: Uint8Array;
  binsSize: number;
  readonly touched: Array<[number, number]> = [];
  written = 0;

  constructor(primary: Uint8Array, binsSize: number) {
    this.binsSize = binsSize;
    // Bins beyond the primary's length are allocated only when log entries supply them.
    this.bytes = new Uint8Array(Math.max(primary.length, BASE_BLOCK_SIZE));
    this.bytes.set(primary);
  }

  resize(binsSize: number): void {
    const needed = BASE_BLOCK_SIZE + binsSize;
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, Math.min(this.bytes.length * 2, 0x80000000)));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.binsSize = binsSize;
  }

  write(binsOffset: number, source: Uint8Array, start: number, length: number): void {
    this.bytes.set(source.subarray(start, start + length), BASE_BLOCK_SIZE + binsOffset);
    this.touched.push([binsOffset, length]);
    this.written += length;
  }
}

/**
 * Recovers a dirty primary. Logs that do not verify are skipped; when no log can be applied the result is a
 * "bad-log" HiveError listing why each was refused.
 */
export function recoverImage(
  primary: Uint8Array,
  base: BaseBlockInfo,
  logs: { log1?: Uint8Array; log2?: Uint8Array },
  file: string,
): RecoveredImage {
  const refusals: string[] = [];
  const usable: LogFile[] = [];
  for (const [role, label, bytes] of [
    ["log1", "LOG1", logs.log1],
    ["log2", "LOG2", logs.log2],
  ] as const) {
    if (bytes === undefined) {
      refusals.push(`${label}: missing or empty`);
      continue;
    }
    let logBase: BaseBlockInfo;
    try {
      logBase = readBaseBlock(bytes, `${file}.${label}`);
    } catch (error) {
      if (!(error instanceof HiveError)) throw error;
      refusals.push(`${label}: ${error.reason}`);
      continue;
    }
    if (!logBase.checksumValid) {
      refusals.push(`${label}: base block checksum 0x${logBase.checksum.toString(16)} does not verify (computed 0x${baseBlockChecksum(bytes).toString(16)})`);
      continue;
    }
    if (logBase.fileType !== FILE_TYPE_LOG_NEW && logBase.fileType !== FILE_TYPE_LOG_OLD && logBase.fileType !== FILE_TYPE_LOG_OLD_W2K) {
      refusals.push(`${label}: file type ${logBase.fileType} is not a transaction log`);
      continue;
    }
    usable.push({ role, label, bytes, base: logBase });
  }
  const newFormat = usable.filter((log) => log.base.fileType === FILE_TYPE_LOG_NEW);
  const oldFormat = usable.filter((log) => log.base.fileType !== FILE_TYPE_LOG_NEW);
  const sizeLimit = primary.length + (logs.log1?.length ?? 0) + (logs.log2?.length ?? 0);
  const result =
    newFormat.length > 0
      ? recoverFromNewLogs(primary, base, newFormat, sizeLimit, refusals)
      : recoverFromOldLog(primary, base, oldFormat, refusals);
  if (result === undefined) {
    throw new HiveError("bad-log", `dirty hive cannot be recovered: ${refusals.join("; ")}`, file);
  }
  return result;
}

function readEntries(log: LogFile, sizeLimit: number, refusals: string[]): LogEntry[] {
  const bytes = log.bytes;
  const entries: LogEntry[] = [];
  let expected = log.base.primarySequence;
  let at = LOG_BASE_BLOCK_SIZE;
  const stop = (why: string): LogEntry[] => {
    if (entries.length === 0) refusals.push(`${log.label}: offset 0x${at.toString(16)}: ${why}`);
    return entries;
  };
  while (at + ENTRY_HEADER_SIZE <= bytes.length) {
    if (u32(bytes, at) !== HVLE) return stop("no further log entry");
    const size = u32(bytes, at + 4);
    if (size < ENTRY_HEADER_SIZE || size % SECTOR !== 0 || size > bytes.length - at) return stop(`log entry size ${size} is invalid`);
    const [hash1Lo, hash1Hi] = marvin32(bytes, at + ENTRY_HEADER_SIZE, at + size);
    if (hash1Lo !== u32(bytes, at + 24) || hash1Hi !== u32(bytes, at + 28)) return stop("log entry data hash does not verify");
    const [hash2Lo, hash2Hi] = marvin32(bytes, at, at + 32);
    if (hash2Lo !== u32(bytes, at + 32) || hash2Hi !== u32(bytes, at + 36)) return stop("log entry header hash does not verify");
    const sequence = u32(bytes, at + 12);
    if (sequence !== expected) return stop(`log entry has sequence number ${sequence}, expected ${expected}`);
    const binsSize = u32(bytes, at + 16);
    if (binsSize === 0 || binsSize % HBIN_ALIGN !== 0 || binsSize > sizeLimit) return stop(`log entry hive bins size 0x${binsSize.toString(16)} is invalid`);
    const count = u32(bytes, at + 20);
    if (count > (size - ENTRY_HEADER_SIZE) / 8) return stop(`log entry claims ${count} pages`);
    const pages: Array<[number, number, number]> = [];
    let source = at + ENTRY_HEADER_SIZE + count * 8;
    for (let i = 0; i < count; i++) {
      const offset = u32(bytes, at + ENTRY_HEADER_SIZE + i * 8);
      const length = u32(bytes, at + ENTRY_HEADER_SIZE + i * 8 + 4);
      if (offset % HBIN_ALIGN !== 0 || length === 0 || length % HBIN_ALIGN !== 0 || length > binsSize || offset > binsSize - length) {
        return stop(`log entry page ${i} (offset 0x${offset.toString(16)}, ${length} bytes) lies outside the hive bins`);
      }
      if (length > at + size - source) return stop(`log entry page ${i} runs past the entry`);
      pages.push([offset, length, source]);
      source += length;
    }
    entries.push({ sequence, binsSize, flags: u32(bytes, at + 8), pages });
    expected = (expected + 1) >>> 0;
    at += size;
  }
  if (entries.length === 0) refusals.push(`${log.label}: holds no log entries`);
  return entries;
}

function recoverFromNewLogs(
  primary: Uint8Array,
  base: BaseBlockInfo,
  logs: LogFile[],
  sizeLimit: number,
  refusals: string[],
): RecoveredImage | undefined {
  let candidates: LogFile[];
  if (base.checksumValid) {
    // Only logs whose entries continue from the primary's last completed write apply, earliest first.
    candidates = logs.filter((log) => {
      if (log.base.primarySequence >= base.secondarySequence) return true;
      refusals.push(`${log.label}: starts at sequence number ${log.base.primarySequence}, before the primary's ${base.secondarySequence}`);
      return false;
    });
    candidates.sort((a, b) => a.base.primarySequence - b.base.primarySequence);
  } else {
    // Without a trustworthy base block only the log with the latest entries is used, and supplies it.
    candidates = logs.slice().sort((a, b) => b.base.primarySequence - a.base.primarySequence).slice(0, 1);
  }
  const baseSource = base.checksumValid ? primary : candidates[0]?.bytes;
  if (baseSource === undefined) return undefined;
  const image = new Image(primary, base.checksumValid ? base.binsSize : candidates[0].base.binsSize);
  image.bytes.set(baseSource.subarray(0, LOG_BASE_BLOCK_SIZE), 0);
  let flags = new DataView(image.bytes.buffer).getUint32(BaseOffset.Flags, true);
  let last: number | undefined;
  let entryCount = 0;
  const applied: HiveFile[] = [];
  for (const log of candidates) {
    const entries = readEntries(log, sizeLimit, refusals);
    if (entries.length === 0) continue;
    if (last !== undefined && entries[0].sequence !== ((last + 1) >>> 0)) {
      refusals.push(`${log.label}: first entry has sequence number ${entries[0].sequence}, expected ${(last + 1) >>> 0}`);
      break;
    }
    for (const entry of entries) {
      image.resize(entry.binsSize);
      for (const [offset, length, source] of entry.pages) image.write(offset, log.bytes, source, length);
      flags = (flags & ~1) | (entry.flags & 1);
      last = entry.sequence;
      entryCount++;
    }
    applied.push(log.role);
  }
  if (last === undefined) return undefined;
  const sequence = (last + 1) >>> 0;
  const view = new DataView(image.bytes.buffer);
  view.setUint32(BaseOffset.Flags, flags >>> 0, true);
  return finish(image, sequence, {
    format: "HvLE",
    logs: applied,
    entries: entryCount,
    bytes: image.written,
    baseBlockFromLog: !base.checksumValid,
  });
}

function recoverFromOldLog(
  primary: Uint8Array,
  base: BaseBlockInfo,
  logs: LogFile[],
  refusals: string[],
): RecoveredImage | undefined {
  // A primary whose base block does not verify has no last-written time to match a log against: like
  // Windows, take the base block from the log that was written last (the only one, usually).
  const candidates = base.checksumValid
    ? logs
    : logs.slice().sort((a, b) => (b.base.lastWritten > a.base.lastWritten ? 1 : b.base.lastWritten < a.base.lastWritten ? -1 : 0));
  for (const log of candidates) {
    if (log.base.primarySequence !== log.base.secondarySequence) {
      refusals.push(`${log.label}: sequence numbers ${log.base.primarySequence}/${log.base.secondarySequence} differ (log write was interrupted)`);
      continue;
    }
    if (base.checksumValid && log.base.lastWritten !== base.lastWritten) {
      refusals.push(`${log.label}: last-written timestamp does not match the primary's`);
      continue;
    }
    const bytes = log.bytes;
    const binsSize = log.base.binsSize;
    if (binsSize === 0 || binsSize % HBIN_ALIGN !== 0 || binsSize > primary.length + bytes.length * 8) {
      refusals.push(`${log.label}: hive bins size 0x${binsSize.toString(16)} is invalid`);
      continue;
    }
    const bitmapBytes = binsSize / SECTOR / 8;
    if (bytes.length < LOG_BASE_BLOCK_SIZE + 4 + bitmapBytes || u32(bytes, LOG_BASE_BLOCK_SIZE) !== DIRT) {
      refusals.push(`${log.label}: offset 0x200: no "DIRT" dirty vector`);
      continue;
    }
    const bitmap = LOG_BASE_BLOCK_SIZE + 4;
    const pagesStart = Math.ceil((bitmap + bitmapBytes) / SECTOR) * SECTOR;
    let dirty = 0;
    for (let i = 0; i < bitmapBytes; i++) for (let b = bytes[bitmap + i]; b !== 0; b &= b - 1) dirty++;
    if (pagesStart + dirty * SECTOR > bytes.length) {
      refusals.push(`${log.label}: dirty vector marks ${dirty} pages but the log holds ${Math.max(0, Math.floor((bytes.length - pagesStart) / SECTOR))}`);
      continue;
    }
    const image = new Image(primary, binsSize);
    image.resize(binsSize);
    if (!base.checksumValid) image.bytes.set(bytes.subarray(0, LOG_BASE_BLOCK_SIZE), 0);
    let source = pagesStart;
    for (let page = 0; page < binsSize / SECTOR; page++) {
      if ((bytes[bitmap + (page >>> 3)] & (1 << (page & 7))) === 0) continue;
      image.write(page * SECTOR, bytes, source, SECTOR);
      source += SECTOR;
    }
    const sequence = base.checksumValid ? Math.max(base.primarySequence, log.base.primarySequence) : log.base.primarySequence;
    return finish(image, sequence, {
      format: "DIRT",
      logs: [log.role],
      entries: 1,
      bytes: image.written,
      baseBlockFromLog: !base.checksumValid,
    });
  }
  return undefined;
}

function finish(image: Image, sequence: number, info: RecoveryInfo): RecoveredImage {
  const bytes = image.bytes.slice(0, BASE_BLOCK_SIZE + image.binsSize);
  const view = new DataView(bytes.buffer);
  view.setUint32(BaseOffset.PrimarySequence, sequence, true);
  view.setUint32(BaseOffset.SecondarySequence, sequence, true);
  view.setUint32(BaseOffset.FileType, FILE_TYPE_PRIMARY, true);
  view.setUint32(BaseOffset.BinsSize, image.binsSize, true);
  view.setUint32(BaseOffset.Checksum, baseBlockChecksum(bytes), true);
  return { image: bytes, info, touched: image.touched };
}

/** One new-format log entry holding the given runs of the image's hive bins. */
export function buildLogEntry(
  image: Uint8Array,
  runs: Array<[number, number]>,
  sequence: number,
  binsSize: number,
  baseFlags: number,
): Uint8Array {
  const dataBytes = runs.reduce((sum, [, length]) => sum + length, 0);
  const size = Math.ceil((ENTRY_HEADER_SIZE + runs.length * 8 + dataBytes) / SECTOR) * SECTOR;
  const entry = new Uint8Array(size);
  const view = new DataView(entry.buffer);
  view.setUint32(0, HVLE, true);
  view.setUint32(4, size, true);
  view.setUint32(8, baseFlags & 1, true);
  view.setUint32(12, sequence >>> 0, true);
  view.setUint32(16, binsSize, true);
  view.setUint32(20, runs.length, true);
  let data = ENTRY_HEADER_SIZE + runs.length * 8;
  runs.forEach(([offset, length], i) => {
    view.setUint32(ENTRY_HEADER_SIZE + i * 8, offset, true);
    view.setUint32(ENTRY_HEADER_SIZE + i * 8 + 4, length, true);
    entry.set(image.subarray(BASE_BLOCK_SIZE + offset, BASE_BLOCK_SIZE + offset + length), data);
    data += length;
  });
  const [hash1Lo, hash1Hi] = marvin32(entry, ENTRY_HEADER_SIZE, size);
  view.setUint32(24, hash1Lo, true);
  view.setUint32(28, hash1Hi, true);
  const [hash2Lo, hash2Hi] = marvin32(entry, 0, 32);
  view.setUint32(32, hash2Lo, true);
  view.setUint32(36, hash2Hi, true);
  return entry;
}
