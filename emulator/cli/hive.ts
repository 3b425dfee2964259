// `smss86 hive`: registry hives on the host: export to and import from regedit's .reg text, read single
// values, check structure and recover from transaction logs. Exit codes: 0 done, 1 failed, 2 misuse.

import { Command, InvalidArgumentError, Option } from "commander";
import { FileError, formatSize, GiB, MiB, readOptional, readRequired, replaceFile, type ReadOptions } from "../files.ts";
import { action, fileName, StdoutClosed, writeStdoutSync, type Settle } from "./common.ts";
import {
  Hive,
  HiveError,
  quote,
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
import { applyReg, DEFAULT_PREFIX, exportRegTo, parseReg, serializeReg, splitRegPath } from "../../src/regtext/index.ts";

/** Windows refuses to load a hive over 2 GiB; so does this. Logs are held to the same. */
const HIVE_FILE: ReadOptions = { what: "hive", limit: 2 * GiB };
const LOG_FILE: ReadOptions = { what: "transaction log", limit: 2 * GiB };
/**
 * .reg text is decoded into one string, and V8's strings hold at most 2^29 - 24 UTF-16 units: 256 MiB of
 * text (the export of a hive far larger than any real SYSTEM) stays well within that. It may come from a
 * pipe (bash's <(...), /dev/stdin).
 */
const REG_FILE: ReadOptions = { what: ".reg file", limit: 256 * MiB, stream: true };

export function declareHive(program: Command, settle: Settle): void {
  const hive = program
    .command("hive")
    .description("read and write registry hives (regf files) and regedit's .reg text")
    .helpCommand("help [command]", "show the help of a hive command")
    .addHelpText(
      "after",
      `
KEY is relative to the hive's root. In .reg text the first names of a key path stand for the root:
--prefix PATH (default on export and get: ${DEFAULT_PREFIX}; on import: the first key's first two names).
Hives and their logs are read up to ${formatSize(HIVE_FILE.limit)}, .reg text up to ${formatSize(REG_FILE.limit)}.`,
    );

  hive
    .command("export")
    .summary("print a hive, or a key of it, as .reg text")
    .description(
      "print the tree at KEY (default: the whole hive) as regedit's .reg text: UTF-16LE with a BOM like regedit, or UTF-8 " +
        "with --utf8 or on a terminal. The text is printed as it is made: when a damaged cell or a name the format " +
        "cannot hold turns up part way, the text printed so far is incomplete (exit status 1).",
    )
    .argument("<HIVE>", "the hive file (HIVE.LOG1 / HIVE.LOG2 beside it recover a dirty one)", fileName("HIVE"))
    .argument("[KEY]", "the key to export, relative to the root", "")
    .addOption(prefixOption())
    .option("--utf8", "UTF-8 instead of UTF-16LE")
    .action(action("smss86 hive export", settle, exportHive));

  hive
    .command("import")
    .summary("apply a .reg file to a hive (created when missing)")
    .description(
      "apply a .reg file (UTF-16LE with a BOM, or UTF-8) to HIVE, creating HIVE when it does not exist. The file is read " +
        "completely first; HIVE is locked, then replaced atomically (through symbolic links, keeping its mode and owner), " +
        "and only if all of it applies.",
    )
    .argument("<FILE.reg>", "the .reg text (a file or a pipe)", fileName("FILE.reg"))
    .argument("<HIVE>", "the hive to change or create", fileName("HIVE"))
    .addOption(prefixOption())
    .option("--repair", "write even a hive that check finds damaged: what can be read of it, changed (the rest is lost)")
    .action(action("smss86 hive import", settle, importHive));

  hive
    .command("get")
    .summary("print a key as .reg text, or one value's data")
    .description(
      'print KEY and its values as .reg text (UTF-8), or only VALUE\'s data: strings as text, REG_MULTI_SZ one string per ' +
        'line, numbers in decimal, other data as hex bytes. "@" names the default value.',
    )
    .argument("<HIVE>", "the hive file", fileName("HIVE"))
    .argument("<KEY>", "the key, relative to the root")
    .argument("[VALUE]", "one value of the key")
    .addOption(prefixOption())
    .action(action("smss86 hive get", settle, getHive));

  hive
    .command("check")
    .summary("report a hive's structure; recover a dirty one from its logs")
    .description(
      "report HIVE's structure and whether it is dirty; with --recover, write the hive recovered from HIVE.LOG1 / " +
        "HIVE.LOG2 (beside it) to OUT. Exit status 1 when the hive is damaged or cannot be recovered.",
    )
    .argument("<HIVE>", "the hive file", fileName("HIVE"))
    .addOption(new Option("--recover <OUT>", "write the recovered (or clean) hive to OUT").argParser(fileName("--recover")))
    .action(action("smss86 hive check", settle, checkHive));
}

function prefixOption(): Option {
  return new Option("--prefix <PATH>", "the .reg key path that stands for the hive's root").argParser((text: string) => {
    if (splitRegPath(text) === undefined || /[\x00-\x1f\x7f]/.test(text)) {
      throw new InvalidArgumentError(`--prefix takes a registry path like ${DEFAULT_PREFIX}: names separated by single backslashes, without control characters.`);
    }
    return text;
  });
}

// ---- export ---------------------------------------------------------------------------------------------

async function exportHive(hivePath: string, keyPath: string, options: { prefix?: string; utf8?: boolean }): Promise<number> {
  const hive = await openHive(hivePath, "read");
  try {
    // Straight to stdout as it is made: the text of a large hive is tens of megabytes. A terminal shows
    // UTF-16 as letters spaced by NULs, so a person reading it gets the same text in UTF-8.
    const encoding = options.utf8 || process.stdout.isTTY ? "utf-8" : "utf-16le";
    exportRegTo(hive, keyPath, writeStdoutSync, { prefix: options.prefix, encoding });
  } catch (error) {
    if (error instanceof StdoutClosed) return 0;
    throw error;
  }
  return 0;
}

// ---- import ---------------------------------------------------------------------------------------------

async function importHive(regPath: string, hivePath: string, options: { prefix?: string; repair?: boolean }): Promise<number> {
  // Read and parsed before the hive is locked: a slow pipe or a syntax error holds up no other writer.
  const document = parseReg(await readRequired(regPath, REG_FILE), regPath);
  await replaceFile(hivePath, "hive", async () => {
    const existing = await readOptional(hivePath, HIVE_FILE);
    const hive = existing === undefined ? Hive.create() : await openHive(hivePath, "write", existing);
    if (existing !== undefined) {
      const problems = hive.check().problems;
      if (problems.length > 0 && !options.repair) {
        throw new HiveError(
          "bad-cell",
          `is damaged (${problems.length} problem${problems.length === 1 ? "" : "s"}, the first: ${withoutFileName(problems[0], hivePath)}); not changing it. ` +
            `"smss86 hive check" lists them; --repair writes what can be read of it`,
          hivePath,
        );
      }
      if (problems.length > 0) {
        process.stderr.write(`smss86 hive import: warning: ${hivePath} was damaged (${problems.length} problems); writing what could be read of it\n`);
      }
    }
    applyReg(hive, document, { prefix: options.prefix });
    return hive.toBytes();
  });
  return 0;
}

/** A problem as check() words it may start with the file's name, which the message already gives. */
function withoutFileName(problem: string, file: string): string {
  return problem.startsWith(`${file}: `) ? problem.slice(file.length + 2) : problem;
}

// ---- get ------------------------------------------------------------------------------------------------

async function getHive(hivePath: string, keyPath: string, valueName: string | undefined, options: { prefix?: string }): Promise<number> {
  const hive = await openHive(hivePath, "read");
  const key = hive.key(keyPath);
  if (key === undefined) throw new FileError(hivePath, `no key ${quote(keyPath)}`);
  try {
    if (valueName === undefined) {
      const values = key.values().map((value) => ({ name: value.name, type: value.type, data: value.data }));
      const prefix = options.prefix ?? DEFAULT_PREFIX;
      const path = key.path === "" ? prefix : `${prefix}\\${key.path}`;
      writeStdoutSync(serializeReg({ keys: [{ path, values }] }, { encoding: "utf-8" }));
      return 0;
    }
    const value = key.value(valueName === "@" ? "" : valueName);
    if (value === undefined) throw new FileError(hivePath, `key ${quote(keyPath)} has no value ${quote(valueName)}`);
    writeStdoutSync(describeData(value) + "\n");
  } catch (error) {
    if (error instanceof StdoutClosed) return 0;
    throw error;
  }
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

// ---- check ----------------------------------------------------------------------------------------------

async function checkHive(hivePath: string, options: { recover?: string }): Promise<number> {
  const lines: string[] = [];
  try {
    return await checkInto(hivePath, options.recover, lines);
  } finally {
    // What was learned before a failure is printed too; the failure itself goes to stderr.
    try {
      if (lines.length > 0) writeStdoutSync(lines.join("\n") + "\n");
    } catch (error) {
      if (!(error instanceof StdoutClosed)) throw error;
    }
  }
}

async function checkInto(hivePath: string, recoverTo: string | undefined, lines: string[]): Promise<number> {
  const say = (label: string, text: string | number) => lines.push(`${`${label}:`.padEnd(18)}${text}`);
  const primary = await readRequired(hivePath, HIVE_FILE);
  say("file", `${hivePath} (${primary.length} bytes)`);
  const header = readBaseBlock(primary, hivePath);
  say("version", `regf ${header.majorVersion}.${header.minorVersion}, file type ${header.fileType}, format ${header.fileFormat}`);
  say("name in header", quote(header.fileName));
  say("sequence numbers", `${header.primarySequence} / ${header.secondarySequence}`);
  say("checksum", `0x${hex32(header.checksum)} (${header.checksumValid ? "valid" : "WRONG"})`);
  say("hive bins data", `${header.binsSize} bytes (file has ${Math.max(0, primary.length - 4096)} after the base block)`);
  say("state", header.clean ? "clean" : "DIRTY (needs recovery from its logs)");

  let hive: Hive;
  let failed = false;
  if (header.clean) {
    hive = Hive.open(primary, { name: hivePath });
  } else {
    const logs = await readLogs(hivePath);
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
      await replaceFile(recoverTo, "hive", () => hive.toBytes());
      lines.push(`wrote ${header.clean ? "a copy of the clean hive" : "the recovered hive"} to ${recoverTo}`);
    }
  }
  return failed ? 1 : 0;
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

// ---- reading hives --------------------------------------------------------------------------------------

/**
 * Opens a hive file, recovering it in memory from HIVE.LOG1 / HIVE.LOG2 when it is dirty. Reading a dirty
 * hive that has no logs shows the primary as it is (with a warning); changing one is refused.
 */
async function openHive(path: string, purpose: "read" | "write", primary?: Uint8Array): Promise<Hive> {
  const bytes = primary ?? (await readRequired(path, HIVE_FILE));
  // A clean hive's logs are not needed, so whatever lies beside it is not read.
  const logs = readBaseBlock(bytes, path).clean ? {} : await readLogs(path);
  try {
    return Hive.open(bytes, { name: path, ...logs });
  } catch (error) {
    if (!(error instanceof HiveError) || error.code !== "dirty" || purpose === "write") throw error;
    process.stderr.write(`smss86 hive: warning: ${path} is dirty and has no logs beside it; reading the primary as it is\n`);
    return Hive.open(bytes, { name: path, recover: false });
  }
}

async function readLogs(hivePath: string): Promise<{ log1?: Uint8Array; log2?: Uint8Array }> {
  const log1 = await readOptional(`${hivePath}.LOG1`, LOG_FILE);
  const log2 = await readOptional(`${hivePath}.LOG2`, LOG_FILE);
  return { ...(log1 && { log1 }), ...(log2 && { log2 }) };
}
