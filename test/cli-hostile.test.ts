// The command line under hostile and mistaken input, as a new user or an attacker would try it: every case
// must end at once with its exit code (1 a failed operation, 2 misuse) and ONE line on stderr naming the
// file (and offset or line:column) and why, never a stack trace; and every input and target must be exactly
// as it was (content, mode, owner, links), with no temporary or lock file left beside it. Writes that must
// succeed keep the file's identity; concurrent writers and signals are run for real.

import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  truncateSync,
  watch,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureDefaultDisk } from "../images/disk.ts";
import { Hive } from "../src/hive/index.ts";
import { BOOT_MILESTONES } from "../src/events/index.ts";
import { edgeDir, realHivePath, repoRoot, tempDir } from "./hive-helpers.ts";
import { loadFuzzCorpus, mutatedPrimaries } from "./hive-fuzz.ts";

const BIN = join(repoRoot, "bin/smss86.cjs");
/** Far longer than any case takes: reaching it means the command hung. */
const HANG_MS = 60_000;

const REG_HEADER = "Windows Registry Editor Version 5.00\r\n\r\n";
const SMALL_REG = `${REG_HEADER}[HKEY_LOCAL_MACHINE\\SYSTEM\\Added]\r\n"v"="x"\r\n`;

function smss86(args: string[], options: { cwd?: string; stdout?: number | "pipe"; input?: string } = {}): SpawnSyncReturns<Buffer> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? repoRoot,
    timeout: HANG_MS,
    killSignal: "SIGKILL",
    maxBuffer: 1 << 30,
    stdio: [options.input === undefined ? "ignore" : "pipe", options.stdout ?? "pipe", "pipe"],
    input: options.input,
  });
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** What makes a file that file: contents, mode, owner, inode, links, and where a symbolic link points. */
function identity(path: string): string {
  if (!existsSync(path) && !lstatExists(path)) return "absent";
  const link = lstatSync(path);
  if (link.isSymbolicLink()) return `symlink -> ${readlinkSync(path)}`;
  // Several GiB (sparse inputs) are not hashed: no write leaves a file's change time (ns) as it was.
  const large = link.size > 256 * 2 ** 20 ? `size ${link.size} changed ${lstatSync(path, { bigint: true }).ctimeNs}` : undefined;
  const kind = link.isFile() ? `file ${large ?? sha256(path)}` : link.isDirectory() ? "directory" : "special";
  return `${kind} mode ${(link.mode & 0o7777).toString(8)} owner ${link.uid}:${link.gid} inode ${link.ino} links ${link.nlink}`;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every entry of a directory (hidden ones too: temporary and lock files) with its identity. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = identity(join(dir, name));
  return out;
}

/** A fresh directory with a small hive `h` (built by the command itself) and the .reg it came from. */
function workspace(): string {
  const dir = mkdtempSync(join(tempDir(), "hostile-"));
  writeFileSync(join(dir, "a.reg"), SMALL_REG);
  expect(smss86(["hive", "import", "a.reg", "h"], { cwd: dir }).status).toBe(0);
  return dir;
}

interface HostileCase {
  title: string;
  /** Prepares the workspace; returns the arguments (relative to it) and any files outside it to watch. */
  setup: (dir: string) => { args: string[]; outside?: string[]; stdout?: number; shell?: string };
  status: 1 | 2;
  /** The whole line on stderr. */
  stderr: RegExp;
}

function fifo(dir: string, name: string): string {
  const path = join(dir, name);
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  return path;
}

