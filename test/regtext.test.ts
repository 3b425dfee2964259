// .reg text on its own (no hive): reading, writing byte for byte as regedit does, round trips, errors.
import { describe, expect, it } from "vitest";
// Imported module by module: none of these needs the hive library.
import type { RegDocument, RegKeySection, RegValueEntry } from "../src/regtext/document.ts";
import { RegExportError, RegTextError } from "../src/regtext/errors.ts";
import { parseReg } from "../src/regtext/parse.ts";
import { serializeReg } from "../src/regtext/serialize.ts";

const HEADER = "Windows Registry Editor Version 5.00";

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function utf16leWithBom(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    out[2 + 2 * i] = text.charCodeAt(i) & 0xff;
    out[3 + 2 * i] = text.charCodeAt(i) >> 8;
  }
  return out;
}

function decodeUtf16leWithBom(bytes: Uint8Array): string {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xfe]);
  let text = "";
  for (let i = 2; i < bytes.length; i += 2) text += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
  return text;
}

function sz(text: string): Uint8Array {
  return utf16leWithBom(text + "\0").subarray(2);
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/**
 * A document's sections without source line numbers and with data as hex strings, for comparing with one
 * built in code (deep equality on large byte arrays is slow).
 */
function comparable(keys: RegKeySection[]): unknown[] {
  return keys.map((section) => ({
    path: section.path,
    delete: section.delete === true,
    values: section.values.map((value) =>
      value.delete ? { name: value.name, delete: true } : { name: value.name, type: value.type, data: Buffer.from(value.data).toString("hex") },
    ),
  }));
}

function withoutLines(document: RegDocument): unknown[] {
  return comparable(document.keys);
}

function parseError(text: string, file = "bad.reg"): RegTextError {
  try {
    parseReg(utf8(text), file);
  } catch (error) {
    expect(error).toBeInstanceOf(RegTextError);
    return error as RegTextError;
  }
  throw new Error("expected a RegTextError");
}

describe("parseReg", () => {
  const sample = [
    HEADER,
    "",
    "; a comment",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]",
    '"Current"=dword:00000001',
    '@="default \\"quoted\\" C:\\\\path"',
    '"Bin"=hex:00,01,ff,\\',
    "  7f,80",
    '"Expand"=hex(2):25,00,00,00',
    '"Qword"=hex(b):01,00,00,00,00,00,00,00',
    '"Odd type"=hex(80000001):',
    '"Gone"=-',
    "@=-",
    "",
    "[-HKEY_LOCAL_MACHINE\\SYSTEM\\Old]",
    "",
  ];
  const expected: RegKeySection[] = [
    {
      path: "HKEY_LOCAL_MACHINE\\SYSTEM\\Select",
      values: [
        { name: "Current", type: 4, data: bytes(1, 0, 0, 0) },
        { name: "", type: 1, data: sz('default "quoted" C:\\path') },
        { name: "Bin", type: 3, data: bytes(0, 1, 0xff, 0x7f, 0x80) },
        { name: "Expand", type: 2, data: bytes(0x25, 0, 0, 0) },
        { name: "Qword", type: 11, data: bytes(1, 0, 0, 0, 0, 0, 0, 0) },
        { name: "Odd type", type: 0x80000001, data: bytes() },
        { name: "Gone", delete: true },
        { name: "", delete: true },
      ],
    },
    { path: "HKEY_LOCAL_MACHINE\\SYSTEM\\Old", delete: true, values: [] },
  ];

  it("reads keys, every kind of value, deletions, comments and continued hex lines", () => {
    const document = parseReg(utf8(sample.join("\r\n")), "sample.reg");
    expect(withoutLines(document)).toEqual(comparable(expected));
    expect(document.keys[0].line).toBe(4);
    expect(document.keys[0].values[2].line).toBe(7);
    expect(document.keys[1].line).toBe(15);
  });

  it("reads UTF-16LE with a BOM, UTF-8 with a BOM, and LF or CRLF line ends alike", () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(sample.join("\n"))]);
    expect(withoutLines(parseReg(withBom, "bom.reg"))).toEqual(comparable(expected));
    expect(withoutLines(parseReg(utf16leWithBom(sample.join("\r\n")), "wide.reg"))).toEqual(comparable(expected));
  });

  it("keeps non-ASCII names and strings, including characters outside the BMP", () => {
    const text = `${HEADER}\n\n[HKEY_CURRENT_USER\\Ключ ™]\n"名前 😀"="€ 😀"\n`;
    for (const encoded of [utf8(text), utf16leWithBom(text)]) {
      const [section] = parseReg(encoded, "u.reg").keys;
      expect(section.path).toBe("HKEY_CURRENT_USER\\Ключ ™");
      expect(section.values[0]).toMatchObject({ name: "名前 😀", type: 1, data: sz("€ 😀") });
    }
  });

  it("takes the last ] of a key line as its end and allows hivexregedit's trailing backslash", () => {
    const document = parseReg(utf8(`${HEADER}\n[A\\B\\x]y]\n[A\\B\\]\n`), "k.reg");
    expect(document.keys.map((key) => key.path)).toEqual(["A\\B\\x]y", "A\\B"]);
  });

  const errors: [string, string, number, number, RegExp][] = [
    ["missing header", `REGEDIT4\n`, 1, 1, /REGEDIT4 \(ANSI\) files are not supported/],
    ["not a .reg file", `hello\n`, 1, 1, /first line must be "Windows Registry Editor Version 5.00"/],
    ["empty file", ``, 1, 1, /empty file/],
    ["value before key", `${HEADER}\n"a"=dword:1\n`, 2, 1, /before the first \[key\]/],
    ["value in a deletion", `${HEADER}\n[-A\\B]\n"a"=-\n`, 3, 1, /deleted key has no values/],
    ["unclosed key", `${HEADER}\n[A\\B\n`, 2, 5, /must end with "\]"/],
    ["empty key name", `${HEADER}\n[A\\\\B]\n`, 2, 4, /empty key name/],
    ["unclosed string", `${HEADER}\n[A\\B]\n"a"="abc\n`, 3, 5, /no closing quote/],
    ["bad escape", `${HEADER}\n[A\\B]\n"a"="C:\\temp"\n`, 3, 8, /backslash in a \.reg string must be doubled/],
    ["missing =", `${HEADER}\n[A\\B]\n"a" dword:1\n`, 3, 5, /expected "=" after the value name/],
    ["unknown data", `${HEADER}\n[A\\B]\n"a"=word:1\n`, 3, 5, /expected value data/],
    ["long dword", `${HEADER}\n[A\\B]\n"a"=dword:123456789\n`, 3, 11, /more than 8 hex digits/],
    ["empty dword", `${HEADER}\n[A\\B]\n"a"=dword:\n`, 3, 11, /expected a dword/],
    ["junk after data", `${HEADER}\n[A\\B]\n"a"=dword:1 x\n`, 3, 13, /unexpected text after the value data/],
    ["bad hex byte", `${HEADER}\n[A\\B]\n"a"=hex:00,0g\n`, 3, 13, /expected "," between hex bytes/],
    ["bad hex", `${HEADER}\n[A\\B]\n"a"=hex:00,zz\n`, 3, 12, /expected a hex byte/],
    ["missing comma", `${HEADER}\n[A\\B]\n"a"=hex:00 01\n`, 3, 12, /expected "," between hex bytes/],
    ["bad type", `${HEADER}\n[A\\B]\n"a"=hex(2:00\n`, 3, 10, /expected "\):"/],
    ["continuation at end", `${HEADER}\n[A\\B]\n"a"=hex:00,\\`, 3, 12, /file ends/],
    ["text after backslash", `${HEADER}\n[A\\B]\n"a"=hex:00,\\ 01\n`, 3, 14, /must end the line/],
    ["garbage line", `${HEADER}\n[A\\B]\nfoo\n`, 3, 1, /expected "\[key\]"/],
    ["key name too long", `${HEADER}\n[A\\${"k".repeat(256)}]\n`, 2, 4, /256 characters long; the registry allows at most 255/],
  ];
  it.each(errors)("reports %s with file:line:column", (_what, text, line, column, reason) => {
    const error = parseError(text);
    expect({ line: error.line, column: error.column }).toEqual({ line, column });
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(`bad.reg:${line}:${column}: ${error.reason}`);
  });

  it("rejects malformed encodings with the position of the bad byte", () => {
    const bad = new Uint8Array([...utf8(`${HEADER}\n[A\\B]\n"a`), 0xc3, 0x28, ...utf8(`"=-\n`)]);
    expect(() => parseReg(bad, "enc.reg")).toThrowError(/^enc\.reg:3:3: invalid UTF-8 at byte offset 45 \(byte 0xc3\)/);
    const odd = utf16leWithBom(`${HEADER}\n`).subarray(0, 9);
    expect(() => parseReg(odd, "odd.reg")).toThrowError(/odd number of bytes/);
    expect(() => parseReg(new Uint8Array([0xfe, 0xff, 0, 0x57]), "be.reg")).toThrowError(/big-endian/);
  });
});

