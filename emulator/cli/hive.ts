// `smss86 hive`: registry hives on the host: export to and import from regedit's .reg text, read single
// values, check structure and recover from transaction logs. Exit codes: 0 done, 1 failed, 2 usage error.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  Hive,
  HiveError,
  readBaseBlock,
  REG_DWORD,
  REG_DWORD_BIG_ENDIAN,
  REG_EXPAND_SZ,
  REG_LINK,
  REG_MULTI_SZ,
  REG_QWORD,
  REG_SZ,
  type HiveValue,
} from "../../src/hive/index.ts";
import {
  applyReg,
  DEFAULT_PREFIX,
  exportRegTo,
  parseReg,
  RegApplyError,
  RegExportError,
  RegTextError,
  serializeReg,
} from "../../src/regtext/index.ts";

const USAGE = `usage: smss86 hive <command> ...

  export HIVE [KEY] [--prefix PATH] [--utf8]
      Print the tree at KEY (default: the whole hive) as regedit's .reg text: UTF-16LE with a BOM like
      regedit, or UTF-8 with --utf8 or on a terminal. The text is printed as it is made: when a damaged
      cell or a name the format cannot hold turns up part way, the text printed so far is incomplete (exit
      status 1).
  import FILE.reg HIVE [--prefix PATH]
      Apply a .reg file (UTF-16LE with a BOM, or UTF-8) to HIVE, creating HIVE when it does not exist.
      The file is read completely first; HIVE is replaced atomically, and only if all of it applies.
  get HIVE KEY [VALUE] [--prefix PATH]
      Print KEY and its values as .reg text (UTF-8), or only VALUE's data: strings as text, REG_MULTI_SZ
      one string per line, numbers in decimal, other data as hex bytes. "@" names the default value.
  check HIVE [--recover OUT]
      Report HIVE's structure and whether it is dirty; with --recover, write the hive recovered from
      HIVE.LOG1 / HIVE.LOG2 (beside it) to OUT.

KEY is relative to the hive's root. In .reg text the first names of a key path stand for the root:
--prefix PATH (default on export and get: ${DEFAULT_PREFIX}; on import: the first key's first two names).
`;

class UsageError extends Error {}

/** A file that cannot be read or written, reported as one line. */
class FileError extends Error {}

