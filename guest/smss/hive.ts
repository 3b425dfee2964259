// Phase "hive": the SYSTEM hive from C:\Windows\System32\config, recovered from its logs in memory when it
// is dirty (the root volume is still read-only: the recovered hive reaches the disk with the first commit
// after autochk), and the Session Manager key resolved through Select\Current.
import * as sys from "sys";
import { GuestHiveStorage } from "../lib/hive-storage.ts";
import { sessionManagerKey, type SessionManagerKey } from "../../src/config/values.ts";
import type { HiveData } from "../../src/events/index.ts";
import { Hive, HiveError, readBaseBlock } from "../../src/hive/index.ts";

export const SYSTEM_HIVE_PATH = "/Windows/System32/config/SYSTEM";
const SYSTEM_HIVE_NAME = "\\SystemRoot\\System32\\config\\SYSTEM";

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

/**
 * The logs are read only when the primary is dirty: a clean primary is the hive, and a log a power cut
 * left half-allocated on the volume (autochk repairs it later in this boot) must not stop the boot. A log
 * that cannot be read counts as absent; recovery then uses the other one, or fails with its reason.
 */
function readLog(storage: GuestHiveStorage, file: "log1" | "log2", unreadable: string[]): Uint8Array | undefined {
  try {
    return storage.read(file);
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    unreadable.push(`${storage.pathOf(file)}: ${error.code}`);
    return undefined;
  }
}

export function openSystemHive(): { system: SystemHive; data: HiveData } {
  const storage = new GuestHiveStorage(SYSTEM_HIVE_PATH);
  const primary = storage.read("primary");
  if (primary === undefined) throw new Error(`${SYSTEM_HIVE_NAME} does not exist`);
  const unreadableLogs: string[] = [];
  let clean = false;
  try {
    clean = readBaseBlock(primary, SYSTEM_HIVE_NAME).clean;
  } catch (error) {
    if (!(error instanceof HiveError)) throw error;
  }
  const log1 = clean ? undefined : readLog(storage, "log1", unreadableLogs);
  const log2 = clean ? undefined : readLog(storage, "log2", unreadableLogs);
  const hive = Hive.open(primary, { name: SYSTEM_HIVE_NAME, log1, log2 });
  const sessionManager = sessionManagerKey(hive);
  return {
    system: new SystemHive(hive, storage, sessionManager),
    data: { path: SYSTEM_HIVE_NAME, bytes: primary.length, state: hive.dirtyState, controlSet: sessionManager.hivePath.split("\\")[0], unreadableLogs },
  };
}
