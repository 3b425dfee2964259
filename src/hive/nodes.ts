// HiveKey and HiveValue, the handles the public API hands out, and the cell records behind them: layouts,
// validation, subkey lists, value data (inline, one cell, or db big data) and security cells.

import { BASE_BLOCK_SIZE as BASE_BLOCK_SIZE_ } from "./base-block.ts";
import { type CellStore, NO_CELL as NO_CELL_ } from "./cells.ts";
import { HiveError } from "./errors.ts";
import type { DeleteOptions, Hive } from "./hive.ts";
import { decodeLatin1 as decodeLatin1_, decodeUtf16le as decodeUtf16le_, decodeUtf16leToNul, encodeLatin1, encodeUtf16le, isLatin1, quote, utf16Units } from "./text.ts";
import { REG_DWORD_BIG_ENDIAN } from "./types.ts";
import { lhHash, upcaseName, upcaseUnit as upcaseUnit_ } from "./upcase.ts";

// tsx runs modules through a CommonJS transform that turns each use of an imported binding into a getter
// call; the walk's hot paths use these module-local copies instead.
const BASE_BLOCK_SIZE = BASE_BLOCK_SIZE_;
const NO_CELL = NO_CELL_;
const decodeLatin1 = decodeLatin1_;
const decodeUtf16le = decodeUtf16le_;
const upcaseUnit = upcaseUnit_;

// ---- record layouts: offsets inside a cell's data (after its 4-byte size field) and signatures ----

/** Two-letter signatures as the little-endian u16 they read as. */
export const SIG_NK = 0x6b6e;
export const SIG_VK = 0x6b76;
export const SIG_SK = 0x6b73;
export const SIG_LF = 0x666c;
export const SIG_LH = 0x686c;
export const SIG_LI = 0x696c;
export const SIG_RI = 0x6972;
export const SIG_DB = 0x6264;

export const NK = {
  flags: 2,
  lastWritten: 4,
  parent: 16,
  subkeyCount: 20,
  volatileSubkeyCount: 24,
  subkeyList: 28,
  volatileSubkeyList: 32,
  valueCount: 36,
  valueList: 40,
  security: 44,
  classCell: 48,
  maxNameLength: 52,
  maxClassLength: 56,
  maxValueNameLength: 60,
  maxValueDataLength: 64,
  nameLength: 72,
  classLength: 74,
  name: 76,
} as const;

export const KEY_HIVE_ENTRY = 0x0004;
export const KEY_NO_DELETE = 0x0008;
export const KEY_COMP_NAME = 0x0020;

export const VK = {
  nameLength: 2,
  dataSize: 4,
  dataOffset: 8,
  type: 12,
  flags: 16,
  name: 20,
} as const;

export const VALUE_COMP_NAME = 0x0001;
/** Set in a vk's data size when the data (up to 4 bytes) sits in the data offset field itself. */
export const DATA_INLINE = 0x80000000;
/** Largest data stored in one cell; beyond it (minor version >= 4) data is split into db segments. */
export const BIG_DATA_SEGMENT = 16344;

export const SK = {
  flink: 4,
  blink: 8,
  referenceCount: 12,
  descriptorSize: 16,
  descriptor: 20,
} as const;

/** Entries per lf/lh leaf we write: 507 entries of 8 bytes, the header and the size field fill one 4 KiB hbin. */
export const LEAF_CAPACITY = 507;
/** Windows refuses keys nested deeper than this. */
export const MAX_KEY_DEPTH = 512;
export const MAX_KEY_NAME_LENGTH = 255;
export const MAX_VALUE_NAME_LENGTH = 16383;

const FILETIME_UNIX_EPOCH_MS = 11644473600000;

export function now(): bigint {
  return BigInt(Date.now() + FILETIME_UNIX_EPOCH_MS) * 10000n;
}

export function hex(n: number): string {
  return "0x" + n.toString(16);
}

interface SubkeyPosition {
  /** The matching nk, or NO_CELL. */
  found: number;
  /** Leaf holding (or to hold) the entry; NO_CELL when the key has no subkey list. */
  leaf: number;
  /** Index of the match in the leaf, or where the name would be inserted. */
  index: number;
  /** The ri holding the leaf, or NO_CELL when the leaf is the whole list. */
  root: number;
  /** Index of the leaf in the ri. */
  slot: number;
}

export function checkKeyName(name: string): void {
  if (name.length === 0) throw new HiveError("bad-name", "key name is empty");
  if (name.length > MAX_KEY_NAME_LENGTH) {
    throw new HiveError("bad-name", `key name of ${name.length} characters exceeds ${MAX_KEY_NAME_LENGTH}`);
  }
  if (name.indexOf("\\") >= 0) throw new HiveError("bad-name", `key name ${quote(name)} contains a backslash`);
}

/** Allocates and fills an nk cell; returns its offset. Names are stored compressed when they are Latin-1. */
export function writeNewKeyNode(cells: CellStore, name: string, parent: number, security: number, flags: number, stamp: bigint): number {
  const compressed = isLatin1(name);
  const nameBytes = compressed ? encodeLatin1(name) : encodeUtf16le(name);
  const nk = cells.allocate(NK.name + nameBytes.length);
  const d = nk + 4;
  cells.setU16(d, SIG_NK);
  cells.setU16(d + NK.flags, flags | (compressed ? KEY_COMP_NAME : 0));
  cells.setU64(d + NK.lastWritten, stamp);
  cells.setU32(d + NK.parent, parent);
  cells.setU32(d + NK.subkeyList, NO_CELL);
  cells.setU32(d + NK.volatileSubkeyList, NO_CELL);
  cells.setU32(d + NK.valueList, NO_CELL);
  cells.setU32(d + NK.security, security);
  cells.setU32(d + NK.classCell, NO_CELL);
  cells.setU16(d + NK.nameLength, nameBytes.length);
  cells.setBytes(d + NK.name, nameBytes);
  return nk;
}

const EMPTY = new Uint8Array(0);

/**
 * Text as a hive stores it, in place: bytes[start, start + length), Latin-1 when `latin1` (a "compressed"
 * name), else UTF-16LE.
 */
export class StoredText {
  bytes: Uint8Array = EMPTY;
  start = 0;
  length = 0;
  latin1 = false;
}

/**
 * HiveKey.valueCursor(): a key's values in stored order, one at a time and in place. After next() returns
 * true, `name` and data[dataStart, dataStart + dataLength) are the value's, in the hive's buffer (or in a
 * copy, for big data reassembled), until the next call or a change to the hive.
 */
export class ValueCursor implements DataRange {
  readonly name = new StoredText();
  type = 0;
  data: Uint8Array = EMPTY;
  dataStart = 0;
  dataLength = 0;
  private list = NO_CELL;
  private count = 0;
  private index = 0;

  /** @internal */
  constructor(
    private readonly cells: CellStore,
    private readonly bigData: boolean,
  ) {}

  /** @internal Starts over at the first value of the key at `nk`. */
  begin(nk: number): this {
    this.count = checkedValueCount(this.cells, nk);
    this.list = this.cells.u32(nk + 4 + NK.valueList);
    this.index = 0;
    return this;
  }

