// The 4 KiB base block ("regf" header) at the start of primary files and, partially (512 bytes), of logs.

import { HiveError } from "./errors.ts";
import { decodeUtf16le } from "./text.ts";

export const BASE_BLOCK_SIZE = 0x1000;
export const LOG_BASE_BLOCK_SIZE = 0x200;
export const HBIN_ALIGN = 0x1000;

export const FILE_TYPE_PRIMARY = 0;
export const FILE_TYPE_LOG_OLD = 1;
export const FILE_TYPE_LOG_OLD_W2K = 2;
export const FILE_TYPE_LOG_NEW = 6;

const REGF = 0x66676572; // "regf" read as a little-endian u32

export const BaseOffset = {
  Signature: 0,
  PrimarySequence: 4,
  SecondarySequence: 8,
  LastWritten: 12,
  Major: 20,
  Minor: 24,
  FileType: 28,
  FileFormat: 32,
  RootCell: 36,
  BinsSize: 40,
  Clustering: 44,
  FileName: 48,
  Flags: 144,
  Checksum: 508,
} as const;

export interface BaseBlockInfo {
  primarySequence: number;
  secondarySequence: number;
  lastWritten: bigint;
  majorVersion: number;
  minorVersion: number;
  fileType: number;
  fileFormat: number;
  rootCell: number;
  binsSize: number;
  clusteringFactor: number;
  /** The debugging file name stored in the header (often a partial path). */
  fileName: string;
  flags: number;
  checksum: number;
  checksumValid: boolean;
  /** Checksum valid and both sequence numbers equal: the file needs no recovery. */
  clean: boolean;
}

/** XOR of the first 127 dwords, with 0 and 0xFFFFFFFF avoided as Windows does. */
export function baseBlockChecksum(bytes: Uint8Array, start = 0): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, 508);
  let sum = 0;
  for (let i = 0; i < 508; i += 4) sum ^= view.getUint32(i, true);
  sum >>>= 0;
  if (sum === 0xffffffff) return 0xfffffffe;
  if (sum === 0) return 1;
  return sum;
}

/**
 * Parses a base block without judging it beyond the signature: callers decide what a bad checksum or an
 * odd field means for them (a primary, a log).
 */
export function readBaseBlock(bytes: Uint8Array, file = "hive", start = 0): BaseBlockInfo {
  if (bytes.length < start + LOG_BASE_BLOCK_SIZE) {
    throw new HiveError("truncated", `file of ${bytes.length} bytes is too short for a base block`, file, start);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, LOG_BASE_BLOCK_SIZE);
  if (view.getUint32(BaseOffset.Signature, true) !== REGF) {
    throw new HiveError("bad-signature", `base block signature is not "regf"`, file, start);
  }
  const checksum = view.getUint32(BaseOffset.Checksum, true);
  const checksumValid = checksum === baseBlockChecksum(bytes, start);
  const primarySequence = view.getUint32(BaseOffset.PrimarySequence, true);
  const secondarySequence = view.getUint32(BaseOffset.SecondarySequence, true);
  let nameEnd = start + BaseOffset.FileName;
  while (nameEnd < start + BaseOffset.FileName + 64 && (bytes[nameEnd] | bytes[nameEnd + 1]) !== 0) nameEnd += 2;
  return {
    primarySequence,
    secondarySequence,
    lastWritten: view.getBigUint64(BaseOffset.LastWritten, true),
    majorVersion: view.getUint32(BaseOffset.Major, true),
    minorVersion: view.getUint32(BaseOffset.Minor, true),
    fileType: view.getUint32(BaseOffset.FileType, true),
    fileFormat: view.getUint32(BaseOffset.FileFormat, true),
    rootCell: view.getUint32(BaseOffset.RootCell, true),
    binsSize: view.getUint32(BaseOffset.BinsSize, true),
    clusteringFactor: view.getUint32(BaseOffset.Clustering, true),
    fileName: decodeUtf16le(bytes, start + BaseOffset.FileName, nameEnd),
    flags: view.getUint32(BaseOffset.Flags, true),
    checksum,
    checksumValid,
    clean: checksumValid && primarySequence === secondarySequence,
  };
}
