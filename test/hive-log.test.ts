// Transaction logs: recovering dirty hives the way Windows does (checked against hives Windows itself
// recovered), refusing logs that do not verify, and crash-safe commits cut after every single write.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Hive,
  type HiveFile,
  type HiveStorage,
  MemoryStorage,
  REG_BINARY,
  REG_DWORD,
  REG_SZ,
  encodeDword,
  encodeString,
  readBaseBlock,
} from "../src/hive/index.ts";
import { baseBlockChecksum } from "../src/hive/base-block.ts";
import { dumpTree, edgeDir, hiveErrorOf, realHivePath, writeTemp } from "./hive-helpers.ts";

function edge(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(edgeDir, path)));
}

function realFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(realHivePath(name)));
}

describe("recovery from Windows' logs", () => {
  it("recovers NewDirtyHive (HvLE in LOG1 and LOG2) to what Windows 10 recovered", () => {
    const hive = Hive.open(edge("NewDirtyHive1/NewDirtyHive"), {
      name: "NewDirtyHive",
      log1: edge("NewDirtyHive1/NewDirtyHive.LOG1"),
      log2: edge("NewDirtyHive1/NewDirtyHive.LOG2"),
    });
    expect(hive.dirtyState).toBe("recovered");
    expect(hive.recovery).toEqual({ format: "HvLE", logs: ["log1", "log2"], entries: 4, bytes: 49152, baseBlockFromLog: false });
    const oracle = Hive.open(edge("NewDirtyHive1/RecoveredHive_Windows10"));
    expect(dumpTree(hive)).toEqual(dumpTree(oracle));
    expect(dumpTree(hive)).not.toEqual(dumpTree(Hive.open(edge("NewDirtyHive1/NewDirtyHive"), { recover: false })));
    const base = readBaseBlock(hive.toBytes());
    expect([base.primarySequence, base.secondarySequence, base.clean]).toEqual([6, 6, true]);
    expect(hive.check().problems).toEqual([]);
  });

  it("recovers OldDirtyHive (DIRT log) to what Windows 7 recovered", () => {
    const hive = Hive.open(edge("OldDirtyHive/OldDirtyHive"), {
      name: "OldDirtyHive",
      log1: edge("OldDirtyHive/OldDirtyHive.LOG1"),
      log2: edge("OldDirtyHive/OldDirtyHive.LOG2"),
    });
    expect(hive.recovery?.format).toBe("DIRT");
    expect(dumpTree(hive)).toEqual(dumpTree(Hive.open(edge("OldDirtyHive/RecoveredHive_Windows7"))));
    expect(dumpTree(hive)).not.toEqual(dumpTree(Hive.open(edge("OldDirtyHive/OldDirtyHive"), { recover: false })));
  });

  it("refuses BadLogHive1, whose LOG1 base block does not verify", () => {
    const error = hiveErrorOf(() =>
      Hive.open(edge("BadLogHive1/BadLogHive"), {
        name: "BadLogHive",
        log1: edge("BadLogHive1/BadLogHive.LOG1"),
        log2: edge("BadLogHive1/BadLogHive.LOG2"),
      }),
    );
    expect(error.code).toBe("bad-log");
    expect(error.message).toMatch(/^BadLogHive: dirty hive cannot be recovered: LOG1: base block checksum 0x[0-9a-f]+ does not verify/);
    expect(error.message).toContain("LOG2: missing or empty");
  });

  it("replays the 24 entries of the real SYSTEM_B logs into a hive hivex reads", () => {
    const primary = realFile("SYSTEM_B");
    const hive = Hive.open(primary, { name: "SYSTEM_B", log1: realFile("SYSTEM_B.LOG1"), log2: realFile("SYSTEM_B.LOG2") });
    expect(hive.recovery).toMatchObject({ format: "HvLE", logs: ["log1", "log2"], entries: 24 });
    expect(hive.check().problems).toEqual([]);
    const path = writeTemp("SYSTEM_B.recovered", hive.toBytes());
    expect(spawnSync("hivexml", [path], { stdio: "ignore" }).status).toBe(0);
    expect(readBaseBlock(hive.toBytes()).primarySequence).toBe(2131);
    expect(dumpTree(hive).length).not.toBe(dumpTree(Hive.open(primary, { recover: false })).length);
  });

  it("stops at the first entry that does not verify and applies the ones before it", () => {
    const log2 = edge("NewDirtyHive1/NewDirtyHive.LOG2");
    log2[8192 + 200] ^= 0x40; // inside the data of LOG2's second entry (sequence 4)
    const hive = Hive.open(edge("NewDirtyHive1/NewDirtyHive"), { log1: edge("NewDirtyHive1/NewDirtyHive.LOG1"), log2 });
    expect(hive.recovery?.entries).toBe(2);
    expect(readBaseBlock(hive.toBytes()).primarySequence).toBe(4);
  });

  it("takes the base block from the log with the latest entries when the primary's is damaged", () => {
    const primary = edge("NewDirtyHive1/NewDirtyHive");
    primary[48] ^= 0xff; // the file name field: the checksum no longer matches
    const hive = Hive.open(primary, { log1: edge("NewDirtyHive1/NewDirtyHive.LOG1"), log2: edge("NewDirtyHive1/NewDirtyHive.LOG2") });
    expect(hive.recovery).toMatchObject({ baseBlockFromLog: true, logs: ["log2"], entries: 3 });
    expect(hive.check().problems).toEqual([]);
  });

  it("takes the base block from the DIRT log when the primary's is damaged (bad checksum, nonsense version)", () => {
    const windows7 = dumpTree(Hive.open(edge("OldDirtyHive/RecoveredHive_Windows7")));
    const logs = { log1: edge("OldDirtyHive/OldDirtyHive.LOG1"), log2: edge("OldDirtyHive/OldDirtyHive.LOG2") };
    const versionDamaged = edge("OldDirtyHive/OldDirtyHive");
    new DataView(versionDamaged.buffer).setUint32(20, 0x1234, true); // major version; the checksum no longer matches
    const nameDamaged = edge("OldDirtyHive/OldDirtyHive");
    nameDamaged[48] ^= 0xff;
    for (const primary of [versionDamaged, nameDamaged]) {
      expect(readBaseBlock(primary).checksumValid).toBe(false);
      const hive = Hive.open(primary, { name: "OldDirtyHive", ...logs });
      expect(hive.recovery).toEqual({ format: "DIRT", logs: ["log1"], entries: 1, bytes: 32768, baseBlockFromLog: true });
      expect(dumpTree(hive)).toEqual(windows7);
      const base = readBaseBlock(hive.toBytes());
      expect([base.majorVersion, base.checksumValid, base.clean, base.primarySequence]).toEqual([1, true, true, 5]);
      expect(hive.check().problems).toEqual([]);
    }
  });

  it("still refuses a DIRT log whose timestamp differs from a primary base block that verifies", () => {
    const log1 = edge("OldDirtyHive/OldDirtyHive.LOG1");
    const view = new DataView(log1.buffer);
    view.setBigUint64(12, view.getBigUint64(12, true) + 1n, true);
    view.setUint32(508, baseBlockChecksum(log1), true);
    const error = hiveErrorOf(() => Hive.open(edge("OldDirtyHive/OldDirtyHive"), { name: "OldDirtyHive", log1 }));
    expect(error.code).toBe("bad-log");
    expect(error.message).toContain("LOG1: last-written timestamp does not match the primary's");
  });

  it("ignores logs beside a clean hive", () => {
    const hive = Hive.open(edge("NewDirtyHive1/RecoveredHive_Windows10"), { log1: edge("NewDirtyHive1/NewDirtyHive.LOG1") });
    expect(hive.dirtyState).toBe("clean");
    expect(hive.recovery).toBeUndefined();
  });
});