const hiveCases: HostileCase[] = [
  { title: "export /dev/zero", setup: () => ({ args: ["hive", "export", "/dev/zero"] }), status: 1, stderr: /^smss86 hive export: \/dev\/zero: is a character device, not a hive \(which must be a regular file\)$/ },
  { title: "check /dev/urandom", setup: () => ({ args: ["hive", "check", "/dev/urandom"] }), status: 1, stderr: /^smss86 hive check: \/dev\/urandom: is a character device, not a hive/ },
  { title: "get from a FIFO nobody writes", setup: (dir) => ({ args: ["hive", "get", fifo(dir, "f"), "A"] }), status: 1, stderr: /^smss86 hive get: \/.*\/f: is a FIFO, not a hive/ },
  {
    title: "import /dev/zero: read up to the stated limit, then refused",
    setup: () => ({ args: ["hive", "import", "/dev/zero", "X"] }),
    status: 1,
    stderr: /^smss86 hive import: \/dev\/zero: goes on, more than the 256 MiB a \.reg file may be$/,
  },
  {
    title: "import from a FIFO with no writer: an empty file, not a hang",
    setup: (dir) => ({ args: ["hive", "import", fifo(dir, "f"), "h"] }),
    status: 1,
    stderr: /^smss86 hive import: \/.*\/f:1:1: empty file; a \.reg file starts with "Windows Registry Editor Version 5\.00"$/,
  },
  {
    title: "export a dirty hive whose LOG1 is a FIFO",
    setup: (dir) => {
      copyFileSync(join(edgeDir, "NewDirtyHive1/NewDirtyHive"), join(dir, "dirty"));
      fifo(dir, "dirty.LOG1");
      return { args: ["hive", "export", "dirty"] };
    },
    status: 1,
    stderr: /^smss86 hive export: dirty\.LOG1: is a FIFO, not a transaction log \(which must be a regular file\)$/,
  },
  { title: "export a directory", setup: () => ({ args: ["hive", "export", "."] }), status: 1, stderr: /^smss86 hive export: \.: is a directory, not a hive/ },
  {
    title: "hive over 2 GiB (sparse): refused at once",
    setup: (dir) => {
      writeFileSync(join(dir, "huge"), "");
      truncateSync(join(dir, "huge"), 2 ** 31 + 4096);
      return { args: ["hive", "check", "huge"] };
    },
    status: 1,
    stderr: /^smss86 hive check: huge: is 2147487744 bytes, more than the 2 GiB a hive may be$/,
  },
  {
    title: ".reg file over 256 MiB (sparse): refused at once",
    setup: (dir) => (writeFileSync(join(dir, "big.reg"), ""), truncateSync(join(dir, "big.reg"), 300 * 2 ** 20), { args: ["hive", "import", "big.reg", "h"] }),
    status: 1,
    stderr: /^smss86 hive import: big\.reg: is 314572800 bytes, more than the 256 MiB a \.reg file may be$/,
  },
  { title: "a symbolic link loop as the hive", setup: (dir) => (symlinkSync("loop", join(dir, "loop")), { args: ["hive", "import", "a.reg", "loop"] }), status: 1, stderr: /^smss86 hive import: loop: too many levels of symbolic links$/ },
  { title: "import into /dev/null", setup: () => ({ args: ["hive", "import", "a.reg", "/dev/null"], outside: ["/dev/null"] }), status: 1, stderr: /^smss86 hive import: \/dev\/null: is a character device, not a hive that can be replaced$/ },
  { title: "import into a directory", setup: (dir) => (mkdirSync(join(dir, "d")), { args: ["hive", "import", "a.reg", "d"] }), status: 1, stderr: /^smss86 hive import: d: is a directory, not a hive that can be replaced$/ },
  { title: "import into a missing directory", setup: () => ({ args: ["hive", "import", "a.reg", "nodir/h"] }), status: 1, stderr: /^smss86 hive import: nodir\/h: cannot write the hive: its directory \/.*\/nodir does not exist$/ },
  {
    title: "import into a hive with a second hard link",
    setup: (dir) => (linkSync(join(dir, "h"), join(dir, "h2")), { args: ["hive", "import", "a.reg", "h"] }),
    status: 1,
    stderr: /^smss86 hive import: h: has 2 hard links; replacing it would leave the other names with the old hive, so it is not written$/,
  },
  {
    title: "import into a damaged hive (yarp's BadListHive)",
    setup: (dir) => (copyFileSync(join(edgeDir, "BadListHive"), join(dir, "bad")), { args: ["hive", "import", "a.reg", "bad"] }),
    status: 1,
    stderr: /^smss86 hive import: bad: is damaged \(2 problems, the first: offset 0x1470: key node listed under the key at 0x12e8 names 0x1380 as its parent\); not changing it\. "smss86 hive check" lists them; --repair writes what can be read of it$/,
  },
  {
    title: "import into a truncated hive",
    setup: (dir) => (copyFileSync(join(edgeDir, "TruncatedHive"), join(dir, "cut")), { args: ["hive", "import", "a.reg", "cut"] }),
    status: 1,
    stderr: /^smss86 hive import: cut: offset 0x3000: file has 12288 bytes but the base block declares 491520$/,
  },
  {
    title: "import into a dirty hive without logs",
    setup: (dir) => (copyFileSync(join(edgeDir, "NewDirtyHive1/NewDirtyHive"), join(dir, "dirty")), { args: ["hive", "import", "a.reg", "dirty"] }),
    status: 1,
    stderr: /^smss86 hive import: dirty: offset 0x0: hive is dirty \(sequence numbers \d+\/\d+\) and no transaction log was given$/,
  },
  {
    title: "a .reg syntax error",
    setup: (dir) => (writeFileSync(join(dir, "bad.reg"), `${REG_HEADER}[HKEY_LOCAL_MACHINE\\SYSTEM\\X]\r\n"v"=hex:0g\r\n`), { args: ["hive", "import", "bad.reg", "h"] }),
    status: 1,
    stderr: /^smss86 hive import: bad\.reg:4:10: expected "," between hex bytes$/,
  },
  { title: "get a key that is not there: backslashes as typed", setup: () => ({ args: ["hive", "get", "h", "No\\Such\\Key"] }), status: 1, stderr: /^smss86 hive get: h: no key "No\\Such\\Key"$/ },
  { title: "get a key name with a line break", setup: () => ({ args: ["hive", "get", "h", "A\nB"] }), status: 1, stderr: /^smss86 hive get: h: no key "A\\nB"$/ },
  { title: "export a key name with a line break", setup: () => ({ args: ["hive", "export", "h", "A\nB"] }), status: 1, stderr: /^smss86 hive export: h: no key "A\\nB" in the hive$/ },
  {
    title: "export a hive holding a key name with a line break (file and offset named)",
    setup: (dir) => (copyFileSync(join(edgeDir, "BogusKeyNamesHive"), join(dir, "bogus")), { args: ["hive", "export", "bogus", "--utf8"], stdout: openSync("/dev/null", "w") }),
    status: 1,
    stderr: /^smss86 hive export: bogus: offset 0x[0-9a-f]+: key "HKEY_LOCAL_MACHINE\\SYSTEM\\[^"]*\\n[^"]*" has a key name that contains a line break/,
  },
  { title: "get into a full disk (/dev/full)", setup: () => ({ args: ["hive", "get", "h", "Added", "v"], stdout: openSync("/dev/full", "w") }), status: 1, stderr: /^smss86 hive get: stdout: cannot write: no space left on the device$/ },
  { title: "export into a full disk (/dev/full)", setup: () => ({ args: ["hive", "export", "h"], stdout: openSync("/dev/full", "w") }), status: 1, stderr: /^smss86 hive export: stdout: cannot write: no space left on the device$/ },
  { title: "check --recover into a directory", setup: (dir) => (mkdirSync(join(dir, "d")), { args: ["hive", "check", "h", "--recover", "d"] }), status: 1, stderr: /^smss86 hive check: d: is a directory, not a hive that can be replaced$/ },
  // Misuse: exit 2.
  { title: "--prefix ''", setup: () => ({ args: ["hive", "import", "a.reg", "h", "--prefix", ""] }), status: 2, stderr: /^smss86 hive import: option '--prefix <PATH>' argument '' is invalid\. --prefix takes a registry path/ },
  { title: "--prefix with a line break", setup: () => ({ args: ["hive", "export", "h", "--prefix", "A\nB"] }), status: 2, stderr: /^smss86 hive export: option '--prefix <PATH>' argument 'A B' is invalid\./ },
  { title: "an empty HIVE name", setup: () => ({ args: ["hive", "import", "a.reg", ""] }), status: 2, stderr: /^smss86 hive import: command-argument value '' is invalid for argument 'HIVE'\. HIVE takes a file name, not an empty string\./ },
  { title: "check --recover ''", setup: () => ({ args: ["hive", "check", "h", "--recover", ""] }), status: 2, stderr: /^smss86 hive check: option '--recover <OUT>' argument '' is invalid/ },
  { title: "an unknown option", setup: () => ({ args: ["hive", "check", "h", "--bogus"] }), status: 2, stderr: /^smss86 hive check: unknown option '--bogus' \(see "smss86 hive check --help"\)$/ },
  { title: "too many arguments", setup: () => ({ args: ["hive", "get", "h", "a", "b", "c"] }), status: 2, stderr: /^smss86 hive get: too many arguments for 'get'\. Expected 3 arguments but got 4\./ },
  { title: "a missing argument", setup: () => ({ args: ["hive", "import", "a.reg"] }), status: 2, stderr: /^smss86 hive import: missing required argument 'HIVE'/ },
  { title: "an unknown hive command", setup: () => ({ args: ["hive", "frobnicate"] }), status: 2, stderr: /^smss86 hive: unknown command 'frobnicate'/ },
];

