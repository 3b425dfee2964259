// .reg text against real hives: export, import, round trips, and cross-checks with hivexregedit (an
// independent reader and writer of the same format) and hivex's own tree dump.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Hive, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_SZ, encodeString } from "../src/hive/index.ts";
import {
  applyReg,
  exportReg,
  exportRegTo,
  parseReg,
  RegApplyError,
  RegExportError,
  type RegDocument,
} from "../src/regtext/index.ts";
import { edgeHive, hivesDir, hivexDump, realHivePath, repoRoot, tempDir, writeTemp } from "./hive-helpers.ts";

const HEADER = "Windows Registry Editor Version 5.00";
const SYSTEM_REG = join(repoRoot, "images/hives/SYSTEM.reg");

function text(source: string, file = "test.reg"): RegDocument {
  return parseReg(new TextEncoder().encode(source), file);
}

/** Every key with its values (sorted, data as hex): the meaning of a .reg file, whatever its layout. */
function meaning(document: RegDocument): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const section of document.keys) {
    const values = section.values.map((value) =>
      value.delete ? `-${value.name}` : `${JSON.stringify(value.name)} ${value.type} ${Buffer.from(value.data).toString("hex")}`,
    );
    keys.set(section.path.toUpperCase(), values.sort());
  }
  return keys;
}

function hivexregeditExport(hivePath: string): RegDocument {
  const out = execFileSync("hivexregedit", ["--export", "--prefix", "HKEY_LOCAL_MACHINE\\SYSTEM", hivePath, "\\"], {
    maxBuffer: 1 << 30,
  });
  return parseReg(out, `hivexregedit --export ${hivePath}`);
}

function fromReg(source: RegDocument, options = {}): Hive {
  const hive = Hive.create();
  applyReg(hive, source, options);
  return hive;
}

function reopen(hive: Hive): Hive {
  return Hive.open(hive.toBytes(), { name: "reopened" });
}

