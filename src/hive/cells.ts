// The hive bins of one hive image, held in a single growable buffer (base block at 0, bins from 0x1000),
// with bounds-checked cell access, dirty-page tracking for commits and a cell allocator.

import { BASE_BLOCK_SIZE, HBIN_ALIGN } from "./base-block.ts";
import { HiveError, type HiveErrorCode } from "./errors.ts";

export const HBIN_HEADER_SIZE = 32;
const HBIN_SIGNATURE = 0x6e696268; // "hbin" as a little-endian u32
export const NO_CELL = 0xffffffff;
/** Free cells up to this size sit in exact-size buckets; larger ones in one first-fit set. */
const SMALL_CELL_LIMIT = 1024;

const B = BASE_BLOCK_SIZE;

export class CellStore {
  buf: Uint8Array;
  view: DataView;
  binsSize: number;
  /** Per 4 KiB page of the bins: offset of the hbin that contains it. */
  private binOfPage: Int32Array;
  /** Per 4 KiB page of the bins: nonzero when changed since the last commit. */
  dirtyPages: Uint8Array;
  private allocator: Allocator | undefined;

  /**
   * image is read in place until the first change, which copies it (so opening a hive costs no copy and
   * never alters the caller's bytes); owned says the copy has been made, or was never needed.
   */
  constructor(
    image: Uint8Array,
    binsSize: number,
    readonly file: string,
    private owned: boolean,
  ) {
    // A plain Uint8Array view: a Node Buffer's slice() would share memory instead of copying.
    this.buf = new Uint8Array(image.buffer, image.byteOffset, image.byteLength);
    this.view = new DataView(image.buffer, image.byteOffset, image.byteLength);
    this.binsSize = binsSize;
    this.binOfPage = new Int32Array(binsSize / HBIN_ALIGN);
    this.dirtyPages = new Uint8Array(binsSize / HBIN_ALIGN);
    this.indexBins();
  }

  fail(code: HiveErrorCode, rel: number, reason: string): never {
    throw new HiveError(code, reason, this.file, rel + B);
  }

  /** Walks the hbin headers: each must carry its own offset and a size that keeps it inside the bins. */
  private indexBins(): void {
    let at = 0;
    while (at < this.binsSize) {
      const abs = B + at;
      if (this.view.getUint32(abs, true) !== HBIN_SIGNATURE) {
        this.fail("bad-hbin", at, `expected an hbin header (hive bins size says 0x${this.binsSize.toString(16)})`);
      }
      const claimed = this.view.getUint32(abs + 4, true);
      if (claimed !== at) this.fail("bad-hbin", at, `hbin says it is at offset 0x${claimed.toString(16)}`);
      const size = this.view.getUint32(abs + 8, true);
      if (size < HBIN_ALIGN || size % HBIN_ALIGN !== 0 || size > this.binsSize - at) {
        this.fail("bad-hbin", at, `hbin size 0x${size.toString(16)} is not a multiple of 4 KiB inside the bins`);
      }
      this.binOfPage.fill(at, at / HBIN_ALIGN, (at + size) / HBIN_ALIGN);
      at += size;
    }
  }

  binEnd(rel: number): number {
    const start = this.binOfPage[rel >>> 12];
    return start + this.view.getUint32(B + start + 8, true);
  }

  /**
   * Validates that rel names an allocated cell lying inside one hbin and returns the size of its data (the
   * bytes after the 4-byte size field). `what` names the record for the error message.
   */
  cellDataSize(rel: number, what: string): number {
    if (rel === NO_CELL) this.fail("bad-cell", rel, `${what}: no cell (offset 0xffffffff)`);
    if (rel % 8 !== 0) this.fail("bad-cell", rel, `${what}: cell offset 0x${rel.toString(16)} is not 8-byte aligned`);
    if (rel >= this.binsSize) {
      this.fail("bad-cell", rel, `${what}: cell offset 0x${rel.toString(16)} is outside the hive bins (0x${this.binsSize.toString(16)} bytes)`);
    }
    const start = this.binOfPage[rel >>> 12];
    if (rel < start + HBIN_HEADER_SIZE) this.fail("bad-cell", rel, `${what}: cell offset points into an hbin header`);
    const size = this.view.getInt32(B + rel, true);
    if (size >= 0) this.fail("bad-cell", rel, `${what}: cell is not allocated (size field ${size})`);
    const length = -size;
    const end = start + this.view.getUint32(B + start + 8, true);
    if (length < 8 || length > end - rel) {
      this.fail("bad-cell", rel, `${what}: cell size ${length} runs past the end of its hbin`);
    }
    return length - 4;
  }