const bootCases: HostileCase[] = [
  { title: "--disk DIRECTORY", setup: () => ({ args: ["boot", "--disk", "."] }), status: 1, stderr: /^smss86 boot: \.: is a directory, not a disk image \(which must be a regular file\)$/ },
  { title: "--disk /dev/zero", setup: () => ({ args: ["boot", "--disk", "/dev/zero"] }), status: 1, stderr: /^smss86 boot: \/dev\/zero: is a character device, not a disk image/ },
  {
    title: "--disk over 2 GiB (sparse)",
    setup: (dir) => (writeFileSync(join(dir, "big.img"), ""), truncateSync(join(dir, "big.img"), 3 * 2 ** 30), { args: ["boot", "--disk", "big.img"] }),
    status: 1,
    stderr: /^smss86 boot: big\.img: is 3221225472 bytes, more than the 2 GiB a disk image may be$/,
  },
  { title: "--disk that is not bootable", setup: () => ({ args: ["boot", "--disk", "h"] }), status: 1, stderr: /^smss86 boot: h: not bootable: / },
  { title: "--json into a missing directory (refused before booting)", setup: () => ({ args: ["boot", "--disk", "h", "--json", "nodir/r.json"] }), status: 1, stderr: /^smss86 boot: nodir\/r\.json: cannot write the report: its directory \/.*\/nodir does not exist$/ },
  { title: "--json that is a directory", setup: (dir) => (mkdirSync(join(dir, "d")), { args: ["boot", "--json", "d"] }), status: 1, stderr: /^smss86 boot: d: is a directory, not a report that can be replaced$/ },
  { title: "--json ''", setup: () => ({ args: ["boot", "--json", ""] }), status: 2, stderr: /^smss86 boot: option '--json <FILE>' argument '' is invalid/ },
  { title: "--memory 4096 (more than v86 holds)", setup: () => ({ args: ["boot", "--memory", "4096"] }), status: 2, stderr: /^smss86 boot: option '--memory <MiB>' argument '4096' is invalid\. --memory takes a whole number of MiB from 8 to 2047/ },
  { title: "--memory 100000", setup: () => ({ args: ["boot", "--memory", "100000"] }), status: 2, stderr: /from 8 to 2047/ },
  { title: "--memory 7 (less than the guest needs)", setup: () => ({ args: ["boot", "--memory", "7"] }), status: 2, stderr: /from 8 to 2047/ },
  { title: "--memory 64.5", setup: () => ({ args: ["boot", "--memory", "64.5"] }), status: 2, stderr: /from 8 to 2047/ },
  { title: "--timeout 3000000 (past a Node timer)", setup: () => ({ args: ["boot", "--timeout", "3000000"] }), status: 2, stderr: /^smss86 boot: option '--timeout <S>' argument '3000000' is invalid\. --timeout takes seconds from 0\.001 to 2147483/ },
  { title: "--timeout 0", setup: () => ({ args: ["boot", "--timeout", "0"] }), status: 2, stderr: /--timeout takes seconds from 0\.001 to 2147483/ },
  { title: "--timeout -5", setup: () => ({ args: ["boot", "--timeout=-5"] }), status: 2, stderr: /--timeout takes seconds from 0\.001 to 2147483/ },
  { title: "--timeout Infinity", setup: () => ({ args: ["boot", "--timeout", "Infinity"] }), status: 2, stderr: /--timeout takes seconds/ },
  { title: "--until an unknown phase", setup: () => ({ args: ["boot", "--until", "nope"] }), status: 2, stderr: new RegExp(`^smss86 boot: option '--until <EVENT>' argument 'nope' is invalid\\. Allowed choices are ${BOOT_MILESTONES.join(", ")}\\.`) },
  { title: "a misspelt option: one line with the suggestion", setup: () => ({ args: ["boot", "--untl", "ready"] }), status: 2, stderr: /^smss86 boot: unknown option '--untl' \(Did you mean --until\?\)/ },
];

/** The default disk, copied into the workspace as d.img. */
function diskCopy(dir: string): string {
  copyFileSync(join(repoRoot, "build", "disk.img"), join(dir, "d.img"));
  return "d.img";
}

