// The two encodings a .reg file comes in: UTF-16LE with a byte-order mark (what regedit writes) and UTF-8
// (with or without a BOM; what people keep in repositories), read by decodeRegText and written by
// RegTextWriter. Written out by hand because QuickJS 2021 has no TextDecoder/TextEncoder, because decoding
// must be strict (a bad byte is reported, never replaced), and because an export writes tens of megabytes.

import type { StoredText } from "../hive/index.ts";
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

/** Takes encoded text piece by piece. A chunk is a view of the writer's buffer, reused once the call returns. */
export type RegTextSink = (chunk: Uint8Array) => void;

/**
 * The buffer's first size and, with a sink, about what is handed over at a time (a Linux pipe's capacity):
 * few calls, and a buffer that stays in the CPU's cache.
 */
const CHUNK_BYTES = 1 << 16;

const HEX_CODES = Uint8Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));
/** Each byte's two hex digits, to store with one write: in UTF-8 as a little-endian u16, in UTF-16LE a u32. */
const HEX_PAIRS_UTF8 = Uint16Array.from({ length: 256 }, (_, byte) => HEX_CODES[byte >> 4] | (HEX_CODES[byte & 15] << 8));
const HEX_PAIRS_UTF16 = Uint32Array.from({ length: 256 }, (_, byte) => HEX_CODES[byte >> 4] | (HEX_CODES[byte & 15] << 16));

const REG_BINARY = 3;

const asciiCodes = (text: string) => Uint8Array.from(text, (character) => character.charCodeAt(0));
const KEY_OPEN = asciiCodes("\r\n[");
const KEY_CLOSE = asciiCodes("]\r\n");
const DWORD = asciiCodes("dword:");
const HEX = asciiCodes("hex:");
const HEX_TYPED = asciiCodes("hex(");
const HEX_TYPED_END = asciiCodes("):");

/**
 * Builds encoded .reg text straight into a byte buffer, a line's piece per call (key paths, value names,
 * string, dword and hex data): an export of a large hive is tens of megabytes, and building JS strings first
 * would multiply the work and the memory. Each piece reserves room once (hex data a line at a time) and
 * stores bytes directly; when each piece is used is RegFormatter's business.
 *
 * With a sink, the buffer is handed over whenever it fills and then reused, so memory stays small however
 * large the text. Without one it grows fourfold when full: few large allocations cost far less (in copying
 * and in garbage collections triggered by external memory) than many chunks joined at the end, and pages
 * never written are never touched.
 */
export class RegTextWriter {
  // Bytes past `length` are always zero, so UTF-16LE output only writes the low byte of ASCII characters.
  private buffer: Uint8Array;
  /** The buffer's bytes, for storing two or four at once. */
  private view: DataView;
  private length = 0;
  private readonly wide: boolean;
  /** Bytes per ASCII character: 2 in UTF-16LE, 1 in UTF-8. */
  private readonly step: number;
  /** The encoded key path keyLine() wrote last; its prefixes are the paths of that key's ancestors. */
  private path = new Uint8Array(1024);

  constructor(
    readonly encoding: RegEncoding,
    private readonly sink?: RegTextSink,
  ) {
    this.wide = encoding === "utf-16le";
    this.step = this.wide ? 2 : 1;
    // Each stored twice on purpose: V8 takes a field stored only once for a constant, and when reserve()
    // first replaces the buffer it deoptimises every function compiled on that assumption.
    this.buffer = new Uint8Array(0);
    this.view = new DataView(this.buffer.buffer);
    this.buffer = new Uint8Array(CHUNK_BYTES);
    this.view = new DataView(this.buffer.buffer);
    if (this.wide) {
      this.buffer[0] = 0xff;
      this.buffer[1] = 0xfe;
      this.length = 2;
    }
  }

