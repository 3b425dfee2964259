// Reading: base block, hash functions, every record type, lookups, and every edge-case hive either opening
// or failing with a typed error that names the offset and the reason.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Hive,
  HiveError,
  REG_BINARY,
  REG_DWORD,
  REG_EXPAND_SZ,
  REG_MULTI_SZ,
  REG_SZ,
  StoredText,
  compareNames,
  decodeLatin1,
  decodeUtf16le,
  lhHash,
  readBaseBlock,
  upcaseName,
  valueTypeName,
} from "../src/hive/index.ts";
import { baseBlockChecksum } from "../src/hive/base-block.ts";
import { marvin32 } from "../src/hive/marvin32.ts";
import { exportReg } from "../src/regtext/index.ts";
import { edgeDir, edgeHive, hiveErrorOf, realHivePath } from "./hive-helpers.ts";

function real(name: string): Uint8Array {
  return new Uint8Array(readFileSync(realHivePath(name)));
}

describe("base block", () => {
  it("parses SYSTEM's header and verifies its checksum", () => {
    const info = readBaseBlock(real("SYSTEM"), "SYSTEM");
    expect(info.majorVersion).toBe(1);
    expect(info.minorVersion).toBe(5);
    expect(info.checksumValid).toBe(true);
    expect(info.clean).toBe(true);
    expect(info.binsSize).toBe(11771904 - 4096);
  });

  it("reports SECURITY as dirty (sequence numbers 107/106) and NTUSER.DAT as version 1.3", () => {
    const security = readBaseBlock(real("SECURITY"));
    expect([security.primarySequence, security.secondarySequence, security.clean]).toEqual([107, 106, false]);
    expect(readBaseBlock(real("NTUSER.DAT")).minorVersion).toBe(3);
  });

  it("maps checksums of 0 and 0xFFFFFFFF the way Windows does", () => {
    const block = new Uint8Array(512);
    expect(baseBlockChecksum(block)).toBe(1);
    new DataView(block.buffer).setUint32(0, 0xffffffff, true);
    expect(baseBlockChecksum(block)).toBe(0xfffffffe);
    new DataView(block.buffer).setUint32(4, 0x12345678, true);
    expect(baseBlockChecksum(block)).toBe((0xffffffff ^ 0x12345678) >>> 0);
  });

  it("refuses a file without the regf signature or too short for a header", () => {
    expect(hiveErrorOf(() => Hive.open(new Uint8Array(8192), { name: "zeros" })).message).toBe(
      'zeros: offset 0x0: base block signature is not "regf"',
    );
    expect(hiveErrorOf(() => Hive.open(new Uint8Array(100))).code).toBe("truncated");
  });
});

describe("hashes and names", () => {
  it("computes Marvin32 with the registry seed so that every HvLE entry in the corpus verifies", () => {
    const logs = [
      join(edgeDir, "NewDirtyHive1/NewDirtyHive.LOG1"),
      join(edgeDir, "NewDirtyHive1/NewDirtyHive.LOG2"),
      realHivePath("SYSTEM_B.LOG1"),
      realHivePath("SYSTEM_B.LOG2"),
    ];
    let verified = 0;
    for (const path of logs) {
      const log = new Uint8Array(readFileSync(path));
      const view = new DataView(log.buffer);
      for (let at = 512; at + 40 <= log.length && view.getUint32(at, true) === 0x454c7648; ) {
        const size = view.getUint32(at + 4, true);
        expect(marvin32(log, at + 40, at + size)).toEqual([view.getUint32(at + 24, true), view.getUint32(at + 28, true)]);
        expect(marvin32(log, at, at + 32)).toEqual([view.getUint32(at + 32, true), view.getUint32(at + 36, true)]);
        verified++;
        at += size;
      }
    }
    expect(verified).toBe(28);
  });

  it("hashes names for lh leaves as H*37 + upper-cased code unit", () => {
    expect(lhHash("a")).toBe(0x41);
    expect(lhHash("ab")).toBe(0x41 * 37 + 0x42);
    expect(lhHash("Select")).toBe(lhHash("SELECT"));
    expect(lhHash("ключ")).toBe(lhHash("КЛЮЧ"));
  });

  it("upper-cases one code unit at a time and never changes a name's length", () => {
    expect(upcaseName("ßaé")).toBe("ßAÉ");
    expect(upcaseName("ǆ")).toBe("Ǆ");
    expect(compareNames("ss1", "SS3")).toBeLessThan(0);
    expect(compareNames("SS3", "ß2")).toBeLessThan(0);
    expect(compareNames("abc", "ABC")).toBe(0);
    expect(compareNames("ab", "abc")).toBeLessThan(0);
  });

  it("names value types, including unnamed type numbers", () => {
    expect(valueTypeName(REG_MULTI_SZ)).toBe("REG_MULTI_SZ");
    expect(valueTypeName(0x12345)).toBe("0x00012345");
  });
});

