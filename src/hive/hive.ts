// Hive: opening (with recovery), creating, path-level operations, serialising and crash-safe commits.

import {
  BASE_BLOCK_SIZE,
  BaseOffset,
  FILE_TYPE_PRIMARY,
  HBIN_ALIGN,
  baseBlockChecksum,
  readBaseBlock,
  type BaseBlockInfo,
} from "./base-block.ts";
import { CellStore, HBIN_HEADER_SIZE, NO_CELL } from "./cells.ts";
import { checkHive, type HiveCheckReport } from "./check.ts";
import { HiveError } from "./errors.ts";
import { buildLogEntry, recoverImage } from "./log.ts";
import { HiveKey, KEY_HIVE_ENTRY, KEY_NO_DELETE, SIG_SK, SK, checkKeyName, now, writeNewKeyNode } from "./nodes.ts";
import { defaultSecurityDescriptor } from "./security.ts";
import type { HiveFile, HiveStorage } from "./storage.ts";
import { encodeUtf16le } from "./text.ts";

export interface OpenOptions {
  /** Name used in error messages (e.g. "SYSTEM"). */
  name?: string;
  log1?: Uint8Array;
  log2?: Uint8Array;
  /**
   * What to do with a dirty primary. true (default): recover it from the logs given, failing with "dirty"
   * when none are given or "bad-log" when they do not verify. false: read the primary as it is, read-only.
   */
  recover?: boolean;
}

export interface CreateOptions {
  /** Name of the root key (Windows uses names like "ROOT" or "CsiTool-CreateHive-{GUID}"). */
  rootName?: string;
  /** 3..6; default 5 (lh leaves, big data), what Windows XP..10 write. */
  minorVersion?: number;
  /** The debugging file name stored in the base block. */
  name?: string;
}

export interface DeleteOptions {
  /** Delete subkeys too; without it, deleting a key that has subkeys fails with "exists". */
  recursive?: boolean;
}

/** How the hive came to be in memory: clean file or new hive, recovered from logs, or dirty read as is. */
export type DirtyState = "clean" | "recovered" | "dirty";

export interface RecoveryInfo {
  format: "HvLE" | "DIRT";
  /** Logs whose entries were applied, in the order applied. */
  logs: HiveFile[];
  /** Log entries applied (HvLE) or 1 for an old-format dirty vector. */
  entries: number;
  /** Bytes of hive bins data written from the logs. */
  bytes: number;
  /** The primary's base block was unusable and was taken from a log. */
  baseBlockFromLog: boolean;
}

/** Splits a root-relative path; empty components (leading, trailing, doubled backslashes) are dropped. */
function splitPath(path: string): string[] {
  return path.split("\\").filter((part) => part.length > 0);
}

export class Hive {
  /** @internal */ readonly cells: CellStore;
  private readonly rootCell: number;
  private readonly minor: number;
  private state: DirtyState;
  private readonly recoveryInfo: RecoveryInfo | undefined;
  private sequence: number;
  /** The bins size of the file this image was read from or last committed to (0: none yet). */
  private committedBinsSize: number;
  private changed = false;
  /** @internal Bumped whenever a key or value is deleted, so older handles know to re-check themselves. */
  epoch = 0;
  /** @internal Bumped by every change, so caches of what the hive holds know when to rebuild. */
  generation = 0;
  private rootKey: HiveKey | undefined;

  private constructor(
    cells: CellStore,
    base: BaseBlockInfo,
    state: DirtyState,
    recovery: RecoveryInfo | undefined,
    sequence: number,
  ) {
    this.cells = cells;
    this.rootCell = base.rootCell;
    this.minor = base.minorVersion;
    this.state = state;
    this.recoveryInfo = recovery;
    this.sequence = sequence;
    this.committedBinsSize = base.binsSize;
  }

