// Node-side file handling for the host tools. Reads are bounded: a file larger than its stated limit, or a
// stream that goes on past it, is refused with the limit named, and a hive is never read from a device or
// a FIFO (it would never end, or block). Writes replace a file whole while keeping what makes it that file:
// they go through symbolic links to the real file, keep its mode and owner, refuse to break hard links,
// hold an exclusive lock while the caller reads, changes and writes, and leave no temporary file behind,
// not even when a signal ends the process (the next writer removes what a killed one left).

import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A file that cannot be read or written as asked: one line naming the file and why. */
export class FileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "FileError";
  }
}

export const MiB = 1 << 20;
export const GiB = 1 << 30;

/** "2 GiB", "512 MiB": limits as messages state them. */
export function formatSize(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return `${bytes} bytes`;
}

/** Why a system call failed, in words, from Node's error (whose message also names the call and path). */
export function describeSystemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const known: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "is a directory",
    ENOTDIR: "a component of the path is not a directory",
    ELOOP: "too many levels of symbolic links",
    ENAMETOOLONG: "file name too long",
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    EROFS: "read-only file system",
    EIO: "input/output error",
    EFBIG: "file too large for the file system",
    EXDEV: "not on the same file system",
    EBUSY: "device or resource busy",
    ETXTBSY: "text file busy",
    EMFILE: "too many open files",
    ENXIO: "no such device or address",
    EINVAL: "invalid argument",
  };
  if (code !== undefined && known[code] !== undefined) return known[code];
  return code ?? (error instanceof Error ? error.message : String(error));
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

export interface ReadOptions {
  /** What the file is to the command, for messages: "hive", ".reg file", "disk image". */
  what: string;
  /** Most bytes accepted. */
  limit: number;
  /** Whether a FIFO, socket or character device (a pipe, /dev/stdin) may be read, up to the limit. */
  stream?: boolean;
}

/** Reads a whole file, or undefined when it does not exist. */
export async function readOptional(path: string, options: ReadOptions): Promise<Uint8Array | undefined> {
  if (path === "") throw new FileError(`""`, `an empty name is no ${options.what}`);
  let fd: number;
  try {
    // Non-blocking: opening a FIFO nobody writes to would otherwise wait for ever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FileError(path, `cannot read the ${options.what}: ${describeSystemError(error)}`);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isFile()) return readRegular(fd, stats.size, path, options);
    if (options.stream && (stats.isFIFO() || stats.isSocket() || stats.isCharacterDevice())) return await readStream(fd, path, options);
    throw new FileError(path, `is ${kindOf(stats)}, not a ${options.what}${options.stream ? "" : " (which must be a regular file)"}`);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole file that must exist. */
export async function readRequired(path: string, options: ReadOptions): Promise<Uint8Array> {
  const bytes = await readOptional(path, options);
  if (bytes === undefined) throw new FileError(path, `no such ${options.what}`);
  return bytes;
}

function tooLarge(path: string, size: string, options: ReadOptions): FileError {
  return new FileError(path, `${size}, more than the ${formatSize(options.limit)} a ${options.what} may be`);
}

function readRegular(fd: number, size: number, path: string, options: ReadOptions): Uint8Array {
  if (size > options.limit) throw tooLarge(path, `is ${size} bytes`, options);
  const bytes = new Uint8Array(size);
  let length = 0;
  let beyond = 0;
  try {
    for (let got; length < size && (got = readSync(fd, bytes, length, size - length, null)) > 0; ) length += got;
    // A byte past the size found means the file grows while it is read: noticed, not cut short.
    beyond = readSync(fd, new Uint8Array(1), 0, 1, null);
  } catch (error) {
    throw new FileError(path, `cannot read the ${options.what}: ${describeSystemError(error)}`);
  }
  if (length < size || beyond > 0) throw new FileError(path, `changed size while it was read; not reading a ${options.what} that is being written`);
  return bytes;
}

/** Opens a file that must exist for reading; non-blocking, so that a FIFO nobody writes to cannot hang. */
function openForReading(path: string, options: ReadOptions): number {
  if (path === "") throw new FileError(`""`, `an empty name is no ${options.what}`);
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(path, code === "ENOENT" ? `no such ${options.what}` : `cannot read the ${options.what}: ${describeSystemError(error)}`);
  }
}

/**
 * readRequired for callers that cannot wait (no streams): a regular file, whole, within the limit. The
 * bytes are in a buffer of their own, exactly the file's size.
 */
export function readRegularFileSync(path: string, options: ReadOptions): Uint8Array {
  const fd = openForReading(path, options);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new FileError(path, `is ${kindOf(stats)}, not a ${options.what} (which must be a regular file)`);
    return readRegular(fd, stats.size, path, options);
  } finally {
    closeSync(fd);
  }
}

