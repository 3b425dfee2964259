// Phase "hive": the SYSTEM hive from C:\Windows\System32\config, recovered from its logs in memory when it
// is dirty (the root volume is still read-only: the recovered hive reaches the disk with the first commit
// after autochk), and the Session Manager key resolved through Select\Current.
import { GuestHiveStorage } from "../lib/hive-storage.ts";
import { sessionManagerKey, type SessionManagerKey } from "../../src/config/values.ts";
import type { HiveData } from "../../src/events/index.ts";
import { Hive } from "../../src/hive/index.ts";

export const SYSTEM_HIVE_PATH = "/Windows/System32/config/SYSTEM";

export class SystemHive {
  commits = 0;
  constructor(
    readonly hive: Hive,
    readonly storage: GuestHiveStorage,
    readonly sessionManager: SessionManagerKey,
  ) {}

  /** Crash-safe (log first), then synced: once this returns the change survives a power cut. */
  commit(): void {
    this.hive.commit(this.storage);
    this.commits++;
  }
}

export function openSystemHive(): { system: SystemHive; data: HiveData } {
  const storage = new GuestHiveStorage(SYSTEM_HIVE_PATH);
  const primary = storage.read("primary");
  if (primary === undefined) throw new Error("\\SystemRoot\\System32\\config\\SYSTEM does not exist");
  const hive = Hive.open(primary, { name: "\\SystemRoot\\System32\\config\\SYSTEM", log1: storage.read("log1"), log2: storage.read("log2") });
  const sessionManager = sessionManagerKey(hive);
  return {
    system: new SystemHive(hive, storage, sessionManager),
    data: { path: "\\SystemRoot\\System32\\config\\SYSTEM", bytes: primary.length, state: hive.dirtyState, controlSet: sessionManager.hivePath.split("\\")[0] },
  };
}