  next(): boolean {
    if (this.index >= this.count) return false;
    const cells = this.cells;
    const vk = cells.u32(this.list + 4 + 4 * this.index++);
    validateValueNode(cells, vk);
    const d = vk + 4;
    const name = this.name;
    name.bytes = cells.buf;
    name.start = BASE_BLOCK_SIZE + d + VK.name;
    name.length = cells.u16(d + VK.nameLength);
    name.latin1 = (cells.u16(d + VK.flags) & VALUE_COMP_NAME) !== 0;
    this.type = cells.u32(d + VK.type);
    locateValueData(cells, vk, this.bigData, this);
    return true;
  }
}

/**
 * Keys by the offsets of their nk cells, for read-only walks over many keys (an export) without a handle,
 * a list or a decoded name per key. It checks what HiveKey.subkeys checks, in the same order, so a walk
 * fails where one over handles would. The hive must not change while it is in use.
 */
export class KeyWalk {
  /** The nk offset of the key the walk starts at. */
  readonly start: number;
  /** How many levels below the root that key is. */
  readonly startDepth: number;
  private readonly cells: CellStore;
  private readonly root: number;
  private readonly cursor: ValueCursor;
  private readonly children: number[] = [];
  /**
   * A bit per 8-byte cell slot of the bins, set for the cells the subkey list being checked has named so
   * far (and clear again after each list), so that a key named twice in one list is found without a set
   * per list. A bit rather than a word: the bitmap of a large hive stays a few pages, and touching fresh
   * pages is a good part of a short run's cost.
   */
  private readonly listed: Uint8Array;
  private readonly slots: number;

  constructor(start: HiveKey) {
    const hive = start.hive;
    this.start = start.offset;
    this.startDepth = start.depth;
    this.cells = hive.cells;
    this.root = hive.root.offset;
    this.cursor = new ValueCursor(hive.cells, hive.usesBigData);
    this.slots = Math.ceil(hive.cells.binsSize / 8);
    this.listed = new Uint8Array(Math.ceil(this.slots / 8));
  }

  /** HiveKey.storedName for the key at nk. */
  storedName(nk: number, into: StoredText): StoredText {
    const cells = this.cells;
    into.bytes = cells.buf;
    into.start = BASE_BLOCK_SIZE + nk + 4 + NK.name;
    into.length = cells.u16(nk + 4 + NK.nameLength);
    into.latin1 = (cells.u16(nk + 4 + NK.flags) & KEY_COMP_NAME) !== 0;
    return into;
  }

  /** HiveKey.valueCursor for the key at nk; the one cursor of this walk, started over. */
  values(nk: number): ValueCursor {
    return this.cursor.begin(nk);
  }

  /**
   * Checks the subkeys of the key at nk, `depth` levels below the root, and returns their count; subkey(i)
   * gives their nk offsets in list order, until the next call.
   */
  subkeys(nk: number, depth: number): number {
    const cells = this.cells;
    const children = this.children;
    const count = listSubkeys(cells, nk, children);
    if (count > 1) {
      const listed = this.listed;
      let marked = 0;
      let twice = -1;
      for (; marked < count; marked++) {
        const child = children[marked];
        const slot = child >>> 3;
        // Offsets that are no cell's have no slot: such a list gets the check of HiveKey.subkeys.
        if (child % 8 !== 0 || slot >= this.slots) break;
        const bit = 1 << (slot & 7);
        if ((listed[slot >>> 3] & bit) !== 0) {
          twice = child;
          break;
        }
        listed[slot >>> 3] |= bit;
      }
      for (let i = 0; i < marked; i++) {
        const slot = children[i] >>> 3;
        listed[slot >>> 3] &= ~(1 << (slot & 7));
      }
      if (twice >= 0) cells.fail("bad-list", twice, "key node appears twice in one subkey list");
      if (marked < count) checkNoneTwice(cells, children.slice(0, count));
    }
    for (let i = 0; i < count; i++) checkChild(cells, nk, depth, this.root, children[i]);
    return count;
  }

  /** The nk offset of the i-th subkey that subkeys() checked. */
  subkey(i: number): number {
    return this.children[i];
  }

  /** HiveKey.path of a key this walk reached (its chain of parents is checked). */
  path(nk: number): string {
    const names: string[] = [];
    for (let depth = 0; nk !== this.root && depth < MAX_KEY_DEPTH; depth++) {
      names.push(readName(this.cells, nk + 4 + NK.name, this.cells.u16(nk + 4 + NK.nameLength), (this.cells.u16(nk + 4 + NK.flags) & KEY_COMP_NAME) !== 0));
      nk = this.cells.u32(nk + 4 + NK.parent);
    }
    return names.reverse().join("\\");
  }
}

/** Where a value's data lies: data[dataStart, dataStart + dataLength). */
interface DataRange {
  data: Uint8Array;
  dataStart: number;
  dataLength: number;
}

export class HiveKey {
  private cachedName: string | undefined;
  private epoch: number;
  /** Upper-cased value names → vk cells, for lookups by name; built on the first and after any change. */
  private valueIndex: Map<string, number> | undefined;
  private valueIndexGeneration = -1;

  /** @internal */
  constructor(
    readonly hive: Hive,
    /** Cell offset of the key's nk record (relative to the hive bins). */
    readonly offset: number,
    readonly parent: HiveKey | undefined,
    /** @internal */ readonly depth: number,
  ) {
    this.epoch = hive.epoch;
    validateKeyNode(hive.cells, offset);
  }

  private get cells(): CellStore {
    return this.hive.cells;
  }

  private field(offset: number): number {
    return this.cells.u32(this.offset + 4 + offset);
  }

  /** Re-checks, after a deletion anywhere in the hive, that this key still exists. */
  private live(): void {
    if (this.epoch === this.hive.epoch) return;
    const parent = this.parent;
    if (parent !== undefined) {
      parent.live();
      if (parent.subkeyOffsets().indexOf(this.offset) < 0) {
        throw new HiveError("not-found", `key ${quote(this.cachedName ?? "")} was deleted`, this.hive.name);
      }
    }
    this.epoch = this.hive.epoch;
  }

  get name(): string {
    this.live();
    if (this.cachedName === undefined) this.cachedName = readName(this.cells, this.offset + 4 + NK.name, this.nameLength, this.isCompressed);
    return this.cachedName;
  }

  /**
   * Points `into` at the name as stored, for walks that copy names out without decoding them; valid until
   * the hive next changes. Returns `into`.
   */
  storedName(into: StoredText): StoredText {
    this.live();
    into.bytes = this.cells.buf;
    into.start = BASE_BLOCK_SIZE + this.offset + 4 + NK.name;
    into.length = this.nameLength;
    into.latin1 = this.isCompressed;
    return into;
  }

  private get nameLength(): number {
    return this.cells.u16(this.offset + 4 + NK.nameLength);
  }

  private get isCompressed(): boolean {
    return (this.cells.u16(this.offset + 4 + NK.flags) & KEY_COMP_NAME) !== 0;
  }