/** A pipe or device, read in chunks until its end or the limit; waits for data without blocking signals. */
async function readStream(fd: number, path: string, options: ReadOptions): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(Math.min(MiB, options.limit + 1 - total));
    let got: number;
    try {
      got = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") {
        throw new FileError(path, `cannot read the ${options.what}: ${describeSystemError(error)}`);
      }
      await new Promise((resume) => setTimeout(resume, 5));
      continue;
    }
    if (got === 0) break;
    chunks.push(chunk.subarray(0, got));
    total += got;
    if (total > options.limit) throw tooLarge(path, "goes on", options);
    // Lets a signal that arrives during a long read be handled.
    await new Promise((resume) => setImmediate(resume));
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

// ---- signals: what to remove when the process is told to end -------------------------------------------

const removeOnSignal = new Set<string>();
let signalsHandled = false;

/**
 * While a temporary or lock file exists, SIGINT, SIGTERM and SIGHUP first remove it, then end the process
 * by the same signal (so the shell sees what ended it). A signal arriving during synchronous work is handled
 * at its next pause, before anything is renamed into place.
 */
function handleSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  // Also on an exit that skips the writer's own clean-up (process.exit from an error handler).
  process.on("exit", () => {
    for (const path of removeOnSignal) rmSync(path, { force: true });
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      for (const path of removeOnSignal) rmSync(path, { force: true });
      removeOnSignal.clear();
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    });
  }
}

function pause(): Promise<void> {
  return new Promise((resume) => setImmediate(resume));
}

// ---- locking ------------------------------------------------------------------------------------------

/** How long a writer waits for another to finish before giving up. */
const LOCK_WAIT_MS = 10_000;
const LOCK_SUFFIX = ".smss86-lock";
const TEMPORARY_INFIX = ".smss86-";
const TEMPORARY_SUFFIX = ".tmp";

/**
 * The file a path finally names, through any chain of symbolic links (a link to a file not yet there
 * names where it will be created).
 */
