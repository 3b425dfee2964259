// A FAT12/16/32 volume over the bytes of a partition: read and change files and directories in place.
// Used to build the boot disk and to read back what the guest wrote, so it trusts nothing it reads: every
// structure is bounds-checked and every cluster chain walk is bounded by the volume's cluster count.
// Pure: Uint8Array/DataView only, so the web page can use it too.

import {
  InvalidFatNameError,
  LONG_NAME_CHARS_PER_ENTRY,
  LOWER_CASE_BASE,
  LOWER_CASE_EXTENSION,
  decodeShortName,
  longNameProblem,
  foldNameCase,
  planShortName,
  shortNameChecksum,
  shortNameKey,
} from "./names.ts";
import { MemoryBytes, type VolumeBytes } from "./bytes.ts";

export type FatType = 12 | 16 | 32;

export type FatErrorCode =
  | "truncated"
  | "bad-boot-sector"
  | "bad-chain"
  | "bad-directory"
  | "not-found"
  | "not-a-directory"
  | "is-a-directory"
  | "directory-not-empty"
  | "read-only"
  | "invalid-name"
  | "no-space"
  | "directory-full"
  | "bad-argument";

/** Everything wrong with a volume or a request on it. `offset` is a byte offset into the volume, if one applies. */
export class FatError extends Error {
  constructor(
    readonly code: FatErrorCode,
    message: string,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at volume offset 0x${offset.toString(16)})`);
    this.name = "FatError";
  }
}

/** Directory entry attribute bits. */
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_LABEL = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
const ATTR_LONG_NAME = 0x0f;

const ENTRY_SIZE = 32;
const DELETED_MARK = 0xe5;
/** FAT's own limit on a directory's size (and the bound on walking one). */
const MAX_DIRECTORY_ENTRIES = 65536;
/** check() descends no deeper: Windows' own path limit of 32,767 characters allows no more levels. */
const MAX_CHECK_DEPTH = 16384;
/** Beyond this count of clusters a volume is FAT16, then FAT32: the only rule that decides the type. */
const FAT12_MAX_CLUSTERS = 4084;
const FAT16_MAX_CLUSTERS = 65524;
const FAT32_MAX_CLUSTERS = 0x0ffffff5;

/** The time written into new and changed entries unless the caller gives one: fixed, so builds reproduce. */
export const DEFAULT_FAT_TIMESTAMP = Date.UTC(2000, 0, 1, 0, 0, 0);

/** Where everything lies on the volume, from the boot sector. Offsets are bytes from the volume's start. */
export interface FatLayout {
  readonly type: FatType;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly clusterSize: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  readonly fatSectors: number;
  readonly totalSectors: number;
  readonly fatOffset: number;
  /** The FAT12/16 root directory's fixed region (both 0 on FAT32). */
  readonly rootDirectoryOffset: number;
  readonly rootDirectoryEntries: number;
  readonly dataOffset: number;
  readonly clusterCount: number;
  /** FAT32 only: the root directory's first cluster (0 otherwise). */
  readonly rootCluster: number;
  /** FAT32 only: the FSInfo sector's offset, or undefined if there is none. */
  readonly fsInfoOffset: number | undefined;
}

export interface FatEntry {
  /** The long name if the entry has one, else the short name as DOS shows it. */
  readonly name: string;
  /** The 8.3 name, e.g. "SMSS.EXE" or "SYSTEM~1". */
  readonly shortName: string;
  readonly isDirectory: boolean;
  readonly size: number;
  readonly attributes: number;
  readonly firstCluster: number;
  readonly modified: Date;
}

/** One problem found by FatVolume.check, and what was done about it when repairing. */
export interface FatFinding {
  kind: "dirty" | "fat-copies-differ" | "bad-entry" | "bad-chain" | "cross-link" | "size-mismatch" | "lost-chain" | "free-count";
  /** The file or directory concerned ("/" paths), if any. */
  path?: string;
  detail: string;
  /** What the repair did; absent when only checking. */
  fixed?: string;
}

export interface FatCheckReport {
  findings: FatFinding[];
  /** Files and directories visited. */
  entries: number;
  clustersInUse: number;
}

export interface FatVolumeOptions {
  /** Time stamped on entries this volume creates or changes. */
  timestamp?: Date;
}

/** A parsed entry plus where it lies: the slots of its long-name entries and of its short entry. */
interface LocatedEntry extends Omit<FatEntry, "modified"> {
  readonly slotOffsets: readonly number[];
  readonly shortEntryOffset: number;
  readonly shortNameBytes: Uint8Array;
}

/** A directory: the byte offsets of all its 32-byte slots, in order. */
interface Directory {
  /** 0 for the FAT12/16 root directory. */
  readonly firstCluster: number;
  readonly slotOffsets: number[];
  /** The last cluster of its chain (0 for the fixed root), for growing it. */
  readonly lastCluster: number;
}

const BOOT_SIGNATURE_OFFSET = 510;
const FSINFO_LEAD_SIGNATURE = 0x41615252;
const FSINFO_STRUCT_SIGNATURE = 0x61417272;
const FSINFO_TRAIL_SIGNATURE = 0xaa550000;

export class FatVolume {
  readonly layout: FatLayout;
  private readonly store: VolumeBytes;
  private readonly timestamp: { date: number; time: number; tenths: number };
  private readonly eocMin: number;
  private readonly eocMark: number;
  private readonly badMark: number;
  /** Loaded on first use: autochk on a clean volume never needs the FAT. */
  private table: Uint32Array | undefined;
  /** Counted on first use, like the table. */
  private freeCount: number | undefined;
  /** No free cluster lies below this one: allocation starts its search here (first fit, so layouts reproduce). */
  private firstMaybeFree = 2;

  private constructor(store: VolumeBytes, layout: FatLayout, timestamp: Date) {
    this.store = store;
    this.layout = layout;
    this.timestamp = encodeTimestamp(timestamp);
    const marks = { 12: [0xff8, 0xfff, 0xff7], 16: [0xfff8, 0xffff, 0xfff7], 32: [0x0ffffff8, 0x0fffffff, 0x0ffffff7] };
    [this.eocMin, this.eocMark, this.badMark] = marks[layout.type];
  }

  private get freeClusters(): number {
    if (this.freeCount === undefined) {
      let free = 0;
      for (let cluster = 2; cluster < this.layout.clusterCount + 2; cluster++) if (this.fatEntry(cluster) === 0) free++;
      this.freeCount = free;
    }
    return this.freeCount;
  }

  private set freeClusters(count: number) {
    this.freeCount = count;
  }

  /**
   * Opens the FAT volume in `bytes` (a partition's bytes; a view into a disk works and writes land in the
   * disk). Throws FatError if the boot sector does not describe a FAT volume that fits in `bytes`.
   * The volume counts free clusters once, here: open it again after something else (the guest) wrote.
   */
  static open(bytes: Uint8Array | VolumeBytes, options: FatVolumeOptions = {}): FatVolume {
    const store = bytes instanceof Uint8Array ? new MemoryBytes(bytes) : bytes;
    const layout = parseBootSector(store);
    return new FatVolume(store, layout, options.timestamp ?? new Date(DEFAULT_FAT_TIMESTAMP));
  }

  get type(): FatType {
    return this.layout.type;
  }

  /** Clusters not in use. */
  get freeClusterCount(): number {
    return this.freeClusters;
  }

  /** The "volume is mounted / was not unmounted cleanly" bit Linux sets in the boot sector while mounted. */
  get dirty(): boolean {
    const flagsOffset = this.layout.type === 32 ? 65 : 37;
    return (this.store.u8(flagsOffset) & 0x01) !== 0;
  }

  /** The entries of the directory at `path` ("/" is the root), without "." and "..". */
  list(path: string): FatEntry[] {
    const directory = this.openDirectory(splitPath(path), path);
    return this.readEntries(directory).map((entry) => this.publicEntry(entry));
  }

  /** The entry at `path`, or undefined if nothing is there. "/" has no entry: it throws. */
  stat(path: string): FatEntry | undefined {
    const { parent, name } = this.locateParent(path);
    const entry = this.findEntry(parent, name);
    return entry === undefined ? undefined : this.publicEntry(entry);
  }

  /** The clusters of the file or directory at `path` in chain order: none for an empty file or a FAT12/16 root. */
  clusters(path: string): number[] {
    if (splitPath(path).length === 0) return this.layout.type === 32 ? this.walkChain(this.layout.rootCluster, Infinity, 44) : [];
    const entry = this.requireEntry(path);
    return entry.firstCluster === 0 ? [] : this.walkChain(entry.firstCluster, Infinity, entry.shortEntryOffset);
  }

  /**
   * Where the file's data lies in the volume, as byte ranges in file order (contiguous clusters make one
   * range); each range is whole clusters, so the last may run past the file's size. For a boot loader's map.
   */
  extents(path: string): { offset: number; length: number }[] {
    const ranges: { offset: number; length: number }[] = [];
    let previous = -1;
    for (const cluster of this.clusters(path)) {
      const last = ranges[ranges.length - 1];
      if (last !== undefined && cluster === previous + 1) last.length += this.layout.clusterSize;
      else ranges.push({ offset: this.clusterOffset(cluster), length: this.layout.clusterSize });
      previous = cluster;
    }
    return ranges;
  }

  readFile(path: string): Uint8Array {
    const entry = this.requireEntry(path);
    if (entry.isDirectory) throw new FatError("is-a-directory", `${path} is a directory`);
    const clusterSize = this.layout.clusterSize;
    const needed = Math.ceil(entry.size / clusterSize);
    if (needed === 0) return new Uint8Array(0);
    if (needed > this.layout.clusterCount) {
      throw new FatError(
        "bad-directory",
        `${path} claims ${entry.size} bytes, more than the volume's ${this.layout.clusterCount} clusters hold`,
        entry.shortEntryOffset + 28,
      );
    }
    const chain = this.walkChain(entry.firstCluster, needed, entry.shortEntryOffset);
    if (chain.length < needed) {
      throw new FatError(
        "bad-chain",
        `${path} is ${entry.size} bytes (${needed} clusters) but its cluster chain ends after ${chain.length}`,
        this.fatEntryOffset(chain[chain.length - 1]),
      );
    }
    const data = new Uint8Array(entry.size);
    chain.forEach((cluster, index) => {
      const start = index * clusterSize;
      const length = Math.min(clusterSize, entry.size - start);
      data.set(this.store.read(this.clusterOffset(cluster), length), start);
    });
    return data;
  }

  /**
   * Creates or replaces the file at `path`; its directory must exist. A replaced file keeps its name as stored
   * (FAT names ignore case, so "/A.TXT" replaces "/a.txt") and gets new clusters.
   */
  writeFile(path: string, data: Uint8Array): void {
    const { parent, name } = this.locateParent(path);
    if (data.length > 0xffffffff) throw new FatError("bad-argument", `${path}: ${data.length} bytes exceed FAT's 4 GiB - 1`);
    const existing = this.findEntry(parent, name);
    if (existing?.isDirectory) throw new FatError("is-a-directory", `${path} is a directory`);
    if (existing !== undefined) this.requireWritable(existing, path);
    const clustersNeeded = Math.ceil(data.length / this.layout.clusterSize);
    const clustersFreed = existing === undefined ? 0 : this.chainLength(existing);
    if (clustersNeeded > this.freeClusters + clustersFreed) {
      throw new FatError(
        "no-space",
        `${path} needs ${clustersNeeded} clusters; the volume has ${this.freeClusters + clustersFreed} free`,
      );
    }
    if (existing !== undefined) this.freeChain(existing.firstCluster, existing.shortEntryOffset);
    const chain = this.allocate(clustersNeeded);
    // The data's clusters are taken first: adding the entry may grow the directory by one more cluster.
    const shortEntryOffset =
      existing?.shortEntryOffset ?? this.withChainFreedOnError(chain, () => this.addEntry(parent, name, 0, path));
    chain.forEach((cluster, index) => {
      const target = this.clusterOffset(cluster);
      const chunk = data.subarray(index * this.layout.clusterSize, (index + 1) * this.layout.clusterSize);
      this.store.write(chunk, target);
      this.store.fill(0, target + chunk.length, target + this.layout.clusterSize);
    });
    this.setEntryCluster(shortEntryOffset, chain[0] ?? 0);
    this.store.setU32(shortEntryOffset + 28, data.length);
    this.store.setU8(shortEntryOffset + 11, this.store.u8(shortEntryOffset + 11) | ATTR_ARCHIVE);
    this.stampEntry(shortEntryOffset);
  }

  /** Creates the directory at `path` and any missing parents (like `mkdir -p`); an existing directory is fine. */
  mkdir(path: string): void {
    const components = splitPath(path);
    let directory = this.rootDirectory();
    components.forEach((name, index) => {
      const here = "/" + components.slice(0, index + 1).join("/");
      const existing = this.findEntry(directory, name);
      if (existing !== undefined && !existing.isDirectory) throw new FatError("not-a-directory", `${here} is a file`);
      if (existing !== undefined) {
        directory = this.directoryAt(existing.firstCluster, existing.shortEntryOffset);
        return;
      }
      if (this.freeClusters < 1) throw new FatError("no-space", `no free cluster for directory ${here}`);
      const chain = this.allocate(1);
      const cluster = chain[0];
      const entryOffset = this.withChainFreedOnError(chain, () => this.addEntry(directory, name, ATTR_DIRECTORY, here));
      const clusterStart = this.clusterOffset(cluster);
      this.store.fill(0, clusterStart, clusterStart + this.layout.clusterSize);
      const parentCluster = directory.firstCluster === this.layout.rootCluster ? 0 : directory.firstCluster;
      this.writeShortEntry(clusterStart, dotName(1), ATTR_DIRECTORY, cluster);
      this.writeShortEntry(clusterStart + ENTRY_SIZE, dotName(2), ATTR_DIRECTORY, parentCluster);
      this.setEntryCluster(entryOffset, cluster);
      directory = this.directoryAt(cluster, entryOffset);
    });
  }

  /** Deletes the file or empty directory at `path`. */
  delete(path: string): void {
    const { parent, name } = this.locateParent(path);
    const entry = this.findEntry(parent, name);
    if (entry === undefined) throw new FatError("not-found", `${path} does not exist`);
    this.requireWritable(entry, path);
    if (entry.isDirectory && this.readEntries(this.directoryAt(entry.firstCluster, entry.shortEntryOffset)).length > 0) {
      throw new FatError("directory-not-empty", `${path} is not empty`);
    }
    this.freeChain(entry.firstCluster, entry.shortEntryOffset);
    for (const slot of entry.slotOffsets) this.store.setU8(slot, DELETED_MARK);
  }

  /**
   * Checks the whole volume as chkdsk/fsck do: the dirty bit, that every FAT copy agrees, and every
   * directory entry's cluster chain (in range, ending properly, owned by one entry only, as long as the
   * size says), then clusters allocated but owned by no entry (lost chains). With `repair`, each problem is
   * fixed as Windows' autochk does: the dirty bit cleared, FAT copies made equal to the first, a bad first
   * cluster makes an empty file (a bad directory is removed), a broken chain ends at its last good
   * cluster, a cross-linked chain gets its own copy of the shared clusters (or ends there when the volume
   * is full), a size is trimmed to the chain (and a chain to the size), and lost chains are freed.
   * Directories are visited in tree order, so the entry met first keeps a shared cluster.
   */
  check(options: { repair: boolean }): FatCheckReport {
    const findings: FatFinding[] = [];
    const repair = options.repair;
    const note = (finding: FatFinding, fix?: () => string): void => {
      if (repair && fix) finding.fixed = fix();
      findings.push(finding);
    };
    if (this.dirty) {
      note({ kind: "dirty", detail: "the volume was not unmounted cleanly" }, () => {
        const flagsOffset = this.layout.type === 32 ? 65 : 37;
        this.store.setU8(flagsOffset, this.store.u8(flagsOffset) & ~0x01);
        return "dirty bit cleared";
      });
    }
    this.checkFatCopies(note);
    const owner = new Int32Array(this.layout.clusterCount + 2);
    let entries = 0;
    const visitDirectory = (directory: Directory, path: string, depth: number): void => {
      for (const entry of this.readEntries(directory)) {
        entries++;
        const id = entries;
        const entryPath = (path === "/" ? "" : path) + "/" + entry.name;
        const chain = this.checkEntryChain(entry, entryPath, id, owner, note);
        if (entry.isDirectory && chain !== undefined && chain.length > 0 && depth < MAX_CHECK_DEPTH) {
          const perCluster = this.layout.clusterSize / ENTRY_SIZE;
          const slotOffsets: number[] = [];
          for (const cluster of chain) for (let i = 0; i < perCluster; i++) slotOffsets.push(this.clusterOffset(cluster) + i * ENTRY_SIZE);
          visitDirectory({ firstCluster: chain[0], slotOffsets, lastCluster: chain[chain.length - 1] }, entryPath, depth + 1);
        }
      }
    };
    const root = this.rootDirectory();
    if (this.layout.type === 32) for (const cluster of this.walkChain(this.layout.rootCluster, Infinity, 44)) owner[cluster] = -1;
    visitDirectory(root, "/", 0);
    let clustersInUse = 0;
    let lostClusters = 0;
    const lostHeads = new Set<number>();
    for (let cluster = 2; cluster < this.layout.clusterCount + 2; cluster++) {
      const next = this.fatEntry(cluster);
      if (next === 0 || next === this.badMark) continue;
      if (owner[cluster] !== 0) {
        clustersInUse++;
        continue;
      }
      lostClusters++;
      lostHeads.add(cluster);
    }
    for (const cluster of lostHeads) {
      const next = this.fatEntry(cluster);
      if (lostHeads.has(next) && next !== cluster) lostHeads.delete(next);
    }
    if (lostClusters > 0) {
      note({ kind: "lost-chain", detail: `${lostClusters} clusters in ${lostHeads.size} chains belong to no file` }, () => {
        for (let cluster = 2; cluster < this.layout.clusterCount + 2; cluster++) {
          const next = this.fatEntry(cluster);
          if (next !== 0 && next !== this.badMark && owner[cluster] === 0) this.freeCluster(cluster);
        }
        this.updateFsInfo();
        return `${lostClusters} clusters freed`;
      });
    }
    this.checkFreeCount(note);
    return { findings, entries, clustersInUse };
  }

  /** FAT32's FSInfo free-cluster hint must match the FAT (fsck.fat and Windows both trust it). */
  private checkFreeCount(note: (finding: FatFinding, fix?: () => string) => void): void {
    let free = 0;
    for (let cluster = 2; cluster < this.layout.clusterCount + 2; cluster++) if (this.fatEntry(cluster) === 0) free++;
    this.freeClusters = free;
    const offset = this.layout.fsInfoOffset;
    if (offset === undefined) return;
    const recorded = this.store.u32(offset + 488);
    if (recorded === free || recorded === 0xffffffff) return;
    note({ kind: "free-count", detail: `FSInfo says ${recorded} free clusters, the FAT has ${free}` }, () => {
      this.updateFsInfo();
      return `FSInfo free count set to ${free}`;
    });
  }

  private checkFatCopies(note: (finding: FatFinding, fix?: () => string) => void): void {
    const { fatCount, fatSectors, bytesPerSector, fatOffset } = this.layout;
    const fatBytes = fatSectors * bytesPerSector;
    const first = this.store.read(fatOffset, fatBytes).slice();
    for (let copy = 1; copy < fatCount; copy++) {
      const other = this.store.read(fatOffset + copy * fatBytes, fatBytes);
      const differs = other.findIndex((byte, index) => byte !== first[index]);
      if (differs < 0) continue;
      note({ kind: "fat-copies-differ", detail: `FAT copy ${copy + 1} differs from the first at byte ${differs}` }, () => {
        this.store.write(first, fatOffset + copy * fatBytes);
        return `FAT copy ${copy + 1} rewritten from the first`;
      });
    }
  }

  /**
   * Follows one entry's chain without trusting it; returns the clusters it owns after any repair
   * (undefined when the entry was removed). Claims them in `owner` under `id`.
   */
  private checkEntryChain(
    entry: LocatedEntry,
    path: string,
    id: number,
    owner: Int32Array,
    note: (finding: FatFinding, fix?: () => string) => void,
  ): number[] | undefined {
    const lastCluster = this.layout.clusterCount + 1;
    const offset = entry.shortEntryOffset;
    if (entry.firstCluster === 0) {
      if (entry.isDirectory) {
        note({ kind: "bad-entry", path, detail: "directory without clusters" }, () => {
          for (const slot of entry.slotOffsets) this.store.setU8(slot, DELETED_MARK);
          return "entry removed";
        });
        return undefined;
      }
      if (entry.size > 0) {
        note({ kind: "size-mismatch", path, detail: `size ${entry.size} but no clusters` }, () => {
          this.store.setU32(offset + 28, 0);
          return "size set to 0";
        });
      }
      return [];
    }
    if (entry.firstCluster < 2 || entry.firstCluster > lastCluster) {
      note({ kind: "bad-entry", path, detail: `first cluster ${entry.firstCluster} is outside 2..${lastCluster}` }, () => {
        if (entry.isDirectory) {
          for (const slot of entry.slotOffsets) this.store.setU8(slot, DELETED_MARK);
          return "entry removed";
        }
        this.setEntryCluster(offset, 0);
        this.store.setU32(offset + 28, 0);
        return "truncated to an empty file";
      });
      return entry.isDirectory ? undefined : [];
    }
    const chain: number[] = [];
    const inThisChain = new Set<number>();
    let cluster = entry.firstCluster;
    for (;;) {
      if (owner[cluster] !== 0) {
        const shared = cluster;
        const kept = chain.slice();
        let copied: number[] = [];
        note({ kind: "cross-link", path, detail: `cluster ${shared} also belongs to another file or directory` }, () => {
          copied = this.copySharedTail(entry, kept, shared, owner);
          return copied.length > 0 ? `${copied.length} shared clusters copied to a chain of its own` : "chain ends before the shared cluster";
        });
        chain.push(...copied);
        break;
      }
      chain.push(cluster);
      inThisChain.add(cluster);
      const next = this.fatEntry(cluster);
      if (next >= this.eocMin) break;
      if (next < 2 || next > lastCluster || inThisChain.has(next)) {
        const what = next === 0 ? "a free cluster" : next === this.badMark ? "a bad-cluster mark" : inThisChain.has(next) ? `cluster ${next} again (a loop)` : `cluster ${next}, out of range`;
        const at = cluster;
        note({ kind: "bad-chain", path, detail: `cluster ${at} links to ${what}` }, () => {
          this.setFatEntry(at, this.eocMark);
          return `chain ends at cluster ${at}`;
        });
        break;
      }
      cluster = next;
    }
    for (const owned of chain) owner[owned] = id;
    if (!entry.isDirectory) this.checkSize(entry, path, chain, note);
    return chain;
  }

  /** A file's size must need exactly its chain's clusters. */
  private checkSize(entry: LocatedEntry, path: string, chain: number[], note: (finding: FatFinding, fix?: () => string) => void): void {
    const clusterSize = this.layout.clusterSize;
    const needed = Math.ceil(entry.size / clusterSize);
    const offset = entry.shortEntryOffset;
    if (needed > chain.length) {
      note({ kind: "size-mismatch", path, detail: `size ${entry.size} needs ${needed} clusters, the chain has ${chain.length}` }, () => {
        this.store.setU32(offset + 28, chain.length * clusterSize);
        return `size set to ${chain.length * clusterSize}`;
      });
    } else if (needed < chain.length) {
      note({ kind: "size-mismatch", path, detail: `size ${entry.size} needs ${needed} clusters, the chain has ${chain.length}` }, () => {
        for (const extra of chain.slice(needed)) this.freeCluster(extra);
        if (needed === 0) this.setEntryCluster(offset, 0);
        else this.setFatEntry(chain[needed - 1], this.eocMark);
        this.updateFsInfo();
        return `${chain.length - needed} clusters past the end freed`;
      });
    }
  }

  /**
   * Gives an entry whose chain runs into another's (at `shared`) its own copy of the rest of that chain.
   * Returns the new clusters; with too little free space the entry's chain ends before `shared` instead.
   */
  private copySharedTail(entry: LocatedEntry, kept: number[], shared: number, owner: Int32Array): number[] {
    const tail: number[] = [];
    for (let cluster = shared; tail.length <= this.layout.clusterCount; ) {
      tail.push(cluster);
      const next = this.fatEntry(cluster);
      if (next >= this.eocMin || next < 2 || next > this.layout.clusterCount + 1 || tail.includes(next)) break;
      cluster = next;
    }
    const wanted = entry.isDirectory ? tail.length : Math.max(0, Math.min(tail.length, Math.ceil(entry.size / this.layout.clusterSize) - kept.length));
    const link = (first: number) => (kept.length === 0 ? this.setEntryCluster(entry.shortEntryOffset, first) : this.setFatEntry(kept[kept.length - 1], first));
    if (wanted === 0 || wanted > this.freeClusters) {
      if (kept.length === 0) this.setEntryCluster(entry.shortEntryOffset, 0);
      else this.setFatEntry(kept[kept.length - 1], this.eocMark);
      return [];
    }
    const copy = this.allocate(wanted);
    copy.forEach((cluster, index) => {
      this.store.write(this.store.read(this.clusterOffset(tail[index]), this.layout.clusterSize).slice(), this.clusterOffset(cluster));
      owner[cluster] = -2;
    });
    link(copy[0]);
    return copy;
  }

  private freeCluster(cluster: number): void {
    this.setFatEntry(cluster, 0);
    this.freeClusters++;
    this.firstMaybeFree = Math.min(this.firstMaybeFree, cluster);
  }

  private publicEntry(entry: LocatedEntry): FatEntry {
    const { name, shortName, isDirectory, size, attributes, firstCluster, shortEntryOffset } = entry;
    const modified = decodeTimestamp(
      this.store.u16(shortEntryOffset + 24),
      this.store.u16(shortEntryOffset + 22),
    );
    return { name, shortName, isDirectory, size, attributes, firstCluster, modified };
  }

  private withChainFreedOnError<T>(chain: number[], action: () => T): T {
    try {
      return action();
    } catch (error) {
      if (chain.length > 0) this.freeChain(chain[0], 0);
      throw error;
    }
  }

  // ---- paths and directories ----

  private requireEntry(path: string): LocatedEntry {
    const { parent, name } = this.locateParent(path);
    const entry = this.findEntry(parent, name);
    if (entry === undefined) throw new FatError("not-found", `${path} does not exist`);
    return entry;
  }

  private requireWritable(entry: LocatedEntry, path: string): void {
    if ((entry.attributes & ATTR_READ_ONLY) !== 0) throw new FatError("read-only", `${path} is read-only`);
  }

  private locateParent(path: string): { parent: Directory; name: string } {
    const components = splitPath(path);
    const name = components.pop();
    if (name === undefined) throw new FatError("bad-argument", `${JSON.stringify(path)} names the root directory`);
    return { parent: this.openDirectory(components, path), name };
  }

  private openDirectory(components: string[], path: string): Directory {
    let directory = this.rootDirectory();
    for (const name of components) {
      const entry = this.findEntry(directory, name);
      if (entry === undefined) throw new FatError("not-found", `${path}: ${name} does not exist`);
      if (!entry.isDirectory) throw new FatError("not-a-directory", `${path}: ${name} is not a directory`);
      directory = this.directoryAt(entry.firstCluster, entry.shortEntryOffset);
    }
    return directory;
  }

  private rootDirectory(): Directory {
    const { type, rootCluster, rootDirectoryOffset, rootDirectoryEntries } = this.layout;
    if (type === 32) return this.directoryAt(rootCluster, 44);
    const slotOffsets = Array.from({ length: rootDirectoryEntries }, (_, i) => rootDirectoryOffset + i * ENTRY_SIZE);
    return { firstCluster: 0, slotOffsets, lastCluster: 0 };
  }

  /** The directory whose chain starts at `firstCluster`; `referrer` is where that cluster number was read. */
  private directoryAt(firstCluster: number, referrer: number): Directory {
    const maxClusters = Math.ceil((MAX_DIRECTORY_ENTRIES * ENTRY_SIZE) / this.layout.clusterSize);
    const chain = this.walkChain(firstCluster, maxClusters + 1, referrer);
    if (chain.length > maxClusters) {
      throw new FatError("bad-directory", `directory at cluster ${firstCluster} exceeds FAT's ${MAX_DIRECTORY_ENTRIES} entries`, referrer);
    }
    const perCluster = this.layout.clusterSize / ENTRY_SIZE;
    const slotOffsets: number[] = [];
    for (const cluster of chain) {
      const start = this.clusterOffset(cluster);
      for (let i = 0; i < perCluster; i++) slotOffsets.push(start + i * ENTRY_SIZE);
    }
    return { firstCluster, slotOffsets, lastCluster: chain[chain.length - 1] };
  }

  private findEntry(directory: Directory, name: string): LocatedEntry | undefined {
    const wanted = foldNameCase(name);
    const matches = (candidate: string): boolean => candidate.length === wanted.length && foldNameCase(candidate) === wanted;
    return this.readEntries(directory).find((entry) => matches(entry.name) || matches(entry.shortName));
  }

  private readEntries(directory: Directory): LocatedEntry[] {
    const entries: LocatedEntry[] = [];
    let pending: { name: string[]; slots: number[]; checksum: number; nextSequence: number } | undefined;
    for (const offset of directory.slotOffsets) {
      const first = this.store.u8(offset);
      if (first === 0x00) break;
      const attributes = this.store.u8(offset + 11);
      if (first === DELETED_MARK) {
        pending = undefined;
        continue;
      }
      if ((attributes & 0x3f) === ATTR_LONG_NAME) {
        const sequence = first & 0x1f;
        const checksum = this.store.u8(offset + 13);
        if ((first & 0x40) !== 0) {
          pending = sequence === 0 ? undefined : { name: [], slots: [], checksum, nextSequence: sequence };
        }
        // A long name whose pieces do not follow on (an old tool deleted only its short entry) is ignored.
        if (pending === undefined || sequence !== pending.nextSequence || checksum !== pending.checksum) {
          pending = undefined;
          continue;
        }
        pending.name.unshift(this.longNamePiece(offset));
        pending.slots.push(offset);
        pending.nextSequence--;
        continue;
      }
      const longName = pending;
      pending = undefined;
      if ((attributes & ATTR_VOLUME_LABEL) !== 0 || first === 0x2e) continue; // labels, "." and ".."
      const shortNameBytes = this.store.read(offset, 11);
      const shortName = decodeShortName(shortNameBytes, 0);
      const joinedLongName = longName?.nextSequence === 0 ? longName.name.join("") : undefined;
      // A long name that is incomplete, belongs to another short name, or could not have been stored is ignored.
      const hasLongName =
        joinedLongName !== undefined &&
        longName?.checksum === shortNameChecksum(shortNameBytes) &&
        longNameProblem(joinedLongName) === undefined;
      const caseFlags = this.store.u8(offset + 12) & (LOWER_CASE_BASE | LOWER_CASE_EXTENSION);
      const isDirectory = (attributes & ATTR_DIRECTORY) !== 0;
      entries.push({
        name: hasLongName ? joinedLongName : caseFlags !== 0 ? decodeShortName(shortNameBytes, caseFlags) : shortName,
        shortName,
        isDirectory,
        size: isDirectory ? 0 : this.store.u32(offset + 28),
        attributes,
        firstCluster: this.entryCluster(offset),
        slotOffsets: hasLongName && longName !== undefined ? [...longName.slots, offset] : [offset],
        shortEntryOffset: offset,
        shortNameBytes,
      });
    }
    return entries;
  }

  private longNamePiece(offset: number): string {
    let piece = "";
    for (const position of LONG_NAME_UNIT_POSITIONS) {
      const unit = this.store.u16(offset + position);
      if (unit === 0x0000) break;
      piece += String.fromCharCode(unit);
    }
    return piece;
  }

  /** Writes a new entry for `name` into `directory` and returns the offset of its short entry. */
  private addEntry(directory: Directory, name: string, attributes: number, path: string): number {
    let plan;
    try {
      const taken = new Set(this.readEntries(directory).map((entry) => shortNameKey(entry.shortNameBytes)));
      plan = planShortName(name, taken);
    } catch (error) {
      if (error instanceof InvalidFatNameError) throw new FatError("invalid-name", `${path}: ${error.message}`);
      throw error;
    }
    const longSlots = plan.needsLongName ? Math.ceil(name.length / LONG_NAME_CHARS_PER_ENTRY) : 0;
    const slots = this.findFreeSlots(directory, longSlots + 1, path);
    const checksum = shortNameChecksum(plan.shortName);
    for (let piece = 0; piece < longSlots; piece++) {
      // Pieces are stored last first: the slot nearest the short entry holds the name's first 13 units.
      const offset = slots[longSlots - 1 - piece];
      this.writeLongNamePiece(offset, name, piece, piece === longSlots - 1, checksum);
    }
    const shortOffset = slots[longSlots];
    this.writeShortEntry(shortOffset, plan.shortName, attributes, 0);
    return shortOffset;
  }

  private findFreeSlots(directory: Directory, count: number, path: string): number[] {
    for (;;) {
      const offsets = directory.slotOffsets;
      let runStart = 0;
      let pastEnd = false;
      for (let i = 0; i < offsets.length; i++) {
        const first = this.store.u8(offsets[i]);
        if (first === 0x00) pastEnd = true;
        if (pastEnd || first === DELETED_MARK) {
          if (i - runStart + 1 === count) {
            // Slots past the end mark are free whatever they hold: keep the mark after the new entry.
            if (pastEnd && i + 1 < offsets.length) this.store.setU8(offsets[i + 1], 0x00);
            return offsets.slice(runStart, i + 1);
          }
        } else {
          runStart = i + 1;
        }
      }
      if (directory.firstCluster === 0) {
        throw new FatError("directory-full", `${path}: the root directory's ${offsets.length} entries are all in use`);
      }
      if (offsets.length + this.layout.clusterSize / ENTRY_SIZE > MAX_DIRECTORY_ENTRIES) {
        throw new FatError("directory-full", `${path}: the directory would exceed FAT's ${MAX_DIRECTORY_ENTRIES} entries`);
      }
      directory = this.growDirectory(directory, path);
    }
  }

  private growDirectory(directory: Directory, path: string): Directory {
    if (this.freeClusters < 1) throw new FatError("no-space", `${path}: no free cluster to grow its directory`);
    const [cluster] = this.allocate(1);
    this.setFatEntry(directory.lastCluster, cluster);
    const start = this.clusterOffset(cluster);
    this.store.fill(0, start, start + this.layout.clusterSize);
    const perCluster = this.layout.clusterSize / ENTRY_SIZE;
    for (let i = 0; i < perCluster; i++) directory.slotOffsets.push(start + i * ENTRY_SIZE);
    return { firstCluster: directory.firstCluster, slotOffsets: directory.slotOffsets, lastCluster: cluster };
  }

  private writeLongNamePiece(offset: number, name: string, piece: number, isLast: boolean, checksum: number): void {
    this.store.fill(0, offset, offset + ENTRY_SIZE);
    this.store.setU8(offset, (piece + 1) | (isLast ? 0x40 : 0));
    this.store.setU8(offset + 11, ATTR_LONG_NAME);
    this.store.setU8(offset + 13, checksum);
    LONG_NAME_UNIT_POSITIONS.forEach((position, i) => {
      const index = piece * LONG_NAME_CHARS_PER_ENTRY + i;
      // After the name: one NUL unit, then 0xFFFF padding.
      const unit = index < name.length ? name.charCodeAt(index) : index === name.length ? 0x0000 : 0xffff;
      this.store.setU16(offset + position, unit);
    });
  }

  private writeShortEntry(offset: number, shortName: Uint8Array, attributes: number, cluster: number): void {
    this.store.fill(0, offset, offset + ENTRY_SIZE);
    this.store.write(shortName, offset);
    this.store.setU8(offset + 11, attributes);
    this.setEntryCluster(offset, cluster);
    this.store.setU16(offset + 14, this.timestamp.time); // created
    this.store.setU16(offset + 16, this.timestamp.date);
    this.store.setU8(offset + 13, this.timestamp.tenths);
    this.stampEntry(offset);
  }

  private stampEntry(offset: number): void {
    this.store.setU16(offset + 18, this.timestamp.date); // accessed
    this.store.setU16(offset + 22, this.timestamp.time); // modified
    this.store.setU16(offset + 24, this.timestamp.date);
  }

  private entryCluster(offset: number): number {
    const high = this.layout.type === 32 ? this.store.u16(offset + 20) : 0;
    return (high << 16) + this.store.u16(offset + 26);
  }

  private setEntryCluster(offset: number, cluster: number): void {
    if (this.layout.type === 32) this.store.setU16(offset + 20, cluster >>> 16);
    this.store.setU16(offset + 26, cluster & 0xffff);
  }

  // ---- clusters and the FAT ----

  private clusterOffset(cluster: number): number {
    return this.layout.dataOffset + (cluster - 2) * this.layout.clusterSize;
  }

  private fatEntryOffset(cluster: number): number {
    const { fatOffset, type } = this.layout;
    return fatOffset + (type === 12 ? Math.floor((cluster * 3) / 2) : (cluster * type) / 8);
  }

  /** The first FAT decoded into one entry per cluster: read in one pass, then kept in step by setFatEntry. */
  private fatTable(): Uint32Array {
    if (this.table !== undefined) return this.table;
    const { fatOffset, type, clusterCount } = this.layout;
    const fat = this.store.read(fatOffset, this.fatEntryOffset(clusterCount + 1) - fatOffset + 4);
    const view = new DataView(fat.buffer, fat.byteOffset, fat.byteLength);
    const table = new Uint32Array(clusterCount + 2);
    for (let cluster = 0; cluster < clusterCount + 2; cluster++) {
      const offset = this.fatEntryOffset(cluster) - fatOffset;
      if (type === 12) {
        const pair = view.getUint16(offset, true);
        table[cluster] = cluster & 1 ? pair >> 4 : pair & 0xfff;
      } else if (type === 16) {
        table[cluster] = view.getUint16(offset, true);
      } else {
        table[cluster] = view.getUint32(offset, true) & 0x0fffffff;
      }
    }
    this.table = table;
    return table;
  }

  private fatEntry(cluster: number): number {
    return this.fatTable()[cluster];
  }

  /** Sets a FAT entry in every FAT copy. */
  private setFatEntry(cluster: number, value: number): void {
    this.fatTable()[cluster] = value;
    const { type, fatCount, fatSectors, bytesPerSector } = this.layout;
    const fatBytes = fatSectors * bytesPerSector;
    for (let copy = 0; copy < fatCount; copy++) {
      const offset = this.fatEntryOffset(cluster) + copy * fatBytes;
      if (type === 12) {
        const pair = this.store.u16(offset);
        const updated = cluster & 1 ? (pair & 0x000f) | (value << 4) : (pair & 0xf000) | value;
        this.store.setU16(offset, updated);
      } else if (type === 16) {
        this.store.setU16(offset, value);
      } else {
        // The top 4 bits of a FAT32 entry are reserved and must survive.
        const reserved = this.store.u32(offset) & 0xf0000000;
        this.store.setU32(offset, (reserved | value) >>> 0);
      }
    }
  }

  /**
   * The clusters of the chain starting at `first`, at most `limit` of them. A chain longer than the volume's
   * cluster count must loop; a link to a free, reserved, bad or out-of-range cluster is corrupt.
   */
  private walkChain(first: number, limit: number, referrer: number): number[] {
    const lastCluster = this.layout.clusterCount + 1;
    if (first < 2 || first > lastCluster) {
      throw new FatError("bad-chain", `chain starts at cluster ${first}, outside clusters 2..${lastCluster}`, referrer);
    }
    const chain: number[] = [];
    let cluster = first;
    for (;;) {
      chain.push(cluster);
      if (chain.length >= limit) return chain;
      if (chain.length > this.layout.clusterCount) {
        throw new FatError(
          "bad-chain",
          `chain from cluster ${first} is longer than the volume's ${this.layout.clusterCount} clusters: it loops`,
          this.fatEntryOffset(cluster),
        );
      }
      const next = this.fatEntry(cluster);
      if (next >= this.eocMin) return chain;
      if (next < 2 || next > lastCluster) {
        const what = next === 0 ? "a free cluster" : next === this.badMark ? "a bad-cluster mark" : `cluster ${next}, out of range`;
        throw new FatError("bad-chain", `cluster ${cluster} of the chain from ${first} links to ${what}`, this.fatEntryOffset(cluster));
      }
      cluster = next;
    }
  }

  private chainLength(entry: LocatedEntry): number {
    return entry.firstCluster === 0 ? 0 : this.walkChain(entry.firstCluster, Infinity, entry.shortEntryOffset).length;
  }

  private freeChain(first: number, referrer: number): void {
    if (first === 0) return;
    for (const cluster of this.walkChain(first, Infinity, referrer)) {
      this.setFatEntry(cluster, 0);
      this.freeClusters++;
      this.firstMaybeFree = Math.min(this.firstMaybeFree, cluster);
    }
    this.updateFsInfo();
  }

  /** Takes `count` free clusters, lowest first, and links them into a chain. The caller checked there are enough. */
  private allocate(count: number): number[] {
    const chain: number[] = [];
    for (let cluster = this.firstMaybeFree; chain.length < count && cluster <= this.layout.clusterCount + 1; cluster++) {
      if (this.fatEntry(cluster) === 0) chain.push(cluster);
    }
    if (chain.length < count) throw new FatError("no-space", `needed ${count} free clusters, found ${chain.length}`);
    chain.forEach((cluster, index) => this.setFatEntry(cluster, chain[index + 1] ?? this.eocMark));
    this.freeClusters -= count;
    if (count > 0) this.firstMaybeFree = chain[count - 1] + 1;
    this.updateFsInfo();
    return chain;
  }

  /** Keeps FAT32's FSInfo hints true, since fsck and Windows trust them. */
  private updateFsInfo(): void {
    const offset = this.layout.fsInfoOffset;
    if (offset === undefined) return;
    this.store.setU32(offset + 488, this.freeClusters);
    const hint = this.firstMaybeFree <= this.layout.clusterCount + 1 ? this.firstMaybeFree : 0xffffffff;
    this.store.setU32(offset + 492, hint);
  }
}