  // Reads at offsets relative to the hive bins (callers have bounds-checked them against a cell).
  u8(rel: number): number {
    return this.buf[B + rel];
  }
  u16(rel: number): number {
    return this.view.getUint16(B + rel, true);
  }
  u32(rel: number): number {
    return this.view.getUint32(B + rel, true);
  }
  u64(rel: number): bigint {
    return this.view.getBigUint64(B + rel, true);
  }
  /** A view of bytes inside the image (valid until the image next grows). */
  bytes(rel: number, length: number): Uint8Array {
    return this.buf.subarray(B + rel, B + rel + length);
  }
  /** A copy of bytes inside the image. */
  copy(rel: number, length: number): Uint8Array {
    return this.buf.slice(B + rel, B + rel + length);
  }

  private own(): void {
    if (this.owned) return;
    const copy = new Uint8Array(this.buf.length);
    copy.set(this.buf);
    this.buf = copy;
    this.view = new DataView(copy.buffer);
    this.owned = true;
  }

  markDirty(rel: number, length: number): void {
    const last = (rel + Math.max(length, 1) - 1) >>> 12;
    for (let page = rel >>> 12; page <= last; page++) this.dirtyPages[page] = 1;
  }
  setU16(rel: number, value: number): void {
    this.own();
    this.view.setUint16(B + rel, value, true);
    this.dirtyPages[rel >>> 12] = 1;
  }
  setU32(rel: number, value: number): void {
    this.own();
    this.view.setUint32(B + rel, value >>> 0, true);
    this.markDirty(rel, 4);
  }
  setU64(rel: number, value: bigint): void {
    this.own();
    this.view.setBigUint64(B + rel, value, true);
    this.markDirty(rel, 8);
  }
  setBytes(rel: number, bytes: Uint8Array): void {
    this.own();
    this.buf.set(bytes, B + rel);
    this.markDirty(rel, bytes.length);
  }
  copyWithin(toRel: number, fromRel: number, length: number): void {
    this.own();
    this.buf.copyWithin(B + toRel, B + fromRel, B + fromRel + length);
    this.markDirty(toRel, length);
  }

  /** Visits every cell of every hbin and returns the number of hbins; throws when cells do not tile an hbin. */
  forEachCell(visit: (rel: number, size: number, allocated: boolean) => void): number {
    let bins = 0;
    for (let bin = 0; bin < this.binsSize; bin = this.binEnd(bin)) {
      bins++;
      const end = this.binEnd(bin);
      let at = bin + HBIN_HEADER_SIZE;
      while (at < end) {
        const raw = this.view.getInt32(B + at, true);
        const size = raw < 0 ? -raw : raw;
        if (size < 8 || size % 8 !== 0 || size > end - at) {
          this.fail("bad-cell", at, `cell size ${raw} breaks the cell chain of the hbin at 0x${(bin + B).toString(16)}`);
        }
        visit(at, size, raw < 0);
        at += size;
      }
    }
    return bins;
  }

  private alloc(): Allocator {
    if (this.allocator === undefined) {
      this.own();
      this.allocator = new Allocator(this);
    }
    return this.allocator;
  }

  /** Allocates a zero-filled cell with room for dataLength bytes; returns its offset. */
  allocate(dataLength: number): number {
    return this.alloc().allocate(dataLength);
  }

  free(rel: number): void {
    this.alloc().free(rel);
  }

  /** Throws unless rel starts an allocated cell, i.e. free() and reallocate() will accept it. */
  checkReleasable(rel: number, what: string): void {
    this.alloc().checkAllocated(rel, what);
  }

  /** Returns a cell (possibly moved) with room for dataLength bytes, keeping its current data. */
  reallocate(rel: number, dataLength: number): number {
    return this.alloc().reallocate(rel, dataLength);
  }