export async function hiveCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "export":
        return exportCommand(rest);
      case "import":
        return importCommand(rest);
      case "get":
        return await getCommand(rest);
      case "check":
        return checkCommand(rest);
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return 0;
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`smss86 hive: ${error.message} (run "smss86 hive help")\n`);
      return 2;
    }
    if (
      error instanceof FileError ||
      error instanceof HiveError ||
      error instanceof RegTextError ||
      error instanceof RegApplyError ||
      error instanceof RegExportError
    ) {
      process.stderr.write(`smss86 hive ${command}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parse<T extends Record<string, { type: "string" | "boolean" }>>(
  argv: string[],
  options: T,
  positionals: { min: number; max: number; names: string },
) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) throw new UsageError(`expected ${positionals.names}`);
  return parsed;
}

function exportCommand(argv: string[]): number {
  const { values, positionals } = parse(
    argv,
    { prefix: { type: "string" }, utf8: { type: "boolean" } },
    { min: 1, max: 2, names: "HIVE [KEY]" },
  );
  const [hivePath, keyPath = ""] = positionals;
  const hive = openHive(hivePath, "read");
  try {
    // Straight to stdout as it is made: the text of a large hive is tens of megabytes. A terminal shows
    // UTF-16 as letters spaced by NULs, so a person reading it gets the same text in UTF-8.
    const encoding = values.utf8 || process.stdout.isTTY ? "utf-8" : "utf-16le";
    exportRegTo(hive, keyPath, writeStdoutSync, { prefix: values.prefix, encoding });
  } catch (error) {
    if (error instanceof StdoutClosed) return 0;
    throw error;
  }
  return 0;
}

function importCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { prefix: { type: "string" } }, { min: 2, max: 2, names: "FILE.reg HIVE" });
  const [regPath, hivePath] = positionals;
  const document = parseReg(readInput(regPath, ".reg file"), regPath);
  const existing = readOptional(hivePath);
  const hive = existing === undefined ? Hive.create() : openHive(hivePath, "write", existing);
  applyReg(hive, document, { prefix: values.prefix });
  writeFileAtomic(hivePath, hive.toBytes());
  return 0;
}

async function getCommand(argv: string[]): Promise<number> {
  const { values: options, positionals } = parse(argv, { prefix: { type: "string" } }, { min: 2, max: 3, names: "HIVE KEY [VALUE]" });
  const [hivePath, keyPath, valueName] = positionals;
  const hive = openHive(hivePath, "read");
  const key = hive.key(keyPath);
  if (key === undefined) throw new FileError(`${hivePath}: no key ${JSON.stringify(keyPath)}`);
  if (valueName === undefined) {
    const values = key.values().map((value) => ({ name: value.name, type: value.type, data: value.data }));
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const path = key.path === "" ? prefix : `${prefix}\\${key.path}`;
    await writeStdout(serializeReg({ keys: [{ path, values }] }, { encoding: "utf-8" }));
    return 0;
  }
  const value = key.value(valueName === "@" ? "" : valueName);
  if (value === undefined) throw new FileError(`${hivePath}: key ${JSON.stringify(keyPath)} has no value ${JSON.stringify(valueName)}`);
  await writeStdout(new TextEncoder().encode(describeData(value) + "\n"));
  return 0;
}

/** A value's data as a person reads it (and as hivexget prints strings, string lists and numbers). */
function describeData(value: HiveValue): string {
  switch (value.type) {
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_LINK:
      return value.asString();
    case REG_MULTI_SZ:
      return value.asMultiString().join("\n");
    case REG_DWORD:
    case REG_DWORD_BIG_ENDIAN:
      if (value.dataLength === 4) return String(value.asDword());
      break;
    case REG_QWORD:
      if (value.dataLength === 8) return String(value.asQword());
      break;
  }
  return Array.from(value.data, (byte) => byte.toString(16).padStart(2, "0")).join(",");
}

function checkCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { recover: { type: "string" } }, { min: 1, max: 1, names: "HIVE" });
  const lines: string[] = [];
  try {
    return checkHive(positionals[0], values.recover, lines);
  } finally {
    // What was learned before a failure is printed too; the failure itself goes to stderr.
    process.stdout.write(lines.join("\n") + "\n");
  }
}

function checkHive(hivePath: string, recoverTo: string | undefined, lines: string[]): number {
  const say = (label: string, text: string | number) => lines.push(`${`${label}:`.padEnd(18)}${text}`);
  const primary = readInput(hivePath, "hive");
  say("file", `${hivePath} (${primary.length} bytes)`);
  const header = readBaseBlock(primary, hivePath);
  say("version", `regf ${header.majorVersion}.${header.minorVersion}, file type ${header.fileType}, format ${header.fileFormat}`);
  say("name in header", JSON.stringify(header.fileName));
  say("sequence numbers", `${header.primarySequence} / ${header.secondarySequence}`);
  say("checksum", `0x${hex32(header.checksum)} (${header.checksumValid ? "valid" : "WRONG"})`);
  say("hive bins data", `${header.binsSize} bytes (file has ${Math.max(0, primary.length - 4096)} after the base block)`);
  say("state", header.clean ? "clean" : "DIRTY (needs recovery from its logs)");

  let hive: Hive;
  let failed = false;
  if (header.clean) {
    hive = Hive.open(primary, { name: hivePath });
  } else {
    const logs = readLogs(hivePath);
    const found = [logs.log1 && `${hivePath}.LOG1`, logs.log2 && `${hivePath}.LOG2`].filter(Boolean);
    say("logs", found.length > 0 ? found.join(", ") : "none beside it");
    try {
      hive = Hive.open(primary, { name: hivePath, ...logs });
      const recovery = hive.recovery;
      if (recovery !== undefined) {
        say(
          "recovery",
          `would replay ${recovery.entries} ${recovery.format} entr${recovery.entries === 1 ? "y" : "ies"} ` +
            `(${recovery.bytes} bytes) from ${recovery.logs.join(" then ")}` +
            (recovery.baseBlockFromLog ? ", taking the base block from the log" : ""),
        );
      }
    } catch (error) {
      if (!(error instanceof HiveError)) throw error;
      failed = true;
      say("recovery", `impossible: ${error.message}`);
      hive = Hive.open(primary, { name: hivePath, recover: false });
      say("note", "the structure below is the primary as it is, without the logs");
    }
  }

  const report = hive.check();
  say("hbins", report.hbins);
  say("cells", `${report.cells} (${report.freeCells} free)`);
  say("bytes in cells", `${report.allocatedBytes} allocated, ${report.freeBytes} free`);
  say("keys", report.keys);
  say("values", `${report.values} (${report.bigDataValues} in big data)`);
  say("security cells", report.securityCells);
  say("problems", report.problems.length === 0 ? "none" : report.problems.length);
  for (const problem of report.problems) lines.push(`  ${problem}`);
  if (report.problems.length > 0) failed = true;

  if (recoverTo !== undefined) {
    if (failed) {
      lines.push(`not writing ${recoverTo}: the hive cannot be recovered intact`);
    } else {
      writeFileAtomic(recoverTo, hive.toBytes());
      lines.push(`wrote ${header.clean ? "a copy of the clean hive" : "the recovered hive"} to ${recoverTo}`);
    }
  }
  return failed ? 1 : 0;
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/**
 * Opens a hive file, recovering it in memory from HIVE.LOG1 / HIVE.LOG2 when it is dirty. Reading a dirty
 * hive that has no logs shows the primary as it is (with a warning); changing one is refused.
 */
function openHive(path: string, purpose: "read" | "write", primary = readInput(path, "hive")): Hive {
  const logs = readLogs(path);
  try {
    return Hive.open(primary, { name: path, ...logs });
  } catch (error) {
    if (!(error instanceof HiveError) || error.code !== "dirty" || purpose === "write") throw error;
    process.stderr.write(`smss86 hive: warning: ${path} is dirty and has no logs beside it; reading the primary as it is\n`);
    return Hive.open(primary, { name: path, recover: false });
  }
}

function readLogs(hivePath: string): { log1?: Uint8Array; log2?: Uint8Array } {
  const log1 = readOptional(`${hivePath}.LOG1`);
  const log2 = readOptional(`${hivePath}.LOG2`);
  return { ...(log1 && { log1 }), ...(log2 && { log2 }) };
}

function readInput(path: string, what: string): Uint8Array {
  const bytes = readOptional(path);
  if (bytes === undefined) throw new FileError(`${path}: no such ${what}`);
  return bytes;
}

function readOptional(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FileError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Writes through a temporary file beside the target and a rename, so the target is old or new, never half. */
function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temporary = `${dirname(path)}/.${basename(path)}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, "wx");
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new FileError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/** Writes to stdout and waits until it is handed over; a reader that went away (EPIPE) is not an error. */
function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => (error.code === "EPIPE" ? resolve() : reject(error));
    process.stdout.once("error", onError);
    process.stdout.write(bytes, () => {
      process.stdout.off("error", onError);
      resolve();
    });
  });
}

/** Stdout's reader went away: the rest of the output is not wanted, which is not an error. */
class StdoutClosed extends Error {}

/** Lets writeStdoutSync sleep while a non-blocking stdout pipe is full. */
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes` to stdout before returning, as a sink that reuses its buffer needs. stdout may be a
 * non-blocking pipe (O_NONBLOCK is shared with whoever else holds it): when it is full, wait and retry.
 */
function writeStdoutSync(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(1, bytes, at, bytes.length - at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") Atomics.wait(pauseCell, 0, 0, 1);
      else if (code === "EPIPE") throw new StdoutClosed();
      else throw new FileError(`cannot write to stdout: ${(error as Error).message}`);
    }
  }
}