/** Where a long-name entry keeps its 13 UTF-16 units. */
const LONG_NAME_UNIT_POSITIONS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

function dotName(dots: number): Uint8Array {
  const name = new Uint8Array(11).fill(0x20);
  name.fill(0x2e, 0, dots);
  return name;
}


/** A path's names, checked: "/a/b" and "a//b/" both give ["a", "b"]. */
function splitPath(path: string): string[] {
  const components = path.split("/").filter((component) => component.length > 0);
  for (const component of components) {
    const problem = longNameProblem(component);
    if (problem !== undefined) throw new FatError("invalid-name", `${JSON.stringify(path)}: ${JSON.stringify(component)}: ${problem}`);
  }
  return components;
}

function encodeTimestamp(when: Date): { date: number; time: number; tenths: number } {
  const year = when.getUTCFullYear();
  if (!(year >= 1980 && year <= 2107)) {
    throw new FatError("bad-argument", `timestamp ${Number.isNaN(when.getTime()) ? "(invalid date)" : when.toISOString()} is outside FAT's years 1980-2107`);
  }
  const seconds = when.getUTCSeconds();
  return {
    date: ((year - 1980) << 9) | ((when.getUTCMonth() + 1) << 5) | when.getUTCDate(),
    time: (when.getUTCHours() << 11) | (when.getUTCMinutes() << 5) | (seconds >> 1),
    tenths: (seconds & 1) * 100 + Math.floor(when.getUTCMilliseconds() / 10),
  };
}

