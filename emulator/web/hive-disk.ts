// What the page's hive editor does with its text, apart from the DOM: check it with the project's hive library
// and put the resulting SYSTEM hive on a copy of the served disk. Browser-safe, so Node tests run it too.
import { openVolume } from "../disk/image.ts";
import { Hive, HiveError } from "../../src/hive/index.ts";
import { applyReg, parseReg, RegApplyError, RegTextError } from "../../src/regtext/index.ts";

export const SYSTEM_HIVE_PATH = "/Windows/System32/config/SYSTEM";

export type HiveCheck =
  | { ok: true; hive: Uint8Array; keys: number }
  | { ok: false; message: string; line?: number; column?: number };

/**
 * Builds the SYSTEM hive from .reg text the way `smss86 build` does (a new hive, the document applied to it),
 * so what the editor accepts is exactly what the guest gets.
 */
export function checkRegText(text: string, fileName = "SYSTEM.reg"): HiveCheck {
  try {
    const document = parseReg(new TextEncoder().encode(text), fileName);
    const hive = Hive.create();
    applyReg(hive, document);
    return { ok: true, hive: hive.toBytes(), keys: document.keys.length };
  } catch (err) {
    if (err instanceof RegTextError) return { ok: false, message: err.message, line: err.line, column: err.column };
    if (err instanceof RegApplyError) return { ok: false, message: err.message, ...(err.line !== undefined ? { line: err.line } : {}) };
    if (err instanceof HiveError) return { ok: false, message: `${fileName}: ${err.message}` };
    throw err;
  }
}

/** A copy of `disk` whose C: volume holds `hive` as its SYSTEM hive; the original is left as it was. */
export function diskWithSystemHive(disk: Uint8Array, hive: Uint8Array): Uint8Array {
  const copy = disk.slice();
  openVolume(copy).writeFile(SYSTEM_HIVE_PATH, hive);
  return copy;
}