  /**
   * Opens a primary file image (recovering it from logs when it is dirty and logs are given). A clean image
   * is read in place until the first change copies it: do not modify `primary` while the hive reads it.
   */
  static open(primary: Uint8Array, options: OpenOptions = {}): Hive {
    const file = options.name ?? "hive";
    const base = readBaseBlock(primary, file);
    const logs = { log1: nonEmpty(options.log1), log2: nonEmpty(options.log2) };
    if (base.clean || options.recover === false) {
      return Hive.fromImage(primary, false, base, file, base.clean ? "clean" : "dirty", undefined);
    }
    if (logs.log1 === undefined && logs.log2 === undefined) {
      throw new HiveError(
        "dirty",
        `hive is dirty (${base.checksumValid ? `sequence numbers ${base.primarySequence}/${base.secondarySequence}` : "base block checksum wrong"}) and no transaction log was given`,
        file,
        0,
      );
    }
    const recovered = recoverImage(primary, base, logs, file);
    const recoveredBase = readBaseBlock(recovered.image, file);
    const hive = Hive.fromImage(recovered.image, true, recoveredBase, file, "recovered", recovered.info);
    for (const [offset, length] of recovered.touched) {
      if (offset < hive.cells.binsSize) hive.cells.markDirty(offset, Math.min(length, hive.cells.binsSize - offset));
    }
    // The file on disk is still the dirty primary: the next commit rewrites it whole.
    hive.committedBinsSize = 0;
    hive.changed = true;
    return hive;
  }

  private static fromImage(
    image: Uint8Array,
    owned: boolean,
    base: BaseBlockInfo,
    file: string,
    state: DirtyState,
    recovery: RecoveryInfo | undefined,
  ): Hive {
    if (base.majorVersion !== 1 || base.minorVersion < 3 || base.minorVersion > 6) {
      throw new HiveError(
        "bad-version",
        `unsupported format version ${base.majorVersion}.${base.minorVersion} (1.3 to 1.6 are supported)`,
        file,
        BaseOffset.Major,
      );
    }
    if (base.fileType !== FILE_TYPE_PRIMARY) {
      throw new HiveError("bad-version", `file type ${base.fileType} is not a primary hive file`, file, BaseOffset.FileType);
    }
    if (base.fileFormat !== 1) {
      throw new HiveError("bad-version", `file format ${base.fileFormat} is not "direct memory load"`, file, BaseOffset.FileFormat);
    }
    if (base.binsSize === 0 || base.binsSize % HBIN_ALIGN !== 0) {
      throw new HiveError("bad-hbin", `hive bins size 0x${base.binsSize.toString(16)} is not a nonzero multiple of 4 KiB`, file, BaseOffset.BinsSize);
    }
    if (BASE_BLOCK_SIZE + base.binsSize > image.length) {
      throw new HiveError(
        "truncated",
        `file has ${image.length} bytes but the base block declares ${BASE_BLOCK_SIZE + base.binsSize}`,
        file,
        image.length,
      );
    }
    const cells = new CellStore(image, base.binsSize, file, owned);
    const sequence = Math.max(base.primarySequence, base.secondarySequence);
    const hive = new Hive(cells, base, state, recovery, sequence);
    hive.rootKey = new HiveKey(hive, base.rootCell, undefined, 0);
    return hive;
  }

  /** A new empty hive: a root key with a default security descriptor. */
  static create(options: CreateOptions = {}): Hive {
    const minor = options.minorVersion ?? 5;
    if (!Number.isInteger(minor) || minor < 3 || minor > 6) {
      throw new HiveError("bad-version", `cannot create a version 1.${minor} hive (1.3 to 1.6 are supported)`);
    }
    const rootName = options.rootName ?? "ROOT";
    checkKeyName(rootName);
    const fileName = options.name ?? "";
    const image = new Uint8Array(BASE_BLOCK_SIZE + HBIN_ALIGN);
    const view = new DataView(image.buffer);
    const stamp = now();
    image.set([0x72, 0x65, 0x67, 0x66], 0); // "regf"
    view.setUint32(BaseOffset.PrimarySequence, 1, true);
    view.setUint32(BaseOffset.SecondarySequence, 1, true);
    view.setBigUint64(BaseOffset.LastWritten, stamp, true);
    view.setUint32(BaseOffset.Major, 1, true);
    view.setUint32(BaseOffset.Minor, minor, true);
    view.setUint32(BaseOffset.FileType, FILE_TYPE_PRIMARY, true);
    view.setUint32(BaseOffset.FileFormat, 1, true);
    view.setUint32(BaseOffset.BinsSize, HBIN_ALIGN, true);
    view.setUint32(BaseOffset.Clustering, 1, true);
    image.set(encodeUtf16le(fileName.slice(-31)), BaseOffset.FileName);
    // One hbin holding a single free cell; the root and its security cell come from the allocator.
    image.set([0x68, 0x62, 0x69, 0x6e], BASE_BLOCK_SIZE); // "hbin"
    view.setUint32(BASE_BLOCK_SIZE + 8, HBIN_ALIGN, true);
    view.setBigUint64(BASE_BLOCK_SIZE + 20, stamp, true);
    view.setInt32(BASE_BLOCK_SIZE + HBIN_HEADER_SIZE, HBIN_ALIGN - HBIN_HEADER_SIZE, true);
    const cells = new CellStore(image, HBIN_ALIGN, fileName || "new hive", true);

    const descriptor = defaultSecurityDescriptor();
    const sk = cells.allocate(SK.descriptor + descriptor.length);
    cells.setU16(sk + 4, SIG_SK);
    cells.setU32(sk + 4 + SK.flink, sk);
    cells.setU32(sk + 4 + SK.blink, sk);
    cells.setU32(sk + 4 + SK.referenceCount, 1);
    cells.setU32(sk + 4 + SK.descriptorSize, descriptor.length);
    cells.setBytes(sk + 4 + SK.descriptor, descriptor);
    const root = writeNewKeyNode(cells, rootName, NO_CELL, sk, KEY_HIVE_ENTRY | KEY_NO_DELETE, stamp);
    view.setUint32(BaseOffset.RootCell, root, true);

    const base = readBaseBlock(image.subarray(0, BASE_BLOCK_SIZE));
    const hive = new Hive(cells, { ...base, rootCell: root }, "clean", undefined, 1);
    hive.committedBinsSize = 0;
    hive.changed = true;
    hive.rootKey = new HiveKey(hive, root, undefined, 0);
    return hive;
  }