  /** Root-relative path ("" for the root). */
  get path(): string {
    const parts: string[] = [];
    for (let key: HiveKey | undefined = this; key?.parent !== undefined; key = key.parent) parts.push(key.name);
    return parts.reverse().join("\\");
  }

  /** FILETIME (100 ns units since 1601-01-01 UTC). */
  get lastWritten(): bigint {
    this.live();
    return this.cells.u64(this.offset + 4 + NK.lastWritten);
  }

  get className(): string | undefined {
    this.live();
    const cell = this.field(NK.classCell);
    const length = this.cells.u16(this.offset + 4 + NK.classLength);
    if (cell === NO_CELL || length === 0) return undefined;
    const size = this.cells.cellDataSize(cell, "class name");
    if (length > size) this.cells.fail("bad-cell", cell, `class name of ${length} bytes runs past its cell of ${size}`);
    return decodeUtf16le(this.cells.buf, BASE_BLOCK_SIZE + cell + 4, BASE_BLOCK_SIZE + cell + 4 + length);
  }

  /** Raw nk flags (KEY_COMP_NAME, KEY_HIVE_ENTRY, KEY_SYM_LINK, ...). */
  get flags(): number {
    this.live();
    return this.cells.u16(this.offset + 4 + NK.flags);
  }

  get subkeyCount(): number {
    this.live();
    return this.field(NK.subkeyCount);
  }

  get valueCount(): number {
    this.live();
    return this.field(NK.valueCount);
  }

  /** The self-relative security descriptor from the key's sk cell. */
  get securityDescriptor(): Uint8Array {
    this.live();
    const sk = this.field(NK.security);
    const size = validateSecurityCell(this.cells, sk);
    return this.cells.copy(sk + 4 + SK.descriptor, size);
  }

  /** @internal Offsets of the subkeys' nk cells, in list order (validated list structure). */
  subkeyOffsets(): number[] {
    const out: number[] = [];
    listSubkeys(this.cells, this.offset, out);
    return out;
  }

  /** A handle for a subkey found in this key's list, checked as checkChild says. */
  private child(nk: number): HiveKey {
    checkChild(this.cells, this.offset, this.depth, this.hive.root.offset, nk);
    return new HiveKey(this.hive, nk, this, this.depth + 1);
  }

  subkeys(): HiveKey[] {
    this.live();
    const offsets = this.subkeyOffsets();
    // Most lists hold one key or none: only longer ones can name a key twice.
    if (offsets.length > 1) checkNoneTwice(this.cells, offsets);
    const keys: HiveKey[] = new Array(offsets.length);
    for (let i = 0; i < offsets.length; i++) keys[i] = this.child(offsets[i]);
    return keys;
  }

  subkey(name: string): HiveKey | undefined {
    this.live();
    const position = this.locate(name);
    return position.found === NO_CELL ? undefined : this.child(position.found);
  }

  /** Finds a subkey by binary search (lists are sorted by upper-cased name, as Windows keeps them). */
  private locate(name: string): SubkeyPosition {
    const cells = this.cells;
    const count = this.field(NK.subkeyCount);
    const list = this.field(NK.subkeyList);
    if (count === 0) return { found: NO_CELL, leaf: NO_CELL, index: 0, root: NO_CELL, slot: 0 };
    const listSize = readListHeader(cells, list, true);
    if (cells.u16(list + 4) !== SIG_RI) {
      return { ...searchLeaf(cells, list, name), leaf: list, root: NO_CELL, slot: 0 };
    }
    const leaves = cells.u16(list + 6);
    if (4 + leaves * 4 > listSize) cells.fail("bad-list", list, `index root of ${leaves} leaves does not fit its cell`);
    if (leaves === 0) cells.fail("bad-list", list, "index root has no leaves");
    // The name belongs in the first leaf whose last entry is not smaller; past all of them, in the last leaf.
    let slot = 0;
    for (; slot < leaves - 1; slot++) {
      const leaf = cells.u32(list + 8 + slot * 4);
      readListHeader(cells, leaf, false);
      const n = cells.u16(leaf + 6);
      if (n > 0 && compareWithKeyNode(cells, name, leafEntry(cells, leaf, n - 1)) <= 0) break;
    }
    const leaf = cells.u32(list + 8 + slot * 4);
    return { ...searchLeaf(cells, leaf, name), leaf, root: list, slot };
  }

  /** Values in stored order. */
  values(): HiveValue[] {
    this.live();
    return this.valueOffsets().map((vk) => new HiveValue(this, vk));
  }

  /**
   * values() for read-only walks over many values (an export), without a handle, a copy or a decoded
   * string per value; see ValueCursor. The hive must not change while the cursor is in use. HiveValue.data
   * is the copy to keep.
   */
  valueCursor(): ValueCursor {
    this.live();
    return new ValueCursor(this.cells, this.hive.usesBigData).begin(this.offset);
  }