const bootOutputCases: HostileCase[] = [
  { title: "--snapshot without --until", setup: () => ({ args: ["boot", "--snapshot", "s.snap"] }), status: 2, stderr: /^smss86 boot: --snapshot needs --until: the state is saved when that phase is done \(see "smss86 boot --help"\)$/ },
  { title: "--snapshot ''", setup: () => ({ args: ["boot", "--until", "ready", "--snapshot", ""] }), status: 2, stderr: /^smss86 boot: option '--snapshot <FILE>' argument '' is invalid/ },
  { title: "--snapshot that is a directory (refused before booting)", setup: (dir) => (mkdirSync(join(dir, "d")), { args: ["boot", "--until", "ready", "--snapshot", "d"] }), status: 1, stderr: /^smss86 boot: d: is a directory, not a snapshot that can be replaced$/ },
  { title: "--console-log ''", setup: () => ({ args: ["boot", "--console-log", ""] }), status: 2, stderr: /^smss86 boot: option '--console-log <FILE>' argument '' is invalid/ },
  { title: "--console-log that is a directory", setup: (dir) => (mkdirSync(join(dir, "d")), { args: ["boot", "--console-log", "d"] }), status: 1, stderr: /^smss86 boot: d: is a directory, not a console log that can be replaced$/ },
  { title: "--probe-log into a missing directory", setup: () => ({ args: ["boot", "--probe-log", "nodir/p.log"] }), status: 1, stderr: /^smss86 boot: nodir\/p\.log: cannot write the probe log: its directory \/.*\/nodir does not exist$/ },
  { title: "--probe-log /dev/null", setup: () => ({ args: ["boot", "--probe-log", "/dev/null"], outside: ["/dev/null"] }), status: 1, stderr: /^smss86 boot: \/dev\/null: is a character device, not a probe log that can be replaced$/ },
  { title: "--console-log with a second hard link", setup: (dir) => (linkSync(join(dir, "a.reg"), join(dir, "c.log")), { args: ["boot", "--console-log", "c.log"] }), status: 1, stderr: /^smss86 boot: c\.log: has 2 hard links; replacing it would leave the other names with the old console log, so it is not written$/ },
  { title: "--from-snapshot that is missing", setup: () => ({ args: ["boot", "--from-snapshot", "nosuch.snap"] }), status: 1, stderr: /^smss86 boot: nosuch\.snap: no such snapshot$/ },
  { title: "--from-snapshot /dev/zero", setup: () => ({ args: ["boot", "--from-snapshot", "/dev/zero"] }), status: 1, stderr: /^smss86 boot: \/dev\/zero: is a character device, not a snapshot \(which must be a regular file\)$/ },
  { title: "--from-snapshot of a hive", setup: () => ({ args: ["boot", "--from-snapshot", "h"] }), status: 1, stderr: /^smss86 boot: h: not an smss86 snapshot \(it starts with 72 65 67 66 [0-9a-f ]+, not "smss86 snapshot"\)$/ },
  {
    title: "--from-snapshot whose header is cut short",
    setup: (dir) => (writeFileSync(join(dir, "cut.snap"), Buffer.concat([Buffer.from("smss86 snapshot\n"), Buffer.from([0xff, 0xff, 0, 0]), Buffer.from("{")])), { args: ["boot", "--from-snapshot", "cut.snap"] }),
    status: 1,
    stderr: /^smss86 boot: cut\.snap: cut short or damaged: its header claims 65535 bytes and the file has 21$/,
  },
  { title: "--from-snapshot ''", setup: () => ({ args: ["boot", "--from-snapshot", ""] }), status: 2, stderr: /^smss86 boot: option '--from-snapshot <FILE>' argument '' is invalid/ },
];

const logCases: HostileCase[] = [
  { title: "a missing log", setup: () => ({ args: ["log", "nosuch.log"] }), status: 1, stderr: /^smss86 log: nosuch\.log: no such log$/ },
  { title: "a hive as a log", setup: () => ({ args: ["log", "h"] }), status: 1, stderr: /^smss86 log: h:1: not a log written by smss86 boot \(it starts with neither "# smss86 console log" nor "# smss86 probe log"\)$/ },
  { title: "an empty log", setup: (dir) => (writeFileSync(join(dir, "e.log"), ""), { args: ["log", "e.log"] }), status: 1, stderr: /^smss86 log: e\.log: is empty, not a log written by smss86 boot$/ },
  { title: "a log from /dev/zero", setup: () => ({ args: ["log", "/dev/zero"] }), status: 1, stderr: /^smss86 log: \/dev\/zero: is a character device, not a log \(which must be a regular file\)$/ },
  {
    title: "a log with a line that is not stamped, named by its line",
    setup: (dir) => (writeFileSync(join(dir, "x.log"), '# smss86 probe log {"disk":"d","started":"s"}\n+0.100s {}\nhello\n'), { args: ["log", "x.log"] }),
    status: 1,
    stderr: /^smss86 log: x\.log:3: neither a stamped line \("\+1\.234s \.\.\."\) nor one of the log's own \("# \.\.\."\)$/,
  },
  {
    title: "--phase on a console log without a probe log",
    setup: (dir) => (writeFileSync(join(dir, "c.log"), '# smss86 console log {"disk":"d","started":"s"}\n+0.100s hello\n# end {"result":"ok","wallMs":100}\n'), { args: ["log", "c.log", "--phase", "ready"] }),
    status: 1,
    stderr: /^smss86 log: c\.log: is a console log whose boot wrote no probe log; --phase needs one \(--probe-log FILE\)$/,
  },
  { title: "--phase that is no phase", setup: () => ({ args: ["log", "a.reg", "--phase", "bogus"] }), status: 2, stderr: /^smss86 log: option '--phase <NAME>' argument 'bogus' is invalid\. Allowed choices are smss-start, mount, / },
  { title: "no FILE", setup: () => ({ args: ["log"] }), status: 2, stderr: /^smss86 log: missing required argument 'FILE'/ },
  { title: "an empty FILE name", setup: () => ({ args: ["log", ""] }), status: 2, stderr: /^smss86 log: command-argument value '' is invalid for argument 'FILE'/ },
];

