// regf (Windows registry hive) library: read, write, transaction-log recovery and crash-safe commits.
// Pure TypeScript over Uint8Array/DataView: runs in Node, browsers and the guest's QuickJS (ES2020, no
// TextDecoder, no Buffer).
//
// Design choices:
// - The whole file lives in one growable byte buffer; keys and values are thin handles (cell offsets) that
//   parse their cell when asked, and names are decoded only when read. Opening validates the base block and
//   the hbin chain only; a damaged cell is reported (HiveError with file offset) when it is reached.
// - Offsets in error messages are file offsets (cell offset + 0x1000), so they can be looked up in a hex dump.
//   HiveKey.offset / HiveValue.offset are cell offsets as the format stores them (relative to the hbins).
// - A corrupt key graph is only ever walked as a tree: a key node must name the key listing it as its parent
//   and may appear once per list, and the root is never a subkey (nesting also stops at Windows' 512 levels). Unsorted lists are read as stored
//   (lookups binary-search, as Windows does, and check() reports the disorder).
// - Read-only walks over many keys and values (an export) need not pay for a handle, a copy and decoded
//   strings per key or value: KeyWalk visits keys by cell offset, and its storedName and values (like
//   HiveKey.storedName and HiveKey.valueCursor) point into the hive's buffer instead.
// - Paths are backslash-separated and relative to the root ("" is the root); leading, trailing and doubled
//   backslashes are ignored. Lookups are case-insensitive with Windows' upper-casing, approximated by
//   String.prototype.toUpperCase applied per UTF-16 code unit where it yields one code unit (so "ß" stays
//   "ß" and "ÿ" matches "Ÿ"; checked against edge/UpcaseHive).
// - Writing: new cells come from free lists (exact sizes up to 1 KiB, power-of-two classes above), freed
//   cells coalesce with free neighbours, and when nothing fits an hbin of the needed 4 KiB multiple is
//   appended while the buffer grows by doubling. Lists grow to power-of-two capacities; subkey leaves (lh
//   from version 1.5, lf before) hold up to 507 entries (one 4 KiB hbin) under an ri. Values over 16,344
//   bytes become db big data (version 1.4+) with full-size segments, as Windows writes them. "Largest"
//   fields are kept exact. Every change checks what it will free before touching anything, so a HiveError
//   from a change leaves the hive as it was.
// - Logs: recovery reads old-format (DIRT) and new-format (HvLE) LOG1/LOG2 the way Windows 8.1+ does.
//   commit() writes one new-format entry to LOG1 only (LOG2 is never written), then the primary with the
//   sequence-number protocol, so a commit cut at any single write reopens as exactly the old or the new hive.
// - A dirty hive is recovered on open when logs are given; opened without recovery it is read-only.

export { HiveError, type HiveErrorCode } from "./errors.ts";
export {
  REG_NONE,
  REG_SZ,
  REG_EXPAND_SZ,
  REG_BINARY,
  REG_DWORD,
  REG_DWORD_BIG_ENDIAN,
  REG_LINK,
  REG_MULTI_SZ,
  REG_RESOURCE_LIST,
  REG_FULL_RESOURCE_DESCRIPTOR,
  REG_RESOURCE_REQUIREMENTS_LIST,
  REG_QWORD,
  valueTypeName,
  encodeString,
  encodeMultiString,
  encodeDword,
  encodeQword,
} from "./types.ts";
export { decodeUtf16le, decodeUtf16leToNul, utf16Units, encodeUtf16le, decodeLatin1, decodeUtf8, encodeUtf8, encodeUtf8Units, quote } from "./text.ts";
export { upcaseName, compareNames, namesEqual, lhHash } from "./upcase.ts";
export { BASE_BLOCK_SIZE, readBaseBlock, type BaseBlockInfo } from "./base-block.ts";
export { MemoryStorage, type HiveStorage, type HiveFile } from "./storage.ts";
export {
  Hive,
  type OpenOptions,
  type CreateOptions,
  type DeleteOptions,
  type DirtyState,
  type RecoveryInfo,
} from "./hive.ts";
export { HiveKey, HiveValue, KeyWalk, StoredText, ValueCursor } from "./nodes.ts";
export type { HiveCheckReport } from "./check.ts";