  /** @internal */
  valueOffsets(): number[] {
    const cells = this.cells;
    const count = checkedValueCount(cells, this.offset);
    if (count === 0) return [];
    const list = this.field(NK.valueList);
    const out: number[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = cells.u32(list + 4 + i * 4);
    return out;
  }

  /** The value with this name ("" = default value), case-insensitively. */
  value(name: string): HiveValue | undefined {
    this.live();
    const vk = this.findValue(name);
    return vk === NO_CELL ? undefined : new HiveValue(this, vk);
  }

  private findValue(name: string): number {
    if (this.valueIndex === undefined || this.valueIndexGeneration !== this.hive.generation) {
      const cells = this.cells;
      const index = new Map<string, number>();
      for (const vk of this.valueOffsets()) {
        validateValueNode(cells, vk);
        const compressed = (cells.u16(vk + 4 + VK.flags) & VALUE_COMP_NAME) !== 0;
        const stored = upcaseName(readName(cells, vk + 4 + VK.name, cells.u16(vk + 4 + VK.nameLength), compressed));
        // A corrupt list may name a value twice: the first one is the value, as a search in order finds.
        if (!index.has(stored)) index.set(stored, vk);
      }
      this.valueIndex = index;
      this.valueIndexGeneration = this.hive.generation;
    }
    return this.valueIndex.get(upcaseName(name)) ?? NO_CELL;
  }

  private beginChange(): void {
    this.hive.checkWritable();
    this.live();
  }

  private stampChange(): void {
    this.cells.setU64(this.offset + 4 + NK.lastWritten, now());
    this.hive.touch();
  }

  /** Opens or creates a direct subkey. */
  createSubkey(name: string): HiveKey {
    this.beginChange();
    checkKeyName(name);
    const position = this.locate(name);
    if (position.found !== NO_CELL) return this.child(position.found);
    if (this.depth + 1 > MAX_KEY_DEPTH) {
      throw new HiveError("too-deep", `cannot create a key deeper than ${MAX_KEY_DEPTH} levels`, this.hive.name);
    }
    const cells = this.cells;
    const security = this.field(NK.security);
    validateSecurityCell(cells, security);
    // Everything that can refuse is checked before the first change, so a refusal changes nothing.
    if (position.leaf !== NO_CELL) cells.checkReleasable(position.leaf, "subkey list");
    if (position.root !== NO_CELL) cells.checkReleasable(position.root, "index root");
    const nk = writeNewKeyNode(cells, name, this.offset, security, 0, now());
    const references = cells.u32(security + 4 + SK.referenceCount);
    cells.setU32(security + 4 + SK.referenceCount, references + 1);
    this.insertSubkey(position, nk, name);
    const d = this.offset + 4;
    cells.setU32(d + NK.subkeyCount, cells.u32(d + NK.subkeyCount) + 1);
    const nameBytes = name.length * 2;
    const maxName = cells.u32(d + NK.maxNameLength);
    if ((maxName & 0xffff) < nameBytes) cells.setU32(d + NK.maxNameLength, (maxName & 0xffff0000) | nameBytes);
    this.stampChange();
    return this.child(nk);
  }

  private insertSubkey(position: SubkeyPosition, nk: number, name: string): void {
    const cells = this.cells;
    const d = this.offset + 4;
    if (position.leaf === NO_CELL) {
      const leaf = cells.allocate(4 + 8);
      cells.setU16(leaf + 4, this.hive.minorVersion >= 5 ? SIG_LH : SIG_LF);
      cells.setU16(leaf + 6, 1);
      writeLeafEntry(cells, leaf, 0, nk, name);
      cells.setU32(d + NK.subkeyList, leaf);
      return;
    }
    const n = cells.u16(position.leaf + 6);
    const root = position.root;
    const leaves = root === NO_CELL ? 1 : cells.u16(root + 6);
    if (n < LEAF_CAPACITY) {
      const leaf = insertLeafEntry(cells, position.leaf, position.index, n, nk, name);
      if (root === NO_CELL) cells.setU32(d + NK.subkeyList, leaf);
      else cells.setU32(root + 8 + position.slot * 4, leaf);
      return;
    }
    // The leaf is full. Appending past the last leaf (what a sorted import does) starts a new leaf and
    // leaves the full one full; anywhere else the leaf is split in half.
    if (root !== NO_CELL && leaves >= 0xffff) {
      throw new HiveError("too-large", "key has too many subkeys for one index root", this.hive.name);
    }
    let first = position.leaf;
    let added: number;
    if (position.index === n && position.slot === leaves - 1) {
      added = cells.allocate(4 + 8);
      cells.setU16(added + 4, cells.u16(first + 4));
      cells.setU16(added + 6, 1);
      writeLeafEntry(cells, added, 0, nk, name);
    } else {
      added = splitLeaf(cells, first);
      const kept = cells.u16(first + 6);
      if (position.index <= kept) first = insertLeafEntry(cells, first, position.index, kept, nk, name);
      else added = insertLeafEntry(cells, added, position.index - kept, cells.u16(added + 6), nk, name);
    }
    if (root === NO_CELL) {
      const created = cells.allocate(4 + 2 * 4);
      cells.setU16(created + 4, SIG_RI);
      cells.setU16(created + 6, 2);
      cells.setU32(created + 8, first);
      cells.setU32(created + 12, added);
      cells.setU32(d + NK.subkeyList, created);
      return;
    }
    cells.setU32(root + 8 + position.slot * 4, first);
    const grown = cells.reallocate(root, 4 + listCapacity(leaves + 1, 0xffff) * 4);
    const at = grown + 8 + (position.slot + 1) * 4;
    cells.copyWithin(at + 4, at, (leaves - position.slot - 1) * 4);
    cells.setU32(at, added);
    cells.setU16(grown + 6, leaves + 1);
    cells.setU32(d + NK.subkeyList, grown);
  }

  deleteSubkey(name: string, options: DeleteOptions = {}): boolean {
    this.beginChange();
    const position = this.locate(name);
    if (position.found === NO_CELL) return false;
    const target = this.child(position.found);
    if (target.field(NK.subkeyCount) > 0 && options.recursive !== true) {
      throw new HiveError("exists", `key ${quote(target.path)} has subkeys`, this.hive.name);
    }
    const cells = this.cells;
    const plan = target.planRelease();
    for (const [rel, what] of [
      [position.leaf, "subkey list"],
      [position.root, "index root"],
    ] as const) {
      if (rel === NO_CELL) continue;
      cells.checkReleasable(rel, what);
      if (plan.cells.has(rel)) cells.fail("bad-list", rel, `${what} is also referenced inside the deleted subtree`);
    }
    releaseCells(cells, plan);
    this.removeSubkeyEntry(position);
    const d = this.offset + 4;
    cells.setU32(d + NK.subkeyCount, cells.u32(d + NK.subkeyCount) - 1);
    this.recomputeSubkeyMaxima();
    this.hive.epoch++;
    this.epoch = this.hive.epoch;
    this.stampChange();
    return true;
  }

  /**
   * Lists every cell of this key's subtree (this nk included) and the security cells it uses, checking all
   * of them can be released: deletion then cannot fail halfway through a corrupt hive.
   */
  private planRelease(): ReleasePlan {
    const cells = this.cells;
    const bigData = this.hive.usesBigData;
    const plan: ReleasePlan = { cells: new Set(), security: new Map() };
    const claim = (rel: number, what: string): void => {
      cells.checkReleasable(rel, what);
      if (plan.cells.has(rel)) cells.fail("bad-cell", rel, `${what} is referenced twice in the deleted subtree`);
      plan.cells.add(rel);
    };
    const pending: HiveKey[] = [this];
    while (pending.length > 0) {
      const key = pending.pop() as HiveKey;
      const d = key.offset + 4;
      claim(key.offset, "key node");
      for (const vk of key.valueOffsets()) {
        validateValueNode(cells, vk);
        claim(vk, "value");
        for (const cell of valueDataCells(cells, vk, bigData)) claim(cell, "value data");
      }
      if (cells.u32(d + NK.valueCount) > 0) claim(cells.u32(d + NK.valueList), "value list");
      if (cells.u32(d + NK.subkeyCount) > 0) {
        for (const cell of subkeyListCells(cells, cells.u32(d + NK.subkeyList))) claim(cell, "subkey list");
        for (const child of key.subkeyOffsets()) pending.push(key.child(child));
      }
      const classCell = cells.u32(d + NK.classCell);
      if (classCell !== NO_CELL && cells.u16(d + NK.classLength) > 0) claim(classCell, "class name");
      const sk = cells.u32(d + NK.security);
      validateSecurityCell(cells, sk);
      plan.security.set(sk, (plan.security.get(sk) ?? 0) + 1);
    }
    for (const [sk, users] of plan.security) {
      if (cells.u32(sk + 4 + SK.referenceCount) > users) continue;
      // This security cell goes too: it and its list neighbours must be sound before anything changes.
      claim(sk, "security");
      validateSecurityCell(cells, cells.u32(sk + 4 + SK.flink));
      validateSecurityCell(cells, cells.u32(sk + 4 + SK.blink));
    }
    return plan;
  }

  private removeSubkeyEntry(position: SubkeyPosition): void {
    const cells = this.cells;
    const leaf = position.leaf;
    const n = cells.u16(leaf + 6);
    const stride = leafStride(cells.u16(leaf + 4));
    const at = leaf + 8 + position.index * stride;
    cells.copyWithin(at, at + stride, (n - position.index - 1) * stride);
    cells.setU16(leaf + 6, n - 1);
    const d = this.offset + 4;
    if (n - 1 > 0) return;
    cells.free(leaf);
    if (position.root === NO_CELL) {
      cells.setU32(d + NK.subkeyList, NO_CELL);
      return;
    }
    const root = position.root;
    const leaves = cells.u16(root + 6);
    const slotAt = root + 8 + position.slot * 4;
    cells.copyWithin(slotAt, slotAt + 4, (leaves - position.slot - 1) * 4);
    cells.setU16(root + 6, leaves - 1);
    if (leaves - 1 === 1) {
      // A single remaining leaf becomes the whole list again.
      cells.setU32(d + NK.subkeyList, cells.u32(root + 8));
      cells.free(root);
    } else if (leaves - 1 === 0) {
      cells.setU32(d + NK.subkeyList, NO_CELL);
      cells.free(root);
    }
  }

  private recomputeSubkeyMaxima(): void {
    const cells = this.cells;
    const d = this.offset + 4;
    let maxName = 0;
    let maxClass = 0;
    for (const nk of this.subkeyOffsets()) {
      const compressed = (cells.u16(nk + 4 + NK.flags) & KEY_COMP_NAME) !== 0;
      const length = cells.u16(nk + 4 + NK.nameLength);
      maxName = Math.max(maxName, compressed ? length * 2 : length);
      maxClass = Math.max(maxClass, cells.u16(nk + 4 + NK.classLength));
    }
    const old = cells.u32(d + NK.maxNameLength);
    if ((old & 0xffff) !== maxName) cells.setU32(d + NK.maxNameLength, (old & 0xffff0000) | maxName);
    if (cells.u32(d + NK.maxClassLength) !== maxClass) cells.setU32(d + NK.maxClassLength, maxClass);
  }

  /** Sets the largest value name and data fields to the exact maxima over the remaining values. */
  private recomputeValueMaxima(): void {
    const cells = this.cells;
    const d = this.offset + 4;
    let maxName = 0;
    let maxData = 0;
    for (const vk of this.valueOffsets()) {
      const length = cells.u16(vk + 4 + VK.nameLength);
      const compressed = (cells.u16(vk + 4 + VK.flags) & VALUE_COMP_NAME) !== 0;
      maxName = Math.max(maxName, compressed ? length * 2 : length);
      maxData = Math.max(maxData, cells.u32(vk + 4 + VK.dataSize) & ~DATA_INLINE);
    }
    if (cells.u32(d + NK.maxValueNameLength) !== maxName) cells.setU32(d + NK.maxValueNameLength, maxName);
    if (cells.u32(d + NK.maxValueDataLength) !== maxData) cells.setU32(d + NK.maxValueDataLength, maxData);
  }

  /** Creates or replaces a value; type is any u32, data is stored exactly. */
  setValue(name: string, type: number, data: Uint8Array): HiveValue {
    this.beginChange();
    if (name.length > MAX_VALUE_NAME_LENGTH) {
      throw new HiveError("bad-name", `value name of ${name.length} characters exceeds ${MAX_VALUE_NAME_LENGTH}`, this.hive.name);
    }
    const cells = this.cells;
    const bigData = this.hive.usesBigData;
    if (data.length > (bigData ? 0xffff * BIG_DATA_SEGMENT : 0x3fffffff)) {
      throw new HiveError("too-large", `value data of ${data.length} bytes is too large for this hive`, this.hive.name);
    }
    const d = this.offset + 4;
    let vk = this.findValue(name);
    const replacing = vk !== NO_CELL;
    const oldLength = replacing ? cells.u32(vk + 4 + VK.dataSize) & ~DATA_INLINE : 0;
    const count = cells.u32(d + NK.valueCount);
    const oldData = replacing ? valueDataCells(cells, vk, bigData) : [];
    for (const cell of oldData) cells.checkReleasable(cell, "value data");
    if (!replacing && count > 0) cells.checkReleasable(cells.u32(d + NK.valueList), "value list");
    if (vk === NO_CELL) {
      const compressed = isLatin1(name);
      const nameBytes = compressed ? encodeLatin1(name) : encodeUtf16le(name);
      vk = cells.allocate(VK.name + nameBytes.length);
      cells.setU16(vk + 4, SIG_VK);
      cells.setU16(vk + 4 + VK.nameLength, nameBytes.length);
      cells.setU16(vk + 4 + VK.flags, compressed ? VALUE_COMP_NAME : 0);
      cells.setBytes(vk + 4 + VK.name, nameBytes);
      const list = count === 0 ? cells.allocate(4) : cells.reallocate(cells.u32(d + NK.valueList), listCapacity(count + 1, 0x7fffffff) * 4);
      cells.setU32(list + 4 + count * 4, vk);
      cells.setU32(d + NK.valueList, list);
      cells.setU32(d + NK.valueCount, count + 1);
    } else {
      for (const cell of new Set(oldData)) cells.free(cell);
    }
    writeValueData(cells, vk, data, bigData);
    cells.setU32(vk + 4 + VK.type, type);
    if (cells.u32(d + NK.maxValueNameLength) < name.length * 2) cells.setU32(d + NK.maxValueNameLength, name.length * 2);
    if (cells.u32(d + NK.maxValueDataLength) < data.length) cells.setU32(d + NK.maxValueDataLength, data.length);
    else if (replacing && oldLength === cells.u32(d + NK.maxValueDataLength) && data.length < oldLength) this.recomputeValueMaxima();
    this.stampChange();
    return new HiveValue(this, vk);
  }

  deleteValue(name: string): boolean {
    this.beginChange();
    const vk = this.findValue(name);
    if (vk === NO_CELL) return false;
    const cells = this.cells;
    const d = this.offset + 4;
    const offsets = this.valueOffsets();
    const index = offsets.indexOf(vk);
    const list = cells.u32(d + NK.valueList);
    const plan: ReleasePlan = { cells: new Set(), security: new Map() };
    for (const [cell, what] of [[vk, "value"] as const, ...valueDataCells(cells, vk, this.hive.usesBigData).map((c) => [c, "value data"] as const)]) {
      cells.checkReleasable(cell, what);
      if (plan.cells.has(cell) || cell === list) cells.fail("bad-cell", cell, `${what} is referenced twice`);
      plan.cells.add(cell);
    }
    if (offsets.length === 1) {
      cells.checkReleasable(list, "value list");
      plan.cells.add(list);
    }
    cells.copyWithin(list + 4 + index * 4, list + 8 + index * 4, (offsets.length - index - 1) * 4);
    cells.setU32(d + NK.valueCount, offsets.length - 1);
    if (offsets.length === 1) cells.setU32(d + NK.valueList, NO_CELL);
    releaseCells(cells, plan);
    this.recomputeValueMaxima();
    this.hive.epoch++;
    this.epoch = this.hive.epoch;
    this.stampChange();
    return true;
  }
}

export class HiveValue {
  private cachedName: string | undefined;
  private epoch: number;