const diskCases: HostileCase[] = [
  { title: "ls of a missing image", setup: () => ({ args: ["disk", "ls", "nosuch.img"] }), status: 1, stderr: /^smss86 disk ls: nosuch\.img: no such disk image$/ },
  { title: "ls of a hive (no MBR)", setup: () => ({ args: ["disk", "ls", "h"] }), status: 1, stderr: /^smss86 disk ls: h: no C: volume to be read: MBR signature is 0x[0-9a-f]+, not 0xaa55 \(at disk offset 0x1fe\)$/ },
  { title: "ls of /dev/zero", setup: () => ({ args: ["disk", "ls", "/dev/zero"] }), status: 1, stderr: /^smss86 disk ls: \/dev\/zero: is a character device, not a disk image/ },
  { title: "ls of a path that is not there", setup: (dir) => ({ args: ["disk", "ls", diskCopy(dir), "/Nowhere"] }), status: 1, stderr: /^smss86 disk ls: d\.img: \/Nowhere does not exist$/ },
  { title: "cat of a directory", setup: (dir) => ({ args: ["disk", "cat", diskCopy(dir), "C:\\Windows"] }), status: 1, stderr: /^smss86 disk cat: d\.img: \/Windows is a directory$/ },
  { title: "cat into a full disk (/dev/full)", setup: (dir) => ({ args: ["disk", "cat", diskCopy(dir), "/Windows/System32/win32k.sys"], stdout: openSync("/dev/full", "w") }), status: 1, stderr: /^smss86 disk cat: stdout: cannot write: no space left on the device$/ },
  { title: "put of a missing source", setup: (dir) => ({ args: ["disk", "put", diskCopy(dir), "nosuch", "/x"] }), status: 1, stderr: /^smss86 disk put: nosuch: no such source file$/ },
  { title: "put into a directory that is not there", setup: (dir) => ({ args: ["disk", "put", diskCopy(dir), "a.reg", "/NoDir/a.reg"] }), status: 1, stderr: /^smss86 disk put: d\.img: .*NoDir/ },
  {
    title: "put of a file larger than the volume's free space: the image unchanged",
    setup: (dir) => (writeFileSync(join(dir, "big"), ""), truncateSync(join(dir, "big"), 60 * 2 ** 20), { args: ["disk", "put", diskCopy(dir), "big", "/big"] }),
    status: 1,
    stderr: /^smss86 disk put: d\.img: \/big needs \d+ clusters; the volume has \d+ free$/,
  },
  { title: "put into /dev/zero as the image", setup: () => ({ args: ["disk", "put", "/dev/zero", "a.reg", "/x"], outside: ["/dev/zero"] }), status: 1, stderr: /^smss86 disk put: \/dev\/zero: is a character device, not a disk image that can be replaced$/ },
  {
    title: "put into an image with a second hard link",
    setup: (dir) => (linkSync(join(dir, diskCopy(dir)), join(dir, "d2.img")), { args: ["disk", "put", "d.img", "a.reg", "/a.reg"] }),
    status: 1,
    stderr: /^smss86 disk put: d\.img: has 2 hard links; replacing it would leave the other names with the old disk image, so it is not written$/,
  },
  { title: "rm of a directory that is not empty", setup: (dir) => ({ args: ["disk", "rm", diskCopy(dir), "/Windows"] }), status: 1, stderr: /^smss86 disk rm: d\.img: \/Windows is not empty$/ },
  { title: "rm of the root", setup: (dir) => ({ args: ["disk", "rm", diskCopy(dir), "/"] }), status: 1, stderr: /^smss86 disk rm: d\.img: the root directory of the volume cannot be removed$/ },
  { title: "rm of a file that is not there", setup: (dir) => ({ args: ["disk", "rm", diskCopy(dir), "/nope.txt"] }), status: 1, stderr: /^smss86 disk rm: d\.img: \/nope\.txt does not exist$/ },
  { title: "mkdir below a file", setup: (dir) => ({ args: ["disk", "mkdir", diskCopy(dir), "/pagefile.sys/sub"] }), status: 1, stderr: /^smss86 disk mkdir: d\.img: \/pagefile\.sys is a file$/ },
  // Misuse: exit 2.
  { title: "an unknown subcommand", setup: () => ({ args: ["disk", "frobnicate"] }), status: 2, stderr: /^smss86 disk: unknown command 'frobnicate'/ },
  { title: "ls without IMAGE", setup: () => ({ args: ["disk", "ls"] }), status: 2, stderr: /^smss86 disk ls: missing required argument 'IMAGE'/ },
  { title: "cat without PATH", setup: (dir) => ({ args: ["disk", "cat", diskCopy(dir)] }), status: 2, stderr: /^smss86 disk cat: missing required argument 'PATH'/ },
  { title: "cat of an empty PATH", setup: (dir) => ({ args: ["disk", "cat", diskCopy(dir), ""] }), status: 2, stderr: /^smss86 disk cat: command-argument value '' is invalid for argument 'PATH'\. PATH takes a path on the volume/ },
  { title: "put without PATH", setup: (dir) => ({ args: ["disk", "put", diskCopy(dir), "a.reg"] }), status: 2, stderr: /^smss86 disk put: missing required argument 'PATH'/ },
  { title: "a PATH with a line break", setup: (dir) => ({ args: ["disk", "mkdir", diskCopy(dir), "/A\nB"] }), status: 2, stderr: /^smss86 disk mkdir: command-argument value '\/A B' is invalid for argument 'PATH'\. PATH may not hold control characters/ },
  { title: "too many arguments", setup: (dir) => ({ args: ["disk", "ls", diskCopy(dir), "/", "/x"] }), status: 2, stderr: /^smss86 disk ls: too many arguments for 'ls'/ },
];

const buildCases: HostileCase[] = [
  { title: "--out ''", setup: () => ({ args: ["build", "--out", ""] }), status: 2, stderr: /^smss86 build: option '--out <FILE>' argument '' is invalid\. --out takes a file name, not an empty string\./ },
  { title: "--out DIRECTORY", setup: (dir) => (mkdirSync(join(dir, "d")), { args: ["build", "--out", "d"] }), status: 1, stderr: /^smss86 build: d: is a directory, not a disk image that can be replaced$/ },
  { title: "--out /dev/full", setup: () => ({ args: ["build", "--out", "/dev/full"], outside: ["/dev/full"] }), status: 1, stderr: /^smss86 build: \/dev\/full: is a character device, not a disk image that can be replaced$/ },
  { title: "--out into a missing directory", setup: () => ({ args: ["build", "--out", "nodir/disk.img"] }), status: 1, stderr: /^smss86 build: nodir\/disk\.img: cannot write the disk image: its directory \/.*\/nodir does not exist$/ },
  {
    title: "--out on a read-only file system",
    setup: (dir) => (mkdirSync(join(dir, "ro")), { args: [], shell: `mount -t tmpfs -o ro,size=1m tmpfs ro && ${process.execPath} ${BIN} build --out ro/disk.img; status=$?; ls -A ro >&2; exit $status` }),
    status: 1,
    stderr: /^smss86 build: ro\/disk\.img: cannot write the disk image \(locking it as \/.*\/ro\/\.disk\.img\.smss86-lock\): read-only file system$/,
  },
  {
    title: "--out on a full file system (nothing half-written left)",
    setup: (dir) => (mkdirSync(join(dir, "full")), { args: [], shell: `mount -t tmpfs -o size=1m tmpfs full && ${process.execPath} ${BIN} build --out full/disk.img; status=$?; ls -A full >&2; exit $status` }),
    status: 1,
    stderr: /^smss86 build: full\/disk\.img: cannot write the disk image: no space left on the device$/,
  },
  { title: "an unknown command", setup: () => ({ args: ["frobnicate"] }), status: 2, stderr: /^smss86: unknown command 'frobnicate' \(see "smss86 --help"\)$/ },
];

