// Hive → .reg text, as regedit exports a key: the key itself, then each subkey's tree depth-first, subkeys
// in the hive's (sorted) order and values in stored order.

import { BASE_BLOCK_SIZE, type Hive, KeyWalk, StoredText, decodeLatin1, decodeUtf16le, quote } from "../hive/index.ts";
import type { RegEncoding, RegTextSink } from "./encoding.ts";
import { RegExportError } from "./errors.ts";
import { RegFormatter, storedText } from "./serialize.ts";
import { splitRegPath } from "./paths.ts";

export const DEFAULT_PREFIX = "HKEY_LOCAL_MACHINE\\SYSTEM";

export interface RegExportOptions {
  /** Registry path the hive's root is shown under (default HKEY_LOCAL_MACHINE\SYSTEM). */
  prefix?: string;
  /** "utf-16le" (default, with a BOM, as regedit writes) or "utf-8" (no BOM). */
  encoding?: RegEncoding;
}

/** Exports the tree at `keyPath` (root-relative, "" for the whole hive). */
export function exportReg(hive: Hive, keyPath: string, options: RegExportOptions = {}): Uint8Array {
  return writeExport(hive, keyPath, options, undefined);
}

/**
 * exportReg that hands the text to `sink` in chunks as it is made (each chunk a view of a buffer that is
 * reused once the sink returns), so that the text of a large hive never sits in memory whole. Bad arguments
 * fail before the first chunk; a failure during the walk leaves the chunks already handed over incomplete.
 */
export function exportRegTo(hive: Hive, keyPath: string, sink: RegTextSink, options: RegExportOptions = {}): void {
  writeExport(hive, keyPath, options, sink);
}

function writeExport(hive: Hive, keyPath: string, options: RegExportOptions, sink: RegTextSink | undefined): Uint8Array {
  const prefixComponents = splitRegPath(options.prefix ?? DEFAULT_PREFIX);
  if (prefixComponents === undefined) {
    throw new RegExportError(`prefix ${quote(options.prefix ?? DEFAULT_PREFIX)} is not a registry path like HKEY_LOCAL_MACHINE\\SYSTEM`);
  }
  const top = hive.key(keyPath);
  if (top === undefined) throw new RegExportError(`no key ${quote(keyPath)} in the hive`, hive.name);
  const out = new RegFormatter(options.encoding ?? "utf-16le", sink);
  const topNames = [...prefixComponents, ...(top.path === "" ? [] : top.path.split("\\"))];
  const problem = topNames.map((name) => out.keyNameProblem(name)).find((found) => found !== undefined);
  if (problem !== undefined) throw new RegExportError(`key ${quote(topNames.join("\\"))} ${problem}`, hive.name, BASE_BLOCK_SIZE + top.offset);
  // Full paths are only needed in error messages, so they are not built for every key.
  const prefix = prefixComponents.join("\\");
  const walk = new KeyWalk(top);
  const fullPath = (nk: number) => {
    const path = walk.path(nk);
    return path === "" ? prefix : `${prefix}\\${path}`;
  };
  const topName = storedText(topNames.join("\\"));

  // Names and data go straight from the hive's bytes into the text (KeyWalk.storedName, values): decoding
  // names to strings, copying data and a handle per key or value cost more than the writing.
  const name = new StoredText();
  // An explicit stack (hives nest up to 512 levels, deeper than the guest's interpreter likes to recurse):
  // per key still to write, the next one last, its nk offset, its depth and the length of its parent's path
  // in the output.
  const pending: number[] = [walk.start, walk.startDepth, 0];
  while (pending.length > 0) {
    const parentPathLength = pending.pop() as number;
    const depth = pending.pop() as number;
    const nk = pending.pop() as number;
    const pathLength = out.keyUnder(parentPathLength, nk === walk.start ? topName : walk.storedName(nk, name));
    for (const value = walk.values(nk); value.next(); ) {
      if (!out.storedValue(value.name, value.type, value.data, value.dataStart, value.dataLength)) {
        throw out.valueNameError(fullPath(nk), decodeStoredText(value.name), hive.name, BASE_BLOCK_SIZE + nk);
      }
    }
    for (let i = walk.subkeys(nk, depth) - 1; i >= 0; i--) {
      const subkey = walk.subkey(i);
      if (!out.canWriteKeyName(walk.storedName(subkey, name))) {
        throw new RegExportError(`key ${quote(fullPath(subkey))} ${out.keyNameProblem(decodeStoredText(name))}`, hive.name, BASE_BLOCK_SIZE + subkey);
      }
      pending.push(subkey, depth + 1, pathLength);
    }
  }
  return out.finish();
}

function decodeStoredText(text: StoredText): string {
  const end = text.start + text.length;
  return text.latin1 ? decodeLatin1(text.bytes, text.start, end) : decodeUtf16le(text.bytes, text.start, end);
}
