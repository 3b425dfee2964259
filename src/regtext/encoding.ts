// The two encodings a .reg file comes in: UTF-16LE with a byte-order mark (what regedit writes) and UTF-8
// (with or without a BOM; what people keep in repositories), read by decodeRegText and written by
// RegTextWriter. Written out by hand because QuickJS 2021 has no TextDecoder/TextEncoder, because decoding
// must be strict (a bad byte is reported, never replaced), and because an export writes tens of megabytes.

import { encodeUtf8Units, type StoredText } from "../hive/index.ts";
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
 * The buffer's first size in code units and, with a sink, about what is handed over at a time (in UTF-16LE,
 * a Linux pipe's capacity): few calls, and a buffer that stays in the CPU's cache.
 */
const CHUNK_UNITS = 1 << 15;

/** Each byte's hex digits as UTF-16 code units. */
const HEX_CODES = Uint16Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));
const HEX_HIGH = Uint16Array.from({ length: 256 }, (_, byte) => HEX_CODES[byte >> 4]);
const HEX_LOW = Uint16Array.from({ length: 256 }, (_, byte) => HEX_CODES[byte & 15]);

const REG_BINARY = 3;

/** What a UTF-16 code unit is to quoted .reg text, looked up by unit. */
const PLAIN = 0;
const ESCAPED = 1; // " and \
const LINE_BREAK = 2;
const NUL = 3;
const LEADING_SURROGATE = 4;
const TRAILING_SURROGATE = 5;
const UNIT_KIND = new Uint8Array(0x10000).fill(PLAIN);
UNIT_KIND[0x00] = NUL;
UNIT_KIND[0x0a] = LINE_BREAK;
UNIT_KIND[0x0d] = LINE_BREAK;
UNIT_KIND[0x22] = ESCAPED;
UNIT_KIND[0x5c] = ESCAPED;
UNIT_KIND.fill(LEADING_SURROGATE, 0xd800, 0xdc00);
UNIT_KIND.fill(TRAILING_SURROGATE, 0xdc00, 0xe000);

const codeUnits = (text: string) => Uint16Array.from(text, (character) => character.charCodeAt(0));
const DWORD = codeUnits("dword:");
const HEX = codeUnits("hex:");

const NO_NON_ASCII = 0x7fffffff;

/** UTF-16LE text is the writer's code units as they lie in memory, which needs a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Builds .reg text as UTF-16 code units straight into a buffer, a line's piece per call (key paths, value
 * names, string, dword and hex data), and encodes it whole chunks at a time: UTF-16LE is the buffer's own
 * bytes, UTF-8 a conversion of each chunk. An export of a large hive is tens of megabytes; building JS
 * strings first would multiply the work and the memory. Each piece reserves room once (hex data a line at a
 * time) and stores units directly; when each piece is used is RegFormatter's business.
 *
 * With a sink, the buffer is encoded and handed over whenever it fills, then reused, so memory stays small
 * however large the text. Without one it grows fourfold when full: few large allocations cost far less (in
 * copying and in garbage collections triggered by external memory) than many chunks joined at the end.
 *
 * The pieces are kept small and their loops take the same steps for every code unit, rare ones included
 * (a backslash is stored before every unit and kept only before one that needs escaping; a unit's kind
 * comes from one table). An export runs for a tenth of a second, most of it before V8 has compiled these
 * loops: small functions compile sooner, and a path first taken after compiling throws the code away.
 */
export class RegTextWriter {
  private units: Uint16Array;
  /** Units in the buffer. */
  private length = 0;
  /** UTF-8 output: an unpaired surrogate cannot be written (in UTF-16LE it can). */
  private readonly utf8: boolean;
  /** The key path keyLine() wrote last; its prefixes are the paths of that key's ancestors. */
  private path = new Uint16Array(CHUNK_UNITS);
  /** Views of the path's first n units, by n, made once each. */
  private pathViews: Uint16Array[] = [];
  /** A chunk encoded as UTF-8, for the sink. */
  private utf8Bytes = new Uint8Array(0);
  /**
   * The units of names and data in the buffer ORed together (the format's own syntax is ASCII): below 0x80,
   * the buffer is ASCII, and its UTF-8 is one native narrowing copy instead of a loop over every unit.
   */
  private unitsSeen = 0;
  /** Where the first non-ASCII unit of the path lies (NO_NON_ASCII when it has none). */
  private pathNonAsciiAt = NO_NON_ASCII;