function runCase(testCase: HostileCase): void {
  const dir = workspace();
  const { args, outside = [], stdout, shell } = testCase.setup(dir);
  const before = snapshot(dir);
  const outsideBefore = outside.map(identity);
  const run = shell
    ? // In a mount namespace of its own: the file systems it mounts are gone with it.
      spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", shell], { cwd: dir, timeout: HANG_MS, killSignal: "SIGKILL" })
    : smss86(args, { cwd: dir, stdout });
  const stderr = run.stderr.toString();
  expect(run.signal, `${testCase.title}: hung or was killed`).toBeNull();
  // A shell case lists what the file system it mounted held afterwards: nothing may be there.
  const lines = stderr.split("\n").filter((line) => line !== "");
  expect(lines, testCase.title).toHaveLength(1);
  expect(lines[0], testCase.title).toMatch(testCase.stderr);
  expect(stderr, testCase.title).not.toMatch(/\n\s+at |Error:|node:internal/);
  expect(run.status, testCase.title).toBe(testCase.status);
  expect(snapshot(dir), testCase.title).toEqual(before);
  expect(outside.map(identity), testCase.title).toEqual(outsideBefore);
}

describe("hostile and mistaken input: one line, the right exit code, nothing changed", () => {
  describe("smss86 hive", () => {
    for (const testCase of hiveCases) it(testCase.title, () => runCase(testCase));
  });
  describe("smss86 boot", () => {
    for (const testCase of bootCases) it(testCase.title, () => runCase(testCase));
  });
  describe("smss86 boot: logs and snapshots", () => {
    for (const testCase of bootOutputCases) it(testCase.title, () => runCase(testCase));
  });
  describe("smss86 log", () => {
    for (const testCase of logCases) it(testCase.title, () => runCase(testCase));
  });
  describe("smss86 disk", () => {
    beforeAll(() => ensureDefaultDisk());
    for (const testCase of diskCases) it(testCase.title, () => runCase(testCase));
  });
  describe("smss86 build", () => {
    for (const testCase of buildCases) it(testCase.title, () => runCase(testCase), 120_000);
  });
});

describe("hive writes keep the file's identity", () => {
  it("writes through a symbolic link to the real hive, keeping its mode and owner", () => {
    const dir = workspace();
    chmodSync(join(dir, "h"), 0o600);
    chownSync(join(dir, "h"), 1234, 5678);
    mkdirSync(join(dir, "links"));
    symlinkSync("../h", join(dir, "links", "via"));
    writeFileSync(join(dir, "b.reg"), `${REG_HEADER}[HKEY_LOCAL_MACHINE\\SYSTEM\\ThroughLink]\r\n`);
    const run = smss86(["hive", "import", "b.reg", "links/via"], { cwd: dir });
    expect(run.stderr.toString()).toBe("");
    expect(run.status).toBe(0);
    expect(lstatSync(join(dir, "links", "via")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "links", "via"))).toBe("../h");
    const real = statSync(join(dir, "h"));
    expect([real.mode & 0o7777, real.uid, real.gid, real.nlink]).toEqual([0o600, 1234, 5678, 1]);
    expect(Hive.open(readFileSync(join(dir, "h"))).key("ThroughLink")).toBeDefined();
    expect(Hive.open(readFileSync(join(dir, "h"))).key("Added")).toBeDefined();
    expect(readdirSync(dir).sort()).toEqual(["a.reg", "b.reg", "h", "links"]);
  });

  it("creates the file a dangling symbolic link names", () => {
    const dir = workspace();
    symlinkSync("new-hive", join(dir, "dangling"));
    expect(smss86(["hive", "import", "a.reg", "dangling"], { cwd: dir }).status).toBe(0);
    expect(lstatSync(join(dir, "dangling")).isSymbolicLink()).toBe(true);
    expect(Hive.open(readFileSync(join(dir, "new-hive"))).key("Added")).toBeDefined();
  });

  it("writes a damaged hive only when told to repair it", () => {
    const dir = workspace();
    copyFileSync(join(edgeDir, "BadListHive"), join(dir, "bad"));
    const run = smss86(["hive", "import", "a.reg", "bad", "--repair"], { cwd: dir });
    expect(run.status).toBe(0);
    expect(run.stderr.toString()).toBe("smss86 hive import: warning: bad was damaged (2 problems); writing what could be read of it\n");
    expect(Hive.open(readFileSync(join(dir, "bad"))).key("Added")).toBeDefined();
  });
});