describe("exportReg", () => {
  it("exports real/SYSTEM with the same keys and values as hivexregedit --export", () => {
    const path = realHivePath("SYSTEM");
    const ours = parseReg(exportReg(Hive.open(readFileSync(path)), ""), "ours");
    expect(ours.keys.length).toBe(30756);
    expect(meaning(ours)).toEqual(meaning(hivexregeditExport(path)));
  });

  it("round-trips real and edge hives: export → import into a new hive → export gives identical bytes", () => {
    const hives: [string, Uint8Array][] = [
      ["SYSTEM", readFileSync(realHivePath("SYSTEM"))],
      ["NTUSER.DAT", readFileSync(realHivePath("NTUSER.DAT"))],
      ["SAM", readFileSync(realHivePath("SAM"))],
      ["UnicodeHive", edgeHive("UnicodeHive")],
      ["MultiSzHive", edgeHive("MultiSzHive")],
      ["StringValuesHive", edgeHive("StringValuesHive")],
      ["BigDataHive", edgeHive("BigDataHive")],
      ["ManySubkeysHive", edgeHive("ManySubkeysHive")],
      ["special", new Uint8Array(readFileSync(join(hivesDir, "hivex/special")))],
    ];
    for (const [name, bytes] of hives) {
      for (const encoding of ["utf-16le", "utf-8"] as const) {
        const first = exportReg(Hive.open(bytes, { name }), "", { encoding });
        const rebuilt = reopen(fromReg(parseReg(first, name)));
        expect(Buffer.from(exportReg(rebuilt, "", { encoding })).equals(first), `${name} ${encoding}`).toBe(true);
        expect(rebuilt.check().problems, name).toEqual([]);
      }
    }
  });

  it("rebuilds real/NTUSER.DAT into a hive that hivex reads as the same tree", () => {
    const original = realHivePath("NTUSER.DAT");
    const rebuilt = fromReg(parseReg(exportReg(Hive.open(readFileSync(original)), ""), "ntuser"));
    const rebuiltPath = writeTemp("ntuser-rebuilt", rebuilt.toBytes());
    expect(hivexDump(rebuiltPath)).toEqual(hivexDump(original));
  });

  it("exports a subtree under the prefix given, and names keys as stored, whatever case was asked for", () => {
    const hive = fromReg(text(`${HEADER}\n[A\\B\\Outer\\Inner]\n"x"=dword:00000001\n[A\\B\\Other]\n`));
    const out = new TextDecoder().decode(exportReg(hive, "outer", { prefix: "HKEY_USERS\\S-1-5-18", encoding: "utf-8" }));
    expect(out).toBe(
      `${HEADER}\r\n\r\n[HKEY_USERS\\S-1-5-18\\Outer]\r\n\r\n[HKEY_USERS\\S-1-5-18\\Outer\\Inner]\r\n"x"=dword:00000001\r\n\r\n`,
    );
  });

  it("streams the same text as exportReg in chunks of one reused buffer, and checks its arguments first", () => {
    const hive = Hive.open(readFileSync(realHivePath("NTUSER.DAT")));
    for (const encoding of ["utf-16le", "utf-8"] as const) {
      const copies: Buffer[] = [];
      const buffers = new Set<ArrayBufferLike>();
      exportRegTo(hive, "", (chunk) => {
        copies.push(Buffer.from(chunk));
        buffers.add(chunk.buffer);
      }, { encoding });
      expect(copies.length, encoding).toBeGreaterThan(10);
      expect(buffers.size, encoding).toBeLessThan(copies.length);
      expect(Buffer.concat(copies).equals(exportReg(hive, "", { encoding })), encoding).toBe(true);
    }
    const chunks: Uint8Array[] = [];
    expect(() => exportRegTo(hive, "No\\Such", (chunk) => chunks.push(chunk))).toThrowError(RegExportError);
    expect(() => exportRegTo(hive, "", (chunk) => chunks.push(chunk), { prefix: "A\\\\B" })).toThrowError(RegExportError);
    expect(chunks).toEqual([]);
  });

  it("streams UTF-8 that says what the UTF-16LE export says, whichever chunks hold non-ASCII paths, names or data", () => {
    // Non-ASCII only in the parent path of thousands of ASCII keys (many chunks), then in one value's name
    // and one string (a surrogate pair too), then ASCII again: each chunk is encoded on its own.
    const lines = [HEADER, "", "[HKEY_LOCAL_MACHINE\\SYSTEM\\Ünïcødé]"];
    for (let i = 0; i < 3000; i++) lines.push("", `[HKEY_LOCAL_MACHINE\\SYSTEM\\Ünïcødé\\Key${i}]`, `"Value"="${"x".repeat(40)}"`);
    lines.push("", "[HKEY_LOCAL_MACHINE\\SYSTEM\\Plain]", `"Grüße"=dword:00000001`, `"Smile"="😀 ok"`);
    for (let i = 0; i < 3000; i++) lines.push("", `[HKEY_LOCAL_MACHINE\\SYSTEM\\Plain\\Key${i}]`, `"Value"="${"y".repeat(40)}"`);
    const hive = fromReg(text(lines.join("\r\n") + "\r\n"));
    const chunks: Buffer[] = [];
    exportRegTo(hive, "", (chunk) => chunks.push(Buffer.from(chunk)), { encoding: "utf-8" });
    expect(chunks.length).toBeGreaterThan(10);
    const utf8 = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
    const utf16 = new TextDecoder("utf-16le", { fatal: true, ignoreBOM: false }).decode(exportReg(hive, ""));
    expect(utf8).toBe(utf16);
    expect(utf8).toContain("[HKEY_LOCAL_MACHINE\\SYSTEM\\Ünïcødé\\Key2999]");
    expect(utf8).toContain('"Grüße"=dword:00000001\r\n"Smile"="😀 ok"');
  });

  it("refuses keys the format cannot hold and keys that do not exist, with typed errors", () => {
    const bogus = Hive.open(edgeHive("BogusKeyNamesHive"));
    expect(() => exportReg(bogus, "")).toThrowError(RegExportError);
    // One line naming the file and the key's offset, the path quoted as it is (backslashes not doubled).
    expect(() => exportReg(bogus, "")).toThrowError(/^hive: offset 0x[0-9a-f]+: key "HKEY_LOCAL_MACHINE\\SYSTEM\\[^"]*\\n[^"]*" has a key name that contains a line break, which a \.reg file cannot hold$/);
    expect(() => exportReg(Hive.create({ name: "new.hive" }), "No\\Such")).toThrowError(/^new\.hive: no key "No\\Such" in the hive$/);
    expect(() => exportReg(Hive.create(), "", { prefix: "A\\\\B" })).toThrowError(RegExportError);
  });
});

