// The SOFTWARE hive (C:\Windows\System32\config\SOFTWARE) opened read-only, as any user may read it: a dirty
// primary is recovered from its logs in memory only (writing it back is the system's business).
import { Hive, HiveError, readBaseBlock } from "../../src/hive/index.ts";
import { GuestHiveStorage } from "./hive-storage.ts";

const SOFTWARE_HIVE_PATH = "/Windows/System32/config/SOFTWARE";
const SOFTWARE_HIVE_NAME = "\\SystemRoot\\System32\\config\\SOFTWARE";

/** A missing hive is a HiveError "not-found"; one the caller may not read, a SysError; a damaged one, a HiveError. */
export function openSoftwareHive(): Hive {
  const storage = new GuestHiveStorage(SOFTWARE_HIVE_PATH);
  const primary = storage.read("primary");
  if (primary === undefined) throw new HiveError("not-found", "the hive file does not exist", SOFTWARE_HIVE_NAME);
  // The logs are read only when they are needed.
  const clean = readBaseBlock(primary, SOFTWARE_HIVE_NAME).clean;
  return Hive.open(primary, { name: SOFTWARE_HIVE_NAME, log1: clean ? undefined : storage.read("log1"), log2: clean ? undefined : storage.read("log2") });
}
