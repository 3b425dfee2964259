// Writer for regedit's "Windows Registry Editor Version 5.00" text, byte for byte as regedit writes it:
// CRLF line ends, a blank line before each [key], hex data wrapped with "\" at regedit's column, "@" for
// the default value, dword:%08x, hex(2)/hex(7)/hex(b)/hex(N) for the other types. UTF-16LE with a BOM by
// default, like regedit; UTF-8 (no BOM) on request, same text.

import { RegTextWriter, type RegEncoding } from "./encoding.ts";
import {
  MAX_KEY_NAME_LENGTH,
  MAX_VALUE_NAME_LENGTH,
  REGEDIT5_HEADER,
  type RegDocument,
} from "./document.ts";
import { RegExportError } from "./errors.ts";

const REG_SZ = 1;
const REG_BINARY = 3;
const REG_DWORD = 4;

export interface RegSerializeOptions {
  /** "utf-16le" (default, with a BOM, as regedit writes) or "utf-8" (no BOM). */
  encoding?: RegEncoding;
}

export function serializeReg(document: RegDocument, options: RegSerializeOptions = {}): Uint8Array {
  const out = new RegFormatter(options.encoding ?? "utf-16le");
  for (const section of document.keys) {
    out.key(section.path, section.delete === true);
    for (const value of section.values) {
      if (value.delete) out.valueDeletion(section.path, value.name);
      else out.value(section.path, value.name, value.type, value.data);
    }
  }
  return out.finish();
}

/** Where a key's path was written: byte offset and length in the output. */
export interface PathSpan {
  start: number;
  length: number;
}

/** Streams a document section by section; serializeReg and exportReg share it. */
export class RegFormatter {
  private readonly writer: RegTextWriter;

  constructor(encoding: RegEncoding) {
    this.writer = new RegTextWriter(encoding);
    this.writer.ascii(REGEDIT5_HEADER + "\r\n");
  }

  key(path: string, remove: boolean): void {
    const problem = !remove && path.startsWith("-")
      ? 'starts with "-", which would read back as a deletion'
      : path.split("\\").map((name) => this.keyNameProblem(name)).find((found) => found !== undefined);
    if (problem !== undefined) throw new RegExportError(`key ${JSON.stringify(path)} ${problem}`);
    this.writer.ascii(remove ? "\r\n[-" : "\r\n[");
    this.writer.text(path);
    this.writer.ascii("]\r\n");
  }

  /**
   * [parent\name] for a name keyNameProblem accepted (an export checks each name once). The parent's path
   * is copied from where its own line put it (`parent`, as returned for it), which is much cheaper than
   * encoding the full path again for every key; undefined `parent` writes `name` as the whole path.
   * Returns where this key's path now is, for its subkeys.
   */
  keyUnder(parent: PathSpan | undefined, name: string): PathSpan {
    const writer = this.writer;
    writer.ascii("\r\n[");
    const start = writer.position;
    if (parent !== undefined) {
      writer.repeat(parent.start, parent.length);
      writer.ascii("\\");
    }
    writer.text(name);
    const span = { start, length: writer.position - start };
    writer.ascii("]\r\n");
    return span;
  }

  /** Why a key name cannot be part of a path in this file, or undefined when it can. */
  keyNameProblem(name: string): string | undefined {
    if (name === "") return "has an empty key name";
    if (name.length > MAX_KEY_NAME_LENGTH) return `has a key name longer than ${MAX_KEY_NAME_LENGTH} characters`;
    if (name.includes("\\")) return `has a key name with a backslash (${JSON.stringify(name)})`;
    return this.writer.canWrite(name) ? undefined : `has a key name ${UNWRITABLE[this.writer.encoding]}`;
  }

  /** "name"=data (taken as separate arguments: an export writes tens of thousands of values). */
  value(keyPath: string, name: string, type: number, data: Uint8Array): void {
    const writer = this.writer;
    const column = this.valueName(keyPath, name);
    const escapes = type === REG_SZ ? stringDataEscapes(data) : -1;
    if (escapes >= 0) {
      writer.quotedUnits(data, (data.length >> 1) - 1, escapes);
    } else if (type === REG_DWORD && data.length === 4) {
      const value = (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0;
      writer.ascii("dword:" + value.toString(16).padStart(8, "0"));
    } else {
      const prefix = type === REG_BINARY ? "hex:" : `hex(${(type >>> 0).toString(16)}):`;
      writer.ascii(prefix);
      writer.hexData(data, column + prefix.length);
    }
    writer.ascii("\r\n");
  }

  /** "name"=- */
  valueDeletion(keyPath: string, name: string): void {
    this.valueName(keyPath, name);
    this.writer.ascii("-\r\n");
  }

  /** Writes "name"= or @= and returns its length. */
  private valueName(keyPath: string, name: string): number {
    if (name === "") {
      this.writer.ascii("@=");
      return 2;
    }
    const written = name.length <= MAX_VALUE_NAME_LENGTH ? this.writer.quotedText(name) : -1;
    if (written < 0) {
      const problem =
        name.length > MAX_VALUE_NAME_LENGTH ? `is longer than ${MAX_VALUE_NAME_LENGTH} characters` : UNWRITABLE[this.writer.encoding];
      throw new RegExportError(`value ${JSON.stringify(name)} of key ${JSON.stringify(keyPath)} ${problem}`);
    }
    this.writer.ascii("=");
    return written + 1;
  }

  /** The finished file: a blank line ends the last section, as in regedit's files. */
  finish(): Uint8Array {
    this.writer.ascii("\r\n");
    return this.writer.finish();
  }
}

const UNWRITABLE: Record<RegEncoding, string> = {
  "utf-16le": "contains a line break, which a .reg file cannot hold",
  "utf-8": "contains a line break (which a .reg file cannot hold) or an unpaired UTF-16 surrogate (which UTF-8 cannot hold)",
};

/**
 * Whether REG_SZ data can be written as a "string" that reads back to exactly the same bytes (UTF-16LE
 * ending in its only NUL, no line breaks, no unpaired surrogates): -1 when it cannot (it is written as
 * hex(1)), otherwise how many backslashes and quotes it holds.
 */
function stringDataEscapes(data: Uint8Array): number {
  const length = data.length;
  if (length < 2 || (length & 1) !== 0 || data[length - 1] !== 0 || data[length - 2] !== 0) return -1;
  const count = (length >> 1) - 1;
  let escapes = 0;
  for (let i = 0; i < count; i++) {
    const high = data[2 * i + 1];
    if (high === 0) {
      const low = data[2 * i];
      if (low === 0 || low === 0x0a || low === 0x0d) return -1;
      if (low === 0x5c || low === 0x22) escapes++;
    } else if (high >= 0xd8 && high <= 0xdf) {
      const nextHigh = i + 1 < count ? data[2 * i + 3] : 0;
      if (high > 0xdb || !(nextHigh >= 0xdc && nextHigh <= 0xdf)) return -1;
      i++;
    }
  }
  return escapes;
}
