// Applies a parsed .reg document to a hive the way regedit imports one: each [key] is created with any
// missing parents and gets its values in file order, "name"=- deletes a value, [-key] deletes a whole tree
// (missing keys and values are no error). Every path is mapped onto the hive and checked before the
// first change, so a document that does not fit the hive changes nothing.

import { namesEqual, type Hive, quote } from "../hive/index.ts";
import type { RegDocument, RegKeySection } from "./document.ts";
import { RegApplyError } from "./errors.ts";
import { splitRegPath } from "./paths.ts";

export interface RegApplyOptions {
  /**
   * Registry path that stands for the hive's root (e.g. HKEY_LOCAL_MACHINE\SYSTEM). Without it, the first
   * two names of the first key's path are the prefix, and every other key must share them.
   */
  prefix?: string;
}

export function applyReg(hive: Hive, document: RegDocument, options: RegApplyOptions = {}): void {
  const plan = planSections(document, options.prefix);
  for (const { section, path } of plan) {
    if (section.delete) {
      hive.deleteKey(path, { recursive: true });
      continue;
    }
    const key = hive.createKey(path);
    for (const value of section.values) {
      if (value.delete) key.deleteValue(value.name);
      else key.setValue(value.name, value.type, value.data);
    }
  }
}

/** Each section with its root-relative hive path; throws before anything changes. */
function planSections(document: RegDocument, prefix: string | undefined): { section: RegKeySection; path: string }[] {
  const fail = (section: RegKeySection, reason: string): never => {
    throw new RegApplyError(reason, document.fileName, section.line);
  };
  let prefixNames: string[] | undefined;
  if (prefix !== undefined) {
    prefixNames = splitRegPath(prefix);
    if (prefixNames === undefined) {
      throw new RegApplyError(`prefix ${quote(prefix)} is not a registry path like HKEY_LOCAL_MACHINE\\SYSTEM`);
    }
  }
  return document.keys.map((section) => {
    const names = splitRegPath(section.path);
    if (names === undefined) return fail(section, `key path ${quote(section.path)} has an empty key name`);
    if (prefixNames === undefined) {
      if (names.length < 2) {
        return fail(section, `key path ${quote(section.path)} does not name a hive (e.g. HKEY_LOCAL_MACHINE\\SYSTEM\\...)`);
      }
      prefixNames = names.slice(0, 2);
    } else if (names.length < prefixNames.length || !prefixNames.every((name, i) => namesEqual(name, names[i]))) {
      const hiveRoot = prefixNames.join("\\");
      const reason =
        prefix === undefined
          ? `key ${section.path} is not in ${hiveRoot}, the hive named by the first key; import one hive at a time or give a prefix`
          : `key ${section.path} is not under the prefix ${hiveRoot}`;
      return fail(section, reason);
    }
    const path = names.slice(prefixNames.length).join("\\");
    if (section.delete && path === "") return fail(section, `[-${section.path}] would delete the hive's root key`);
    return { section, path };
  });
}