  constructor(
    readonly encoding: RegEncoding,
    private readonly sink?: RegTextSink,
  ) {
    if (!LITTLE_ENDIAN) throw new Error("RegTextWriter stores UTF-16LE as native code units: it needs a little-endian host");
    this.utf8 = encoding === "utf-8";
    // Set twice on purpose: V8 takes a field stored only once for a constant, and when makeRoom() first
    // replaces the buffer it drops every function compiled on that assumption.
    this.units = new Uint16Array(0);
    this.units = new Uint16Array(CHUNK_UNITS);
    if (!this.utf8) this.units[this.length++] = 0xfeff;
  }

  /** Appends any text; in UTF-8 the caller has made sure it has no unpaired surrogate. */
  text(text: string): void {
    this.reserve(text.length);
    const units = this.units;
    let at = this.length;
    let seen = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      seen |= unit;
      units[at++] = unit;
    }
    this.unitsSeen |= seen;
    this.length = at;
  }

  /** True when the text has no line break and, in UTF-8, no unpaired surrogate. */
  canWrite(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit === 0x0a || unit === 0x0d) return false;
      if (unit < 0xd800 || unit > 0xdfff || !this.utf8) continue;
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
      if (unit < 0xd800 || unit > 0xdfff || !this.utf8) continue;
      const next = i + 2 < end ? bytes[i + 2] | (bytes[i + 3] << 8) : 0;
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 2;
    }
    return true;
  }

  /**
   * Appends a key's line, "\r\n[path]\r\n", and returns the path's length in code units. The path is the
   * first `parentLength` units of the path this method wrote last (the parent's path, as returned for it),
   * a backslash and `name`; or only `name` when `parentLength` is 0. Keeping the path apart from the output
   * lets the output go to the sink meanwhile; copying the parent's part is much cheaper than encoding it
   * again for every key. The caller has checked `name` with canWriteKeyName.
   */
  keyLine(parentLength: number, name: StoredText): number {
    const { bytes, latin1 } = name;
    const nameEnd = name.start + (latin1 ? name.length : name.length & ~1);
    const pathLength = parentLength + (parentLength > 0 ? 1 : 0) + (latin1 ? name.length : name.length >>> 1);
    if (pathLength > this.path.length) this.growPath(pathLength);
    const path = this.path;
    let end = parentLength;
    if (parentLength > 0) path[end++] = 0x5c; // \
    let seen = 0;
    if (latin1) {
      for (let i = name.start; i < nameEnd; i++) {
        seen |= bytes[i];
        path[end++] = bytes[i];
      }
    } else {
      for (let i = name.start; i < nameEnd; i += 2) {
        const unit = bytes[i] | (bytes[i + 1] << 8);
        seen |= unit;
        path[end++] = unit;
      }
    }
    if (this.pathNonAsciiAt >= parentLength) this.pathNonAsciiAt = NO_NON_ASCII;
    this.pathNonAsciiAt = Math.min(this.pathNonAsciiAt, seen >= 0x80 ? parentLength : NO_NON_ASCII);
    this.unitsSeen |= this.pathNonAsciiAt < pathLength ? 0x80 : 0;
    this.reserve(pathLength + 6);
    const units = this.units;
    const at = this.length;
    units[at] = 0x0d;
    units[at + 1] = 0x0a;
    units[at + 2] = 0x5b; // [
    units.set(this.pathView(pathLength), at + 3);
    const close = at + 3 + pathLength;
    units[close] = 0x5d; // ]
    units[close + 1] = 0x0d;
    units[close + 2] = 0x0a;
    this.length = close + 3;
    return pathLength;
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
    const strict = this.utf8;
    // Each character may be escaped.
    this.reserve(count * 2 + 3);
    const units = this.units;
    const start = this.length;
    units[start] = count === 0 ? 0x40 : 0x22; // @ for the default value, else a quote
    let at = start + 1;
    let pairOpen = false;
    let seen = 0;
    const end = name.start + count * unitBytes;
    for (let i = name.start; i < end; i += unitBytes) {
      const unit = latin1 ? bytes[i] : bytes[i] | (bytes[i + 1] << 8);
      seen |= unit;
      const kind = UNIT_KIND[unit];
      const unpaired = (kind === TRAILING_SURROGATE) !== pairOpen;
      if (kind === LINE_BREAK || (unpaired && strict)) return -1;
      pairOpen = kind === LEADING_SURROGATE;
      units[at] = 0x5c;
      at += kind === ESCAPED ? 1 : 0;
      units[at++] = unit;
    }
    if (pairOpen && strict) return -1;
    this.unitsSeen |= seen;
    if (count !== 0) units[at++] = 0x22;
    units[at++] = 0x3d; // =
    this.length = at;
    return at - start;
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
    // Each code unit may be escaped.
    this.reserve(length + 4);
    const units = this.units;
    let at = this.length;
    units[at++] = 0x22;
    // A leading surrogate was the last unit: the next one must be a trailing one.
    let pairOpen = false;
    let seen = 0;
    for (let i = start; i < end; i += 2) {
      const unit = data[i] | (data[i + 1] << 8);
      seen |= unit;
      const kind = UNIT_KIND[unit];
      if (kind === LINE_BREAK || kind === NUL || (kind === TRAILING_SURROGATE) !== pairOpen) return false;
      pairOpen = kind === LEADING_SURROGATE;
      units[at] = 0x5c;
      at += kind === ESCAPED ? 1 : 0;
      units[at++] = unit;
    }
    if (pairOpen) return false;
    this.unitsSeen |= seen;
    units[at] = 0x22;
    units[at + 1] = 0x0d;
    units[at + 2] = 0x0a;
    this.length = at + 3;
    return true;
  }

  /** Appends dword:%08x of 4 bytes of little-endian data and ends the line. */
  dwordLine(data: Uint8Array, start: number): void {
    this.reserve(16);
    const units = this.units;
    let at = this.length;
    units.set(DWORD, at);
    at += DWORD.length;
    for (let i = start + 3; i >= start; i--, at += 2) {
      units[at] = HEX_HIGH[data[i]];
      units[at + 1] = HEX_LOW[data[i]];
    }
    units[at] = 0x0d;
    units[at + 1] = 0x0a;
    this.length = at + 2;
  }

  /**
   * Appends data as regedit's comma-separated hex, after hex: for REG_BINARY or hex(type): for any other
   * type, and ends the line. Lines wrap as regedit wraps them: after a byte's comma, once the line has
   * reached 77 characters, the line ends with "\" and the next starts with two spaces. `column` is the
   * length of the line so far ("name"=).
   */
  hexLine(type: number, data: Uint8Array, start: number, length: number, column: number): void {
    // hex(ffffffff): and, for empty data, the line end.
    this.reserve(16);
    let at = this.length;
    if (type === REG_BINARY) {
      this.units.set(HEX, at);
      at += HEX.length;
    } else {
      at = this.typedHexPrefix(at, type);
    }
    column += at - this.length;
    this.length = at;
    const last = start + length - 1;
    let i = start;
    while (i <= last) {
      // Room for a line at a time (at most 25 bytes as "xx," and its break or line end), so that the buffer
      // need not grow however long the data.
      this.reserve(80);
      const units = this.units;
      at = this.length;
      // The line breaks after the comma of the byte that takes it to column 77; `lineEnd` is that byte + 1.
      const lineEnd = i + Math.max(1, Math.ceil((77 - column) / 3));
      const commaEnd = lineEnd > last ? last : lineEnd;
      for (; i < commaEnd; i++, at += 3) {
        const byte = data[i];
        units[at] = HEX_HIGH[byte];
        units[at + 1] = HEX_LOW[byte];
        units[at + 2] = 0x2c; // ,
      }
      if (lineEnd > last) {
        units[at] = HEX_HIGH[data[last]];
        units[at + 1] = HEX_LOW[data[last]];
        this.length = at + 2;
        break;
      }
      units[at] = 0x5c; // \
      units[at + 1] = 0x0d;
      units[at + 2] = 0x0a;
      units[at + 3] = 0x20;
      units[at + 4] = 0x20;
      this.length = at + 5;
      column = 2;
    }
    this.units[this.length] = 0x0d;
    this.units[this.length + 1] = 0x0a;
    this.length += 2;
  }

  /**
   * Ends the text and returns what was not handed to the sink: with a sink, the rest goes to it and this is
   * empty; without one, this is all of the text. The writer is done.
   */
  finish(): Uint8Array {
    if (this.sink === undefined) return this.encode();
    if (this.length > 0) this.flush();
    return new Uint8Array(0);
  }

  /** hex(type): with the type in lowercase hex digits, without leading zeros. */
  private typedHexPrefix(at: number, type: number): number {
    const units = this.units;
    units[at++] = 0x68; // h
    units[at++] = 0x65; // e
    units[at++] = 0x78; // x
    units[at++] = 0x28; // (
    let digits = 1;
    while (digits < 8 && type >>> (4 * digits) !== 0) digits++;
    for (let shift = 4 * (digits - 1); shift >= 0; shift -= 4) units[at++] = HEX_CODES[(type >>> shift) & 15];
    units[at++] = 0x29; // )
    units[at++] = 0x3a; // :
    return at;
  }

  private pathView(length: number): Uint16Array {
    return this.pathViews[length] ?? (this.pathViews[length] = this.path.subarray(0, length));
  }

  private growPath(length: number): void {
    const grown = new Uint16Array(Math.max(length, this.path.length * 2));
    grown.set(this.path);
    this.path = grown;
    this.pathViews = [];
  }

  private reserve(extra: number): void {
    // The rare slow path apart keeps this small where it is inlined, into every piece.
    if (this.length + extra > this.units.length) this.makeRoom(extra);
  }

  /**
   * With a sink, hands the text over (every chunk from the first key on, so that V8 has seen this path
   * taken before it compiles the pieces that inline it); grows the buffer when that is not enough room.
   */
  private makeRoom(extra: number): void {
    if (this.sink !== undefined && this.length > 0) {
      this.flush();
      if (extra <= this.units.length) return;
    }
    let size = this.units.length * 4;
    while (size < this.length + extra) size *= 4;
    const grown = new Uint16Array(size);
    grown.set(this.units.subarray(0, this.length));
    this.units = grown;
  }

  private flush(): void {
    (this.sink as RegTextSink)(this.encode());
    this.length = 0;
    this.unitsSeen = 0;
  }

  /** The buffer's text in the output encoding: a view of the buffer in UTF-16LE, else a reused buffer. */
  private encode(): Uint8Array {
    const units = this.units;
    const count = this.length;
    if (!this.utf8) return new Uint8Array(units.buffer, units.byteOffset, count * 2);
    // A code unit takes at most 3 bytes of UTF-8 (a surrogate pair, 2 units, takes 4).
    if (this.utf8Bytes.length < count * 3) this.utf8Bytes = new Uint8Array(Math.max(count * 3, CHUNK_UNITS * 3));
    const bytes = this.utf8Bytes;
    if (this.unitsSeen < 0x80) {
      bytes.set(units.subarray(0, count));
      return bytes.subarray(0, count);
    }
    // The pieces write a surrogate pair whole after reserving room for it: no pair is split between chunks.
    return bytes.subarray(0, encodeUtf8Units(units, count, bytes));
  }
}
