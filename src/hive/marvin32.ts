// Marvin32, the keyed hash Windows uses to protect new-format (HvLE) log entries. Written from the
// algorithm's description: two 32-bit lanes, one mixing round per 4-byte block, then a padded tail block and
// two more rounds.

/** The registry's seed, as a 64-bit number (lane 0 = low half, lane 1 = high half). */
export const REGISTRY_MARVIN_SEED_LO = 0x7a4e55c5;
export const REGISTRY_MARVIN_SEED_HI = 0x82ef4d88;

/** Returns the 64-bit hash as [low dword, high dword]. */
export function marvin32(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  seedLo = REGISTRY_MARVIN_SEED_LO,
  seedHi = REGISTRY_MARVIN_SEED_HI,
): [number, number] {
  let p0 = seedLo | 0;
  let p1 = seedHi | 0;
  let i = start;
  const fullEnd = end - ((end - start) & 3);
  for (; i < fullEnd; i += 4) {
    p0 = (p0 + (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) | 0;
    // Mixing round (inlined: this loop runs over megabytes of log data).
    p1 ^= p0;
    p0 = (p0 << 20) | (p0 >>> 12);
    p0 = (p0 + p1) | 0;
    p1 = (p1 << 9) | (p1 >>> 23);
    p1 ^= p0;
    p0 = (p0 << 27) | (p0 >>> 5);
    p0 = (p0 + p1) | 0;
    p1 = (p1 << 19) | (p1 >>> 13);
  }
  // The tail: the remaining 0-3 bytes, then a 0x80 marker byte, zero-padded to a dword.
  let tail = 0x80;
  const rest = end - i;
  if (rest === 1) tail = 0x8000 | bytes[i];
  else if (rest === 2) tail = 0x800000 | bytes[i] | (bytes[i + 1] << 8);
  else if (rest === 3) tail = 0x80000000 | bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16);
  p0 = (p0 + tail) | 0;
  for (let round = 0; round < 2; round++) {
    p1 ^= p0;
    p0 = (p0 << 20) | (p0 >>> 12);
    p0 = (p0 + p1) | 0;
    p1 = (p1 << 9) | (p1 >>> 23);
    p1 ^= p0;
    p0 = (p0 << 27) | (p0 >>> 5);
    p0 = (p0 + p1) | 0;
    p1 = (p1 << 19) | (p1 >>> 13);
  }
  return [p0 >>> 0, p1 >>> 0];
}
