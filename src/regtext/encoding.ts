// The two encodings a .reg file comes in: UTF-16LE with a byte-order mark (what regedit writes) and UTF-8
// (with or without a BOM; what people keep in repositories). Written out by hand because QuickJS 2021 has
// no TextDecoder, and because decoding must be strict: a bad byte is reported, never replaced.

import { RegTextError } from "./errors.ts";

export type RegEncoding = "utf-16le" | "utf-8";

/** Decodes a .reg file to UTF-16 code units, without its BOM. */
export function decodeRegText(bytes: Uint8Array, fileName: string): Uint16Array {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16le(bytes, fileName);
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    throw new RegTextError(fileName, 1, 1, "UTF-16 big-endian text is not supported; save it as UTF-16LE or UTF-8");
  }
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return decodeUtf8(bytes, start, fileName);
}

function decodeUtf16le(bytes: Uint8Array, fileName: string): Uint16Array {
  const count = (bytes.length - 2) >>> 1;
  const units = new Uint16Array(count);
  for (let i = 0, at = 2; i < count; i++, at += 2) units[i] = bytes[at] | (bytes[at + 1] << 8);
  if ((bytes.length & 1) !== 0) {
    const { line, column } = positionAt(units, count);
    throw new RegTextError(fileName, line, column, `UTF-16LE text has an odd number of bytes (${bytes.length})`);
  }
  return units;
}

function decodeUtf8(bytes: Uint8Array, start: number, fileName: string): Uint16Array {
  const units = new Uint16Array(bytes.length - start);
  let count = 0;
  let i = start;
  const end = bytes.length;
  while (i < end) {
    const lead = bytes[i];
    if (lead < 0x80) {
      units[count++] = lead;
      i++;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    let codePoint = length === 2 ? lead & 0x1f : length === 3 ? lead & 0x0f : lead & 0x07;
    let valid = length !== 0 && i + length <= end;
    for (let k = 1; valid && k < length; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) valid = false;
      else codePoint = (codePoint << 6) | (next & 0x3f);
    }
    const minimum = length === 2 ? 0x80 : length === 3 ? 0x800 : 0x10000;
    if (!valid || codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
      const { line, column } = positionAt(units, count);
      const hex = lead.toString(16).padStart(2, "0");
      throw new RegTextError(
        fileName,
        line,
        column,
        `invalid UTF-8 at byte offset ${i} (byte 0x${hex}); the file must be UTF-8 or UTF-16LE with a BOM`,
      );
    }
    if (codePoint >= 0x10000) {
      codePoint -= 0x10000;
      units[count++] = 0xd800 | (codePoint >> 10);
      units[count++] = 0xdc00 | (codePoint & 0x3ff);
    } else {
      units[count++] = codePoint;
    }
    i += length;
  }
  return units.subarray(0, count);
}

