// Reader for regedit's "Windows Registry Editor Version 5.00" text. It is strict where regedit guesses:
// anything it cannot read exactly is a RegTextError naming file:line:column, so a hive built from a file
// in the repository holds exactly what the file says. The whole file is read before anything is applied.

import { decodeRegText } from "./encoding.ts";
import {
  MAX_KEY_NAME_LENGTH,
  MAX_VALUE_NAME_LENGTH,
  REGEDIT5_HEADER,
  type RegDocument,
  type RegKeySection,
  type RegValueEntry,
} from "./document.ts";
import { RegTextError } from "./errors.ts";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

const REG_SZ = 1;
const REG_BINARY = 3;
const REG_DWORD = 4;

/** Value of each ASCII hex digit, -1 for every other code unit below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;
  HEX_VALUE["0123456789ABCDEF".charCodeAt(i)] = i;
}

function hexValue(unit: number): number {
  return unit < 128 ? HEX_VALUE[unit] : -1;
}

export function parseReg(bytes: Uint8Array, fileName: string): RegDocument {
  return new RegParser(decodeRegText(bytes, fileName), fileName).parse();
}

/** Code units to a string, in chunks small enough for String.fromCharCode's argument limit. */
function unitsToString(units: Uint16Array, start: number, end: number): string {
  let text = "";
  for (let at = start; at < end; at += 8192) {
    text += String.fromCharCode.apply(null, units.subarray(at, Math.min(end, at + 8192)) as unknown as number[]);
  }
  return text;
}

class RegParser {
  private lineNumber = 0;
  private lineStart = 0;
  /** Index of the line's CR/LF, or the end of the text. */
  private lineEnd = 0;
  private nextLineStart = 0;
  private bytes = new Uint8Array(256);

  constructor(
    private readonly units: Uint16Array,
    private readonly fileName: string,
  ) {}

  parse(): RegDocument {
    const keys: RegKeySection[] = [];
    this.readHeader();
    let section: RegKeySection | undefined;
    while (this.nextLine()) {
      const at = this.skipBlanks(this.lineStart);
      if (at === this.lineEnd) continue;
      const unit = this.units[at];
      if (unit === 0x3b /* ; */) continue;
      if (unit === 0x5b /* [ */) {
        section = this.readKeyLine(at);
        keys.push(section);
      } else if (unit === QUOTE || unit === 0x40 /* @ */) {
        if (section === undefined) this.fail(at, "value line before the first [key] line");
        if (section.delete) this.fail(at, "value line in a [-key] section: a deleted key has no values to set");
        section.values.push(this.readValueLine(at));
      } else {
        this.fail(at, 'expected "[key]", "\\"name\\"=data", "@=data" or a ";" comment');
      }
    }
    return { fileName: this.fileName, keys };
  }

  private readHeader(): void {
    this.nextLine();
    if (this.units.length === 0) this.fail(0, `empty file; a .reg file starts with "${REGEDIT5_HEADER}"`);
    const header = unitsToString(this.units, this.lineStart, this.trimEnd(this.lineEnd));
    if (header === REGEDIT5_HEADER) return;
    if (header === "REGEDIT4") {
      this.fail(this.lineStart, `REGEDIT4 (ANSI) files are not supported; export as "${REGEDIT5_HEADER}"`);
    }
    this.fail(this.lineStart, `not a .reg file: the first line must be "${REGEDIT5_HEADER}"`);
  }