  /** @internal */
  constructor(
    readonly key: HiveKey,
    /** Cell offset of the value's vk record. */
    readonly offset: number,
  ) {
    validateValueNode(key.hive.cells, offset);
    this.epoch = key.hive.epoch;
  }

  private get cells(): CellStore {
    return this.key.hive.cells;
  }

  private live(): void {
    const hive = this.key.hive;
    if (this.epoch === hive.epoch) return;
    if (this.key.valueOffsets().indexOf(this.offset) < 0) {
      throw new HiveError("not-found", `value ${quote(this.cachedName ?? "")} was deleted`, hive.name);
    }
    this.epoch = hive.epoch;
  }

  /** "" for the default value. */
  get name(): string {
    this.live();
    if (this.cachedName === undefined) {
      const cells = this.cells;
      const compressed = (cells.u16(this.offset + 4 + VK.flags) & VALUE_COMP_NAME) !== 0;
      this.cachedName = readName(cells, this.offset + 4 + VK.name, cells.u16(this.offset + 4 + VK.nameLength), compressed);
    }
    return this.cachedName;
  }

  /** Any u32; compare with the REG_* constants. */
  get type(): number {
    this.live();
    return this.cells.u32(this.offset + 4 + VK.type);
  }

  get dataLength(): number {
    this.live();
    return this.cells.u32(this.offset + 4 + VK.dataSize) & ~DATA_INLINE;
  }