  /**
   * Opens the primary in storage. A dirty primary is recovered from the logs beside it and the recovered
   * image is written back to the primary at once (pages first, then a clean base block), so the logs can be
   * reused by the next commit.
   */
  static openFromStorage(storage: HiveStorage, options: { name?: string } = {}): Hive {
    const file = options.name ?? "hive";
    const primary = storage.read("primary");
    if (primary === undefined) throw new HiveError("not-found", "primary file does not exist", file);
    const hive = Hive.open(primary, {
      name: file,
      log1: storage.read("log1"),
      log2: storage.read("log2"),
    });
    if (hive.state === "recovered") {
      // The primary stays dirty until its base block is rewritten last, so a crash here recovers again.
      hive.writeDirtyPages(storage);
      storage.flush("primary");
      storage.write("primary", 0, hive.baseBlock(hive.sequence, hive.sequence));
      storage.flush("primary");
      hive.cells.clearDirty();
      hive.committedBinsSize = hive.cells.binsSize;
      hive.changed = false;
    }
    return hive;
  }

  /** Name used in error messages. */
  get name(): string {
    return this.cells.file;
  }

  get minorVersion(): number {
    return this.minor;
  }

  get root(): HiveKey {
    return this.rootKey as HiveKey;
  }

  get dirtyState(): DirtyState {
    return this.state;
  }

  /** What recovery did when the hive was opened dirty and recovered; undefined otherwise. */
  get recovery(): RecoveryInfo | undefined {
    return this.recoveryInfo;
  }

  /** Changed since it was opened, created or last committed. */
  get modified(): boolean {
    return this.changed;
  }

  /** The key at a root-relative path, or undefined. */
  key(path: string): HiveKey | undefined {
    let key: HiveKey | undefined = this.root;
    for (const part of splitPath(path)) {
      key = key.subkey(part);
      if (key === undefined) return undefined;
    }
    return key;
  }

  /** Opens or creates the key at path, creating missing parents. */
  createKey(path: string): HiveKey {
    let key = this.root;
    for (const part of splitPath(path)) key = key.createSubkey(part);
    return key;
  }

  /** Deletes the key at path; false when it does not exist. The root cannot be deleted. */
  deleteKey(path: string, options: DeleteOptions = {}): boolean {
    const parts = splitPath(path);
    if (parts.length === 0) throw new HiveError("bad-name", "the root key cannot be deleted", this.name);
    const parent = this.key(parts.slice(0, -1).join("\\"));
    if (parent === undefined) return false;
    return parent.deleteSubkey(parts[parts.length - 1], options);
  }

  /** A clean, checksummed primary file image of the current contents. */
  toBytes(): Uint8Array {
    const out = this.cells.buf.slice(0, BASE_BLOCK_SIZE + this.cells.binsSize);
    out.set(this.baseBlock(this.sequence, this.sequence));
    return out;
  }