  private readKeyLine(open: number): RegKeySection {
    const line = this.lineNumber;
    let start = open + 1;
    const remove = this.units[start] === 0x2d; // [-path]
    if (remove) start++;
    const close = this.trimEnd(this.lineEnd) - 1;
    if (close < start || this.units[close] !== 0x5d) this.fail(this.trimEnd(this.lineEnd), 'key line must end with "]"');
    let end = close;
    // hivexregedit writes the hive root as "[HKEY_LOCAL_MACHINE\SYSTEM\]".
    if (end > start && this.units[end - 1] === BACKSLASH) end--;
    if (end === start) this.fail(start, "empty key path");
    for (let componentStart = start; componentStart <= end; ) {
      let componentEnd = componentStart;
      while (componentEnd < end && this.units[componentEnd] !== BACKSLASH) componentEnd++;
      if (componentEnd === componentStart) this.fail(componentStart, "empty key name in the path");
      if (componentEnd - componentStart > MAX_KEY_NAME_LENGTH) {
        this.fail(
          componentStart,
          `key name is ${componentEnd - componentStart} characters long; the registry allows at most ${MAX_KEY_NAME_LENGTH}`,
        );
      }
      componentStart = componentEnd + 1;
    }
    const path = unitsToString(this.units, start, end);
    return remove ? { path, delete: true, values: [], line } : { path, values: [], line };
  }