  /** Appends an hbin of `size` bytes holding one free cell; returns the free cell's offset. */
  appendBin(size: number): number {
    const at = this.binsSize;
    const needed = B + at + size;
    if (needed > 0x7ffff000) throw new HiveError("too-large", `hive would exceed 2 GiB`, this.file);
    if (needed > this.buf.length) {
      let capacity = Math.max(this.buf.length * 2, 0x10000);
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, 0x80000000));
      grown.set(this.buf.subarray(0, B + at));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    } else {
      this.buf.fill(0, B + at, needed);
    }
    const pages = (at + size) / HBIN_ALIGN;
    if (pages > this.binOfPage.length) {
      const capacity = Math.max(pages, this.binOfPage.length * 2);
      const binOf = new Int32Array(capacity);
      binOf.set(this.binOfPage);
      this.binOfPage = binOf;
      const dirty = new Uint8Array(capacity);
      dirty.set(this.dirtyPages);
      this.dirtyPages = dirty;
    }
    this.binOfPage.fill(at, at / HBIN_ALIGN, pages);
    const abs = B + at;
    this.view.setUint32(abs, HBIN_SIGNATURE, true);
    this.view.setUint32(abs + 4, at, true);
    this.view.setUint32(abs + 8, size, true);
    this.view.setInt32(abs + HBIN_HEADER_SIZE, size - HBIN_HEADER_SIZE, true);
    this.binsSize += size;
    this.markDirty(at, size);
    return at + HBIN_HEADER_SIZE;
  }

  /** Pages per 4 KiB of the bins (the dirty bitmap may be longer than that). */
  get pageCount(): number {
    return this.binsSize / HBIN_ALIGN;
  }

  markAllDirty(): void {
    this.dirtyPages.fill(1, 0, this.pageCount);
  }

  clearDirty(): void {
    this.dirtyPages.fill(0);
  }
}

/** Size class of a free cell above SMALL_CELL_LIMIT: floor(log2(size)). */
function largeClass(size: number): number {
  return 31 - Math.clz32(size);
}

/**
 * Free-cell management, built on the first change: exact-size buckets for small cells, power-of-two
 * classes for large ones, a map from each free cell's end to its start (to coalesce with the cell before a
 * freed one) and a bitmap of cell starts (so a corrupt pointer cannot make us "free" the middle of a cell).
 */
class Allocator {
  private readonly small: Set<number>[] = [];
  private readonly large: Set<number>[] = [];
  private readonly freeByEnd = new Map<number, number>();
  private cellStarts: Uint8Array;

  constructor(private readonly cells: CellStore) {
    for (let i = 0; i <= SMALL_CELL_LIMIT / 8; i++) this.small.push(new Set());
    for (let i = 0; i <= 31; i++) this.large.push(new Set());
    this.cellStarts = new Uint8Array(Math.ceil(cells.binsSize / 64) + 1);
    cells.forEachCell((rel, size, allocated) => {
      this.setStart(rel, true);
      if (!allocated) this.addFree(rel, size);
    });
  }

  private setStart(rel: number, on: boolean): void {
    const index = rel >>> 3;
    if (on) this.cellStarts[index >>> 3] |= 1 << (index & 7);
    else this.cellStarts[index >>> 3] &= ~(1 << (index & 7));
  }

  private isStart(rel: number): boolean {
    const index = rel >>> 3;
    return (this.cellStarts[index >>> 3] & (1 << (index & 7))) !== 0;
  }

  private addFree(rel: number, size: number): void {
    if (size <= SMALL_CELL_LIMIT) this.small[size >>> 3].add(rel);
    else this.large[largeClass(size)].add(rel);
    this.freeByEnd.set(rel + size, rel);
  }

  private removeFree(rel: number, size: number): void {
    if (size <= SMALL_CELL_LIMIT) this.small[size >>> 3].delete(rel);
    else this.large[largeClass(size)].delete(rel);
    this.freeByEnd.delete(rel + size);
  }

  private findFree(need: number): number | undefined {
    if (need <= SMALL_CELL_LIMIT) {
      for (let i = need >>> 3; i < this.small.length; i++) {
        const bucket = this.small[i];
        if (bucket.size > 0) return bucket.values().next().value as number;
      }
    }
    // Only the class holding `need` can contain cells too small; any cell of a higher class fits.
    const first = largeClass(Math.max(need, SMALL_CELL_LIMIT + 8));
    for (const rel of this.large[first]) {
      if (this.cells.view.getInt32(B + rel, true) >= need) return rel;
    }
    for (let k = first + 1; k < this.large.length; k++) {
      const bucket = this.large[k];
      if (bucket.size > 0) return bucket.values().next().value as number;
    }
    return undefined;
  }

