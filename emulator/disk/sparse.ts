// A sparse image: only the non-zero blocks of a mostly empty image, so a formatted 256 MiB partition with
// nothing on it is committed as a few KB and read back without zlib (which the browser side lacks).
//
// Format, little-endian:
//   0  "SMSPARS1"            magic and version
//   8  u32 blockSize         bytes per block (a power of two, 512..65536)
//  12  u32 blockCount        the whole image's size in blocks
//  16  u32 extentCount
//  20  extents, each: u32 firstBlock, u32 blocks, then blocks × blockSize bytes of data;
//      sorted by firstBlock, not overlapping, inside the image. Blocks not in an extent are zero.
// Pure: no Node or DOM APIs.

export class SparseImageError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`sparse image: ${message} (at byte ${offset})`);
    this.name = "SparseImageError";
  }
}

export interface SparseExtent {
  /** Byte offset in the image. */
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface SparseImage {
  /** The whole image's size in bytes. */
  readonly size: number;
  /** Non-zero data, in order; a view into the encoded bytes, not a copy. */
  readonly extents: readonly SparseExtent[];
}

const MAGIC = "SMSPARS1";
const HEADER_SIZE = 20;
const EXTENT_HEADER_SIZE = 8;

/** Encodes `image` (whose size must be a multiple of `blockSize`), keeping only blocks with a non-zero byte. */
export function encodeSparseImage(image: Uint8Array, blockSize = 512): Uint8Array {
  if (image.length % blockSize !== 0) {
    throw new SparseImageError(`image size ${image.length} is not a multiple of the block size ${blockSize}`, image.length);
  }
  const blockCount = image.length / blockSize;
  const isUsed = (block: number): boolean => image.subarray(block * blockSize, (block + 1) * blockSize).some((b) => b !== 0);
  const runs: { first: number; blocks: number }[] = [];
  for (let block = 0; block < blockCount; block++) {
    if (!isUsed(block)) continue;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.first + last.blocks === block) last.blocks++;
    else runs.push({ first: block, blocks: 1 });
  }
  const dataBytes = runs.reduce((sum, run) => sum + EXTENT_HEADER_SIZE + run.blocks * blockSize, 0);
  const out = new Uint8Array(HEADER_SIZE + dataBytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, blockSize, true);
  view.setUint32(12, blockCount, true);
  view.setUint32(16, runs.length, true);
  let position = HEADER_SIZE;
  for (const run of runs) {
    view.setUint32(position, run.first, true);
    view.setUint32(position + 4, run.blocks, true);
    position += EXTENT_HEADER_SIZE;
    out.set(image.subarray(run.first * blockSize, (run.first + run.blocks) * blockSize), position);
    position += run.blocks * blockSize;
  }
  return out;
}

/** Reads a sparse image's extents (as views into `encoded`); throws SparseImageError on anything malformed. */
export function decodeSparseImage(encoded: Uint8Array): SparseImage {
  if (encoded.length < HEADER_SIZE) throw new SparseImageError(`${encoded.length} bytes is too short for the header`, encoded.length);
  for (let i = 0; i < MAGIC.length; i++) {
    if (encoded[i] !== MAGIC.charCodeAt(i)) throw new SparseImageError(`magic is not ${JSON.stringify(MAGIC)}`, i);
  }
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const blockSize = view.getUint32(8, true);
  if (blockSize < 512 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) {
    throw new SparseImageError(`block size ${blockSize} is not a power of two in 512..65536`, 8);
  }
  const blockCount = view.getUint32(12, true);
  const extentCount = view.getUint32(16, true);
  const extents: SparseExtent[] = [];
  let position = HEADER_SIZE;
  let nextFreeBlock = 0;
  for (let index = 0; index < extentCount; index++) {
    if (position + EXTENT_HEADER_SIZE > encoded.length) {
      throw new SparseImageError(`extent ${index} of ${extentCount} starts past the end of the data`, position);
    }
    const first = view.getUint32(position, true);
    const blocks = view.getUint32(position + 4, true);
    if (blocks === 0 || first < nextFreeBlock || first + blocks > blockCount) {
      throw new SparseImageError(
        `extent ${index} (blocks ${first}+${blocks}) is empty, out of order or outside the image's ${blockCount} blocks`,
        position,
      );
    }
    const dataStart = position + EXTENT_HEADER_SIZE;
    const dataEnd = dataStart + blocks * blockSize;
    if (dataEnd > encoded.length) {
      throw new SparseImageError(`extent ${index} needs ${blocks * blockSize} bytes of data; the file ends first`, encoded.length);
    }
    extents.push({ offset: first * blockSize, bytes: encoded.subarray(dataStart, dataEnd) });
    nextFreeBlock = first + blocks;
    position = dataEnd;
  }
  if (position !== encoded.length) {
    throw new SparseImageError(`${encoded.length - position} bytes follow the last extent`, position);
  }
  return { size: blockCount * blockSize, extents };
}

/** Writes the image's data into `target` at `targetOffset`; every extent must fit in `target`. */
export function writeSparseImage(image: SparseImage, target: Uint8Array, targetOffset: number): void {
  for (const extent of image.extents) {
    const end = targetOffset + extent.offset + extent.bytes.length;
    if (end > target.length) {
      throw new SparseImageError(`extent at image byte ${extent.offset} ends at ${end}, past the target's ${target.length} bytes`, extent.offset);
    }
    target.set(extent.bytes, targetOffset + extent.offset);
  }
}
