// Types of the "sys" module that the guest runtime (guest/native/) provides to every guest program:
// `import * as sys from "sys"`. Thin wrappers over Linux system calls. A failed call throws SysError
// (errno, code such as "ENOENT", the syscall and the path it concerned); a wrongly typed argument throws
// TypeError, an out-of-range number RangeError. Numbers that the kernel returns as 64-bit values (sizes,
// offsets, inodes) are exact up to 2^53.
//
// Also provided by the runtime, outside this module: a global `console` with log/info/debug (stdout) and
// warn/error (stderr); each argument is printed with String(), an Error with its stack.
declare module "sys" {
  export class SysError extends Error {
    /** Builds an error of the module's own shape, e.g. new SysError("open", 2, path). */
    constructor(syscall: string, errno: number, path?: string);
    readonly errno: number;
    /** The errno's symbolic name, e.g. "ENOENT". */
    readonly code: string;
    readonly syscall: string;
    readonly path?: string;
  }

  /** The program's own argv, as execve gave it (argv[0] first). */
  export const argv: readonly string[];

  export interface Stat {
    dev: number;
    ino: number;
    /** File type (mode & S_IFMT) and permission bits. */
    mode: number;
    nlink: number;
    uid: number;
    gid: number;
    /** For device nodes: the device numbers (0 otherwise). */
    rdevMajor: number;
    rdevMinor: number;
    size: number;
    blocks: number;
    atimeMs: number;
    mtimeMs: number;
    ctimeMs: number;
  }