describe("concurrent writers", () => {
  it("two imports into one hive at once serialise: both succeed and both changes are there", async () => {
    const dir = workspace();
    const regs = ["One", "Two", "Three", "Four"].map((name) => {
      writeFileSync(join(dir, `${name}.reg`), `${REG_HEADER}[HKEY_LOCAL_MACHINE\\SYSTEM\\${name}]\r\n"v"="${name}"\r\n`);
      return name;
    });
    const results = await Promise.all(regs.map((name) => runAsync(["hive", "import", `${name}.reg`, "h"], dir)));
    for (const result of results) expect(result).toEqual({ status: 0, signal: null, stderr: "" });
    const hive = Hive.open(readFileSync(join(dir, "h")));
    for (const name of ["Added", ...regs]) expect(hive.key(name), name).toBeDefined();
    expect(readdirSync(dir).filter((name) => name.startsWith("."))).toEqual([]);
  });

  it("a writer that holds the lock for too long makes the second fail clearly, changing nothing", async () => {
    const dir = workspace();
    // A live process holds the lock: this test's own.
    writeFileSync(join(dir, ".h.smss86-lock"), `${process.pid}\n`);
    const before = snapshot(dir);
    const result = await runAsync(["hive", "import", "a.reg", "h"], dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^smss86 hive import: h: is being written by process ${process.pid} \\(lock /.*/\\.h\\.smss86-lock\\); gave up after 10 s\\n$`));
    expect(snapshot(dir)).toEqual(before);
  }, 30_000);

  it("takes over a lock and removes temporary files left by a writer that was killed", () => {
    const dir = workspace();
    const dead = spawnSync("true").pid as number;
    writeFileSync(join(dir, ".h.smss86-lock"), `${dead}\n`);
    writeFileSync(join(dir, `.h.smss86-${dead}.tmp`), Buffer.alloc(1 << 20));
    // As earlier versions named theirs (no lock then): removed because their process is gone.
    writeFileSync(join(dir, `.h.${dead}.tmp`), Buffer.alloc(1 << 20));
    writeFileSync(join(dir, `h.${dead}.tmp`), Buffer.alloc(1 << 20));
    // A live process's file of that older form stays.
    writeFileSync(join(dir, `.h.${process.pid}.tmp`), "");
    writeFileSync(join(dir, "b.reg"), `${REG_HEADER}[HKEY_LOCAL_MACHINE\\SYSTEM\\After]\r\n`);
    const run = smss86(["hive", "import", "b.reg", "h"], { cwd: dir });
    expect(run.stderr.toString()).toBe("");
    expect(run.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([`.h.${process.pid}.tmp`, "a.reg", "b.reg", "h"]);
    expect(Hive.open(readFileSync(join(dir, "h"))).key("After")).toBeDefined();
  });
});

function runAsync(args: string[], cwd: string): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (status, signal) => resolve({ status, signal, stderr }));
  });
}

describe("signals during a write", () => {
  // real/SYSTEM (11.7 MB) written in 4 MiB pieces: the temporary file exists long enough to be seen and
  // the signal sent while it does. A signal handled after the rename leaves the new hive, and that too
  // must be whole; every run must leave no temporary or lock file.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`${signal} while the temporary file is written: it is removed, the hive old or new and whole`, async () => {
      const dir = mkdtempSync(join(tempDir(), "signal-"));
      copyFileSync(realHivePath("SYSTEM"), join(dir, "SYSTEM"));
      writeFileSync(join(dir, "a.reg"), SMALL_REG);
      const original = sha256(join(dir, "SYSTEM"));
      let interruptedBeforeRename = 0;
      for (let attempt = 0; attempt < 5 && interruptedBeforeRename === 0; attempt++) {
        const child = spawn(process.execPath, [BIN, "hive", "import", "a.reg", "SYSTEM"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const watcher = watch(dir, (_event, name) => {
          if (name !== null && /^\.SYSTEM\.smss86-\d+\.tmp$/.test(name)) child.kill(signal);
        });
        const [status, ended] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (code, sig) => resolve([code, sig])));
        watcher.close();
        expect(stderr, stderr).not.toMatch(/Error|\n\s+at /);
        expect(readdirSync(dir).sort()).toEqual(["SYSTEM", "a.reg"]);
        const hive = Hive.open(readFileSync(join(dir, "SYSTEM")));
        if (ended === signal) {
          // Ended by the signal itself, as the shell expects of a command it interrupted.
          expect(status).toBeNull();
          if (sha256(join(dir, "SYSTEM")) === original) interruptedBeforeRename++;
          else expect(hive.key("Added")).toBeDefined();
        } else {
          expect(status).toBe(0);
        }
        copyFileSync(realHivePath("SYSTEM"), join(dir, "SYSTEM"));
      }
      expect(interruptedBeforeRename).toBeGreaterThan(0);
    }, 60_000);
  }

  it("SIGTERM while waiting for another writer's lock ends at once and leaves that lock alone", async () => {
    const dir = workspace();
    writeFileSync(join(dir, ".h.smss86-lock"), `${process.pid}\n`);
    const before = snapshot(dir);
    const child = spawn(process.execPath, [BIN, "hive", "import", "a.reg", "h"], { cwd: dir, stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = Date.now();
    child.kill("SIGTERM");
    const ended = await new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_code, sig) => resolve(sig)));
    expect(ended).toBe("SIGTERM");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("the fuzzer's damaged hives as import targets", () => {
  it("each is changed whole or refused with one line naming it, and a refused one is left exactly as it was", () => {
    const dir = mkdtempSync(join(tempDir(), "fuzz-import-"));
    writeFileSync(join(dir, "a.reg"), SMALL_REG);
    const cases = mutatedPrimaries(loadFuzzCorpus(false), 40, 20261206);
    let refused = 0;
    let written = 0;
    cases.forEach((mutated, index) => {
      const target = join(dir, `target${index}`);
      writeFileSync(target, mutated.bytes);
      const before = identity(target);
      const run = smss86(["hive", "import", "a.reg", `target${index}`], { cwd: dir });
      const label = `#${index} ${mutated.name}: ${mutated.mutation}`;
      const stderr = run.stderr.toString();
      expect(run.signal, label).toBeNull();
      if (run.status === 0) {
        written++;
        const hive = Hive.open(readFileSync(target));
        expect(hive.key("Added"), label).toBeDefined();
        expect(hive.check().problems, label).toEqual([]);
      } else {
        refused++;
        expect(run.status, label).toBe(1);
        expect(stderr, label).toMatch(new RegExp(`^smss86 hive import: target${index}: [^\\n]+\\n$`));
        expect(identity(target), label).toBe(before);
      }
    });
    expect(readdirSync(dir).filter((name) => name.startsWith("."))).toEqual([]);
    // The mutations reach both outcomes.
    expect(refused).toBeGreaterThan(5);
    expect(written).toBeGreaterThan(0);
  }, 120_000);
});

describe("help, ranges that work, build outputs, messages", () => {
  it("--help works on every command and exits 0", () => {
    for (const args of [["--help"], ["help"], ["boot", "--help"], ["build", "--help"], ["hive", "--help"], ["hive", "help", "import"], ...["export", "import", "get", "check"].map((c) => ["hive", c, "--help"])]) {
      const run = smss86(args);
      expect(run.status, args.join(" ")).toBe(0);
      expect(run.stdout.toString(), args.join(" ")).toMatch(/^Usage: smss86/);
      expect(run.stderr.toString(), args.join(" ")).toBe("");
    }
    expect(smss86(["boot", "--help"]).stdout.toString()).toMatch(/--memory <MiB>/);
  });

  it("boots with the least and the most memory --memory accepts", () => {
    for (const memory of ["8", "2047"]) {
      const run = smss86(["boot", "--until", "ready", "--memory", memory, "--timeout", "60", "--quiet"]);
      expect(run.status, run.stderr.toString()).toBe(0);
      expect(run.stderr.toString()).toMatch(new RegExp(`result: +reached the requested event\\n.*\\(${memory} MiB RAM\\)`));
    }
  }, 180_000);

  it("a build output changed after the build is built again, and named as given", () => {
    const dir = mkdtempSync(join(tempDir(), "build-"));
    const first = smss86(["build", "--out", "disk.img"], { cwd: dir });
    expect(first.status, first.stderr.toString()).toBe(0);
    expect(first.stdout.toString()).toBe("disk.img\n");
    expect(first.stderr.toString()).toMatch(/^built disk\.img \(64 MiB\) in \d+ ms\n$/);
    // Up to date: nothing to say.
    expect(smss86(["build", "--out", "disk.img"], { cwd: dir }).stderr.toString()).toBe("");

    truncateSync(join(dir, "disk.img"), 1 << 20);
    const again = smss86(["build", "--out", "disk.img"], { cwd: dir });
    expect(again.status).toBe(0);
    expect(again.stderr.toString()).toMatch(/^disk\.img was changed since it was built; building it again\nbuilt disk\.img \(64 MiB\)/);
    expect(statSync(join(dir, "disk.img")).size).toBe(64 << 20);
    expect(smss86(["build", "--out", "disk.img"], { cwd: dir }).stderr.toString()).toBe("");

    // Written over with the same size: only the hash tells.
    const bytes = readFileSync(join(dir, "disk.img"));
    bytes[0x100000] ^= 1;
    writeFileSync(join(dir, "disk.img"), bytes);
    const damaged = sha256(join(dir, "disk.img"));
    expect(smss86(["build", "--out", "disk.img"], { cwd: dir }).stderr.toString()).toMatch(/^disk\.img was changed since it was built; building it again\n/);
    expect(sha256(join(dir, "disk.img"))).not.toBe(damaged);
    expect(smss86(["build", "--out", "disk.img"], { cwd: dir }).stderr.toString()).toBe("");
    expect(readdirSync(dir).sort()).toEqual(["disk.img", "disk.img.inputs"]);
  }, 120_000);
});