  /** The base block for the current contents with the given sequence numbers. */
  private baseBlock(primarySequence: number, secondarySequence: number): Uint8Array {
    const block = this.cells.buf.slice(0, BASE_BLOCK_SIZE);
    const view = new DataView(block.buffer);
    view.setUint32(BaseOffset.PrimarySequence, primarySequence >>> 0, true);
    view.setUint32(BaseOffset.SecondarySequence, secondarySequence >>> 0, true);
    view.setUint32(BaseOffset.FileType, FILE_TYPE_PRIMARY, true);
    view.setUint32(BaseOffset.FileFormat, 1, true);
    view.setUint32(BaseOffset.RootCell, this.rootCell, true);
    view.setUint32(BaseOffset.BinsSize, this.cells.binsSize, true);
    view.setUint32(BaseOffset.Checksum, baseBlockChecksum(block), true);
    return block;
  }

  /** Runs of dirty 4 KiB pages as [bins offset, length]. */
  private dirtyRuns(): Array<[number, number]> {
    const runs: Array<[number, number]> = [];
    const pages = this.cells.pageCount;
    const dirty = this.cells.dirtyPages;
    for (let page = 0; page < pages; page++) {
      if (dirty[page] === 0) continue;
      let end = page + 1;
      while (end < pages && dirty[end] !== 0) end++;
      runs.push([page * HBIN_ALIGN, (end - page) * HBIN_ALIGN]);
      page = end;
    }
    return runs;
  }

  private writeDirtyPages(storage: HiveStorage): void {
    for (const [offset, length] of this.dirtyRuns()) {
      storage.write("primary", BASE_BLOCK_SIZE + offset, this.cells.buf.subarray(BASE_BLOCK_SIZE + offset, BASE_BLOCK_SIZE + offset + length));
    }
  }

  /**
   * Writes the changes to storage with Windows' crash-safe protocol: the dirty pages go to LOG1 as one
   * new-format entry and are flushed; then the primary's base block with the primary sequence number
   * incremented; then the pages; then the base block with both sequence numbers equal. LOG2 is not used.
   */
  commit(storage: HiveStorage): void {
    this.checkWritable();
    const existing = storage.read("primary");
    let sameFile = false;
    if (existing !== undefined && existing.length >= BASE_BLOCK_SIZE && this.committedBinsSize !== 0) {
      try {
        const base = readBaseBlock(existing, this.name);
        sameFile = base.clean && base.primarySequence === this.sequence && base.binsSize === this.committedBinsSize;
      } catch (error) {
        if (!(error instanceof HiveError)) throw error;
      }
    }
    if (!sameFile) this.cells.markAllDirty();
    const runs = this.dirtyRuns();
    if (runs.length === 0 && sameFile) {
      this.changed = false;
      return;
    }
    const sequence = this.sequence;
    const logBase = this.baseBlock(sequence, sequence).slice(0, 512);
    const entry = buildLogEntry(this.cells.buf, runs, sequence, this.cells.binsSize, this.cells.view.getUint32(BaseOffset.Flags, true));
    const logView = new DataView(logBase.buffer);
    logView.setUint32(BaseOffset.FileType, 6, true);
    logView.setUint32(BaseOffset.Checksum, baseBlockChecksum(logBase), true);
    storage.write("log1", 0, logBase);
    storage.write("log1", 512, entry);
    storage.flush("log1");
    storage.write("primary", 0, this.baseBlock(sequence + 1, sequence));
    storage.flush("primary");
    this.writeDirtyPages(storage);
    storage.flush("primary");
    storage.write("primary", 0, this.baseBlock(sequence + 1, sequence + 1));
    storage.flush("primary");
    this.sequence = sequence + 1;
    this.committedBinsSize = this.cells.binsSize;
    this.cells.clearDirty();
    this.changed = false;
    if (this.state === "recovered") this.state = "clean";
  }

  /** @internal */
  checkWritable(): void {
    if (this.state === "dirty") {
      throw new HiveError("read-only", "hive was opened dirty without recovery and cannot be changed", this.name);
    }
  }

  /** @internal */
  touch(): void {
    this.changed = true;
    this.generation++;
  }

  /** @internal Big data (db) is used for large values from version 1.4 on. */
  get usesBigData(): boolean {
    return this.minor >= 4;
  }

  /** Walks every cell and key and reports counts and structural problems. */
  check(): HiveCheckReport {
    return checkHive(this);
  }
}

function nonEmpty(bytes: Uint8Array | undefined): Uint8Array | undefined {
  return bytes !== undefined && bytes.length > 0 ? bytes : undefined;
}