/** Storage that lets the first `limit` writes through and drops the rest, as if power failed there. */
class CutStorage implements HiveStorage {
  writes = 0;
  constructor(
    private readonly inner: MemoryStorage,
    private readonly limit: number,
    /** Apply only the first half (whole sectors) of the last write that gets through. */
    private readonly torn = false,
  ) {}
  read(file: HiveFile): Uint8Array | undefined {
    return this.inner.read(file);
  }
  write(file: HiveFile, offset: number, bytes: Uint8Array): void {
    this.writes++;
    if (this.writes > this.limit) return;
    const cut = this.torn && this.writes === this.limit ? Math.floor(bytes.length / 2 / 512) * 512 : bytes.length;
    this.inner.write(file, offset, bytes.subarray(0, cut));
  }
  flush(): void {}
}

function cloneStorage(storage: MemoryStorage): MemoryStorage {
  return new MemoryStorage({ primary: storage.read("primary"), log1: storage.read("log1"), log2: storage.read("log2") });
}

/**
 * Commits `change` on top of `start`, cut after every write k (and torn at k), and checks the reopened hive
 * is exactly the old or exactly the new content, turning new at one k and staying new.
 */
function cutAtEveryWrite(start: MemoryStorage, change: (hive: Hive) => void): { writes: number; firstNew: number } {
  const oldTree = dumpTree(Hive.openFromStorage(cloneStorage(start)));
  const counting = new CutStorage(cloneStorage(start), Number.POSITIVE_INFINITY);
  const complete = Hive.openFromStorage(cloneStorage(start));
  change(complete);
  complete.commit(counting);
  const newTree = dumpTree(complete);
  expect(newTree).not.toEqual(oldTree);
  let firstNew = -1;
  for (const torn of [false, true]) {
    for (let k = torn ? 1 : 0; k <= counting.writes; k++) {
      const files = cloneStorage(start);
      const hive = Hive.openFromStorage(cloneStorage(start));
      change(hive);
      hive.commit(new CutStorage(files, k, torn));
      const reopened = Hive.openFromStorage(files);
      const tree = dumpTree(reopened);
      const isNew = JSON.stringify(tree) === JSON.stringify(newTree);
      if (!isNew) expect(tree).toEqual(oldTree);
      if (!torn) {
        if (isNew && firstNew < 0) firstNew = k;
        if (firstNew >= 0) expect(isNew).toBe(true);
      }
      expect(reopened.check().problems).toEqual([]);
      // The reopened hive can be changed and committed again, and the result reads back.
      reopened.root.setValue("after-crash", REG_DWORD, encodeDword(k));
      reopened.commit(files);
      expect(Hive.openFromStorage(files).root.value("after-crash")?.asDword()).toBe(k);
    }
  }
  expect(firstNew).toBeGreaterThan(0);
  expect(firstNew).toBeLessThanOrEqual(counting.writes);
  return { writes: counting.writes, firstNew };
}