  /** The data, exactly dataLength bytes (big data reassembled). */
  get data(): Uint8Array {
    this.live();
    return readValueData(this.cells, this.offset, this.key.hive.usesBigData);
  }

  /** UTF-16LE data up to the first NUL (or the end when there is none). */
  asString(): string {
    return decodeUtf16leToNul(this.data);
  }

  /** REG_MULTI_SZ: the strings, split on NULs, ending at the empty string or the end of the data. */
  asMultiString(): string[] {
    const data = this.data;
    const units = utf16Units(data);
    const out: string[] = [];
    let start = 0;
    for (let nul = units.indexOf(0); nul >= 0; nul = units.indexOf(0, start)) {
      if (nul === start) return out;
      out.push(decodeUtf16le(data, 2 * start, 2 * nul));
      start = nul + 1;
    }
    if (start < units.length) out.push(decodeUtf16le(data, 2 * start, 2 * units.length));
    return out;
  }

  /** Little-endian u32 (big-endian for REG_DWORD_BIG_ENDIAN); "bad-data" unless the data is 4 bytes. */
  asDword(): number {
    const data = this.data;
    if (data.length !== 4) this.cells.fail("bad-data", this.offset, `value ${quote(this.name)} holds ${data.length} bytes, not a DWORD`);
    return new DataView(data.buffer, data.byteOffset, 4).getUint32(0, this.type !== REG_DWORD_BIG_ENDIAN);
  }

  /** Little-endian u64; "bad-data" unless the data is 8 bytes. */
  asQword(): bigint {
    const data = this.data;
    if (data.length !== 8) this.cells.fail("bad-data", this.offset, `value ${quote(this.name)} holds ${data.length} bytes, not a QWORD`);
    return new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
  }
}

// ---- record helpers -------------------------------------------------------------------------------------

export function readName(cells: CellStore, at: number, length: number, compressed: boolean): string {
  const start = BASE_BLOCK_SIZE + at;
  return compressed ? decodeLatin1(cells.buf, start, start + length) : decodeUtf16le(cells.buf, start, start + length);
}

/** The number of values of the key at nk, once its value list is known to hold them. */
function checkedValueCount(cells: CellStore, nk: number): number {
  const count = cells.u32(nk + 4 + NK.valueCount);
  if (count === 0) return 0;
  const list = cells.u32(nk + 4 + NK.valueList);
  const size = cells.cellDataSize(list, "value list");
  if (count > size / 4) cells.fail("bad-list", list, `value list of ${size} bytes cannot hold ${count} values`);
  return count;
}

/**
 * Writes the offsets of the subkeys' nk cells of the key at nk to out[0, count), in list order (validated
 * list structure), and returns their count. Entries of `out` past them are left as they were, so that a walk
 * can reuse one array without truncating it.
 */
function listSubkeys(cells: CellStore, nk: number, out: number[]): number {
  const count = cells.u32(nk + 4 + NK.subkeyCount);
  if (count === 0) return 0;
  // A list cannot hold more entries than 4-byte slots fit in the bins; this bounds what we allocate.
  if (count > cells.binsSize / 4) cells.fail("bad-list", nk, `key claims ${count} subkeys, more than the hive can hold`);
  const found = collectSubkeys(cells, cells.u32(nk + 4 + NK.subkeyList), out, 0, count, true);
  if (found !== count) cells.fail("bad-list", nk, `key claims ${count} subkeys but its subkey list holds ${found}`);
  return count;
}

/** Fails at the first subkey offset that a list names a second time. */
function checkNoneTwice(cells: CellStore, offsets: readonly number[]): void {
  if (new Set(offsets).size === offsets.length) return;
  const seen = new Set<number>();
  for (const nk of offsets) {
    if (seen.has(nk)) cells.fail("bad-list", nk, "key node appears twice in one subkey list");
    seen.add(nk);
  }
}

/**
 * Checks a key node found in the list of the key at `parent` (at `depth`). Each key node must point back to
 * the key listing it and the root is never a subkey: then no key can be reached twice, so even a corrupt
 * hive's keys form a tree and a walk over them is linear.
 */
function checkChild(cells: CellStore, parent: number, depth: number, root: number, nk: number): void {
  if (depth + 1 > MAX_KEY_DEPTH) cells.fail("too-deep", nk, `key nesting exceeds ${MAX_KEY_DEPTH} levels`);
  if (nk === root) cells.fail("bad-list", nk, "the root key is listed as a subkey");
  validateKeyNode(cells, nk);
  const named = cells.u32(nk + 4 + NK.parent);
  if (named !== parent) {
    cells.fail("bad-list", nk, `key node listed under the key at ${hex(parent + BASE_BLOCK_SIZE)} names ${hex(named + BASE_BLOCK_SIZE)} as its parent`);
  }
}

/** Checks an nk cell: size, signature and that its name lies inside the cell. */
function validateKeyNode(cells: CellStore, nk: number): void {
  const size = cells.cellDataSize(nk, "key node");
  if (size < NK.name) cells.fail("bad-cell", nk, `key node cell of ${size} bytes is too small`);
  if (cells.u16(nk + 4) !== SIG_NK) cells.fail("bad-signature", nk, `key node has bad signature ${signatureText(cells, nk)}`);
  const nameLength = cells.u16(nk + 4 + NK.nameLength);
  if (NK.name + nameLength > size) {
    cells.fail("bad-cell", nk, `key name of ${nameLength} bytes runs past the end of its cell (${size} bytes)`);
  }
}

function validateValueNode(cells: CellStore, vk: number): void {
  const size = cells.cellDataSize(vk, "value");
  if (size < VK.name) cells.fail("bad-cell", vk, `value cell of ${size} bytes is too small`);
  if (cells.u16(vk + 4) !== SIG_VK) cells.fail("bad-signature", vk, `value has bad signature ${signatureText(cells, vk)}`);
  const nameLength = cells.u16(vk + 4 + VK.nameLength);
  if (VK.name + nameLength > size) {
    cells.fail("bad-cell", vk, `value name of ${nameLength} bytes runs past the end of its cell (${size} bytes)`);
  }
}

/** Checks an sk cell and returns the size of its security descriptor. */
export function validateSecurityCell(cells: CellStore, sk: number): number {
  const size = cells.cellDataSize(sk, "security");
  if (size < SK.descriptor) cells.fail("bad-cell", sk, `security cell of ${size} bytes is too small`);
  if (cells.u16(sk + 4) !== SIG_SK) cells.fail("bad-signature", sk, `security cell has bad signature ${signatureText(cells, sk)}`);
  const length = cells.u32(sk + 4 + SK.descriptorSize);
  if (length > size - SK.descriptor) cells.fail("bad-cell", sk, `security descriptor of ${length} bytes runs past its cell`);
  return length;
}

function signatureText(cells: CellStore, rel: number): string {
  return quote(String.fromCharCode(cells.u8(rel + 4), cells.u8(rel + 5)));
}

function leafStride(signature: number): number {
  return signature === SIG_LI || signature === SIG_RI ? 4 : 8;
}

/** Validates a subkey list cell's header and entry count; returns the cell's data size. */
function readListHeader(cells: CellStore, list: number, rootAllowed: boolean): number {
  const size = cells.cellDataSize(list, "subkey list");
  if (size < 4) cells.fail("bad-list", list, `subkey list cell of ${size} bytes is too small`);
  const signature = cells.u16(list + 4);
  if (signature !== SIG_LF && signature !== SIG_LH && signature !== SIG_LI && signature !== SIG_RI) {
    cells.fail("bad-signature", list, `subkey list has bad signature ${signatureText(cells, list)}`);
  }
  if (signature === SIG_RI && !rootAllowed) cells.fail("bad-list", list, "index root inside an index root");
  const n = cells.u16(list + 6);
  if (4 + n * leafStride(signature) > size) cells.fail("bad-list", list, `subkey list of ${n} entries does not fit its cell of ${size} bytes`);
  return size;
}

function leafEntry(cells: CellStore, leaf: number, index: number): number {
  const nk = cells.u32(leaf + 8 + index * leafStride(cells.u16(leaf + 4)));
  validateKeyNode(cells, nk);
  return nk;
}

/**
 * Writes the nk offsets of a subkey list to `out` from index `found` on, stopping with an error once more than
 * `limit` appear in all; returns the index after the last one written.
 */
function collectSubkeys(cells: CellStore, list: number, out: number[], found: number, limit: number, rootAllowed: boolean): number {
  readListHeader(cells, list, rootAllowed);
  const signature = cells.u16(list + 4);
  const n = cells.u16(list + 6);
  if (signature === SIG_RI) {
    for (let i = 0; i < n; i++) found = collectSubkeys(cells, cells.u32(list + 8 + i * 4), out, found, limit, false);
    return found;
  }
  if (found + n > limit) cells.fail("bad-list", list, `subkey lists hold more entries than the key's count of ${limit}`);
  const stride = leafStride(signature);
  for (let i = 0; i < n; i++) out[found++] = cells.u32(list + 8 + i * stride);
  return found;
}

/** compareNames(name, nk's name) without decoding the nk's name. */
function compareWithKeyNode(cells: CellStore, name: string, nk: number): number {
  const d = nk + 4;
  const compressed = (cells.u16(d + NK.flags) & KEY_COMP_NAME) !== 0;
  const bytes = cells.u16(d + NK.nameLength);
  return compareWithStored(cells, name, d + NK.name, compressed ? bytes : bytes >>> 1, compressed);
}


function compareWithStored(cells: CellStore, name: string, at: number, units: number, compressed: boolean): number {
  const buf = cells.buf;
  const start = BASE_BLOCK_SIZE + at;
  const n = Math.min(name.length, units);
  for (let i = 0; i < n; i++) {
    const given = name.charCodeAt(i);
    const stored = compressed ? buf[start + i] : buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8);
    // Most units are equal as they are: only differing ones need the upcase table.
    if (given === stored) continue;
    const diff = upcaseUnit(given) - upcaseUnit(stored);
    if (diff !== 0) return diff;
  }
  return name.length - units;
}

