// Where a FAT volume's bytes live. On the host the whole partition is in memory (a disk image being built
// or read back); in the guest autochk reaches a volume through its block device, where reading a whole
// 64 MiB partition into a 64 MiB machine is not an option, so a page cache loads what the check touches
// and writes back only the pages it changed.

export interface VolumeBytes {
  readonly length: number;
  u8(offset: number): number;
  u16(offset: number): number;
  u32(offset: number): number;
  setU8(offset: number, value: number): void;
  setU16(offset: number, value: number): void;
  setU32(offset: number, value: number): void;
  /** `length` bytes from `offset`; the caller must not change them. */
  read(offset: number, length: number): Uint8Array;
  write(data: Uint8Array, offset: number): void;
  fill(value: number, start: number, end: number): void;
}

/** A partition's bytes in memory; writes land in the given array (a view into a disk image works). */
export class MemoryBytes implements VolumeBytes {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  u8(offset: number): number {
    return this.bytes[offset];
  }
  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
  setU8(offset: number, value: number): void {
    this.bytes[offset] = value;
  }
  setU16(offset: number, value: number): void {
    this.view.setUint16(offset, value, true);
  }
  setU32(offset: number, value: number): void {
    this.view.setUint32(offset, value, true);
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
  write(data: Uint8Array, offset: number): void {
    this.bytes.set(data, offset);
  }
  fill(value: number, start: number, end: number): void {
    this.bytes.fill(value, start, end);
  }
}

/** A block device as positioned reads and writes (the guest's /dev/sdXN). */
export interface BlockDevice {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

const PAGE_SIZE = 4096;

/** A volume on a block device, through a write-back page cache: flush() writes the changed pages in order. */
export class CachedDeviceBytes implements VolumeBytes {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly dirty = new Set<number>();
  /** The page used last: byte-wise access walks through one page at a time. */
  private lastIndex = -1;
  private lastPage: Uint8Array = new Uint8Array(0);
  constructor(private readonly device: BlockDevice) {}

  get length(): number {
    return this.device.size;
  }

  /** Pages written back so far, for reports. */
  pagesWritten = 0;

  flush(): void {
    for (const index of [...this.dirty].sort((a, b) => a - b)) {
      const page = this.pages.get(index)!;
      const start = index * PAGE_SIZE;
      this.device.write(start, page.subarray(0, Math.min(PAGE_SIZE, this.length - start)));
      this.pagesWritten++;
    }
    this.dirty.clear();
  }

  private page(index: number): Uint8Array {
    if (index === this.lastIndex) return this.lastPage;
    let page = this.pages.get(index);
    if (page === undefined) {
      page = new Uint8Array(PAGE_SIZE);
      const start = index * PAGE_SIZE;
      page.set(this.device.read(start, Math.min(PAGE_SIZE, this.length - start)));
      this.pages.set(index, page);
    }
    this.lastIndex = index;
    this.lastPage = page;
    return page;
  }

  u8(offset: number): number {
    return this.page(Math.floor(offset / PAGE_SIZE))[offset % PAGE_SIZE];
  }
  u16(offset: number): number {
    return this.u8(offset) | (this.u8(offset + 1) << 8);
  }
  u32(offset: number): number {
    return (this.u16(offset) | (this.u16(offset + 2) << 16)) >>> 0;
  }
  setU8(offset: number, value: number): void {
    const index = Math.floor(offset / PAGE_SIZE);
    this.page(index)[offset % PAGE_SIZE] = value;
    this.dirty.add(index);
  }
  setU16(offset: number, value: number): void {
    this.setU8(offset, value & 0xff);
    this.setU8(offset + 1, (value >>> 8) & 0xff);
  }
  setU32(offset: number, value: number): void {
    this.setU16(offset, value & 0xffff);
    this.setU16(offset + 2, (value >>> 16) & 0xffff);
  }
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const at = offset + done;
      const page = this.page(Math.floor(at / PAGE_SIZE));
      const within = at % PAGE_SIZE;
      const count = Math.min(PAGE_SIZE - within, length - done);
      out.set(page.subarray(within, within + count), done);
      done += count;
    }
    return out;
  }
  write(data: Uint8Array, offset: number): void {
    for (let done = 0; done < data.length; ) {
      const at = offset + done;
      const index = Math.floor(at / PAGE_SIZE);
      const within = at % PAGE_SIZE;
      const count = Math.min(PAGE_SIZE - within, data.length - done);
      this.page(index).set(data.subarray(done, done + count), within);
      this.dirty.add(index);
      done += count;
    }
  }
  fill(value: number, start: number, end: number): void {
    this.write(new Uint8Array(end - start).fill(value), start);
  }
}
