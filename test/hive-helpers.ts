// Shared by the hive tests: the hive corpus (test/fixtures/hives, unpacked once), decompression, and dumps
// of a hive's tree by our reader and by independent tools (hivex through its Perl binding, regfexport,
// reglookup).

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Hive, HiveError, type HiveKey, encodeUtf8 } from "../src/hive/index.ts";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const fixturesDir = join(repoRoot, "test", "fixtures", "hives");
/** The corpus as folders: edge/ and hivex/ unpacked from their archives, real/ (xz files) linked. */
export const hivesDir = unpackCorpus();
export const edgeDir = join(hivesDir, "edge");

/** Unpacked under build/, keyed by the archives' contents; parallel test workers each unpack aside, then rename. */
function unpackCorpus(): string {
  const archives = ["edge", "hivex"].map((name) => join(fixturesDir, name, "hives.tar.xz"));
  const key = createHash("sha256");
  for (const archive of archives) key.update(readFileSync(archive));
  const target = join(repoRoot, "build", "test-hives", key.digest("hex").slice(0, 16));
  if (existsSync(target)) return target;
  const partial = `${target}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  for (const archive of archives) execFileSync("tar", ["-xJf", archive, "-C", partial]);
  symlinkSync(join(fixturesDir, "real"), join(partial, "real"));
  try {
    renameSync(partial, target);
  } catch (error) {
    if (!existsSync(target)) throw error;
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

export function edgeHive(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(edgeDir, name)));
}

let scratch: string | undefined;
/** A private temporary directory for this test process. */
export function tempDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), "smss86-hive-"));
  return scratch;
}

/** Path of a decompressed copy of real/NAME.xz (decompressed once per process). */
export function realHivePath(name: string): string {
  const out = join(tempDir(), name);
  if (!existsSync(out)) writeFileSync(out, execFileSync("xz", ["-dc", join(hivesDir, "real", `${name}.xz`)], { maxBuffer: 1 << 30 }));
  return out;
}

export function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  return path;
}

function hexOf(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function nameHex(name: string): string {
  return hexOf(encodeUtf8(name));
}

/**
 * One line per key ("K path") and value ("V path name type data"), names as hex of their UTF-8, pre-order
 * in stored order: the form both our reader and hivex's are reduced to.
 */
export function dumpTree(hive: Hive): string[] {
  const lines: string[] = [];
  const visit = (key: HiveKey, path: string): void => {
    lines.push(`K ${path}`);
    for (const value of key.values()) lines.push(`V ${path} ${nameHex(value.name)} ${value.type >>> 0} ${hexOf(value.data)}`);
    for (const child of key.subkeys()) visit(child, path === "" ? nameHex(child.name) : `${path}/${nameHex(child.name)}`);
  };
  visit(hive.root, "");
  return lines;
}

const HIVEX_DUMP = String.raw`
use strict; use warnings; use Win::Hivex; use Encode;
my $h = Win::Hivex->open($ARGV[0]);
sub hx { return unpack("H*", Encode::encode("UTF-8", $_[0])); }
sub visit {
  my ($node, $path) = @_;
  print "K $path\n";
  for my $v ($h->node_values($node)) {
    my ($type, $data) = $h->value_value($v);
    print "V $path ", hx($h->value_key($v)), " ", ($type & 0xffffffff), " ", unpack("H*", $data), "\n";
  }
  for my $c ($h->node_children($node)) {
    my $name = hx($h->node_name($c));
    visit($c, $path eq "" ? $name : "$path/$name");
  }
}
visit($h->root(), "");
`;

/** The same dump as dumpTree, produced by hivex (libwin-hivex-perl). */
export function hivexDump(path: string): string[] {
  const out = execFileSync("perl", ["-e", HIVEX_DUMP, path], { maxBuffer: 1 << 30, encoding: "latin1" });
  return out.split("\n").filter((line) => line.length > 0);
}

/** Runs fn and returns the HiveError it throws (failing on success or on any other exception). */
export function hiveErrorOf(fn: () => unknown): HiveError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HiveError) return error;
    throw new Error(`expected a HiveError, got ${String(error)}`);
  }
  throw new Error("expected a HiveError, but nothing was thrown");
}

export interface ToolValue {
  type: string;
  size: number;
  /** Raw bytes when the tool printed a hex dump or quoted the raw buffer. */
  bytes?: Uint8Array;
  /** The tool's text rendering otherwise (strings, numbers). */
  text?: string;
}

/** Parses regfexport (libregf) output into key path -> value name -> value; also returns its error lines. */
export function regfexportTree(path: string): { keys: Map<string, Map<string, ToolValue>>; errors: string[] } {
  const result = spawnTool("regfexport", [path]);
  const keys = new Map<string, Map<string, ToolValue>>();
  const lines = result.stdout.split("\n");
  let values: Map<string, ToolValue> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("Key path: ")) {
      // Paths start with the root's name; drop it so they are root-relative like ours.
      const full = line.slice("Key path: ".length);
      const cut = full.indexOf("\\");
      values = new Map();
      keys.set(cut < 0 ? "" : full.slice(cut + 1), values);
      continue;
    }
    const header = /^Value: \d+ (.*)$/.exec(line);
    if (header === null || values === undefined) continue;
    const name = header[1] === "(default)" ? "" : header[1];
    const type = /\((REG_\w+|0x[0-9a-f]+)\)|^Type: (.*)$/.exec(lines[++i]) ?? [];
    const size = Number(/^Data size: (\d+)/.exec(lines[++i])?.[1] ?? NaN);
    const data = lines[++i] ?? "";
    const value: ToolValue = { type: type[1] ?? type[2] ?? "?", size };
    if (data === "Data:") {
      const bytes: number[] = [];
      while (/^[0-9a-f]{8}: /.test(lines[i + 1] ?? "")) {
        const hexPart = lines[++i].slice(10, 58);
        for (const hexByte of hexPart.trim().split(/\s+/)) if (hexByte !== "") bytes.push(parseInt(hexByte, 16));
      }
      value.bytes = Uint8Array.from(bytes);
    } else if (data.startsWith("Data: ")) value.text = data.slice("Data: ".length);
    values.set(name, value);
  }
  return { keys, errors: result.stderr.split("\n").filter((l) => /error/i.test(l)) };
}

/** Parses reglookup's CSV: "/path" -> value name -> value (bytes decoded from its %XX quoting). */
export function reglookupTree(path: string): { keys: Map<string, Map<string, ToolValue>>; errors: string[] } {
  const result = spawnTool("reglookup", ["-H", path]);
  const keys = new Map<string, Map<string, ToolValue>>();
  const unquote = (text: string): Uint8Array => {
    const out: number[] = [];
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
        out.push(parseInt(text.slice(i + 1, i + 3), 16));
        i += 2;
      } else out.push(text.charCodeAt(i) & 0xff);
    }
    return Uint8Array.from(out);
  };
  for (const line of result.stdout.split("\n")) {
    const fields = line.split(",");
    if (fields.length < 4) continue;
    const [fullPath, type, value] = fields;
    const decodedPath = new TextDecoder("latin1").decode(unquote(fullPath));
    if (type === "KEY") {
      const keyPath = decodedPath === "/" ? "" : decodedPath.slice(1);
      if (!keys.has(keyPath)) keys.set(keyPath, new Map());
      continue;
    }
    const slash = decodedPath.lastIndexOf("/");
    const keyPath = slash <= 0 ? "" : decodedPath.slice(1, slash);
    const values = keys.get(keyPath) ?? new Map<string, ToolValue>();
    keys.set(keyPath, values);
    const bytes = unquote(value);
    values.set(decodedPath.slice(slash + 1), { type, size: bytes.length, bytes, text: value });
  }
  return { keys, errors: result.stderr.split("\n").filter((l) => /ERROR/.test(l)) };
}

function spawnTool(command: string, args: string[]): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, { maxBuffer: 1 << 30, encoding: "latin1" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}: ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}