/** Line and column (1-based) of the code unit at `index`, counting LF, CRLF and lone CR as line breaks. */
function positionAt(units: Uint16Array, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    const unit = units[i];
    if (unit === 0x0a || (unit === 0x0d && units[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}

const HEX_CODES = Uint8Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));

/**
 * Builds encoded .reg text straight into one byte buffer: an export of a large hive is tens of megabytes,
 * and building a JS string first would multiply the work and the memory. The buffer grows fourfold when
 * full: few large allocations cost far less (in copying and in garbage collections triggered by external
 * memory) than many chunks joined at the end, and pages never written are never touched.
 */
export class RegTextWriter {
  // Bytes past `length` are always zero, so UTF-16LE output only writes the low byte of ASCII characters.
  private buffer = new Uint8Array(1 << 16);
  private length = 0;
  private readonly wide: boolean;

  constructor(readonly encoding: RegEncoding) {
    this.wide = encoding === "utf-16le";
    if (this.wide) {
      this.buffer[0] = 0xff;
      this.buffer[1] = 0xfe;
      this.length = 2;
    }
  }

  /** Appends text whose characters are all ASCII (the format's own syntax, hex digits). */
  ascii(text: string): void {
    const count = text.length;
    const step = this.wide ? 2 : 1;
    this.reserve(count * step);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < count; i++, at += step) buffer[at] = text.charCodeAt(i);
    this.length = at;
  }

  /** Appends any text; in UTF-8 the caller has made sure it has no unpaired surrogate. */
  text(text: string): void {
    const count = text.length;
    if (this.wide) {
      this.reserve(count * 2);
      const buffer = this.buffer;
      let at = this.length;
      for (let i = 0; i < count; i++, at += 2) {
        const unit = text.charCodeAt(i);
        buffer[at] = unit & 0xff;
        buffer[at + 1] = unit >>> 8;
      }
      this.length = at;
      return;
    }
    this.reserve(count * 3);
    let at = this.length;
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      at = this.putUtf8(at, unit, unit >= 0xd800 && unit <= 0xdbff ? text.charCodeAt(++i) : 0);
    }
    this.length = at;
  }

  /** True when the text has no line break and, in UTF-8, no unpaired surrogate. */
  canWrite(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit === 0x0a || unit === 0x0d) return false;
      if (unit < 0xd800 || unit > 0xdfff || this.wide) continue;
      const next = text.charCodeAt(i + 1);
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
    return true;
  }

  /**
   * Appends "text" with \\ and " escaped and returns the characters written, or -1 when canWrite(text) is
   * false; the output is then broken and the writer must be dropped.
   */
  quotedText(text: string): number {
    const count = text.length;
    const wide = this.wide;
    this.reserve((count * 2 + 2) * (wide ? 2 : 3));
    const buffer = this.buffer;
    let at = this.length;
    let written = count + 2;
    buffer[at] = 0x22;
    at += wide ? 2 : 1;
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      if (unit === 0x5c || unit === 0x22) {
        buffer[at] = 0x5c;
        at += wide ? 2 : 1;
        written++;
      } else if (unit === 0x0a || unit === 0x0d) {
        return -1;
      }
      if (wide) {
        buffer[at] = unit & 0xff;
        buffer[at + 1] = unit >>> 8;
        at += 2;
      } else if (unit < 0x80) {
        buffer[at++] = unit;
      } else {
        let low = 0;
        if (unit >= 0xd800 && unit <= 0xdfff) {
          low = text.charCodeAt(++i);
          if (unit > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return -1;
        }
        at = this.putUtf8(at, unit, low);
      }
    }
    buffer[at] = 0x22;
    this.length = at + (wide ? 2 : 1);
    return written;
  }

  /**
   * Appends `count` UTF-16LE code units taken from `data` as a "quoted string", escaping \ and " (the caller
   * has counted them: `escapes`). In UTF-8 the caller has made sure the units have no unpaired surrogate.
   */
  quotedUnits(data: Uint8Array, count: number, escapes: number): void {
    this.reserve((count * 2 + 2) * (this.wide ? 2 : 3));
    const buffer = this.buffer;
    const wide = this.wide;
    let at = this.length;
    buffer[at] = 0x22;
    at += wide ? 2 : 1;
    if (wide && escapes === 0) {
      buffer.set(data.subarray(0, count * 2), at);
      buffer[at + count * 2] = 0x22;
      this.length = at + count * 2 + 2;
      return;
    }
    for (let i = 0; i < count; i++) {
      const low = data[2 * i];
      const high = data[2 * i + 1];
      if (high === 0 && (low === 0x5c || low === 0x22)) {
        buffer[at] = 0x5c;
        at += wide ? 2 : 1;
      }
      if (wide) {
        buffer[at] = low;
        buffer[at + 1] = high;
        at += 2;
      } else if (high === 0 && low < 0x80) {
        buffer[at++] = low;
      } else {
        const unit = low | (high << 8);
        const isHigh = unit >= 0xd800 && unit <= 0xdbff;
        at = this.putUtf8(at, unit, isHigh ? data[2 * i + 2] | (data[2 * i + 3] << 8) : 0);
        if (isHigh) i++;
      }
    }
    buffer[at] = 0x22;
    this.length = at + (wide ? 2 : 1);
  }

  /**
   * Appends bytes as regedit's comma-separated hex, wrapping as regedit does: after a byte's comma, once the
   * line has reached 77 characters, the line ends with "\" and the next starts with two spaces.
   * `column` is the length of the line so far ("name"=hex(N):).
   */
  hexData(data: Uint8Array, column: number): void {
    const step = this.wide ? 2 : 1;
    const last = data.length - 1;
    // At most "xx," per byte plus a 5-character line break for every 25 bytes (fewer on the first line).
    this.reserve((data.length * 3 + Math.ceil(data.length / 25 + 1) * 5) * step);
    const buffer = this.buffer;
    let at = this.length;
    let i = 0;
    while (i <= last) {
      // The line breaks after the comma of the byte that takes it to column 77; `lineEnd` is that byte + 1.
      const lineEnd = i + Math.max(1, Math.ceil((77 - column) / 3));
      const commaEnd = lineEnd > last ? last : lineEnd;
      for (; i < commaEnd; i++, at += 3 * step) {
        const byte = data[i];
        buffer[at] = HEX_CODES[byte >> 4];
        buffer[at + step] = HEX_CODES[byte & 15];
        buffer[at + 2 * step] = 0x2c; // ,
      }
      if (lineEnd > last) {
        const byte = data[last];
        buffer[at] = HEX_CODES[byte >> 4];
        buffer[at + step] = HEX_CODES[byte & 15];
        at += 2 * step;
        break;
      }
      buffer[at] = 0x5c; // backslash
      buffer[at + step] = 0x0d;
      buffer[at + 2 * step] = 0x0a;
      buffer[at + 3 * step] = 0x20;
      buffer[at + 4 * step] = 0x20;
      at += 5 * step;
      column = 2;
    }
    this.length = at;
  }

  /** Bytes written so far (the BOM included). */
  get position(): number {
    return this.length;
  }

  /** Appends a copy of `length` bytes already written at `start`. */
  repeat(start: number, length: number): void {
    this.reserve(length);
    this.buffer.copyWithin(this.length, start, start + length);
    this.length += length;
  }

  /** The encoded text (a view of the writer's buffer; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** One code point as UTF-8 at `at` (`low` is the trailing surrogate when `unit` is a leading one). */
  private putUtf8(at: number, unit: number, low: number): number {
    const buffer = this.buffer;
    if (unit < 0x80) {
      buffer[at++] = unit;
    } else if (unit < 0x800) {
      buffer[at++] = 0xc0 | (unit >> 6);
      buffer[at++] = 0x80 | (unit & 0x3f);
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      const codePoint = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      buffer[at++] = 0xf0 | (codePoint >> 18);
      buffer[at++] = 0x80 | ((codePoint >> 12) & 0x3f);
      buffer[at++] = 0x80 | ((codePoint >> 6) & 0x3f);
      buffer[at++] = 0x80 | (codePoint & 0x3f);
    } else {
      buffer[at++] = 0xe0 | (unit >> 12);
      buffer[at++] = 0x80 | ((unit >> 6) & 0x3f);
      buffer[at++] = 0x80 | (unit & 0x3f);
    }
    return at;
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 4;
    while (size < needed) size *= 4;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