  // Files. Descriptors from open() are always close-on-exec; a child gets only what spawn() maps onto its
  // standard streams.
  export function open(path: string, flags: number, mode?: number): number;
  export function close(fd: number): void;
  /** Reads at most maxLength (≤ 64 MiB) bytes; an empty array means end of file. */
  export function read(fd: number, maxLength: number): Uint8Array;
  /** Writes all of data (a string as UTF-8; any typed array's bytes are accepted too); returns the byte count. */
  export function write(fd: number, data: Uint8Array | string): number;
  export function lseek(fd: number, offset: number, whence: number): number;
  export function fsync(fd: number): void;
  export function ftruncate(fd: number, length: number): void;
  /** The whole file, read to end of file (procfs files report size 0 but are read fully); ≤ 256 MiB. */
  export function readFile(path: string): Uint8Array;
  /** Creates or truncates, then writes all of data. No fsync: open/write/fsync when it must be durable. */
  export function writeFile(path: string, data: Uint8Array | string, mode?: number): void;
  export function stat(path: string): Stat;
  export function lstat(path: string): Stat;
  export function fstat(fd: number): Stat;
  /** Entry names in directory order, without "." and "..". */
  export function readdir(path: string): string[];
  export function mkdir(path: string, mode?: number): void;
  export function rmdir(path: string): void;
  export function unlink(path: string): void;
  export function rename(oldPath: string, newPath: string): void;
  export function symlink(target: string, linkPath: string): void;
  export function link(existingPath: string, newPath: string): void;
  export function readlink(path: string): string;
  export function chdir(path: string): void;
  export function getcwd(): string;
  /** mode includes the file type, e.g. S_IFCHR | 0o600. */
  export function mknod(path: string, mode: number, major?: number, minor?: number): void;
  export function mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags?: number,
    data?: string | null,
  ): void;
  /** umount2(target, flags): flags such as MNT_DETACH. */
  export function umount(target: string, flags?: number): void;
  export function sync(): void;
  export function chmod(path: string, mode: number): void;
  /** statfs(2): sizes in blocks of blockSize bytes; type is the filesystem's magic (0x4d44 for FAT). */
  export function statfs(path: string): { type: number; blockSize: number; blocks: number; freeBlocks: number; availableBlocks: number };
  /** Activates a swap area (a file or device with a swap header). */
  export function swapon(path: string): void;
  export function swapoff(path: string): void;
  /** Writes out and drops the kernel's cached blocks of a block device (ioctl BLKFLSBUF; root only). */
  export function flushBlockDevice(path: string): void;
  /** Turns a terminal's echo and line editing on or off; without line editing a read returns each byte. */
  export function setTerminalMode(fd: number, echo: boolean, lineEditing: boolean): void;

  // Ports: Unix SOCK_SEQPACKET sockets, one message per read or write; a read of 0 bytes = the peer is gone.
  /** Creates and listens on a port at path (which must not exist); returns the listening descriptor. */
  export function createPort(path: string, backlog?: number): number;
  /** Connects to the port at path; returns the connection's descriptor. */
  export function connectPort(path: string): number;
  /** Takes the next connection waiting on a listening port (blocks unless poll said one waits). */
  export function accept(fd: number): number;
  /** Who is at the other end of a connection, as the kernel recorded it when it connected. */
  export function peerCredentials(fd: number): { pid: number; uid: number; gid: number };

  // Processes.
  export interface SpawnOptions {
    /** Descriptors of this process to become the child's 0, 1 and 2; omitted ones are inherited. */
    stdin?: number;
    stdout?: number;
    stderr?: number;
    /** Start the child in a new session (setsid), e.g. to give it a controlling terminal of its own. */
    setsid?: boolean;
    cwd?: string;
    /** Run the child as this user and group (root only); supplementary groups are dropped with the group. */
    uid?: number;
    gid?: number;
    /** 1 to 19: the child runs at a lower scheduling priority (setpriority), as background work (default 0). */
    nice?: number;
  }
  /**
   * Starts path with argv (argv[0] included) and envp ("NAME=value" strings; omitted or null: this
   * process's environment). Returns the child's pid; a failure to start it (e.g. execve ENOENT) throws.
   */
  export function spawn(path: string, argv: readonly string[], envp?: readonly string[] | null, options?: SpawnOptions): number;
  export interface WaitResult {
    pid: number;
    /** The raw wait status. */
    status: number;
    exited: boolean;
    /** The exit code when exited, else null. */
    code: number | null;
    /** The terminating signal when killed by one, else null. */
    signal: number | null;
  }
  /** waitpid(2); pid -1 waits for any child. Returns null only with WNOHANG when no child has changed. */
  export function waitpid(pid: number, flags?: number): WaitResult | null;
  export function kill(pid: number, signal: number): void;
  /**
   * poll(2) over at most 64 descriptors; timeoutMs -1 waits without limit. Returns each entry's revents
   * (all 0 on a timeout, or when a signal such as SIGCHLD interrupted the wait).
   */
  export function poll(fds: readonly { fd: number; events: number }[], timeoutMs: number): number[];
  /**
   * Blocks the signals and returns a non-blocking signalfd(2) on which they queue (read 128-byte records);
   * children started by spawn() do not inherit the block.
   */
  export function signalfd(signals: readonly number[]): number;
  /**
   * fork(2): returns the child's pid in the parent and 0 in the child, which goes on from here with a copy of
   * everything (descriptors included; the signal mask too, so a blocked SIGCHLD stays blocked).
   */
  export function fork(): number;
  export function getpid(): number;
  export function getppid(): number;
  export function exit(code?: number): never;

  // The machine.
  /** Does not return: on success the machine powers off, halts or restarts. Call sync() first. */
  export function reboot(command: "power-off" | "halt" | "restart"): never;
  export function uname(): { sysname: string; nodename: string; release: string; version: string; machine: string };
  /** Memory sizes in bytes. */
  export function sysinfo(): {
    uptimeSeconds: number;
    totalRam: number;
    freeRam: number;
    sharedRam: number;
    bufferRam: number;
    totalSwap: number;
    freeSwap: number;
    processes: number;
  };
  export function sleep(milliseconds: number): void;
  /** CLOCK_MONOTONIC in milliseconds (fractional). */
  export function monotonicMs(): number;
  /** CLOCK_REALTIME in milliseconds since 1970 (fractional). */
  export function realtimeMs(): number;
  export function getenv(name: string): string | undefined;
  /** This process's environment as "NAME=value" strings. */
  export function environ(): string[];
  /**
   * Loads a kernel module (.ko, e.g. C:\Windows\System32\win32k.sys) with finit_module(2), no parameters.
   * Fails with SysError EEXIST when a module of that name is loaded already, EPERM without CAP_SYS_MODULE.
   */
  export function loadKernelModule(path: string): void;

  // Cryptography.
  export interface Argon2Options {
    /** Passes over memory (t), 1 to 64. */
    timeCost: number;
    /** Memory in KiB (m), 8 × parallelism to 65536 (64 MiB, the guest's default RAM: argon2 allocates it all at once). */
    memoryKiB: number;
    /** Lanes (p), 1 to 16; computed one after another (the runtime has no threads), but they change the result. */
    parallelism: number;
    /** Bytes of hash wanted, 4 to 1024. */
    hashLength: number;
  }
  /**
   * Argon2id (RFC 9106, version 1.3, the v=19 of a PHC string) of password (a string is hashed as its
   * UTF-8) with salt (8 to 1024 bytes), no secret key and no associated data; returns the raw hash. Runs
   * the reference C code: about 1.8e4 guest instructions per KiB and pass (m=1024, t=2: 3.6e7, measured).
   * A bad argument throws TypeError or RangeError naming it; a failure inside argon2 (its memory cannot be
   * allocated) throws Error with argon2's own message, e.g. "sys.argon2id: argon2 failed: Memory
   * allocation error (error -22; ...)".
   */
  export function argon2id(password: string | Uint8Array, salt: Uint8Array, options: Argon2Options): Uint8Array;

  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const O_TRUNC: number;
  export const O_APPEND: number;
  export const O_NONBLOCK: number;
  export const O_DIRECTORY: number;
  export const O_NOFOLLOW: number;
  export const O_NOCTTY: number;
  export const O_SYNC: number;
  export const SEEK_SET: number;
  export const SEEK_CUR: number;
  export const SEEK_END: number;
  export const S_IFMT: number;
  export const S_IFREG: number;
  export const S_IFDIR: number;
  export const S_IFLNK: number;
  export const S_IFCHR: number;
  export const S_IFBLK: number;
  export const S_IFIFO: number;
  export const S_IFSOCK: number;
  export const MS_RDONLY: number;
  export const MS_NOSUID: number;
  export const MS_NODEV: number;
  export const MS_NOEXEC: number;
  export const MS_SYNCHRONOUS: number;
  export const MS_REMOUNT: number;
  export const MS_NOATIME: number;
  export const MS_BIND: number;
  export const MS_MOVE: number;
  export const MS_REC: number;
  export const MS_PRIVATE: number;
  export const MNT_FORCE: number;
  export const MNT_DETACH: number;
  export const WNOHANG: number;
  export const POLLIN: number;
  export const POLLOUT: number;
  export const POLLERR: number;
  export const POLLHUP: number;
  export const POLLNVAL: number;
  export const SIGHUP: number;
  export const SIGINT: number;
  export const SIGQUIT: number;
  export const SIGKILL: number;
  export const SIGUSR1: number;
  export const SIGUSR2: number;
  export const SIGPIPE: number;
  export const SIGALRM: number;
  export const SIGTERM: number;
  export const SIGCHLD: number;
  export const SIGCONT: number;
  export const SIGSTOP: number;
}