describe("recovery through the command line", () => {
  it("check --recover takes the base block from the DIRT log when the primary's is damaged", () => {
    const dir = mkdtempSync(join(tempDir(), "dirt-"));
    for (const file of ["OldDirtyHive", "OldDirtyHive.LOG1", "OldDirtyHive.LOG2"]) copyFileSync(join(edgeDir, "OldDirtyHive", file), join(dir, file));
    const primary = readFileSync(join(dir, "OldDirtyHive"));
    primary.writeUInt32LE(0x1234, 20); // major version: nonsense, and the checksum no longer verifies
    writeFileSync(join(dir, "OldDirtyHive"), primary);
    const run = smss86(["hive", "check", "OldDirtyHive", "--recover", "recovered"], { cwd: dir });
    expect(run.stderr.toString()).toBe("");
    expect(run.status).toBe(0);
    const report = run.stdout.toString();
    expect(report).toMatch(/^checksum: +0x[0-9a-f]+ \(WRONG\)$/m);
    expect(report).toMatch(/^recovery: +would replay 1 DIRT entry \(32768 bytes\) from log1, taking the base block from the log$/m);
    expect(report).toMatch(/^problems: +none$/m);
    const windows7 = Hive.open(readFileSync(join(edgeDir, "OldDirtyHive/RecoveredHive_Windows7")));
    const recovered = Hive.open(readFileSync(join(dir, "recovered")));
    expect(recovered.root.subkeys().map((key) => key.name)).toEqual(windows7.root.subkeys().map((key) => key.name));
    expect(recovered.check().problems).toEqual([]);
  });
});

describe("stdout that goes away or fills up", () => {
  it("export of real/SYSTEM into `head -c 10`: the reader leaving is no error", () => {
    const script = `${process.execPath} ${BIN} hive export ${realHivePath("SYSTEM")} | head -c 10 > /dev/null; exit \${PIPESTATUS[0]}`;
    const run = spawnSync("bash", ["-c", script], { timeout: HANG_MS, killSignal: "SIGKILL" });
    expect(run.stderr.toString()).toBe("");
    expect(run.status).toBe(0);
  });

  it("boot with the console going to /dev/full: one line, the boot goes on to its summary, exit 1", () => {
    const run = smss86(["boot", "--until", "ready", "--quiet"], { stdout: openSync("/dev/full", "w") });
    const stderr = run.stderr.toString();
    expect(run.status, stderr).toBe(1);
    expect(stderr.match(/^smss86: stdout: cannot write: no space left on the device$/gm)).toHaveLength(1);
    expect(stderr).toMatch(/result: +reached the requested event/);
    expect(stderr).not.toMatch(/\n\s+at |Error:/);
  }, 120_000);
});

describe("boot: the report and the summary", () => {
  it("a --json file system that fills up: the summary is printed, then one line, exit 1, nothing left", () => {
    const dir = mkdtempSync(join(tempDir(), "json-full-"));
    // 4 KiB: the lock file takes the one page, so the report (a few KiB) cannot be written.
    const script = `mount -t tmpfs -o size=4k tmpfs full && ${process.execPath} ${BIN} boot --until ready --quiet --json full/r.json; status=$?; ls -A full >&2; exit $status`;
    mkdirSync(join(dir, "full"));
    const run = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], { cwd: dir, timeout: HANG_MS, killSignal: "SIGKILL" });
    const stderr = run.stderr.toString();
    expect(run.status, stderr).toBe(1);
    expect(stderr).toMatch(/result: +reached the requested event\n[\s\S]*  ready +done [^\n]*\nsmss86 boot: full\/r\.json: cannot write the report: no space left on the device\n$/);
  }, 120_000);

  it("an endless standard input (/dev/zero) is fed at the console line's rate: the boot still reaches ready", () => {
    const run = spawnSync(process.execPath, [BIN, "boot", "--until", "ready", "--timeout", "60", "--quiet"], {
      cwd: repoRoot,
      stdio: [openSync("/dev/zero", "r"), "ignore", "pipe"],
      timeout: HANG_MS,
      killSignal: "SIGKILL",
    });
    expect(run.status, run.stderr.toString()).toBe(0);
    expect(run.stderr.toString()).toMatch(/result: +reached the requested event/);
  }, 120_000);

  it("says what a panic or a STOP was once, not twice", async () => {
    const { summary } = await import("../emulator/cli/boot.ts");
    const base = { disk: "d.img", memoryMiB: 64, wallMs: 1000, instructions: 1e7, phases: [], events: [] };
    const panic = summary({ ...base, result: "panic", reason: "kernel panic: VFS: Unable to mount root fs" });
    expect(panic).toMatch(/^result: +kernel panic: VFS: Unable to mount root fs$/m);
    expect(panic).not.toMatch(/kernel panic: kernel panic/);
    const stop = summary({ ...base, result: "stop", reason: "STOP 0xC000021A: smss crashed" });
    expect(stop).toMatch(/^result: +STOP 0xC000021A: smss crashed$/m);
    expect(summary({ ...base, result: "timeout", reason: "no power-off or halt within 5 s" })).toMatch(/^result: +TIMEOUT: no power-off or halt within 5 s$/m);
  });
});
