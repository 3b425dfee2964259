// Where a hive's files live during a crash-safe commit. The guest (files via its native module), Node (fs)
// and tests (a fake that stops after k writes) each implement this small interface.

export type HiveFile = "primary" | "log1" | "log2";

export interface HiveStorage {
  /** The file's whole current contents, or undefined when it does not exist. */
  read(file: HiveFile): Uint8Array | undefined;
  /** Writes bytes at offset, creating or extending the file as needed. */
  write(file: HiveFile, offset: number, bytes: Uint8Array): void;
  /** Returns once everything written to the file so far is durable. */
  flush(file: HiveFile): void;
}

interface MemoryFile {
  /** Capacity grows by doubling so that many small appends stay linear. */
  bytes: Uint8Array;
  length: number;
}

/** Files held in memory: the reference storage for tests and for callers that persist by other means. */
export class MemoryStorage implements HiveStorage {
  private readonly files = new Map<HiveFile, MemoryFile>();

  constructor(initial: Partial<Record<HiveFile, Uint8Array>> = {}) {
    for (const file of ["primary", "log1", "log2"] as const) {
      const bytes = initial[file];
      if (bytes !== undefined) this.files.set(file, { bytes: bytes.slice(), length: bytes.length });
    }
  }

  read(file: HiveFile): Uint8Array | undefined {
    const entry = this.files.get(file);
    return entry === undefined ? undefined : entry.bytes.slice(0, entry.length);
  }

  write(file: HiveFile, offset: number, bytes: Uint8Array): void {
    let entry = this.files.get(file);
    if (entry === undefined) {
      entry = { bytes: new Uint8Array(0), length: 0 };
      this.files.set(file, entry);
    }
    const end = offset + bytes.length;
    if (end > entry.bytes.length) {
      const grown = new Uint8Array(Math.max(end, entry.bytes.length * 2));
      grown.set(entry.bytes.subarray(0, entry.length));
      entry.bytes = grown;
    }
    entry.bytes.set(bytes, offset);
    entry.length = Math.max(entry.length, end);
  }

  flush(): void {}
}