function searchLeaf(cells: CellStore, leaf: number, name: string): { found: number; index: number } {
  readListHeader(cells, leaf, false);
  let lo = 0;
  let hi = cells.u16(leaf + 6);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const nk = leafEntry(cells, leaf, mid);
    const c = compareWithKeyNode(cells, name, nk);
    if (c === 0) return { found: nk, index: mid };
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  return { found: NO_CELL, index: lo };
}

function writeLeafEntry(cells: CellStore, leaf: number, index: number, nk: number, name: string): void {
  const signature = cells.u16(leaf + 4);
  const stride = leafStride(signature);
  const at = leaf + 8 + index * stride;
  cells.setU32(at, nk);
  if (signature === SIG_LH) cells.setU32(at + 4, lhHash(name));
  else if (signature === SIG_LF) cells.setU32(at + 4, nameHint(name));
}

/** lf hint: the first four characters as bytes when they all fit in one byte, else zero. */
export function nameHint(name: string): number {
  let hint = 0;
  for (let i = 0; i < Math.min(4, name.length); i++) {
    const unit = name.charCodeAt(i);
    if (unit > 0xff) return 0;
    hint |= unit << (8 * i);
  }
  return hint >>> 0;
}

/**
 * Room for `count` list entries, rounded up to a power of two (at most `limit`), so that a list growing one
 * entry at a time is moved only log(n) times.
 */
function listCapacity(count: number, limit: number): number {
  let capacity = 1;
  while (capacity < count) capacity *= 2;
  return Math.min(capacity, limit);
}

/** Inserts an entry at index into a leaf of n entries, growing (possibly moving) it; returns its offset. */
function insertLeafEntry(cells: CellStore, leaf: number, index: number, n: number, nk: number, name: string): number {
  const stride = leafStride(cells.u16(leaf + 4));
  const moved = cells.reallocate(leaf, 4 + listCapacity(n + 1, Math.max(LEAF_CAPACITY, n + 1)) * stride);
  const at = moved + 8 + index * stride;
  cells.copyWithin(at + stride, at, (n - index) * stride);
  cells.setU16(moved + 6, n + 1);
  writeLeafEntry(cells, moved, index, nk, name);
  return moved;
}

/** Moves the upper half of a leaf into a new leaf of the same kind; returns the new leaf. */
function splitLeaf(cells: CellStore, leaf: number): number {
  const n = cells.u16(leaf + 6);
  const signature = cells.u16(leaf + 4);
  const stride = leafStride(signature);
  const keep = n >>> 1;
  const second = cells.allocate(4 + (n - keep) * stride);
  cells.setU16(second + 4, signature);
  cells.setU16(second + 6, n - keep);
  cells.copyWithin(second + 8, leaf + 8 + keep * stride, (n - keep) * stride);
  cells.setU16(leaf + 6, keep);
  return second;
}