  allocate(dataLength: number): number {
    const need = cellSizeFor(dataLength);
    let rel = this.findFree(need);
    if (rel === undefined) {
      const binSize = Math.ceil((need + HBIN_HEADER_SIZE) / HBIN_ALIGN) * HBIN_ALIGN;
      const oldPages = this.cellStarts.length;
      const wanted = Math.ceil((this.cells.binsSize + binSize) / 64) + 1;
      if (wanted > oldPages) {
        const grown = new Uint8Array(Math.max(wanted, oldPages * 2));
        grown.set(this.cellStarts);
        this.cellStarts = grown;
      }
      rel = this.cells.appendBin(binSize);
      this.setStart(rel, true);
      this.addFree(rel, binSize - HBIN_HEADER_SIZE);
    }
    this.take(rel, need);
    this.cells.buf.fill(0, B + rel + 4, B + rel + need);
    return rel;
  }

  /** Turns the free cell at rel into an allocated cell of `need` bytes, returning any rest to the free lists. */
  private take(rel: number, need: number): void {
    const size = this.cells.view.getInt32(B + rel, true);
    this.removeFree(rel, size);
    if (size - need >= 8) {
      const rest = rel + need;
      this.cells.view.setInt32(B + rest, size - need, true);
      this.setStart(rest, true);
      this.addFree(rest, size - need);
      this.cells.markDirty(rest, 4);
      this.cells.view.setInt32(B + rel, -need, true);
    } else {
      this.cells.view.setInt32(B + rel, -size, true);
    }
    this.cells.markDirty(rel, need);
  }

  checkAllocated(rel: number, what: string): number {
    if (rel >= this.cells.binsSize || !this.isStart(rel)) {
      this.cells.fail("bad-cell", rel, `${what}: offset is not the start of a cell`);
    }
    const raw = this.cells.view.getInt32(B + rel, true);
    if (raw >= 0) this.cells.fail("bad-cell", rel, `${what}: cell is already free`);
    return -raw;
  }

  free(rel: number): void {
    let size = this.checkAllocated(rel, "cell to release");
    let start = rel;
    const next = rel + size;
    if (next < this.cells.binEnd(rel) && this.cells.view.getInt32(B + next, true) > 0) {
      const nextSize = this.cells.view.getInt32(B + next, true);
      this.removeFree(next, nextSize);
      this.setStart(next, false);
      size += nextSize;
    }
    const previous = this.freeByEnd.get(rel);
    if (previous !== undefined) {
      const previousSize = this.cells.view.getInt32(B + previous, true);
      this.removeFree(previous, previousSize);
      this.setStart(rel, false);
      start = previous;
      size += previousSize;
    }
    this.cells.view.setInt32(B + start, size, true);
    this.cells.markDirty(start, 4);
    this.addFree(start, size);
  }

  reallocate(rel: number, dataLength: number): number {
    const size = this.checkAllocated(rel, "cell to grow");
    const need = cellSizeFor(dataLength);
    if (need <= size) return rel;
    const next = rel + size;
    if (next < this.cells.binEnd(rel)) {
      const nextRaw = this.cells.view.getInt32(B + next, true);
      if (nextRaw > 0 && size + nextRaw >= need) {
        // Grow in place into the free neighbour.
        this.removeFree(next, nextRaw);
        this.setStart(next, false);
        const combined = size + nextRaw;
        this.cells.buf.fill(0, B + next, B + next + Math.min(nextRaw, need - size));
        if (combined - need >= 8) {
          const rest = rel + need;
          this.cells.view.setInt32(B + rest, combined - need, true);
          this.setStart(rest, true);
          this.addFree(rest, combined - need);
          this.cells.view.setInt32(B + rel, -need, true);
        } else {
          this.cells.view.setInt32(B + rel, -combined, true);
        }
        this.cells.markDirty(rel, need + 4);
        return rel;
      }
    }
    const moved = this.allocate(dataLength);
    this.cells.copyWithin(moved + 4, rel + 4, size - 4);
    this.free(rel);
    return moved;
  }
}

/** Cell size (size field included, 8-byte aligned) for dataLength bytes of data. */
export function cellSizeFor(dataLength: number): number {
  return Math.max(8, (dataLength + 4 + 7) & ~7);
}