describe("serializeReg", () => {
  const document: RegDocument = {
    keys: [
      {
        path: "HKEY_LOCAL_MACHINE\\SYSTEM\\Test",
        values: [
          { name: "", type: 1, data: sz("default") },
          { name: 'Str "q"', type: 1, data: sz('a "quoted" \\ path') },
          { name: "Dw", type: 4, data: bytes(0xab, 0x12, 0, 0) },
          { name: "Short dword", type: 4, data: bytes(1, 2) },
          { name: "Bin", type: 3, data: Uint8Array.from({ length: 30 }, (_, i) => i) },
          { name: "NoNul", type: 1, data: bytes(0x41, 0) },
          { name: "None", type: 0, data: bytes() },
          { name: "Del", delete: true },
        ],
      },
      { path: "HKEY_LOCAL_MACHINE\\SYSTEM\\Gone", delete: true, values: [] },
    ],
  };
  const expectedText = [
    HEADER,
    "",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\Test]",
    '@="default"',
    '"Str \\"q\\""="a \\"quoted\\" \\\\ path"',
    '"Dw"=dword:000012ab',
    '"Short dword"=hex(4):01,02',
    '"Bin"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,\\',
    "  17,18,19,1a,1b,1c,1d",
    '"NoNul"=hex(1):41,00',
    '"None"=hex(0):',
    '"Del"=-',
    "",
    "[-HKEY_LOCAL_MACHINE\\SYSTEM\\Gone]",
    "",
    "",
  ].join("\r\n");

  it("writes regedit's format: UTF-16LE with a BOM, CRLF, wrapped hex, exact string forms", () => {
    expect(decodeUtf16leWithBom(serializeReg(document))).toBe(expectedText);
  });

  it("writes the same text as UTF-8 without a BOM on request", () => {
    expect(new TextDecoder().decode(serializeReg(document, { encoding: "utf-8" }))).toBe(expectedText);
  });

  it("wraps hex like regedit: continuation lines of 25 bytes, no line over 80 characters", () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    for (const name of ["x", "Path", "a much longer value name that takes most of the line already....."]) {
      const text = new TextDecoder().decode(
        serializeReg({ keys: [{ path: "A\\B", values: [{ name, type: 7, data }] }] }, { encoding: "utf-8" }),
      );
      const lines = text.split("\r\n").slice(3, -3);
      expect(lines[0].startsWith(`"${name}"=hex(7):`)).toBe(true);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
      for (const line of lines.slice(1, -1)) expect(line).toMatch(/^ {2}([0-9a-f]{2},){25}\\$/);
      const first = lines[0].slice(`"${name}"=hex(7):`.length);
      expect(`"${name}"=hex(7):`.length + first.length - 1).toBeGreaterThanOrEqual(77);
      expect(`"${name}"=hex(7):`.length + first.length - 1 - 3).toBeLessThan(77);
    }
  });

  it("refuses what the format cannot hold instead of writing a file that reads back differently", () => {
    const refuse = (keys: RegKeySection[], reason: RegExp) =>
      expect(() => serializeReg({ keys }, { encoding: "utf-8" })).toThrowError(reason);
    refuse([{ path: "A\\line\nbreak", values: [] }], /line break/);
    refuse([{ path: "A\\B", values: [{ name: "x\ry", type: 1, data: sz("") }] }], /line break/);
    refuse([{ path: "A\\\uD800", values: [] }], /unpaired UTF-16 surrogate/);
    refuse([{ path: "-A\\B", values: [] }], /read back as a deletion/);
    refuse([{ path: "A\\\\B", values: [] }], /empty key name/);
    expect(() => serializeReg({ keys: [{ path: "A\\\uD800", values: [] }] })).not.toThrow();
    expect(() => serializeReg({ keys: [{ path: "A\\B\n", values: [] }] })).toThrowError(RegExportError);
  });
});