function bigChange(hive: Hive): void {
  // Touch keys spread over the file, so the commit has several separate runs of dirty pages.
  const spread = hive.key("Base")?.subkeys() ?? hive.root.subkeys()[0]?.subkeys() ?? [];
  spread.forEach((key, i) => {
    if (i % 3 === 0) key.setValue("touched", REG_DWORD, encodeDword(i));
  });
  for (let i = 0; i < 40; i++) hive.createKey(`Added\\k${i}`).setValue("v", REG_SZ, encodeString(`value ${i}`));
  hive.createKey("Added\\big").setValue("blob", REG_BINARY, new Uint8Array(50000).fill(7));
  const first = hive.root.subkeys()[0];
  if (first !== undefined && first.name !== "Added") hive.deleteKey(first.name, { recursive: true });
}

describe("crash-safe commits", () => {
  it("writes the primary and a verifiable LOG1 (LOG2 untouched)", () => {
    const storage = new MemoryStorage();
    const hive = Hive.create({ name: "crash" });
    hive.createKey("a\\b").setValue("x", REG_SZ, encodeString("y"));
    hive.commit(storage);
    expect(hive.modified).toBe(false);
    expect(storage.read("log2")).toBeUndefined();
    const log1 = storage.read("log1") as Uint8Array;
    expect(readBaseBlock(log1).fileType).toBe(6);
    expect(String.fromCharCode(...log1.subarray(512, 516))).toBe("HvLE");
    const reopened = Hive.openFromStorage(storage);
    expect(reopened.dirtyState).toBe("clean");
    expect(dumpTree(reopened)).toEqual(dumpTree(hive));
    // A second commit writes only what changed.
    reopened.createKey("a\\c");
    reopened.commit(storage);
    expect(Hive.openFromStorage(storage).key("A\\C")).toBeDefined();
  });

  it("recovers a commit interrupted after the primary's base block from our own LOG1", () => {
    const start = new MemoryStorage();
    const hive = Hive.create();
    hive.createKey("before");
    hive.commit(start);
    const files = cloneStorage(start);
    const changed = Hive.openFromStorage(cloneStorage(start));
    changed.createKey("after").setValue("big", REG_BINARY, new Uint8Array(40000).fill(1));
    changed.commit(new CutStorage(files, 4)); // log base, log entry, primary base, first page run
    const primary = files.read("primary") as Uint8Array;
    const base = readBaseBlock(primary);
    expect(base.primarySequence).toBe(base.secondarySequence + 1);
    expect(hiveErrorOf(() => Hive.open(primary)).code).toBe("dirty");
    const recovered = Hive.open(primary, { log1: files.read("log1") });
    expect(recovered.recovery).toMatchObject({ format: "HvLE", logs: ["log1"], entries: 1 });
    expect(recovered.key("after")?.value("big")?.data).toEqual(new Uint8Array(40000).fill(1));
  });

  it("opens as exactly the old or the new hive after a cut at any write (new hive)", () => {
    const start = new MemoryStorage();
    const hive = Hive.create({ name: "cut" });
    for (let i = 0; i < 30; i++) hive.createKey(`Base\\k${i}`).setValue("blob", REG_BINARY, new Uint8Array(9000).fill(i));
    hive.commit(start);
    const { writes } = cutAtEveryWrite(start, bigChange);
    expect(writes).toBeGreaterThanOrEqual(10);
  });

  it("opens as exactly the old or the new hive after a cut at any write (real SAM, first commit)", () => {
    const start = new MemoryStorage({ primary: realFile("SAM") });
    cutAtEveryWrite(start, bigChange);
  });

  it("persists a recovery crash-safely: cutting the write-back at any point recovers again", () => {
    const start = new MemoryStorage();
    const hive = Hive.create();
    hive.createKey("old");
    hive.commit(start);
    const dirty = cloneStorage(start);
    const changed = Hive.openFromStorage(cloneStorage(start));
    bigChange(changed);
    changed.commit(new CutStorage(dirty, 4));
    const expected = dumpTree(changed);
    const counting = new CutStorage(cloneStorage(dirty), Number.POSITIVE_INFINITY);
    Hive.openFromStorage(counting);
    expect(counting.writes).toBeGreaterThanOrEqual(2);
    for (let j = 0; j <= counting.writes; j++) {
      const files = cloneStorage(dirty);
      Hive.openFromStorage(new CutStorage(files, j));
      expect(dumpTree(Hive.openFromStorage(files))).toEqual(expected);
    }
  });
});
