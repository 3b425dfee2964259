// Writer for regedit's "Windows Registry Editor Version 5.00" text, byte for byte as regedit writes it:
// CRLF line ends, a blank line before each [key], hex data wrapped with "\" at regedit's column, "@" for
// the default value, dword:%08x, hex(2)/hex(7)/hex(b)/hex(N) for the other types. UTF-16LE with a BOM by
// default, like regedit; UTF-8 (no BOM) on request, same text.

import { StoredText, encodeUtf16le, quote } from "../hive/index.ts";
import { RegTextWriter, type RegEncoding, type RegTextSink } from "./encoding.ts";
import {
  MAX_KEY_NAME_LENGTH,
  MAX_VALUE_NAME_LENGTH,
  REGEDIT5_HEADER,
  type RegDocument,
} from "./document.ts";
import { RegExportError } from "./errors.ts";

const REG_SZ = 1;
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
      const written = value.delete ? out.valueDeletion(value.name) : out.value(value.name, value.type, value.data);
      if (!written) throw out.valueNameError(section.path, value.name);
    }
  }
  return out.finish();
}

/** Streams a document section by section; serializeReg and exportReg share it. */
export class RegFormatter {
  private readonly writer: RegTextWriter;

  /** With a sink, the text goes to it in chunks as it is made (see RegTextWriter). */
  constructor(encoding: RegEncoding, sink?: RegTextSink) {
    this.writer = new RegTextWriter(encoding, sink);
    this.writer.text(REGEDIT5_HEADER + "\r\n");
  }

  key(path: string, remove: boolean): void {
    const problem = !remove && path.startsWith("-")
      ? 'starts with "-", which would read back as a deletion'
      : path.split("\\").map((name) => this.keyNameProblem(name)).find((found) => found !== undefined);
    if (problem !== undefined) throw new RegExportError(`key ${quote(path)} ${problem}`);
    this.writer.text(remove ? "\r\n[-" : "\r\n[");
    this.writer.text(path);
    this.writer.text("]\r\n");
  }

  /**
   * [parent\name] for a name canWriteKeyName accepted (an export checks each name once), where the parent's
   * path is given by its length as this returned it for the parent; 0 writes `name` as the whole path.
   * The name is copied as a hive stores it, without decoding it. Returns this key's path length, for its
   * subkeys.
   */
  keyUnder(parentPathLength: number, name: StoredText): number {
    return this.writer.keyLine(parentPathLength, name);
  }

  /** keyNameProblem(name) === undefined for a name as a hive stores it, without decoding it. */
  canWriteKeyName(name: StoredText): boolean {
    const length = name.latin1 ? name.length : name.length >>> 1;
    return length > 0 && length <= MAX_KEY_NAME_LENGTH && this.writer.canWriteKeyName(name);
  }

  /** Why a key name cannot be part of a path in this file, or undefined when it can. */
  keyNameProblem(name: string): string | undefined {
    if (name === "") return "has an empty key name";
    if (name.length > MAX_KEY_NAME_LENGTH) return `has a key name longer than ${MAX_KEY_NAME_LENGTH} characters`;
    if (name.includes("\\")) return `has a key name with a backslash (${quote(name)})`;
    return this.writer.canWrite(name) ? undefined : `has a key name that ${UNWRITABLE[this.writer.encoding]}`;
  }

  /**
   * "name"=data (taken as separate arguments: an export writes tens of thousands of values). False, writing
   * nothing, when the name cannot be written: valueNameError says why.
   */
  value(name: string, type: number, data: Uint8Array): boolean {
    return this.storedValue(storedText(name), type, data, 0, data.length);
  }

  /** value() with the name as a hive stores it and the data at data[start, start + length). */
  storedValue(name: StoredText, type: number, data: Uint8Array, start: number, length: number): boolean {
    const writer = this.writer;
    const nameLength = name.latin1 ? name.length : name.length >>> 1;
    const column = nameLength <= MAX_VALUE_NAME_LENGTH ? writer.valueName(name) : -1;
    if (column < 0) return false;
    if (type === REG_DWORD && length === 4) writer.dwordLine(data, start);
    else if (type !== REG_SZ || !writer.stringLine(data, start, length)) writer.hexLine(type >>> 0, data, start, length, column);
    return true;
  }

  /** "name"=-, or false (writing nothing) when the name cannot be written. */
  valueDeletion(name: string): boolean {
    if (name.length > MAX_VALUE_NAME_LENGTH || this.writer.valueName(storedText(name)) < 0) return false;
    this.writer.text("-\r\n");
    return true;
  }

  /** The error for a value name that value() or valueDeletion() could not write. */
  valueNameError(keyPath: string, name: string, file?: string, offset?: number): RegExportError {
    const problem = name.length > MAX_VALUE_NAME_LENGTH ? `is longer than ${MAX_VALUE_NAME_LENGTH} characters` : UNWRITABLE[this.writer.encoding];
    return new RegExportError(`value ${quote(name)} of key ${quote(keyPath)} ${problem}`, file, offset);
  }

  /**
   * The finished file (a blank line ends the last section, as in regedit's files). With a sink, the rest of
   * it goes there and this is empty.
   */
  finish(): Uint8Array {
    this.writer.text("\r\n");
    return this.writer.finish();
  }
}

const UNWRITABLE: Record<RegEncoding, string> = {
  "utf-16le": "contains a line break, which a .reg file cannot hold",
  "utf-8": "contains a line break (which a .reg file cannot hold) or an unpaired UTF-16 surrogate (which UTF-8 cannot hold)",
};

/** A string as a hive would store it, UTF-16LE. */
export function storedText(text: string): StoredText {
  const stored = new StoredText();
  stored.bytes = encodeUtf16le(text);
  stored.length = stored.bytes.length;
  return stored;
}
