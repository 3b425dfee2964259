// Winlogon's values in the SOFTWARE hive (HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon), read
// as Windows' winlogon and userinit read them: Userinit, the programs winlogon starts once a user is logged
// on, and Shell, the command line userinit starts for that user. REG_EXPAND_SZ data is expanded with the
// user's environment, since both are read after it is built.
import type { Hive, HiveKey } from "../hive/index.ts";
import type { Environment } from "./environment.ts";
import { ConfigError, stringValue } from "./values.ts";

/** The key's path in the SOFTWARE hive (whose root is HKLM\SOFTWARE). */
export const WINLOGON_KEY = "Microsoft\\Windows NT\\CurrentVersion\\Winlogon";
const DISPLAY_PATH = `HKLM\\SOFTWARE\\${WINLOGON_KEY}`;

function winlogonKey(hive: Hive): HiveKey {
  const key = hive.key(WINLOGON_KEY);
  if (key === undefined) throw new ConfigError(DISPLAY_PATH, "the key is missing");
  return key;
}

/** A string value's text, expanded when it is REG_EXPAND_SZ; a missing value is a ConfigError. */
function text(hive: Hive, name: string, environment: Environment): string {
  const value = winlogonKey(hive).value(name);
  if (value === undefined) throw new ConfigError(`${DISPLAY_PATH}\\${name}`, "missing");
  const { text, expand } = stringValue(value, DISPLAY_PATH);
  return expand ? environment.expand(text) : text;
}

/**
 * Userinit: comma-separated programs (with their arguments), each started by winlogon in turn. Windows writes
 * the value with a trailing comma (`C:\Windows\system32\userinit.exe,`): empty entries are skipped, and so
 * is the white space around an entry. A value naming no program is a ConfigError.
 */
export function userinitCommands(hive: Hive, environment: Environment): string[] {
  const commands = text(hive, "Userinit", environment)
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (commands.length === 0) throw new ConfigError(`${DISPLAY_PATH}\\Userinit`, "names no program");
  return commands;
}

/** Shell: the command line of the user's shell (e.g. `cmd.exe`), trimmed; an empty one is a ConfigError. */
export function shellCommand(hive: Hive, environment: Environment): string {
  const command = text(hive, "Shell", environment).trim();
  if (command === "") throw new ConfigError(`${DISPLAY_PATH}\\Shell`, "is empty");
  return command;
}