  /** Appends text whose characters are all ASCII (the format's own syntax). */
  ascii(text: string): void {
    const count = text.length;
    const step = this.step;
    this.reserve(count * step);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < count; i++, at += step) buffer[at] = text.charCodeAt(i);
    this.length = at;
  }

  /** Appends any text; in UTF-8 the caller has made sure it has no unpaired surrogate. */
  text(text: string): void {
    this.reserve(text.length * 3);
    this.length = this.putText(this.length, text);
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

  /** canWrite for a key name as a hive stores it (read without decoding it), which must not hold a backslash either. */
  canWriteKeyName(name: StoredText): boolean {
    const { bytes, latin1 } = name;
    const end = name.start + (latin1 ? name.length : name.length & ~1);
    const unitBytes = latin1 ? 1 : 2;
    for (let i = name.start; i < end; i += unitBytes) {
      const unit = latin1 ? bytes[i] : bytes[i] | (bytes[i + 1] << 8);
      if (unit === 0x0a || unit === 0x0d || unit === 0x5c) return false;
      if (unit < 0xd800 || unit > 0xdfff || this.wide) continue;
      const next = i + 2 < end ? bytes[i + 2] | (bytes[i + 3] << 8) : 0;
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 2;
    }
    return true;
  }

  /**
   * Appends a key's line, "\r\n[path]\r\n", and returns the path's length in bytes. The path is the first
   * `parentLength` bytes of the path this method wrote last (the parent's path, as returned for it), a
   * backslash and `name`; or only `name` when `parentLength` is 0. Copying the parent's encoded path is much
   * cheaper than encoding it again for every key, and keeping it apart from the output lets the output go
   * to the sink meanwhile. The caller has checked `name` with canWriteKeyName.
   */
  keyLine(parentLength: number, name: StoredText): number {
    // Handing the text over here, between keys, once the buffer is half full, leaves the pieces' own room
    // checks little to do (only a key with more than half a chunk of text needs them): V8 optimises a
    // function for the branches it has seen taken and deoptimises it when it first takes another.
    if (this.sink !== undefined && this.length > CHUNK_BYTES / 2) this.flush();
    const step = this.step;
    // A stored byte takes at most 2 bytes of output (Latin-1 in UTF-8), a stored UTF-16 unit at most 3.
    this.reserve(parentLength + (name.length * 2 + 7) * step);
    const buffer = this.buffer;
    let at = this.putAscii(this.length, KEY_OPEN);
    if (parentLength > 0) {
      buffer.set(this.path.subarray(0, parentLength), at);
      at += parentLength;
    }
    const tailStart = at;
    if (parentLength > 0) {
      buffer[at] = 0x5c; // backslash
      at += step;
    }
    at = this.putStoredName(at, name);
    const length = parentLength + at - tailStart;
    if (length > this.path.length) {
      const grown = new Uint8Array(Math.max(length, this.path.length * 2));
      grown.set(this.path.subarray(0, parentLength));
      this.path = grown;
    }
    this.path.set(buffer.subarray(tailStart, at), parentLength);
    this.length = this.putAscii(at, KEY_CLOSE);
    return length;
  }

  /**
   * Appends a value's name and its "=": "name"= with \ and " escaped, or @= for the default value ("").
   * An odd last byte of a UTF-16LE name is ignored, as when the name is decoded. Returns the characters
   * written, or -1 (appending nothing) when the name has a line break or, in UTF-8, an unpaired surrogate.
   */
  valueName(name: StoredText): number {
    const { bytes, latin1 } = name;
    const count = latin1 ? name.length : name.length >>> 1;
    const unitBytes = latin1 ? 1 : 2;
    const wide = this.wide;
    const step = this.step;
    // Each character may be escaped and takes at most 3 bytes of UTF-8.
    this.reserve((count * 2 + 3) * (wide ? 2 : 3));
    const buffer = this.buffer;
    let at = this.length;
    if (count === 0) {
      buffer[at] = 0x40; // @
      buffer[at + step] = 0x3d; // =
      this.length = at + 2 * step;
      return 2;
    }
    let written = count + 3;
    buffer[at] = 0x22;
    at += step;
    const end = name.start + count * unitBytes;
    for (let i = name.start; i < end; i += unitBytes) {
      const unit = latin1 ? bytes[i] : bytes[i] | (bytes[i + 1] << 8);
      if (unit > 0x22 && unit < 0x80 && unit !== 0x5c) {
        // Most characters: ASCII with nothing to check or escape (a zero high byte is already there).
        buffer[at] = unit;
        at += step;
        continue;
      }
      if (unit === 0x5c || unit === 0x22) {
        buffer[at] = 0x5c;
        at += step;
        written++;
      } else if (unit === 0x0a || unit === 0x0d) {
        this.unwrite(at);
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
          i += 2;
          low = i < end ? bytes[i] | (bytes[i + 1] << 8) : 0;
          if (unit > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) {
            this.unwrite(at);
            return -1;
          }
        }
        at = this.putUtf8(at, unit, low);
      }
    }
    buffer[at] = 0x22;
    buffer[at + step] = 0x3d; // =
    this.length = at + 2 * step;
    return written;
  }

  /**
   * Appends REG_SZ data as a "string" (\ and " escaped) and ends the line, when the string reads back as
   * exactly the same bytes: UTF-16LE ending in its only NUL, without line breaks or unpaired surrogates.
   * Otherwise appends nothing and returns false. Checking while copying reads the data once; a rejected
   * string (rare) costs only its discarded prefix.
   */
  stringLine(data: Uint8Array, start: number, length: number): boolean {
    const end = start + length - 2;
    if (length < 2 || (length & 1) !== 0 || data[end + 1] !== 0 || data[end] !== 0) return false;
    const wide = this.wide;
    const step = this.step;
    // Each code unit may be escaped and takes at most 3 bytes of UTF-8 (a surrogate pair, 2 units, takes 4).
    this.reserve((length + 2) * (wide ? 2 : 3));
    const buffer = this.buffer;
    const view = this.view;
    let at = this.length;
    buffer[at] = 0x22;
    at += step;
    for (let i = start; i < end; i += 2) {
      const unit = data[i] | (data[i + 1] << 8);
      if (unit > 0x22 && unit !== 0x5c && (unit < 0xd800 || unit > 0xdfff)) {
        // Most units: nothing to check or escape.
        if (wide) {
          view.setUint16(at, unit, true);
          at += 2;
        } else if (unit < 0x80) {
          buffer[at++] = unit;
        } else {
          at = this.putUtf8(at, unit, 0);
        }
      } else if (unit < 0xd800) {
        if (unit === 0 || unit === 0x0a || unit === 0x0d) {
          this.unwrite(at);
          return false;
        }
        if (unit === 0x5c || unit === 0x22) {
          buffer[at] = 0x5c;
          at += step;
        }
        buffer[at] = unit;
        at += step;
      } else {
        // A surrogate: it must be a leading one followed by a trailing one inside the string.
        const next = i + 2 < end ? data[i + 2] | (data[i + 3] << 8) : 0;
        if (unit > 0xdbff || next < 0xdc00 || next > 0xdfff) {
          this.unwrite(at);
          return false;
        }
        if (wide) {
          view.setUint16(at, unit, true);
          view.setUint16(at + 2, next, true);
          at += 4;
        } else {
          at = this.putUtf8(at, unit, next);
        }
        i += 2;
      }
    }
    buffer[at] = 0x22;
    this.length = this.putLineEnd(at + step);
    return true;
  }

  /** Appends dword:%08x of 4 bytes of little-endian data and ends the line. */
  dwordLine(data: Uint8Array, start: number): void {
    const step = this.step;
    this.reserve(16 * step);
    const view = this.view;
    let at = this.putAscii(this.length, DWORD);
    for (let i = 3; i >= 0; i--, at += 2 * step) {
      if (this.wide) view.setUint32(at, HEX_PAIRS_UTF16[data[start + i]], true);
      else view.setUint16(at, HEX_PAIRS_UTF8[data[start + i]], true);
    }
    this.length = this.putLineEnd(at);
  }

  /**
   * Appends data as regedit's comma-separated hex, after hex: for REG_BINARY or hex(type): for any other
   * type, and ends the line. Lines wrap as regedit wraps them: after a byte's comma, once the line has
   * reached 77 characters, the line ends with "\" and the next starts with two spaces. `column` is the
   * length of the line so far ("name"=).
   */
  hexLine(type: number, data: Uint8Array, start: number, length: number, column: number): void {
    const step = this.step;
    const wide = this.wide;
    // hex(ffffffff): and, for empty data, the line end.
    this.reserve(16 * step);
    const prefixStart = this.length;
    let at = prefixStart;
    if (type === REG_BINARY) {
      at = this.putAscii(at, HEX);
    } else {
      let digits = 1;
      while (digits < 8 && type >>> (4 * digits) !== 0) digits++;
      at = this.putAscii(at, HEX_TYPED);
      for (let shift = 4 * (digits - 1); shift >= 0; shift -= 4, at += step) this.buffer[at] = HEX_CODES[(type >>> shift) & 15];
      at = this.putAscii(at, HEX_TYPED_END);
    }
    this.length = at;
    column += (at - prefixStart) / step;
    const last = start + length - 1;
    let i = start;
    while (i <= last) {
      // Room for a line at a time (at most 25 bytes as "xx," and its break or line end), so that the buffer
      // need not grow however long the data.
      this.reserve(80 * step);
      const buffer = this.buffer;
      const view = this.view;
      at = this.length;
      // The line breaks after the comma of the byte that takes it to column 77; `lineEnd` is that byte + 1.
      const lineEnd = i + Math.max(1, Math.ceil((77 - column) / 3));
      const commaEnd = lineEnd > last ? last : lineEnd;
      if (wide) {
        for (; i < commaEnd; i++, at += 6) {
          view.setUint32(at, HEX_PAIRS_UTF16[data[i]], true);
          buffer[at + 4] = 0x2c; // ,
        }
      } else {
        for (; i < commaEnd; i++, at += 3) {
          view.setUint16(at, HEX_PAIRS_UTF8[data[i]], true);
          buffer[at + 2] = 0x2c; // ,
        }
      }
      if (lineEnd > last) {
        if (wide) view.setUint32(at, HEX_PAIRS_UTF16[data[last]], true);
        else view.setUint16(at, HEX_PAIRS_UTF8[data[last]], true);
        this.length = at + 2 * step;
        break;
      }
      buffer[at] = 0x5c; // backslash
      buffer[at + step] = 0x0d;
      buffer[at + 2 * step] = 0x0a;
      buffer[at + 3 * step] = 0x20;
      buffer[at + 4 * step] = 0x20;
      this.length = at + 5 * step;
      column = 2;
    }
    this.length = this.putLineEnd(this.length);
  }

  /**
   * Ends the text and returns what was not handed to the sink: with a sink, the rest goes to it and this is
   * empty; without one, this is all of the text (a view of the writer's buffer). The writer is done.
   */
  finish(): Uint8Array {
    if (this.sink === undefined) return this.buffer.subarray(0, this.length);
    if (this.length > 0) this.flush();
    return new Uint8Array(0);
  }

  // The put* helpers store at `at` (room reserved by the caller) and return the offset after what they stored.

  private putAscii(at: number, codes: Uint8Array): number {
    const buffer = this.buffer;
    const step = this.step;
    for (let i = 0; i < codes.length; i++, at += step) buffer[at] = codes[i];
    return at;
  }

  private putLineEnd(at: number): number {
    this.buffer[at] = 0x0d;
    this.buffer[at + this.step] = 0x0a;
    return at + 2 * this.step;
  }

  private putText(at: number, text: string): number {
    const buffer = this.buffer;
    const count = text.length;
    if (this.wide) {
      for (let i = 0; i < count; i++, at += 2) {
        const unit = text.charCodeAt(i);
        // A zero high byte is already there.
        if (unit < 0x100) buffer[at] = unit;
        else this.view.setUint16(at, unit, true);
      }
      return at;
    }
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      at = this.putUtf8(at, unit, unit >= 0xd800 && unit <= 0xdbff ? text.charCodeAt(++i) : 0);
    }
    return at;
  }

  /** A name checked by canWriteKeyName. */
  private putStoredName(at: number, name: StoredText): number {
    const buffer = this.buffer;
    const bytes = name.bytes;
    const start = name.start;
    if (name.latin1) {
      const end = start + name.length;
      // In UTF-16LE a zero high byte is already there.
      if (this.wide) for (let i = start; i < end; i++, at += 2) buffer[at] = bytes[i];
      else for (let i = start; i < end; i++) at = this.putUtf8(at, bytes[i], 0);
      return at;
    }
    const end = start + (name.length & ~1);
    if (this.wide) {
      for (let i = start; i < end; i++, at++) buffer[at] = bytes[i];
      return at;
    }
    for (let i = start; i < end; i += 2) {
      const unit = bytes[i] | (bytes[i + 1] << 8);
      const leading = unit >= 0xd800 && unit <= 0xdbff;
      at = this.putUtf8(at, unit, leading ? bytes[i + 2] | (bytes[i + 3] << 8) : 0);
      if (leading) i += 2;
    }
    return at;
  }

  /** One code point as UTF-8 (`low` is the trailing surrogate when `unit` is a leading one). */
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

  /** Drops what an abandoned append wrote up to `end`, restoring the zeros past `length`. */
  private unwrite(end: number): void {
    this.buffer.fill(0, this.length, end);
  }

  private reserve(extra: number): void {
    // The rare slow path apart keeps this small where it is inlined, into every piece.
    if (this.length + extra > this.buffer.length) this.makeRoom(extra);
  }

  private makeRoom(extra: number): void {
    if (this.sink !== undefined && this.length > 0) {
      this.flush();
      if (extra <= this.buffer.length) return;
    }
    let size = this.buffer.length * 4;
    while (size < this.length + extra) size *= 4;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  private flush(): void {
    (this.sink as RegTextSink)(this.buffer.subarray(0, this.length));
    this.buffer.fill(0, 0, this.length);
    this.length = 0;
  }
}