/** The cells of a subkey list: the list itself and, for an index root, its leaves. */
function subkeyListCells(cells: CellStore, list: number): number[] {
  readListHeader(cells, list, true);
  const out = [list];
  if (cells.u16(list + 4) === SIG_RI) {
    const n = cells.u16(list + 6);
    for (let i = 0; i < n; i++) {
      const leaf = cells.u32(list + 8 + i * 4);
      readListHeader(cells, leaf, false);
      out.push(leaf);
    }
  }
  return out;
}

/** Cells to free and, per security cell, how many of its users go with them. */
interface ReleasePlan {
  cells: Set<number>;
  security: Map<number, number>;
}

/** Carries out a checked plan: drops security references (unlinking cells left unused), frees cells. */
function releaseCells(cells: CellStore, plan: ReleasePlan): void {
  for (const [sk, users] of plan.security) {
    const d = sk + 4;
    const references = cells.u32(d + SK.referenceCount);
    if (references > users) {
      cells.setU32(d + SK.referenceCount, references - users);
      continue;
    }
    const next = cells.u32(d + SK.flink);
    const previous = cells.u32(d + SK.blink);
    if (next !== sk) {
      cells.setU32(previous + 4 + SK.flink, next);
      cells.setU32(next + 4 + SK.blink, previous);
    }
  }
  for (const rel of plan.cells) cells.free(rel);
}

export function isBigData(length: number, bigData: boolean): boolean {
  return bigData && length > BIG_DATA_SEGMENT;
}

/** Reads and validates a db record; returns [segment list offset, segment count]. */
export function readBigDataHeader(cells: CellStore, db: number, length: number): [number, number] {
  const size = cells.cellDataSize(db, "big data");
  if (size < 8 || cells.u16(db + 4) !== SIG_DB) {
    cells.fail("bad-data", db, `value data of ${length} bytes needs a big data (db) record, found ${signatureText(cells, db)}`);
  }
  const segments = cells.u16(db + 6);
  if (segments * BIG_DATA_SEGMENT < length) {
    cells.fail("bad-data", db, `big data has ${segments} segments, too few for ${length} bytes`);
  }
  const list = cells.u32(db + 8);
  const listSize = cells.cellDataSize(list, "big data segment list");
  if (segments * 4 > listSize) cells.fail("bad-data", list, `segment list of ${listSize} bytes cannot hold ${segments} segments`);
  return [list, segments];
}

function readValueData(cells: CellStore, vk: number, bigData: boolean): Uint8Array {
  const range: DataRange = { data: EMPTY, dataStart: 0, dataLength: 0 };
  locateValueData(cells, vk, bigData, range);
  // Reassembled big data is a copy already.
  return range.data === cells.buf ? range.data.slice(range.dataStart, range.dataStart + range.dataLength) : range.data;
}

/** Points `range` at a value's data: in the hive's buffer, or in a copy where big data is reassembled. */
function locateValueData(cells: CellStore, vk: number, bigData: boolean, range: DataRange): void {
  const rawSize = cells.u32(vk + 4 + VK.dataSize);
  const length = rawSize & ~DATA_INLINE;
  let at = vk + 4 + VK.dataOffset;
  if ((rawSize & DATA_INLINE) !== 0) {
    if (length > 4) cells.fail("bad-data", vk, `inline value data claims ${length} bytes (at most 4 fit)`);
  } else if (length > 0) {
    const dataOffset = cells.u32(at);
    if (length > cells.binsSize) cells.fail("bad-data", vk, `value data of ${length} bytes exceeds the hive bins`);
    if (isBigData(length, bigData)) {
      range.data = readBigData(cells, dataOffset, length);
      range.dataStart = 0;
      range.dataLength = length;
      return;
    }
    const size = cells.cellDataSize(dataOffset, "value data");
    if (length > size) cells.fail("bad-data", dataOffset, `value data of ${length} bytes runs past its cell of ${size} bytes`);
    at = dataOffset + 4;
  }
  range.data = cells.buf;
  range.dataStart = BASE_BLOCK_SIZE + at;
  range.dataLength = length;
}

function readBigData(cells: CellStore, dataOffset: number, length: number): Uint8Array {
  const [list] = readBigDataHeader(cells, dataOffset, length);
  const out = new Uint8Array(length);
  for (let at = 0, i = 0; at < length; at += BIG_DATA_SEGMENT, i++) {
    const segment = cells.u32(list + 4 + i * 4);
    const piece = Math.min(BIG_DATA_SEGMENT, length - at);
    const size = cells.cellDataSize(segment, "big data segment");
    if (piece > size) cells.fail("bad-data", segment, `big data segment of ${size} bytes is shorter than ${piece}`);
    out.set(cells.bytes(segment + 4, piece), at);
  }
  return out;
}

function writeValueData(cells: CellStore, vk: number, data: Uint8Array, bigData: boolean): void {
  const d = vk + 4;
  if (data.length <= 4) {
    const inline = new Uint8Array(4);
    inline.set(data);
    cells.setU32(d + VK.dataSize, (data.length | DATA_INLINE) >>> 0);
    cells.setBytes(d + VK.dataOffset, inline);
    return;
  }
  cells.setU32(d + VK.dataSize, data.length);
  if (!isBigData(data.length, bigData)) {
    const cell = cells.allocate(data.length);
    cells.setBytes(cell + 4, data);
    cells.setU32(d + VK.dataOffset, cell);
    return;
  }
  const segments = Math.ceil(data.length / BIG_DATA_SEGMENT);
  const db = cells.allocate(8);
  const list = cells.allocate(segments * 4);
  for (let i = 0; i < segments; i++) {
    const piece = data.subarray(i * BIG_DATA_SEGMENT, Math.min(data.length, (i + 1) * BIG_DATA_SEGMENT));
    // Every segment cell is full-sized, the last one too, as Windows writes them: hivex and libregf take a
    // segment's length from its cell size and misread a shorter last cell.
    const segment = cells.allocate(BIG_DATA_SEGMENT);
    cells.setBytes(segment + 4, piece);
    cells.setU32(list + 4 + i * 4, segment);
  }
  cells.setU16(db + 4, SIG_DB);
  cells.setU16(db + 6, segments);
  cells.setU32(db + 8, list);
  cells.setU32(d + VK.dataOffset, db);
}

/** The cells holding a value's data: none (inline or empty), one data cell, or the db record, its segment list and segments. */
function valueDataCells(cells: CellStore, vk: number, bigData: boolean): number[] {
  const rawSize = cells.u32(vk + 4 + VK.dataSize);
  const length = rawSize & ~DATA_INLINE;
  if ((rawSize & DATA_INLINE) !== 0 || length === 0) return [];
  const dataOffset = cells.u32(vk + 4 + VK.dataOffset);
  cells.cellDataSize(dataOffset, "value data");
  if (!isBigData(length, bigData)) return [dataOffset];
  const [list, segments] = readBigDataHeader(cells, dataOffset, length);
  const out = [dataOffset, list];
  for (let i = 0; i < segments; i++) out.push(cells.u32(list + 4 + i * 4));
  return out;
}
