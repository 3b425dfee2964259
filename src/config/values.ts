// Reading the Session Manager's values the way smss's registry query does, with the problems a hive can
// hold (a value of the wrong type, an absurd size) named instead of thrown from deep inside a phase.
import { decodeUtf16le, utf16Units, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ, valueTypeName, type Hive, type HiveKey, type HiveValue } from "../hive/index.ts";

/** A value that cannot be used as the Session Manager needs it; names the value and why. */
export class ConfigError extends Error {
  constructor(
    readonly valuePath: string,
    why: string,
  ) {
    super(`${valuePath}: ${why}`);
    this.name = "ConfigError";
  }
}

/** "ControlSet001": what CurrentControlSet stands for, from Select\Current. */
export function currentControlSet(hive: Hive): string {
  const current = hive.key("Select")?.value("Current");
  if (current === undefined) throw new ConfigError("HKLM\\SYSTEM\\Select\\Current", "missing: no control set can be chosen");
  if (current.type !== REG_DWORD || current.dataLength !== 4) {
    throw new ConfigError("HKLM\\SYSTEM\\Select\\Current", `is ${valueTypeName(current.type)} of ${current.dataLength} bytes, not a REG_DWORD`);
  }
  const number = current.asDword();
  if (number < 1 || number > 999) throw new ConfigError("HKLM\\SYSTEM\\Select\\Current", `is ${number}, not a control set number 1..999`);
  const name = `ControlSet${String(number).padStart(3, "0")}`;
  if (hive.key(name) === undefined) throw new ConfigError("HKLM\\SYSTEM\\Select\\Current", `names ${name}, which the hive does not have`);
  return name;
}

/** The Session Manager key (resolved through Select\Current) and a display path for messages. */
export interface SessionManagerKey {
  key: HiveKey;
  /** e.g. HKLM\SYSTEM\CurrentControlSet\Control\Session Manager */
  displayPath: string;
  /** The key's path in the hive, e.g. ControlSet001\Control\Session Manager. */
  hivePath: string;
}

export function sessionManagerKey(hive: Hive): SessionManagerKey {
  const hivePath = `${currentControlSet(hive)}\\Control\\Session Manager`;
  const displayPath = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager";
  const key = hive.key(hivePath);
  if (key === undefined) throw new ConfigError(displayPath, "the key is missing");
  return { key, hivePath, displayPath };
}

/**
 * REG_MULTI_SZ split by the data's length, as RtlQueryRegistryValues hands it to smss: empty strings inside
 * the list are kept (PendingFileRenameOperations marks a delete with one); the final terminator is not a
 * string. Data of odd length loses its last byte; a last string without NUL still counts.
 */
export function splitMultiString(data: Uint8Array): string[] {
  const units = utf16Units(data);
  const strings: string[] = [];
  let start = 0;
  for (let nul = units.indexOf(0); nul >= 0; nul = units.indexOf(0, start)) {
    strings.push(decodeUtf16le(data, 2 * start, 2 * nul));
    start = nul + 1;
  }
  if (start < units.length) strings.push(decodeUtf16le(data, 2 * start, 2 * units.length));
  // "a\0b\0\0" ends in the list terminator: an empty string after the last real one.
  if (strings.length > 0 && strings[strings.length - 1] === "" && start === units.length) strings.pop();
  return strings;
}

/** A REG_SZ or REG_EXPAND_SZ value's text (up to its first NUL); another type is a ConfigError. */
export function stringValue(value: HiveValue, displayPath: string): { text: string; expand: boolean } {
  if (value.type !== REG_SZ && value.type !== REG_EXPAND_SZ) {
    throw new ConfigError(`${displayPath}\\${value.name}`, `is ${valueTypeName(value.type)}, not REG_SZ or REG_EXPAND_SZ`);
  }
  return { text: value.asString(), expand: value.type === REG_EXPAND_SZ };
}

/** A REG_MULTI_SZ value's strings; a REG_SZ/EXPAND_SZ counts as a list of one (as smss's query does). */
export function multiStringValue(value: HiveValue, displayPath: string): string[] {
  if (value.type === REG_MULTI_SZ) return splitMultiString(value.data);
  if (value.type === REG_SZ || value.type === REG_EXPAND_SZ) {
    const text = value.asString();
    return text === "" ? [] : [text];
  }
  throw new ConfigError(`${displayPath}\\${value.name}`, `is ${valueTypeName(value.type)}, not REG_MULTI_SZ`);
}
