// A hive of C:\Windows\System32\config opened read-only, as any user may read them: a dirty primary is
// recovered from its logs in memory only (writing it back is the system's business).
import { Hive, HiveError, readBaseBlock } from "../../src/hive/index.ts";
import { GuestHiveStorage } from "./hive-storage.ts";

/** A missing hive is a HiveError "not-found"; one the caller may not read, a SysError; a damaged one, a HiveError. */
export function openConfigHive(name: "SAM" | "SOFTWARE" | "SYSTEM"): Hive {
  const ntName = `\\SystemRoot\\System32\\config\\${name}`;
  const storage = new GuestHiveStorage(`/Windows/System32/config/${name}`);
  const primary = storage.read("primary");
  if (primary === undefined) throw new HiveError("not-found", "the hive file does not exist", ntName);
  // The logs are read only when they are needed.
  const clean = readBaseBlock(primary, ntName).clean;
  return Hive.open(primary, { name: ntName, log1: clean ? undefined : storage.read("log1"), log2: clean ? undefined : storage.read("log2") });
}