/** FAT times carry no zone; they are read as UTC, as they were written. */
function decodeTimestamp(date: number, time: number): Date {
  return new Date(
    Date.UTC(1980 + (date >> 9), ((date >> 5) & 0x0f) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2),
  );
}

/** Reads and checks the boot sector (BPB) and works out the layout. */
function parseBootSector(store: VolumeBytes): FatLayout {
  if (store.length < 512) {
    throw new FatError("truncated", `volume is ${store.length} bytes, too short for a boot sector`, store.length);
  }
  const signature = store.u16(BOOT_SIGNATURE_OFFSET);
  if (signature !== 0xaa55) {
    throw new FatError("bad-boot-sector", `boot sector signature is 0x${signature.toString(16)}, not 0xaa55`, BOOT_SIGNATURE_OFFSET);
  }
  const field = (name: string, offset: number, value: number, valid: boolean, why: string): number => {
    if (!valid) throw new FatError("bad-boot-sector", `boot sector field ${name} is ${value}: ${why}`, offset);
    return value;
  };
  const bytesPerSectorRaw = store.u16(11);
  const bytesPerSector = field("BytesPerSector", 11, bytesPerSectorRaw, [512, 1024, 2048, 4096].includes(bytesPerSectorRaw), "must be 512, 1024, 2048 or 4096");
  const spc = store.u8(13);
  const sectorsPerCluster = field("SectorsPerCluster", 13, spc, spc > 0 && (spc & (spc - 1)) === 0, "must be a power of two from 1 to 128");
  const reserved = store.u16(14);
  const reservedSectors = field("ReservedSectors", 14, reserved, reserved > 0, "must be at least 1");
  const fats = store.u8(16);
  const fatCount = field("NumFATs", 16, fats, fats > 0, "must be at least 1");
  const rootEntries = store.u16(17);
  const media = store.u8(21);
  field("Media", 21, media, media === 0xf0 || media >= 0xf8, "must be 0xF0 or 0xF8-0xFF");
  const total16 = store.u16(19);
  const total32 = store.u32(32);
  const totalSectors = field("TotalSectors", total16 !== 0 ? 19 : 32, total16 || total32, (total16 || total32) > 0, "must not be 0");
  const fat16Size = store.u16(22);
  const fatSectors = fat16Size !== 0 ? fat16Size : store.u32(36);
  field("FATSize", fat16Size !== 0 ? 22 : 36, fatSectors, fatSectors > 0, "must not be 0");

  const rootDirectorySectors = Math.ceil((rootEntries * ENTRY_SIZE) / bytesPerSector);
  const firstDataSector = reservedSectors + fatCount * fatSectors + rootDirectorySectors;
  field("TotalSectors", total16 !== 0 ? 19 : 32, totalSectors, firstDataSector < totalSectors, `the FATs and root directory alone take ${firstDataSector} sectors`);
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  const type: FatType = clusterCount <= FAT12_MAX_CLUSTERS ? 12 : clusterCount <= FAT16_MAX_CLUSTERS ? 16 : 32;
  if (type === 32) {
    field("FATSize16", 22, fat16Size, fat16Size === 0, "must be 0 on FAT32");
    field("RootEntryCount", 17, rootEntries, rootEntries === 0, "must be 0 on FAT32");
    field("TotalSectors", 32, totalSectors, clusterCount <= FAT32_MAX_CLUSTERS, `gives ${clusterCount} clusters, more than FAT32 allows`);
  } else {
    field("RootEntryCount", 17, rootEntries, rootEntries > 0, `must not be 0 on FAT${type}`);
  }
  // A FAT12 entry is read as the 16-bit word it shares with its neighbour, so the last one needs 2 whole bytes.
  const fatBytesNeeded = type === 12 ? Math.floor(((clusterCount + 1) * 3) / 2) + 2 : ((clusterCount + 2) * type) / 8;
  field(
    "FATSize",
    fat16Size !== 0 ? 22 : 36,
    fatSectors,
    fatSectors * bytesPerSector >= fatBytesNeeded,
    `${fatSectors} sectors are too few for ${clusterCount} clusters (${fatBytesNeeded} bytes needed)`,
  );
  const volumeBytes = totalSectors * bytesPerSector;
  if (store.length < volumeBytes) {
    throw new FatError("truncated", `volume is ${store.length} bytes but its boot sector says ${totalSectors} sectors (${volumeBytes} bytes)`, store.length);
  }

  let rootCluster = 0;
  let fsInfoOffset: number | undefined;
  if (type === 32) {
    rootCluster = store.u32(44);
    field("RootCluster", 44, rootCluster, rootCluster >= 2 && rootCluster <= clusterCount + 1, `must be a cluster in 2..${clusterCount + 1}`);
    const fsInfoSector = store.u16(48);
    if (fsInfoSector > 0 && fsInfoSector < reservedSectors) {
      const offset = fsInfoSector * bytesPerSector;
      const valid =
        store.u32(offset) === FSINFO_LEAD_SIGNATURE &&
        store.u32(offset + 484) === FSINFO_STRUCT_SIGNATURE &&
        store.u32(offset + 508) === FSINFO_TRAIL_SIGNATURE;
      if (valid) fsInfoOffset = offset;
    }
  }
  return {
    type,
    bytesPerSector,
    sectorsPerCluster,
    clusterSize: bytesPerSector * sectorsPerCluster,
    reservedSectors,
    fatCount,
    fatSectors,
    totalSectors,
    fatOffset: reservedSectors * bytesPerSector,
    rootDirectoryOffset: type === 32 ? 0 : (reservedSectors + fatCount * fatSectors) * bytesPerSector,
    rootDirectoryEntries: type === 32 ? 0 : rootEntries,
    dataOffset: firstDataSector * bytesPerSector,
    clusterCount,
    rootCluster,
    fsInfoOffset,
  };
}