/** Small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "Z", "0", " ", "\\", '"', "]", "[", "@", "=", ";", ",", "-", "é", "Ж", "™", "😀", "\t", "\0"];

function randomDocument(next: () => number): RegDocument {
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)];
  const name = (max: number, forbid: string[]) => {
    let out = "";
    const length = 1 + Math.floor(next() * max);
    while (out.length < length) {
      const c = pick(ALPHABET);
      if (!forbid.includes(c)) out += c;
    }
    return out;
  };
  const keys: RegKeySection[] = [];
  for (let k = 0; k < 20; k++) {
    const path = ["HKEY_LOCAL_MACHINE", "SYSTEM", ...Array.from({ length: Math.floor(next() * 4) }, () => name(12, ["\\"]))].join("\\");
    if (next() < 0.1) {
      keys.push({ path, delete: true, values: [] });
      continue;
    }
    const values: RegValueEntry[] = [];
    for (let v = Math.floor(next() * 8); v > 0; v--) {
      const valueName = next() < 0.15 ? "" : name(30, []);
      const kind = Math.floor(next() * 8);
      if (kind === 0) values.push({ name: valueName, delete: true });
      else if (kind === 1) values.push({ name: valueName, type: 1, data: sz(name(100, ["\0"])) });
      else if (kind === 2) values.push({ name: valueName, type: 4, data: Uint8Array.from({ length: 4 }, () => next() * 256) });
      else {
        const type = pick([0, 1, 2, 3, 4, 7, 11, 0x12345678, 0xffffffff]);
        const length = next() < 0.05 ? 20000 : Math.floor(next() * 200);
        values.push({ name: valueName, type, data: Uint8Array.from({ length }, () => next() * 256) });
      }
    }
    keys.push({ path, values });
  }
  return { keys };
}

describe("round trips", () => {
  it("serialize → parse gives the same document, and serializing again the same bytes (both encodings)", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const document = randomDocument(random(seed));
      for (const encoding of ["utf-16le", "utf-8"] as const) {
        const text = serializeReg(document, { encoding });
        const parsed = parseReg(text, `seed-${seed}.reg`);
        expect(withoutLines(parsed), `seed ${seed} ${encoding}`).toEqual(comparable(document.keys));
        expect(Buffer.from(serializeReg(parsed, { encoding })).equals(text), `seed ${seed} ${encoding}`).toBe(true);
      }
    }
  });
});
