// The product's name and version as Windows records them in the SOFTWARE hive
// (HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion), where `ver` and cmd's banner read them.
import type { Hive } from "../hive/index.ts";
import { ConfigError, stringValue } from "./values.ts";

const CURRENT_VERSION_KEY = "Microsoft\\Windows NT\\CurrentVersion";
const DISPLAY_PATH = `HKLM\\SOFTWARE\\${CURRENT_VERSION_KEY}`;

export interface WindowsVersion {
  productName: string;
  /** "6.1" */
  currentVersion: string;
  /** "7601" */
  currentBuildNumber: string;
}

/** ProductName, CurrentVersion and CurrentBuildNumber; a missing key or value, or one not a string, is a ConfigError. */
export function windowsVersion(hive: Hive): WindowsVersion {
  const key = hive.key(CURRENT_VERSION_KEY);
  if (key === undefined) throw new ConfigError(DISPLAY_PATH, "the key is missing");
  const read = (name: string): string => {
    const value = key.value(name);
    if (value === undefined) throw new ConfigError(`${DISPLAY_PATH}\\${name}`, "missing");
    return stringValue(value, DISPLAY_PATH).text;
  };
  return { productName: read("ProductName"), currentVersion: read("CurrentVersion"), currentBuildNumber: read("CurrentBuildNumber") };
}

/** "smss86 [Version 6.1.7601]": the line `ver` and cmd's banner show, as Windows words it. */
export function versionLine(version: WindowsVersion): string {
  return `${version.productName} [Version ${version.currentVersion}.${version.currentBuildNumber}]`;
}