describe("applyReg", () => {
  it("creates missing parents, matches existing keys case-insensitively, sets and deletes values in order", () => {
    const hive = fromReg(text(`${HEADER}\n[HKEY_LOCAL_MACHINE\\SYSTEM\\One\\Two]\n"a"="first"\n@=dword:00000007\n`));
    applyReg(
      hive,
      text(`${HEADER}\n[hkey_local_machine\\system\\ONE\\two]\n"a"=-\n"b"=hex:01,02\n"b"=hex(7):00,00\n"missing"=-\n`),
    );
    const two = hive.key("One\\Two")!;
    expect(hive.key("One")!.subkeys().map((key) => key.name)).toEqual(["Two"]);
    expect(two.values().map((value) => [value.name, value.type])).toEqual([
      ["", REG_DWORD],
      ["b", REG_MULTI_SZ],
    ]);
    expect(Array.from(two.value("b")!.data)).toEqual([0, 0]);
  });

  it("deletes whole trees with [-key]; deleting what does not exist is no error", () => {
    const hive = fromReg(text(`${HEADER}\n[A\\B\\Keep]\n[A\\B\\Gone\\Deep\\Deeper]\n"v"="x"\n`));
    applyReg(hive, text(`${HEADER}\n[-A\\B\\gone]\n[-A\\B\\Never\\There]\n`));
    expect(hive.root.subkeys().map((key) => key.name)).toEqual(["Keep"]);
  });

  it("maps keys through --prefix, and otherwise through the first key's hive", () => {
    const document = text(`${HEADER}\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control]\n"v"=dword:00000001\n`);
    expect(fromReg(document).key("ControlSet001\\Control")).toBeDefined();
    const under = fromReg(document, { prefix: "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001" });
    expect(under.key("Control")!.value("v")!.asDword()).toBe(1);
    expect(fromReg(document, { prefix: "HKEY_LOCAL_MACHINE" }).key("SYSTEM\\ControlSet001\\Control")).toBeDefined();
  });

  it("changes nothing when any key does not fit the hive, and names file and line", () => {
    const hive = fromReg(text(`${HEADER}\n[A\\B\\Existing]\n"v"="old"\n`));
    const before = hive.toBytes();
    const cases: [string, string, RegExp][] = [
      [`[A\\B\\Existing]\n"v"="new"\n[HKEY_CURRENT_USER\\X]\n`, "", /mixed\.reg:4: key HKEY_CURRENT_USER\\X is not in A\\B/],
      [`[A\\B\\Existing]\n"v"="new"\n[C\\D]\n`, "A\\B", /mixed\.reg:4: key C\\D is not under the prefix A\\B/],
      [`[A\\B\\Existing]\n"v"="new"\n[-A\\B]\n`, "", /mixed\.reg:4: \[-A\\B\] would delete the hive's root key/],
      [`[A]\n`, "", /mixed\.reg:2: key path "A" does not name a hive/],
    ];
    for (const [body, prefix, reason] of cases) {
      const document = text(`${HEADER}\n${body}`, "mixed.reg");
      let caught: unknown;
      try {
        applyReg(hive, document, prefix === "" ? {} : { prefix });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RegApplyError);
      expect((caught as Error).message).toMatch(reason);
      expect(Buffer.from(hive.toBytes()).equals(before)).toBe(true);
    }
  });

  it("writes a compact hive for 6,000 keys and 100 KB values", () => {
    const lines = [HEADER, "", "[HKEY_LOCAL_MACHINE\\SYSTEM\\Bench]"];
    const blob = Array.from({ length: 102400 }, (_, i) => (i & 0xff).toString(16).padStart(2, "0")).join(",");
    for (let i = 0; i < 6000; i++) {
      lines.push(`[HKEY_LOCAL_MACHINE\\SYSTEM\\Bench\\Key${String(i).padStart(5, "0")}]`, `"Name"="Key number ${i}"`);
      if (i < 10) lines.push(`"Blob"=hex:${blob}`);
    }
    const hive = reopen(fromReg(text(lines.join("\r\n"))));
    const bytes = hive.toBytes();
    expect(hive.key("Bench")!.subkeyCount).toBe(6000);
    expect(hive.key("bench\\KEY00009")!.value("Blob")!.dataLength).toBe(102400);
    // What the data needs (10 x 100 KiB plus ~100 bytes a key) with little slack; hivexregedit writes 157 MB.
    expect(bytes.length).toBeLessThan(2.5e6);
    expect(hive.check().problems).toEqual([]);
  });
});

describe("images/hives/SYSTEM.reg", () => {
  let builtPath: string;
  beforeAll(() => {
    builtPath = writeTemp("SYSTEM-from-reg", fromReg(parseReg(readFileSync(SYSTEM_REG), SYSTEM_REG)).toBytes());
  });
  const hivexget = (key: string, value: string) => execFileSync("hivexget", [builtPath, key, value], { encoding: "utf8" });
  // hivexget prints a REG_MULTI_SZ one string a line, the terminating empty string included.
  const multi = (...strings: string[]) => `${strings.join("\n")}\n\n`;

  it("builds a hive with what the Session Manager reads, as hivexget sees it", () => {
    const sm = "\\ControlSet001\\Control\\Session Manager";
    expect(hivexget("\\Select", "Current")).toBe("1\n");
    expect(hivexget("\\Select", "LastKnownGood")).toBe("2\n");
    expect(hivexget(sm, "BootExecute")).toBe(multi("autocheck autochk *"));
    expect(hivexget(sm, "ObjectDirectories")).toBe(multi("\\Windows", "\\RPC Control"));
    expect(hivexget(sm, "ProtectionMode")).toBe("1\n");
    expect(hivexget(`${sm}\\SubSystems`, "Required")).toBe(multi("Debug", "Windows"));
    expect(hivexget(`${sm}\\SubSystems`, "Optional")).toBe(multi("Posix"));
    expect(hivexget(`${sm}\\SubSystems`, "Kmode")).toBe("\\SystemRoot\\System32\\win32k.sys\n");
    expect(hivexget(`${sm}\\SubSystems`, "Windows")).toMatch(/^%SystemRoot%\\system32\\csrss\.exe ObjectDirectory=\\Windows /);
    expect(hivexget(`${sm}\\Memory Management`, "PagingFiles")).toBe(multi("?:\\pagefile.sys 4 8"));
    expect(hivexget(`${sm}\\DOS Devices`, "AUX")).toBe("\\DosDevices\\COM1\n");
    expect(hivexget(`${sm}\\Environment`, "ComSpec")).toBe("%SystemRoot%\\system32\\cmd.exe\n");
    expect(hivexget(`${sm}\\KnownDlls`, "DllDirectory")).toBe("%SystemRoot%\\system32\n");
    expect(hivexget("\\ControlSet001\\Control\\ComputerName\\ComputerName", "ComputerName")).toBe("SMSS86\n");
    expect(hivexget("\\ControlSet001\\Services\\LanmanServer", "DependOnService")).toBe(multi("SamSS", "Srv"));
  });

  it("states every hex(2)/hex(7) value in the comment above it", () => {
    const lines = readFileSync(SYSTEM_REG, "utf8").split("\n");
    const document = parseReg(readFileSync(SYSTEM_REG), SYSTEM_REG);
    let checked = 0;
    for (const section of document.keys) {
      for (const value of section.values) {
        if (value.delete || (value.type !== 2 && value.type !== 7)) continue;
        const strings = new TextDecoder("utf-16le").decode(value.data).replace(/\0+$/, "").split("\0");
        let at = value.line! - 2;
        const comment: string[] = [];
        while (lines[at].startsWith(";   ")) comment.unshift(lines[at--].slice(4));
        const head = lines[at].match(/^; (.+?) = ?(.*)$/)!;
        expect(head[1], `line ${value.line}`).toBe(value.name || "@");
        const shown = comment.length > 0 ? comment : [head[2] === "(empty string)" || head[2] === "(empty list)" ? "" : head[2]];
        expect(shown, `line ${value.line}`).toEqual(strings);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("builds the same tree as hivexregedit --merge of the same file", () => {
    const merged = join(tempDir(), "SYSTEM-hivexregedit");
    copyFileSync(join(hivesDir, "hivex/minimal"), merged);
    // hivexregedit ends a key at a comment line, so it gets the file without them.
    const uncommented = writeTemp(
      "SYSTEM-uncommented.reg",
      Buffer.from(readFileSync(SYSTEM_REG, "utf8").split("\n").filter((line) => !line.startsWith(";")).join("\n")),
    );
    execFileSync("hivexregedit", ["--merge", "--prefix", "HKEY_LOCAL_MACHINE\\SYSTEM", merged, uncommented]);
    expect(hivexDump(builtPath)).toEqual(hivexDump(merged));
  });

  it("keeps REG_SZ, REG_DWORD and REG_BINARY data exactly as typed", () => {
    const document = text(`${HEADER}\n[A\\B\\K]\n"s"="x"\n"d"=dword:ffffffff\n"b"=hex:\n`);
    const key = fromReg(document).key("K")!;
    expect(key.values().map((value) => [value.name, value.type, Array.from(value.data)])).toEqual([
      ["s", REG_SZ, Array.from(encodeString("x"))],
      ["d", REG_DWORD, [0xff, 0xff, 0xff, 0xff]],
      ["b", REG_BINARY, []],
    ]);
  });
});