export function resolveLinks(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops <= 40; hops++) {
    let stats: Stats;
    try {
      stats = lstatSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return current;
      throw new FileError(path, describeSystemError(error));
    }
    if (!stats.isSymbolicLink()) return current;
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw new FileError(path, describeSystemError({ code: "ELOOP" }));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** An exclusive right to replace one file, held from before it is read until it is replaced. */
export class FileLock {
  private released = false;

  private constructor(
    /** The path as the user gave it, for messages. */
    readonly path: string,
    /** The real file (symbolic links followed) that is replaced. */
    readonly target: string,
    private readonly lockFile: string,
  ) {}

  /**
   * Takes the lock on `path`'s real file, waiting up to LOCK_WAIT_MS for a writer that holds it. A lock
   * left by a process that no longer runs is taken over, and so are the temporary files it left.
   */
  static async acquire(path: string, what: string): Promise<FileLock> {
    if (path === "") throw new FileError(`""`, `an empty name is no ${what}`);
    const target = resolveLinks(path);
    checkReplaceable(statIfExists(target, path), path, what);
    const lockFile = join(dirname(target), `.${basename(target)}${LOCK_SUFFIX}`);
    handleSignals();
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = openSync(lockFile, "wx", 0o600);
        removeOnSignal.add(lockFile);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new FileError(path, `cannot write the ${what}: its directory ${dirname(target)} does not exist`);
        if (code !== "EEXIST") throw new FileError(path, `cannot write the ${what} (locking it as ${lockFile}): ${describeSystemError(error)}`);
      }
      const holder = lockHolder(lockFile);
      if (holder !== undefined && !processAlive(holder)) {
        // Only the lock as it was read is removed: another writer may have taken it over meanwhile.
        if (lockHolder(lockFile) === holder) rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new FileError(path, `is being written by ${holder === undefined ? "another process" : `process ${holder}`} (lock ${lockFile}); gave up after ${LOCK_WAIT_MS / 1000} s`);
      }
      await new Promise((resume) => setTimeout(resume, 20));
    }
    const lock = new FileLock(path, target, lockFile);
    lock.removeStaleTemporaries();
    return lock;
  }

  /**
   * Temporary files of this target: under the lock, none of this version's belongs to a writer still at
   * work. Earlier versions took no lock and named theirs `.NAME.PID.tmp` (hive writes) or `NAME.PID.tmp`
   * (disk builds): those go when their process has.
   */
  private removeStaleTemporaries(): void {
    const base = basename(this.target);
    const ours = `.${base}${TEMPORARY_INFIX}`;
    let names: string[];
    try {
      names = readdirSync(dirname(this.target));
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.endsWith(TEMPORARY_SUFFIX)) continue;
      const middle = (prefix: string) => (name.startsWith(prefix) ? name.slice(prefix.length, -TEMPORARY_SUFFIX.length) : undefined);
      const own = middle(ours);
      const earlier = middle(`.${base}.`) ?? middle(`${base}.`);
      const stale = (own !== undefined && /^\d+$/.test(own)) || (earlier !== undefined && /^\d+$/.test(earlier) && !processAlive(Number(earlier)));
      if (stale) rmSync(join(dirname(this.target), name), { force: true });
    }
  }

  /**
   * Replaces the file with `bytes`: written beside it, made durable, then renamed over it, so that it is
   * the old or the new file at every moment. An existing file keeps its mode and owner; one with other
   * hard links is refused (a rename would leave them holding the old contents).
   */
  async replace(bytes: Uint8Array, what: string): Promise<void> {
    if (this.released) throw new Error("FileLock.replace after release");
    const existing = statIfExists(this.target, this.path);
    checkReplaceable(existing, this.path, what);
    const temporary = join(dirname(this.target), `.${basename(this.target)}${TEMPORARY_INFIX}${process.pid}${TEMPORARY_SUFFIX}`);
    removeOnSignal.add(temporary);
    try {
      let fd: number;
      try {
        // A new file gets the usual 0666 less the umask; one replacing a file starts private, then takes
        // that file's mode once its owner is set.
        fd = openSync(temporary, "wx", existing === undefined ? 0o666 : 0o600);
      } catch (error) {
        throw new FileError(this.path, `cannot write the ${what}: ${describeSystemError(error)}`);
      }
      try {
        if (existing !== undefined && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) {
          try {
            fchownSync(fd, existing.uid, existing.gid);
          } catch (error) {
            throw new FileError(this.path, `cannot keep its owner ${existing.uid}:${existing.gid} (${describeSystemError(error)}), so it is not replaced`);
          }
        }
        // After the owner: changing the owner clears set-user-ID and set-group-ID bits.
        if (existing !== undefined) fchmodSync(fd, existing.mode & 0o7777);
        const chunk = 4 * MiB;
        for (let at = 0; at < bytes.length; ) {
          try {
            at += writeSync(fd, bytes, at, Math.min(chunk, bytes.length - at));
          } catch (error) {
            throw new FileError(this.path, `cannot write the ${what}: ${describeSystemError(error)}`);
          }
          await pause();
        }
        try {
          fsyncSync(fd);
        } catch (error) {
          throw new FileError(this.path, `cannot write the ${what}: ${describeSystemError(error)}`);
        }
      } finally {
        closeSync(fd);
      }
      // A signal that came during the writing is handled here, before the file changes.
      await pause();
      try {
        renameSync(temporary, this.target);
      } catch (error) {
        throw new FileError(this.path, `cannot replace the ${what}: ${describeSystemError(error)}`);
      }
      syncDirectory(dirname(this.target));
    } finally {
      rmSync(temporary, { force: true });
      removeOnSignal.delete(temporary);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.lockFile, { force: true });
    removeOnSignal.delete(this.lockFile);
  }
}

