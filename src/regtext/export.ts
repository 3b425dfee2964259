// Hive → .reg text, as regedit exports a key: the key itself, then each subkey's tree depth-first, subkeys
// in the hive's (sorted) order and values in stored order.

import type { Hive, HiveKey } from "../hive/index.ts";
import type { RegEncoding } from "./encoding.ts";
import { RegExportError } from "./errors.ts";
import { RegFormatter, type PathSpan } from "./serialize.ts";
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
  const prefixComponents = splitRegPath(options.prefix ?? DEFAULT_PREFIX);
  if (prefixComponents === undefined) {
    throw new RegExportError(`prefix ${JSON.stringify(options.prefix)} is not a registry path like HKEY_LOCAL_MACHINE\\SYSTEM`);
  }
  const top = hive.key(keyPath);
  if (top === undefined) throw new RegExportError(`no key ${JSON.stringify(keyPath)} in the hive`);
  const out = new RegFormatter(options.encoding ?? "utf-16le");
  const topNames = [...prefixComponents, ...(top.path === "" ? [] : top.path.split("\\"))];
  const problem = topNames.map((name) => out.keyNameProblem(name)).find((found) => found !== undefined);
  if (problem !== undefined) throw new RegExportError(`key ${JSON.stringify(topNames.join("\\"))} ${problem}`);
  // An explicit stack: hives nest up to 512 levels, deeper than the guest's interpreter likes to recurse.
  const stack: { key: HiveKey; name: string; path: string; parent: PathSpan | undefined }[] = [
    { key: top, name: topNames.join("\\"), path: topNames.join("\\"), parent: undefined },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { key, path } = item;
    const span = out.keyUnder(item.parent, item.name);
    for (const value of key.values()) out.value(path, value.name, value.type, value.data);
    const subkeys = key.subkeys();
    for (let i = subkeys.length - 1; i >= 0; i--) {
      const name = subkeys[i].name;
      const problem = out.keyNameProblem(name);
      if (problem !== undefined) throw new RegExportError(`key ${JSON.stringify(`${path}\\${name}`)} ${problem}`);
      stack.push({ key: subkeys[i], name, path: `${path}\\${name}`, parent: span });
    }
  }
  return out.finish();
}