  private readValueLine(start: number): RegValueEntry {
    const line = this.lineNumber;
    let name = "";
    let at = start + 1;
    if (this.units[start] === QUOTE) {
      const quoted = this.readQuoted(start);
      name = quoted.text;
      at = quoted.end;
      if (name.length > MAX_VALUE_NAME_LENGTH) {
        this.fail(start, `value name is ${name.length} characters long; the registry allows at most ${MAX_VALUE_NAME_LENGTH}`);
      }
    }
    at = this.skipBlanks(at);
    if (this.units[at] !== 0x3d || at === this.lineEnd) this.fail(at, 'expected "=" after the value name');
    at = this.skipBlanks(at + 1);
    const unit = at < this.lineEnd ? this.units[at] : -1;
    if (unit === 0x2d /* - */) {
      this.expectLineEnd(at + 1);
      return { name, delete: true, line };
    }
    if (unit === QUOTE) {
      const quoted = this.readQuoted(at);
      this.expectLineEnd(quoted.end);
      const data = new Uint8Array(quoted.text.length * 2 + 2);
      for (let i = 0; i < quoted.text.length; i++) {
        const code = quoted.text.charCodeAt(i);
        data[2 * i] = code & 0xff;
        data[2 * i + 1] = code >>> 8;
      }
      return { name, type: REG_SZ, data, line };
    }
    if (this.matchesWord(at, "dword:")) {
      const digitsStart = at + 6;
      const { value, end } = this.readHexNumber(digitsStart, "dword");
      this.expectLineEnd(end);
      const data = new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]);
      return { name, type: REG_DWORD, data, line };
    }
    if (this.matchesWord(at, "hex:")) return { name, type: REG_BINARY, data: this.readHexBytes(at + 4), line };
    if (this.matchesWord(at, "hex(")) {
      const { value: type, end } = this.readHexNumber(at + 4, "type");
      if (this.units[end] !== 0x29 /* ) */ || this.units[end + 1] !== 0x3a /* : */ || end + 1 >= this.lineEnd) {
        this.fail(end, 'expected "):" after the type number of hex(N):');
      }
      return { name, type, data: this.readHexBytes(end + 2), line };
    }
    this.fail(at, 'expected value data: "string", dword:, hex:, hex(N): or - (to delete)');
  }

  /** A "quoted string" starting at `start`; \\ and \" are its only escapes. */
  private readQuoted(start: number): { text: string; end: number } {
    const units = this.units;
    let text = "";
    let runStart = start + 1;
    for (let at = runStart; at < this.lineEnd; at++) {
      const unit = units[at];
      if (unit === QUOTE) return { text: text + unitsToString(units, runStart, at), end: at + 1 };
      if (unit !== BACKSLASH) continue;
      const escaped = at + 1 < this.lineEnd ? units[at + 1] : -1;
      if (escaped !== BACKSLASH && escaped !== QUOTE) {
        this.fail(at, 'a backslash in a .reg string must be doubled ("\\\\"); only \\\\ and \\" are escapes');
      }
      text += unitsToString(units, runStart, at) + String.fromCharCode(escaped);
      at++;
      runStart = at + 1;
    }
    this.fail(start, "string has no closing quote on this line");
  }

  /** 1 to 8 hex digits, for dword: data and hex(N) type numbers. */
  private readHexNumber(start: number, what: string): { value: number; end: number } {
    let value = 0;
    let at = start;
    while (at < this.lineEnd && hexValue(this.units[at]) >= 0) {
      if (at - start === 8) this.fail(start, `${what} has more than 8 hex digits (at most ffffffff)`);
      value = value * 16 + hexValue(this.units[at]);
      at++;
    }
    if (at === start) this.fail(start, `expected a ${what} as 1 to 8 hex digits`);
    return { value: value >>> 0, end: at };
  }

  /** Comma-separated hex bytes, continued over lines ending in a backslash. */
  private readHexBytes(start: number): Uint8Array {
    const units = this.units;
    let count = 0;
    let at = start;
    let afterByte = false;
    let lineEnd = this.lineEnd;
    // A line holds fewer bytes than characters: room for one line at a time spares a check per byte.
    this.reserveBytes(count + lineEnd - at);
    let bytes = this.bytes;
    for (;;) {
      // Fast path for regedit's own layout, "xx," after "xx,".
      while (!afterByte && at + 2 < lineEnd && units[at + 2] === COMMA) {
        const high = hexValue(units[at]);
        const low = hexValue(units[at + 1]);
        if (high < 0 || low < 0) break;
        bytes[count++] = (high << 4) | low;
        at += 3;
      }
      at = this.skipBlanks(at);
      if (at === lineEnd) break;
      const unit = units[at];
      if (unit === BACKSLASH) {
        this.expectLineEnd(at + 1, "a backslash continues hex data on the next line and must end the line");
        const backslashAt = at;
        if (!this.nextLine()) this.fail(backslashAt, "hex data continues after the backslash but the file ends");
        at = this.lineStart;
        lineEnd = this.lineEnd;
        this.reserveBytes(count + lineEnd - at);
        bytes = this.bytes;
        continue;
      }
      if (afterByte) {
        if (unit !== COMMA) this.fail(at, 'expected "," between hex bytes');
        afterByte = false;
        at++;
        continue;
      }
      const high = hexValue(unit);
      if (high < 0) this.fail(at, "expected a hex byte (two hex digits, 00 to ff)");
      let byte = high;
      at++;
      if (at < lineEnd) {
        const low = hexValue(units[at]);
        if (low >= 0) {
          byte = (high << 4) | low;
          at++;
        }
      }
      bytes[count++] = byte;
      afterByte = true;
    }
    return bytes.slice(0, count);
  }

  private reserveBytes(size: number): void {
    if (size <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(size, this.bytes.length * 2));
    grown.set(this.bytes);
    this.bytes = grown;
  }

  private matchesWord(at: number, word: string): boolean {
    if (at + word.length > this.lineEnd) return false;
    for (let i = 0; i < word.length; i++) {
      let unit = this.units[at + i];
      if (unit >= 0x41 && unit <= 0x5a) unit += 0x20;
      if (unit !== word.charCodeAt(i)) return false;
    }
    return true;
  }

  private expectLineEnd(at: number, reason = "unexpected text after the value data"): void {
    const end = this.skipBlanks(at);
    if (end !== this.lineEnd) this.fail(end, reason);
  }

  private skipBlanks(at: number): number {
    while (at < this.lineEnd && (this.units[at] === SPACE || this.units[at] === TAB)) at++;
    return at;
  }

  private trimEnd(end: number): number {
    while (end > this.lineStart && (this.units[end - 1] === SPACE || this.units[end - 1] === TAB)) end--;
    return end;
  }

  /** Moves to the next line; false after the last one. Text ending in a line break ends with an empty line. */
  private nextLine(): boolean {
    const units = this.units;
    if (this.lineNumber > 0 && this.lineEnd === units.length) return false;
    this.lineNumber++;
    this.lineStart = this.nextLineStart;
    let end = this.lineStart;
    while (end < units.length && units[end] !== LF && units[end] !== CR) end++;
    this.lineEnd = end;
    this.nextLineStart = units[end] === CR && units[end + 1] === LF ? end + 2 : end + 1;
    return true;
  }

  private fail(at: number, reason: string): never {
    throw new RegTextError(this.fileName, this.lineNumber, at - this.lineStart + 1, reason);
  }
}
