// Value types and the encoders for value data. The registry stores any 32-bit type number; these are the
// predefined ones.

import { encodeUtf16le } from "./text.ts";

export const REG_NONE = 0;
export const REG_SZ = 1;
export const REG_EXPAND_SZ = 2;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_DWORD_BIG_ENDIAN = 5;
export const REG_LINK = 6;
export const REG_MULTI_SZ = 7;
export const REG_RESOURCE_LIST = 8;
export const REG_FULL_RESOURCE_DESCRIPTOR = 9;
export const REG_RESOURCE_REQUIREMENTS_LIST = 10;
export const REG_QWORD = 11;

const TYPE_NAMES = [
  "REG_NONE",
  "REG_SZ",
  "REG_EXPAND_SZ",
  "REG_BINARY",
  "REG_DWORD",
  "REG_DWORD_BIG_ENDIAN",
  "REG_LINK",
  "REG_MULTI_SZ",
  "REG_RESOURCE_LIST",
  "REG_FULL_RESOURCE_DESCRIPTOR",
  "REG_RESOURCE_REQUIREMENTS_LIST",
  "REG_QWORD",
];

/** "REG_SZ" for 1, ..., and "0x%08x" for type numbers without a name. */
export function valueTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${(type >>> 0).toString(16).padStart(8, "0")}`;
}

/** REG_SZ / REG_EXPAND_SZ data: UTF-16LE with the terminating NUL Windows' API adds. */
export function encodeString(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2 + 2);
  out.set(encodeUtf16le(text));
  return out;
}

/** REG_MULTI_SZ data: each string NUL-terminated, then one more NUL (an empty list is a single NUL). */
export function encodeMultiString(strings: readonly string[]): Uint8Array {
  const total = strings.reduce((n, s) => n + s.length + 1, 0) + 1;
  const out = new Uint8Array(total * 2);
  let at = 0;
  for (const s of strings) {
    out.set(encodeUtf16le(s), at);
    at += s.length * 2 + 2;
  }
  return out;
}

export function encodeDword(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

export function encodeQword(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return out;
}