describe("records", () => {
  it("reassembles big data values (db) exactly", () => {
    const hive = Hive.open(edgeHive("BigDataHive"), { name: "BigDataHive" });
    const key = hive.key("key_with_bigdata");
    expect(key).toBeDefined();
    const byName = new Map(key?.values().map((v) => [v.name, v]));
    expect(byName.get("")?.data).toEqual(new Uint8Array(16345).fill(0x31));
    expect(byName.get("v")?.data).toEqual(new Uint8Array(81725).fill(0x32));
    expect(byName.get("v")?.type).toBe(REG_BINARY);
  });

  it("decodes REG_SZ with and without terminators and the default value", () => {
    const key = Hive.open(edgeHive("StringValuesHive")).key("key");
    const values = key?.values() ?? [];
    expect(values.map((v) => [v.name, v.type])).toEqual([
      ["", REG_SZ],
      ["1", REG_BINARY],
      ["2", REG_EXPAND_SZ],
      ["3", REG_SZ],
    ]);
    expect(key?.value("")?.asString()).toBe("test тест");
    expect(key?.value("3")?.asString()).toBe("test тест ");
  });

  it("splits REG_MULTI_SZ by the data length, with empty lists and Cyrillic", () => {
    const key = Hive.open(edgeHive("MultiSzHive")).key("key");
    expect(key?.value("1")?.asMultiString()).toEqual([]);
    expect(key?.value("2")?.asMultiString()).toEqual(["привет", "как дела?"]);
  });

  it("shows values in place through valueCursor, as values() copies and decodes them", () => {
    const text = (stored: StoredText) =>
      stored.latin1 ? decodeLatin1(stored.bytes, stored.start, stored.start + stored.length) : decodeUtf16le(stored.bytes, stored.start, stored.start + stored.length);
    for (const [hive, path] of [
      [Hive.open(edgeHive("BigDataHive")), "key_with_bigdata"],
      [Hive.open(edgeHive("StringValuesHive")), "key"],
      [Hive.open(edgeHive("ExtendedASCIIHive")), "ëigenaardig"],
      [Hive.open(real("SYSTEM")), "ControlSet001\\Control"],
    ] as const) {
      const key = hive.key(path);
      if (key === undefined) throw new Error(`no key ${path}`);
      const seen: [string, number, number[]][] = [];
      for (const value = key.valueCursor(); value.next(); ) {
        seen.push([text(value.name), value.type, Array.from(value.data.subarray(value.dataStart, value.dataStart + value.dataLength))]);
      }
      expect(seen.length).toBeGreaterThan(0);
      expect(seen).toEqual(key.values().map((v) => [v.name, v.type, Array.from(v.data)]));
      expect(text(key.storedName(new StoredText()))).toBe(key.name);
    }
  });

  it("keeps the stored value order", () => {
    expect(Hive.open(edgeHive("ValuesOrderHive")).root.values().map((v) => v.name)).toEqual(["aaa", "zzz", "bbb"]);
  });

  it("reads compressed names as Latin-1 and UTF-16 names as they are", () => {
    const ascii = Hive.open(edgeHive("ExtendedASCIIHive"));
    expect(ascii.root.subkeys().map((k) => k.name)).toEqual(["ëigenaardig"]);
    expect(ascii.key("ËIGENAARDIG")?.value("ëigenaardig")?.asString()).toBe("ëigenaardig");
    const bogus = Hive.open(edgeHive("BogusKeyNamesHive"));
    expect(bogus.root.subkeys().map((k) => k.name)).toEqual(["testnew\r\nne", "testnu\u0000l"]);
    const comp = Hive.open(edgeHive("CompHive"));
    expect(comp.root.subkeys().map((k) => k.name)).toEqual(["\u009f", "Ÿ"]);
  });

  it("looks up Unicode names case-insensitively", () => {
    const hive = Hive.open(edgeHive("UnicodeHive"));
    expect(hive.key("привет\\КЛЮЧ")?.path).toBe("Привет\\Ключ");
    expect(hive.key("ПРИВЕТ")?.name).toBe("Привет");
    expect(hive.key("Привет\\Замок")).toBeUndefined();
  });

  it("upper-cases like Windows: ß is not SS", () => {
    const hive = Hive.open(edgeHive("UpcaseHive"));
    expect(hive.root.subkeys().map((k) => k.name)).toEqual(["ss1", "SS3", "ß2"]);
    expect(hive.key("SS1")?.name).toBe("ss1");
    expect(hive.key("ss3")?.name).toBe("SS3");
    expect(hive.key("ß2")?.name).toBe("ß2");
    expect(hive.key("SS2")).toBeUndefined();
  });

  it("finds each of 5,000 subkeys under an index root, in any case", () => {
    const hive = Hive.open(edgeHive("ManySubkeysHive"));
    const parent = hive.root.subkeys()[0];
    const names = parent.subkeys().map((k) => k.name);
    expect(names.length).toBe(5000);
    for (const name of names) {
      expect(parent.subkey(name.toUpperCase())?.name).toBe(name);
      expect(parent.subkey(name.toLowerCase())?.name).toBe(name);
    }
    expect(parent.subkey("no such key")).toBeUndefined();
  });

  it("reads class names, flags, timestamps and security descriptors", () => {
    const system = Hive.open(real("SYSTEM"), { name: "SYSTEM" });
    const jd = system.key("ControlSet001\\Control\\Lsa\\JD");
    expect(jd?.className).toMatch(/^[0-9a-f]{8}$/);
    expect(system.root.flags & 0x4).toBe(0x4);
    expect(system.root.lastWritten).toBeGreaterThan(116444736000000000n);
    const descriptor = system.root.securityDescriptor;
    expect(descriptor[0]).toBe(1);
    expect(descriptor.length).toBeGreaterThan(20);
    const sam = Hive.open(real("SAM"), { name: "SAM" });
    expect(sam.key("SAM\\Domains\\Account\\Users")?.subkeyCount).toBeGreaterThan(0);
  });

  it("decodes DWORDs and refuses to decode data of the wrong size", () => {
    const system = Hive.open(real("SYSTEM"), { name: "SYSTEM" });
    const current = system.key("Select")?.value("Current");
    expect(current?.type).toBe(REG_DWORD);
    expect(current?.asDword()).toBe(1);
    const error = hiveErrorOf(() => system.key("ControlSet001\\Control")?.value("SystemStartOptions")?.asDword());
    expect(error.code).toBe("bad-data");
  });
});

/** Walks a hive, collecting HiveErrors; anything else propagates and fails the test. */
function walkCollecting(hive: Hive): { keys: number; errors: HiveError[] } {
  const errors: HiveError[] = [];
  let keys = 0;
  const pending = [hive.root];
  while (pending.length > 0) {
    const key = pending.pop() as (typeof pending)[number];
    keys++;
    try {
      for (const value of key.values()) void value.data;
      pending.push(...key.subkeys());
    } catch (error) {
      if (!(error instanceof HiveError)) throw error;
      errors.push(error);
    }
  }
  return { keys, errors };
}

describe("edge-case hives", () => {
  const files: string[] = [];
  for (const name of readdirSync(edgeDir).sort()) {
    if (name === "LICENSE") continue;
    const path = join(edgeDir, name);
    if (statSync(path).isDirectory()) {
      for (const file of readdirSync(path).sort()) if (!file.includes(".LOG")) files.push(join(name, file));
    } else files.push(name);
  }

  it.each(files)("%s opens or fails with a typed error naming the file and offset", (file) => {
    const bytes = edgeHive(file);
    const name = file.split("/").pop() as string;
    let hive: Hive;
    try {
      hive = Hive.open(bytes, { name, recover: false });
    } catch (error) {
      if (!(error instanceof HiveError)) throw error;
      expect(error.message).toMatch(new RegExp(`^${name}: offset 0x[0-9a-f]+: .+`));
      expect(error.offset).toBeTypeOf("number");
      return;
    }
    for (const error of walkCollecting(hive).errors) {
      expect(error.message).toMatch(new RegExp(`^${name}: offset 0x[0-9a-f]+: .+`));
    }
  });

  it("gives the expected verdict on each deliberately broken hive", () => {
    const verdict = (file: string): string => {
      try {
        const hive = Hive.open(edgeHive(file), { name: file, recover: false });
        const { errors } = walkCollecting(hive);
        return errors.length === 0 ? "ok" : errors.map((e) => e.code).join(",");
      } catch (error) {
        if (!(error instanceof HiveError)) throw error;
        return `open:${error.code}`;
      }
    };
    expect(verdict("TruncatedHive")).toBe("open:truncated");
    expect(verdict("TruncatedNameHive")).toBe("bad-cell");
    expect(verdict("BadListHive")).toBe("bad-list");
    expect(verdict("BadSubkeyHive")).toBe("bad-list");
    expect(verdict("EffectiveSizeHive")).toBe("bad-list");
    expect(verdict("GarbageHive")).toBe("ok");
    expect(verdict("DuplicateSubkeysHive")).toBe("ok");
    expect(verdict("WrongOrderHive")).toBe("ok");
  });

  it("refuses a key graph with a cycle through the root, so walks stay linear", () => {
    const hive = Hive.create();
    const a = hive.createKey("A");
    hive.createKey("A\\B");
    const bytes = hive.toBytes();
    const view = new DataView(bytes.buffer);
    const root = hive.root.offset;
    const leaf = view.getUint32(0x1000 + a.offset + 4 + 28, true);
    view.setUint32(0x1000 + leaf + 8, root, true); // A's only subkey entry now names the root...
    view.setUint32(0x1000 + root + 4 + 16, a.offset, true); // ...whose parent field names A
    const cyclic = Hive.open(bytes, { name: "cyclic" });
    const error = hiveErrorOf(() => cyclic.key("A")?.subkeys());
    expect(error.code).toBe("bad-list");
    expect(error.message).toBe(`cyclic: offset 0x${(0x1000 + root).toString(16)}: the root key is listed as a subkey`);
  });

  it("refuses a subkey list that names one key twice", () => {
    const hive = Hive.create();
    const a = hive.createKey("A");
    const b = hive.createKey("A\\B");
    hive.createKey("A\\C");
    const bytes = hive.toBytes();
    const view = new DataView(bytes.buffer);
    const leaf = view.getUint32(0x1000 + a.offset + 4 + 28, true);
    view.setUint32(0x1000 + leaf + 8 + 8, b.offset, true); // A's second entry (C) now names B again
    const error = hiveErrorOf(() => Hive.open(bytes, { name: "twice" }).key("A")?.subkeys());
    expect(error.code).toBe("bad-list");
    expect(error.message).toBe(`twice: offset 0x${(0x1000 + b.offset).toString(16)}: key node appears twice in one subkey list`);
    // An export walks lists without key handles (KeyWalk) and must fail the same way.
    expect(hiveErrorOf(() => exportReg(Hive.open(bytes, { name: "twice" }), "")).message).toBe(error.message);
  });

  it("names the offset and the reason for a key name running past its cell", () => {
    const hive = Hive.open(edgeHive("TruncatedNameHive"), { name: "TruncatedNameHive" });
    const error = hiveErrorOf(() => hive.root.subkeys());
    expect(error.message).toBe("TruncatedNameHive: offset 0x11b0: key name of 22 bytes runs past the end of its cell (92 bytes)");
    expect(error.offset).toBe(0x11b0);
  });

  it("refuses a dirty hive without logs unless asked to read it as it is", () => {
    const error = hiveErrorOf(() => Hive.open(real("SECURITY"), { name: "SECURITY" }));
    expect(error.code).toBe("dirty");
    expect(error.message).toContain("sequence numbers 107/106");
    const asIs = Hive.open(real("SECURITY"), { name: "SECURITY", recover: false });
    expect(asIs.dirtyState).toBe("dirty");
    expect(hiveErrorOf(() => asIs.root.createSubkey("x")).code).toBe("read-only");
  });

  it("refuses the corrupted SYSTEM hive whose hbins stop early", () => {
    const error = hiveErrorOf(() => Hive.open(real("corrupted_system_hive"), { name: "corrupted" }));
    expect(error.code).toBe("bad-hbin");
    expect(error.message).toMatch(/^corrupted: offset 0x[0-9a-f]+: expected an hbin header/);
  });
});