function checkReplaceable(existing: Stats | undefined, path: string, what: string): void {
  if (existing === undefined) return;
  if (!existing.isFile()) throw new FileError(path, `is ${kindOf(existing)}, not a ${what} that can be replaced`);
  if (existing.nlink > 1) {
    throw new FileError(path, `has ${existing.nlink} hard links; replacing it would leave the other names with the old ${what}, so it is not written`);
  }
}

function lockHolder(lockFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function statIfExists(target: string, path: string): Stats | undefined {
  try {
    return lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FileError(path, describeSystemError(error));
  }
}

/** Makes a rename durable: the directory entry is only on disk once the directory is synced. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some file systems cannot sync a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Locks `path`, replaces it with what `make` returns (undefined: leave it), and unlocks. */
export async function replaceFile(path: string, what: string, make: (lock: FileLock) => Promise<Uint8Array | undefined> | Uint8Array | undefined): Promise<void> {
  const lock = await FileLock.acquire(path, what);
  try {
    const bytes = await make(lock);
    if (bytes !== undefined) await lock.replace(bytes, what);
  } finally {
    lock.release();
  }
}

// ---- logs: written while a run goes on, read while they grow ------------------------------------------

/**
 * A log written line by line while a run goes on, so that another process can follow it: it cannot be
 * replaced atomically at the end like the other outputs. It is held under the same lock as a replaced file
 * for as long as it is written, refused on the same grounds (not a regular file, other hard links), and an
 * existing file is emptied in place, which keeps its identity (inode, mode, owner, the links that lead to it).
 */
export class LogFile {
  private closed = false;

  private constructor(
    private readonly lock: FileLock,
    private readonly fd: number,
    private readonly what: string,
  ) {}

  static async create(path: string, what: string): Promise<LogFile> {
    const lock = await FileLock.acquire(path, what);
    let fd: number;
    try {
      fd = openSync(lock.target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NOCTTY, 0o666);
    } catch (error) {
      lock.release();
      throw new FileError(path, `cannot write the ${what}: ${describeSystemError(error)}`);
    }
    return new LogFile(lock, fd, what);
  }

  get path(): string {
    return this.lock.path;
  }

  /** Appends at once: a follower sees each line as soon as it is written. */
  append(text: string): void {
    if (this.closed) return;
    const bytes = Buffer.from(text, "utf8");
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (error) {
      throw new FileError(this.lock.path, `cannot write the ${this.what}: ${describeSystemError(error)}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fsyncSync(this.fd);
    } catch (error) {
      throw new FileError(this.lock.path, `cannot write the ${this.what}: ${describeSystemError(error)}`);
    } finally {
      closeSync(this.fd);
      this.lock.release();
    }
  }
}

/** A regular file read as it grows (a log that a run is still writing), up to `limit` bytes in all. */
export class GrowingFile {
  private offset = 0;

  private constructor(
    private readonly fd: number,
    readonly path: string,
    private readonly options: ReadOptions,
  ) {}

  static open(path: string, options: ReadOptions): GrowingFile {
    const fd = openForReading(path, options);
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      closeSync(fd);
      throw new FileError(path, `is ${kindOf(stats)}, not a ${options.what} (which must be a regular file)`);
    }
    return new GrowingFile(fd, path, options);
  }

  /** What was appended since the last call (nothing when the file has not grown). */
  readNew(): Uint8Array {
    const size = fstatSync(this.fd).size;
    if (size < this.offset) throw new FileError(this.path, `was cut short while it was read (from ${this.offset} to ${size} bytes)`);
    if (size > this.options.limit) throw tooLarge(this.path, `is ${size} bytes`, this.options);
    const bytes = new Uint8Array(size - this.offset);
    let length = 0;
    try {
      for (let got; length < bytes.length && (got = readSync(this.fd, bytes, length, bytes.length - length, this.offset + length)) > 0; ) length += got;
    } catch (error) {
      throw new FileError(this.path, `cannot read the ${this.options.what}: ${describeSystemError(error)}`);
    }
    this.offset += length;
    return bytes.subarray(0, length);
  }

  close(): void {
    closeSync(this.fd);
  }
}
