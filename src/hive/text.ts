// String codecs the registry needs, written out because QuickJS 2021 has no TextEncoder/TextDecoder.
// Registry names and REG_SZ data are UTF-16LE; "compressed" names (KEY_COMP_NAME / VALUE_COMP_NAME) hold
// one byte per character, Latin-1.

/** Characters per String.fromCharCode call: keeps the argument list far below engines' limits. */
const CHUNK = 8192;

/** True on the machines this runs on (x86, and the usual hosts): UTF-16LE units can be read in place. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A string from code units, a chunk per String.fromCharCode call: handing the engine a typed array keeps
 * the per-character work in native code (a loop over the units costs QuickJS two to three times as much).
 */
function fromCodeUnits(units: Uint8Array | Uint16Array): string {
  if (units.length <= CHUNK) return String.fromCharCode.apply(null, units as unknown as number[]);
  let out = "";
  for (let at = 0; at < units.length; at += CHUNK) out += String.fromCharCode.apply(null, units.subarray(at, at + CHUNK) as unknown as number[]);
  return out;
}

/**
 * The UTF-16LE code units of bytes[start, end) (an odd last byte is dropped): a view of the same memory
 * when its offset is even, else a copy. Callers search it with the native indexOf rather than a loop.
 */
export function utf16Units(bytes: Uint8Array, start = 0, end = bytes.length): Uint16Array {
  const count = (end - start) >> 1;
  if (!LITTLE_ENDIAN) {
    const units = new Uint16Array(count);
    for (let k = 0; k < count; k++) units[k] = bytes[start + 2 * k] | (bytes[start + 2 * k + 1] << 8);
    return units;
  }
  const offset = bytes.byteOffset + start;
  return offset % 2 === 0 ? new Uint16Array(bytes.buffer, offset, count) : new Uint16Array(bytes.slice(start, start + 2 * count).buffer);
}

/** Decodes UTF-16LE code units as they are (unpaired surrogates are kept, not replaced). */
export function decodeUtf16le(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return fromCodeUnits(utf16Units(bytes, start, end));
}

/** UTF-16LE text up to its first NUL unit, or all of it when there is none. */
export function decodeUtf16leToNul(bytes: Uint8Array): string {
  const units = utf16Units(bytes);
  const nul = units.indexOf(0);
  return fromCodeUnits(nul < 0 ? units : units.subarray(0, nul));
}

export function encodeUtf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[2 * i] = unit & 0xff;
    out[2 * i + 1] = unit >>> 8;
  }
  return out;
}

export function decodeLatin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return fromCodeUnits(bytes.subarray(start, end));
}

/** True when every code unit fits in one byte, i.e. the name can be stored "compressed". */
export function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

export function encodeLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** UTF-8 encoding of a JS string (lone surrogates become U+FFFD), for callers that produce UTF-8 text. */
export function encodeUtf8(text: string): Uint8Array {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  const out = new Uint8Array(text.length * 3);
  return out.slice(0, encodeUtf8Units(units, units.length, out));
}

/**
 * Encodes the first `count` UTF-16 code units as UTF-8 into `out` (room for 3 bytes a unit) and returns the
 * bytes written. A surrogate pair becomes one 4-byte sequence; a lone surrogate becomes U+FFFD.
 */
export function encodeUtf8Units(units: Uint16Array, count: number, out: Uint8Array): number {
  let at = 0;
  for (let i = 0; i < count; i++) {
    let codePoint = units[i];
    if (codePoint < 0x80) {
      out[at++] = codePoint;
      continue;
    }
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      const low = i + 1 < count ? units[i + 1] : 0;
      if (codePoint <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        codePoint = 0xfffd;
      }
    }
    if (codePoint < 0x800) {
      out[at++] = 0xc0 | (codePoint >> 6);
      out[at++] = 0x80 | (codePoint & 0x3f);
    } else if (codePoint < 0x10000) {
      out[at++] = 0xe0 | (codePoint >> 12);
      out[at++] = 0x80 | ((codePoint >> 6) & 0x3f);
      out[at++] = 0x80 | (codePoint & 0x3f);
    } else {
      out[at++] = 0xf0 | (codePoint >> 18);
      out[at++] = 0x80 | ((codePoint >> 12) & 0x3f);
      out[at++] = 0x80 | ((codePoint >> 6) & 0x3f);
      out[at++] = 0x80 | (codePoint & 0x3f);
    }
  }
  return at;
}

/** UTF-8 decoding; malformed sequences become U+FFFD (never throws). */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  // Messages and most text are ASCII: finding that out costs a fraction of decoding byte by byte, and the
  // ASCII prefix then becomes a string in native code.
  let i = start;
  while (i < end && bytes[i] < 0x80) i++;
  let out = i > start ? fromCodeUnits(bytes.subarray(start, i)) : "";
  const units: number[] = [];
  while (i < end) {
    const b = bytes[i];
    let cp = 0xfffd;
    let len = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xf4) {
      len = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
      const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
      let value = b & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
      let ok = i + len <= end;
      for (let k = 1; ok && k < len; k++) {
        const c = bytes[i + k];
        if ((c & 0xc0) !== 0x80) ok = false;
        else value = (value << 6) | (c & 0x3f);
      }
      if (ok && value >= min && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff)) cp = value;
      else len = 1;
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
    if (units.length >= 4096) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  if (units.length > 0) out += String.fromCharCode.apply(null, units);
  return out;
}

/**
 * A name or path quoted for a message: as it is (backslashes too, so a key path reads as one), with only
 * control characters spelled out, so that a message stays on one line.
 */
export function quote(text: string): string {
  return `"${text.replace(/[\x00-\x1f\x7f]/g, (c) => CONTROL_NAMES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}"`;
}

const CONTROL_NAMES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };
