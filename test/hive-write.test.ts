// Writing: new hives, keys and values of every type, big data, thousands of subkeys, Unicode names, space
// reuse, and the invariants Windows relies on (sorted lists, lh hashes, sk reference counts and links,
// "largest" fields). Written hives are read back by hivex, libregf's regfexport and reglookup.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  Hive,
  type HiveKey,
  REG_BINARY,
  REG_DWORD,
  REG_DWORD_BIG_ENDIAN,
  REG_EXPAND_SZ,
  REG_FULL_RESOURCE_DESCRIPTOR,
  REG_LINK,
  REG_MULTI_SZ,
  REG_NONE,
  REG_QWORD,
  REG_RESOURCE_LIST,
  REG_RESOURCE_REQUIREMENTS_LIST,
  REG_SZ,
  encodeDword,
  encodeMultiString,
  encodeQword,
  encodeString,
  readBaseBlock,
} from "../src/hive/index.ts";
import { dumpTree, hiveErrorOf, hivexDump, realHivePath, reglookupTree, regfexportTree, writeTemp } from "./hive-helpers.ts";

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Reopens the hive from its bytes and asserts it is consistent, leaks nothing and reads the same. */
function reopenChecked(hive: Hive): Hive {
  const reopened = Hive.open(hive.toBytes(), { name: hive.name });
  const report = reopened.check();
  expect(report.problems).toEqual([]);
  expect(report.unreferencedCells).toBe(0);
  expect(dumpTree(reopened)).toEqual(dumpTree(hive));
  return reopened;
}

const EVERY_TYPE: Array<[string, number, Uint8Array]> = [
  ["none", REG_NONE, new Uint8Array(0)],
  ["sz", REG_SZ, encodeString("hello, world")],
  ["expand", REG_EXPAND_SZ, encodeString("%SystemRoot%\\system32")],
  ["binary", REG_BINARY, pattern(300, 1)],
  ["dword", REG_DWORD, encodeDword(0xdeadbeef)],
  ["dword-be", REG_DWORD_BIG_ENDIAN, Uint8Array.of(0x12, 0x34, 0x56, 0x78)],
  ["link", REG_LINK, encodeString("\\Registry\\Machine\\System").subarray(0, 48)],
  ["multi", REG_MULTI_SZ, encodeMultiString(["one", "two", "три"])],
  ["multi-empty", REG_MULTI_SZ, encodeMultiString([])],
  ["resource-list", REG_RESOURCE_LIST, pattern(40, 2)],
  ["full-resource", REG_FULL_RESOURCE_DESCRIPTOR, pattern(36, 3)],
  ["requirements", REG_RESOURCE_REQUIREMENTS_LIST, pattern(72, 4)],
  ["qword", REG_QWORD, encodeQword(0x0123456789abcdefn)],
  ["type-0x12345", 0x12345, pattern(7, 5)],
  ["type-max", 0xffffffff, pattern(3, 6)],
  ["inline-0", REG_BINARY, new Uint8Array(0)],
  ["inline-1", REG_BINARY, pattern(1, 7)],
  ["inline-4", REG_BINARY, pattern(4, 8)],
  ["cell-5", REG_BINARY, pattern(5, 9)],
  ["cell-16344", REG_BINARY, pattern(16344, 10)],
  ["big-16345", REG_BINARY, pattern(16345, 11)],
  ["big-32688", REG_BINARY, pattern(32688, 12)],
  ["big-100000", REG_BINARY, pattern(100000, 13)],
  ["", REG_SZ, encodeString("the default value")],
];

function everyTypeHive(): Hive {
  const hive = Hive.create({ name: "types" });
  const key = hive.createKey("Types");
  for (const [name, type, data] of EVERY_TYPE) key.setValue(name, type, data);
  return hive;
}

describe("creating hives", () => {
  it("creates an empty, clean, consistent version 1.5 hive", () => {
    const hive = Hive.create({ rootName: "CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}", name: "SYSTEM" });
    const bytes = hive.toBytes();
    const base = readBaseBlock(bytes);
    expect([base.minorVersion, base.clean, base.fileName, bytes.length]).toEqual([5, true, "SYSTEM", 8192]);
    const reopened = reopenChecked(hive);
    expect(reopened.root.name).toBe("CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}");
    expect(reopened.root.securityDescriptor.length).toBeGreaterThan(20);
    expect(reopened.check().securityCells).toBe(1);
  });

  it.each([3, 4, 5, 6])("writes version 1.%i hives that hivex, regfexport and reglookup read", (minor) => {
    const hive = Hive.create({ minorVersion: minor });
    for (let i = 0; i < 20; i++) hive.createKey(`Key${i}\\Sub`).setValue("v", REG_DWORD, encodeDword(i));
    const reopened = reopenChecked(hive);
    expect(reopened.minorVersion).toBe(minor);
    const path = writeTemp(`v1${minor}.hive`, hive.toBytes());
    expect(hivexDump(path)).toEqual(dumpTree(hive));
    expect(regfexportTree(path).keys.get("Key7\\Sub")?.get("v")?.text).toBe("7");
    expect(reglookupTree(path).keys.get("Key7/Sub")?.get("v")?.text).toBe("0x00000007");
  });

  it("refuses versions it cannot write and bad key names, with typed errors", () => {
    expect(hiveErrorOf(() => Hive.create({ minorVersion: 2 })).code).toBe("bad-version");
    const hive = Hive.create();
    expect(hiveErrorOf(() => hive.root.createSubkey("")).code).toBe("bad-name");
    expect(hiveErrorOf(() => hive.root.createSubkey("a\\b")).code).toBe("bad-name");
    expect(hiveErrorOf(() => hive.root.createSubkey("x".repeat(256))).code).toBe("bad-name");
    expect(hiveErrorOf(() => hive.deleteKey("")).code).toBe("bad-name");
    expect(hiveErrorOf(() => hive.root.setValue("v".repeat(16384), REG_NONE, new Uint8Array(0))).code).toBe("bad-name");
  });
});

describe("values", () => {
  it("stores every type, inline and big data exactly", () => {
    const reopened = reopenChecked(everyTypeHive());
    const key = reopened.key("types") as HiveKey;
    for (const [name, type, data] of EVERY_TYPE) {
      const value = key.value(name);
      expect(value?.type).toBe(type);
      expect(value?.data).toEqual(data);
    }
    expect(key.value("multi")?.asMultiString()).toEqual(["one", "two", "три"]);
    expect(key.value("multi-empty")?.asMultiString()).toEqual([]);
    expect(key.value("dword-be")?.asDword()).toBe(0x12345678);
    expect(key.value("qword")?.asQword()).toBe(0x0123456789abcdefn);
    expect(key.value("SZ")?.asString()).toBe("hello, world");
    expect(reopened.check().bigDataValues).toBe(3);
  });

  it("is read back value by value by hivex (big data included)", () => {
    const hive = everyTypeHive();
    expect(hivexDump(writeTemp("types-hivex.hive", hive.toBytes()))).toEqual(dumpTree(hive));
  });

  it("is read back by libregf's regfexport with the same sizes and data", () => {
    const { keys, errors } = regfexportTree(writeTemp("types-regf.hive", everyTypeHive().toBytes()));
    expect(errors).toEqual([]);
    const values = keys.get("Types");
    expect(values?.size).toBe(EVERY_TYPE.length);
    for (const [name, , data] of EVERY_TYPE) {
      const value = values?.get(name);
      expect(value?.size).toBe(data.length);
      // libregf 20201007 misreads 1-3 byte inline data (it does so on Windows' own SAM and BCD hives too).
      if (value?.bytes !== undefined && (data.length === 0 || data.length >= 4)) expect(value.bytes).toEqual(data);
    }
    expect(values?.get("big-100000")?.bytes).toEqual(pattern(100000, 13));
    expect(values?.get("sz")?.text).toBe("hello, world");
    expect(values?.get("dword")?.text).toBe(String(0xdeadbeef));
    expect(values?.get("qword")?.text).toBe(String(0x0123456789abcdefn));
  });

  it("is read back by reglookup with the same raw data", () => {
    const { keys, errors } = reglookupTree(writeTemp("types-reglookup.hive", everyTypeHive().toBytes()));
    expect(errors).toEqual([]);
    const values = keys.get("Types");
    expect(values?.size).toBe(EVERY_TYPE.length);
    for (const name of ["binary", "cell-16344", "big-16345", "big-100000", "type-0x12345", "resource-list"]) {
      expect(values?.get(name)?.bytes).toEqual(EVERY_TYPE.find(([n]) => n === name)?.[2]);
    }
    expect(values?.get("dword")?.text).toBe("0xDEADBEEF");
  });

  it("replaces, deletes and reuses the space of values, keeping the largest-size fields exact", () => {
    const hive = Hive.create();
    const key = hive.createKey("k");
    key.setValue("big", REG_BINARY, pattern(100000, 1));
    key.setValue("a-long-value-name", REG_SZ, encodeString("x"));
    const size = hive.toBytes().length;
    for (let round = 0; round < 20; round++) {
      key.setValue("big", REG_BINARY, pattern(100000 - round, round));
      key.setValue("small", REG_DWORD, encodeDword(round));
    }
    expect(hive.toBytes().length).toBeLessThanOrEqual(size + 4096);
    const fields = () => {
      const view = new DataView(hive.toBytes().buffer);
      const at = 4096 + key.offset + 4;
      return [view.getUint32(at + 60, true), view.getUint32(at + 64, true)];
    };
    expect(fields()).toEqual([34, 100000 - 19]);
    expect(key.deleteValue("BIG")).toBe(true);
    expect(fields()).toEqual([34, 4]);
    expect(key.deleteValue("a-long-value-name")).toBe(true);
    expect(fields()).toEqual([10, 4]);
    expect(key.deleteValue("big")).toBe(false);
    expect(key.values().map((v) => v.name)).toEqual(["small"]);
    reopenChecked(hive);
  });

  it("coalesces freed cells so an emptied hive is mostly free space", () => {
    const hive = Hive.create();
    for (let i = 0; i < 300; i++) hive.createKey(`k${i}`).setValue("v", REG_BINARY, pattern(i * 10, i));
    for (let i = 0; i < 300; i++) hive.deleteKey(`k${i}`);
    const report = reopenChecked(hive).check();
    expect(report.keys).toBe(1);
    expect(report.freeCells).toBeLessThanOrEqual(report.hbins + 2);
  });
});

describe("keys", () => {
  it("keeps more than 5,000 subkeys sorted under an index root, in any insertion order", () => {
    const hive = Hive.create();
    const parent = hive.createKey("Many");
    const names = Array.from({ length: 6000 }, (_, i) => `Key${(i * 7919) % 6000}`);
    for (const name of names) parent.createSubkey(name);
    for (let i = 0; i < 6000; i += 3) expect(parent.deleteSubkey(`KEY${i}`)).toBe(true);
    const reopened = reopenChecked(hive);
    const many = reopened.key("many") as HiveKey;
    expect(many.subkeyCount).toBe(4000);
    for (let i = 1; i < 6000; i += 3) expect(many.subkey(`key${i}`)?.name).toBe(`Key${i}`);
    expect(many.subkey("Key3")).toBeUndefined();
    const bytes = hive.toBytes();
    const list = new DataView(bytes.buffer).getUint32(4096 + many.offset + 4 + 28, true);
    expect(String.fromCharCode(bytes[4096 + list + 4], bytes[4096 + list + 5])).toBe("ri");
    const path = writeTemp("many.hive", bytes);
    expect(hivexDump(path)).toEqual(dumpTree(reopened));
    expect([...regfexportTree(path).keys.keys()].filter((k) => k.startsWith("Many\\")).length).toBe(4000);
    expect([...reglookupTree(path).keys.keys()].filter((k) => k.startsWith("Many/")).length).toBe(4000);
  });

  it("stores Unicode key and value names that every tool reads back", () => {
    const hive = Hive.create();
    const names = ["Привет", "日本語のキー", "emoji 😀", "Ÿ", "ÿ-latin1", "ꙮ"];
    for (const name of names) hive.createKey(`Unicode\\${name}`).setValue(`значение ${name}`, REG_SZ, encodeString(name));
    const reopened = reopenChecked(hive);
    expect(reopened.key("unicode\\ПРИВЕТ")?.value("ЗНАЧЕНИЕ Привет")?.asString()).toBe("Привет");
    // ÿ upper-cases to Ÿ (U+0178), so both spellings find it; the key named "Ÿ" is a different key.
    expect(reopened.key("UNICODE\\Ÿ-LATIN1")?.name).toBe("ÿ-latin1");
    expect(reopened.key("UNICODE\\ÿ")?.name).toBe("Ÿ");
    const path = writeTemp("unicode.hive", hive.toBytes());
    expect(hivexDump(path)).toEqual(dumpTree(hive));
    const regf = regfexportTree(path);
    expect(regf.errors).toEqual([]);
    const decodedKeys = [...regf.keys.keys()].map((k) => Buffer.from(k, "latin1").toString("utf8"));
    for (const name of names) expect(decodedKeys).toContain(`Unicode\\${name}`);
  });

  it("deletes subtrees recursively, releasing every cell and security reference", () => {
    const hive = Hive.create();
    for (let i = 0; i < 50; i++) hive.createKey(`Tree\\a${i % 5}\\b${i}\\c`).setValue("d", REG_BINARY, pattern(20000, i));
    hive.createKey("Keep").setValue("x", REG_SZ, encodeString("kept"));
    expect(hiveErrorOf(() => hive.deleteKey("Tree")).code).toBe("exists");
    expect(hive.deleteKey("tree", { recursive: true })).toBe(true);
    expect(hive.deleteKey("tree")).toBe(false);
    const report = reopenChecked(hive).check();
    expect(report.keys).toBe(2);
    expect(report.values).toBe(1);
  });

  it("invalidates handles to deleted keys and values with a typed error", () => {
    const hive = Hive.create();
    const key = hive.createKey("a\\b");
    const value = key.setValue("v", REG_SZ, encodeString("x"));
    expect(value.asString()).toBe("x");
    key.deleteValue("v");
    expect(hiveErrorOf(() => value.data).code).toBe("not-found");
    hive.deleteKey("a", { recursive: true });
    expect(hiveErrorOf(() => key.values()).code).toBe("not-found");
    expect(hive.key("a")).toBeUndefined();
  });

  it("keeps lookups case-insensitive when creating and opens existing keys", () => {
    const hive = Hive.create();
    const a = hive.createKey("Software\\Vendor");
    const b = hive.createKey("SOFTWARE\\vendor");
    expect(b.offset).toBe(a.offset);
    expect(b.name).toBe("Vendor");
    expect(hive.root.subkeyCount).toBe(1);
  });
});

/** A seeded sequence of random changes, mirrored in a plain model and compared against it. */
describe("random changes against a model", () => {
  it.each([1, 2, 3])("seed %i", (seed) => {
    let x = seed * 2654435761;
    const next = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const hive = Hive.create({ minorVersion: seed === 3 ? 3 : 5 });
    type ModelKey = { name: string; keys: Map<string, ModelKey>; values: Map<string, [string, number, Uint8Array]> };
    const model: ModelKey = { name: "", keys: new Map(), values: new Map() };
    const lower = (s: string) => s.toUpperCase();
    for (let step = 0; step < 1500; step++) {
      const path = Array.from({ length: 1 + next(3) }, () => `k${next(12)}`);
      let node = model;
      const op = next(10);
      if (op < 4) {
        hive.createKey(path.join("\\"));
        for (const part of path) {
          if (!node.keys.has(lower(part))) node.keys.set(lower(part), { name: part, keys: new Map(), values: new Map() });
          node = node.keys.get(lower(part)) as ModelKey;
        }
      } else if (op < 8) {
        const key = hive.createKey(path.join("\\"));
        for (const part of path) {
          if (!node.keys.has(lower(part))) node.keys.set(lower(part), { name: part, keys: new Map(), values: new Map() });
          node = node.keys.get(lower(part)) as ModelKey;
        }
        const name = `v${next(6)}`;
        const data = pattern([0, 3, 4, 9, 200, 5000, 20000][next(7)], step);
        key.setValue(name, REG_BINARY, data);
        const existing = node.values.get(lower(name));
        node.values.set(lower(name), [existing?.[0] ?? name, REG_BINARY, data]);
        if (next(4) === 0) {
          const victim = `v${next(6)}`;
          expect(key.deleteValue(victim)).toBe(node.values.delete(lower(victim)));
        }
      } else {
        let parent: ModelKey | undefined = model;
        for (const part of path.slice(0, -1)) parent = parent?.keys.get(lower(part));
        const last = path[path.length - 1];
        const existed = parent?.keys.delete(lower(last)) ?? false;
        expect(hive.deleteKey(path.join("\\"), { recursive: true })).toBe(existed);
      }
    }
    const expected: string[] = [];
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
    const utf8hex = (s: string) => Buffer.from(s, "utf8").toString("hex");
    const visit = (node: ModelKey, path: string): void => {
      expected.push(`K ${path}`);
      for (const [name, type, data] of node.values.values()) expected.push(`V ${path} ${utf8hex(name)} ${type} ${hex(data)}`);
      const children = [...node.keys.values()].sort((a, b) => (lower(a.name) < lower(b.name) ? -1 : 1));
      for (const child of children) visit(child, path === "" ? utf8hex(child.name) : `${path}/${utf8hex(child.name)}`);
    };
    visit(model, "");
    const reopened = reopenChecked(hive);
    expect(dumpTree(reopened)).toEqual(expected);
    expect(hivexDump(writeTemp(`model-${seed}.hive`, hive.toBytes()))).toEqual(expected);
  });
});

describe("changing real hives", () => {
  it("edits SYSTEM in place: tools still read it and the rest is untouched", () => {
    const original = new Uint8Array(readFileSync(realHivePath("SYSTEM")));
    const pristine = original.slice();
    const hive = Hive.open(original, { name: "SYSTEM" });
    const before = dumpTree(hive);
    const environment = hive.createKey("ControlSet001\\Control\\Session Manager\\Environment");
    environment.setValue("SMSS86", REG_EXPAND_SZ, encodeString("%SystemRoot%\\smss86"));
    hive.createKey("ControlSet001\\Services\\smss86\\Parameters").setValue("Blob", REG_BINARY, pattern(70000, 99));
    expect(hive.deleteKey("ControlSet002", { recursive: true })).toBe(true);
    const bytes = hive.toBytes();
    expect(bytes.length).toBeLessThanOrEqual(original.length + 128 * 1024);
    const reopened = Hive.open(bytes, { name: "SYSTEM" });
    expect(reopened.check().problems).toEqual([]);
    const after = dumpTree(reopened);
    expect(hivexDump(writeTemp("SYSTEM-edited", bytes))).toEqual(after);
    // Everything outside the three edits reads exactly as before.
    const controlSet002 = Buffer.from("ControlSet002").toString("hex");
    const outsideEdits = (lines: string[]) =>
      lines.filter((l) => !l.split(" ")[1].startsWith(controlSet002) && !l.includes(Buffer.from("SMSS86").toString("hex")) && !l.includes(Buffer.from("smss86").toString("hex")));
    expect(outsideEdits(after)).toEqual(outsideEdits(before));
    expect(after.length).toBeLessThan(before.length);
    expect(reopened.key("ControlSet001\\Services\\SMSS86\\Parameters")?.value("blob")?.data).toEqual(pattern(70000, 99));
    // The hive read the caller's bytes in place and copied them on the first change, leaving them as they were.
    expect(Buffer.compare(original, pristine)).toBe(0);
  });

  it("creates and fills 6,000 keys with values quickly and compactly", () => {
    const started = performance.now();
    const hive = Hive.create();
    let payload = 0;
    for (let i = 0; i < 6000; i++) {
      const key = hive.createKey(`Software\\Group${i % 60}\\Key${i}`);
      key.setValue("Name", REG_SZ, encodeString(`key number ${i}`));
      key.setValue("Index", REG_DWORD, encodeDword(i));
      payload += 64;
      if (i % 100 === 0) {
        key.setValue("Blob", REG_BINARY, pattern(100 * 1024, i));
        payload += 100 * 1024;
      }
    }
    const bytes = hive.toBytes();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(3000);
    // Big data segments are full 16 KiB cells (as Windows writes them), so 100 KiB takes 7 segments.
    expect(bytes.length).toBeLessThan(payload * 1.15 + 6000 * 256);
    const report = reopenChecked(hive).check();
    expect(report.freeBytes / bytes.length).toBeLessThan(0.02);
  });
});
