// Password hashes and the SAM hive: sys.argon2id in the guest against the npm argon2 binding on the host,
// src/sam's PHC strings and hive layout, the default disk's SAM read by hivex, and a logon check in the
// emulated PC measured in guest instructions.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import argon2 from "argon2";
import { beforeAll, describe, expect, it } from "vitest";
import { openVolume } from "../emulator/disk/image.ts";
import { FileError } from "../emulator/files.ts";
import { ensureDefaultDisk } from "../images/disk.ts";
import { buildGuestProgram } from "../images/guest.ts";
import { ACCOUNTS_JSON, buildDefaultSamHive, defaultAccountSalt, hostArgon2id, parseAccountsFile } from "../images/sam.ts";
import { encodeDword, encodeString, Hive, REG_DWORD, REG_SZ } from "../src/hive/index.ts";
import {
  buildSamHive,
  DEFAULT_ARGON2_PARAMS,
  encodePasswordHash,
  findAccount,
  NAMES_KEY,
  type NewAccount,
  parsePasswordHash,
  readAccounts,
  ridKeyName,
  SamError,
  USERS_KEY,
  verifyPassword,
  type Argon2Params,
} from "../src/sam/index.ts";
import { realHivePath } from "./hive-helpers.ts";
import { runInGuest, type GuestRun } from "./guest-run.ts";

const fixtures = join(import.meta.dirname, "fixtures", "runtime");
const SAM_PATH = "/Windows/System32/config/SAM";
const bytesOf = (text: string) => new TextEncoder().encode(text);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const params = (memoryKiB: number, timeCost: number, parallelism: number, hashLength: number): Argon2Params => ({ memoryKiB, timeCost, parallelism, hashLength });
const defaultAccounts = () => parseAccountsFile(readFileSync(ACCOUNTS_JSON), ACCOUNTS_JSON);

/** Guest instructions between a program's "before" and "after" marks of each index, from a run's probe events. */
function spans(run: GuestRun, phase: string): number[] {
  const marks = run.events.filter((event) => (event.phase as string) === phase);
  const at = (index: number, which: string) => marks.find((event) => (event.data as { index: number; at: string }).index === index && (event.data as { at: string }).at === which);
  const counts: number[] = [];
  for (let index = 0; at(index, "before") !== undefined; index++) counts.push(at(index, "after")!.instructions - at(index, "before")!.instructions);
  return counts;
}

describe("Argon2id on the host", () => {
  it("gives the reference vector (password, somesalt, m=65536, t=2, p=1), and the PHC string round-trips", async () => {
    const reference = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    const salt = bytesOf("somesalt");
    const hash = await hostArgon2id(bytesOf("password"), salt, params(65536, 2, 1, 32));
    expect(encodePasswordHash({ params: params(65536, 2, 1, 32), salt, hash }, "reference")).toBe(reference);
    const parsed = parsePasswordHash(reference, "reference");
    expect(parsed.params).toEqual(params(65536, 2, 1, 32));
    expect(hex(parsed.salt)).toBe(hex(salt));
    expect(hex(parsed.hash)).toBe(hex(hash));
  });

  it("the binding's own verify accepts the PHC strings src/sam writes", async () => {
    const hive = Hive.open(await buildDefaultSamHive());
    for (const account of defaultAccounts()) {
      const phc = hive.key(`${USERS_KEY}\\${ridKeyName(account.rid)}`)!.value("Password")!.asString();
      expect(await argon2.verify(phc, account.password)).toBe(true);
      expect(await argon2.verify(phc, account.password + "x")).toBe(false);
    }
  });
});

describe("PHC strings", () => {
  const good = "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

  it("round-trip every salt and hash length modulo 3", () => {
    for (const saltLength of [8, 9, 10, 16, 1024]) {
      for (const hashLength of [4, 5, 31, 32, 64]) {
        const value = { params: params(64, 3, 4, hashLength), salt: new Uint8Array(saltLength).map((_, i) => i * 7 + 1), hash: new Uint8Array(hashLength).map((_, i) => 255 - i) };
        const text = encodePasswordHash(value, "x");
        const back = parsePasswordHash(text, "x");
        expect([back.params, hex(back.salt), hex(back.hash)]).toEqual([value.params, hex(value.salt), hex(value.hash)]);
        expect(Buffer.from(back.salt).toString("base64").replace(/=+$/, "")).toBe(text.split("$")[4]);
      }
    }
  });

  it.each([
    ["", /not a PHC string/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ", /not a PHC string/],
    ["$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /algorithm is "argon2i", not argon2id/],
    ["$argon2id$v=16$m=1024,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /version is "v=16"/],
    ["$argon2id$v=19$t=2,m=1024,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /not m=<KiB>,t=<passes>,p=<lanes> in that order/],
    ["$argon2id$v=19$m=01024,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /m="01024" is not a decimal integer without leading zeros/],
    ["$argon2id$v=19$m=131072,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /m=131072 is outside 8..65536/],
    ["$argon2id$v=19$m=1024,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /t=0 is outside 1..64/],
    ["$argon2id$v=19$m=8,t=1,p=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /less than 8 KiB for each of 2 lanes/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /the salt: character "=" at 11/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHR$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /the salt: its last character has bits set/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPP_", /the hash: character "_"/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPcAA", /the hash: 45 characters cannot be base64/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /salt length 4 is outside 8..1024/],
    ["$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$CTFh", /hash length 3 is outside 4..1024/],
    ["$argon2id$v=19$m=1024,t=2,p=1,keyid=abc$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", /in that order/],
  ])("%j is refused: %s", (text, reason) => {
    let error: unknown;
    try {
      parsePasswordHash(text, "000003E8 (\"User\")");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SamError);
    expect((error as SamError).message).toMatch(reason);
    expect((error as SamError).message).toMatch(/^SAM account 000003E8 \("User"\), value Password: /);
    expect([(error as SamError).account, (error as SamError).valueName]).toEqual(['000003E8 ("User")', "Password"]);
  });

  it("the strings refused above differ from an accepted one only where they say", () => {
    expect(parsePasswordHash(good, "x").params).toEqual(params(1024, 2, 1, 32));
  });

  it("encoding refuses parameters the guest would refuse", () => {
    const salt = new Uint8Array(16);
    expect(() => encodePasswordHash({ params: params(1024, 2, 1, 32), salt, hash: new Uint8Array(31) }, "a")).toThrow(/SAM account a, value Password: the hash is 31 bytes, not hashLength 32/);
    expect(() => encodePasswordHash({ params: params(1024, 65, 1, 32), salt, hash: new Uint8Array(32) }, "a")).toThrow(/passes 65 is outside 1..64/);
    expect(() => encodePasswordHash({ params: params(1024, 2, 1, 32), salt: new Uint8Array(7), hash: new Uint8Array(32) }, "a")).toThrow(/salt length 7/);
  });
});

describe("the SAM hive", () => {
  let bytes: Uint8Array;
  let hive: Hive;
  beforeAll(async () => {
    bytes = await buildDefaultSamHive();
    hive = Hive.open(bytes);
  });
  const damaged = (change: (hive: Hive) => void) => {
    const copy = Hive.open(bytes.slice());
    change(copy);
    return Hive.open(copy.toBytes());
  };

  it("holds images/hives/accounts.json's accounts, by RID", () => {
    const accounts = readAccounts(hive);
    expect(accounts.map(({ rid, userName, fullName, disabled }) => ({ rid, userName, fullName, disabled }))).toEqual([
      { rid: 500, userName: "Administrator", fullName: "", disabled: false },
      { rid: 501, userName: "Guest", fullName: "", disabled: true },
      { rid: 1000, userName: "User", fullName: "Standard User", disabled: false },
    ]);
    for (const account of accounts) {
      expect(account.password.params).toEqual(DEFAULT_ARGON2_PARAMS);
      expect(account.password.salt.length).toBe(16);
    }
    expect(new Set(accounts.map((account) => hex(account.password.salt))).size).toBe(3);
  });

  it("is the same from the same sources: salts derive from the names", async () => {
    const again = readAccounts(Hive.open(await buildDefaultSamHive()));
    expect(again.map((account) => hex(account.password.hash))).toEqual(readAccounts(hive).map((account) => hex(account.password.hash)));
    expect(hex(again[0].password.salt)).toBe(hex(defaultAccountSalt({ userName: "Administrator" } as NewAccount)));
  });

  it("finds accounts by name case-insensitively, and no others", () => {
    expect(findAccount(hive, "administrator")?.rid).toBe(500);
    expect(findAccount(hive, "ADMINISTRATOR")?.userName).toBe("Administrator");
    expect(findAccount(hive, "uSeR")?.rid).toBe(1000);
    for (const name of ["nobody", "Names", "", "Names\\User", "User\\", "..", "a".repeat(21)]) expect(findAccount(hive, name), name).toBeUndefined();
  });

  it("verifies the right password and refuses a wrong one; a disabled account is left to the caller", async () => {
    const administrator = findAccount(hive, "Administrator")!;
    expect(await verifyPassword(administrator, "smss86", hostArgon2id)).toBe(true);
    for (const wrong of ["smss87", "SMSS86", "smss86 ", "", "password"]) expect(await verifyPassword(administrator, wrong, hostArgon2id), wrong).toBe(false);
    const guest = findAccount(hive, "guest")!;
    expect(guest.disabled).toBe(true);
    expect(await verifyPassword(guest, "", hostArgon2id)).toBe(true);
    expect(await verifyPassword(guest, " ", hostArgon2id)).toBe(false);
  });

  it("verifies synchronously with a synchronous hasher, and refuses one that returns the wrong length", async () => {
    const user = findAccount(hive, "User")!;
    const right = await hostArgon2id(bytesOf("password"), user.password.salt, user.password.params);
    const result: boolean = verifyPassword(user, "password", () => right);
    expect(result).toBe(true);
    expect(() => verifyPassword(user, "password", () => right.subarray(0, 16))).toThrow(/SAM account 000003E8 \("User"\), value Password: the hasher returned 16 bytes, not the 32 asked for/);
  });

  it("hashes a password as UTF-8", async () => {
    const account: NewAccount = { rid: 1001, userName: "Ünïcode", fullName: "", password: "pässwörd 密码 🔑", disabled: false };
    const built = Hive.open(await buildSamHive([account], hostArgon2id, () => bytesOf("0123456789abcdef")));
    const found = findAccount(built, "üNÏCODE")!;
    expect(hex(found.password.hash)).toBe(hex(await argon2.hash(Buffer.from("pässwörd 密码 🔑", "utf8"), { type: argon2.argon2id, raw: true, salt: Buffer.from("0123456789abcdef"), memoryCost: 1024, timeCost: 2, parallelism: 1, hashLength: 32 })));
    expect(await verifyPassword(found, "pässwörd 密码 🔑", hostArgon2id)).toBe(true);
    expect(await verifyPassword(found, "passwort 密码 🔑", hostArgon2id)).toBe(false);
  });

  it.each<[string, (hive: Hive) => void, RegExp]>([
    ["a damaged Password", (h) => h.key(`${USERS_KEY}\\000003E8`)!.setValue("Password", REG_SZ, encodeString("$argon2id$v=19$m=1024")), /^SAM account 000003E8 \("User"\), value Password: .*not a PHC string/],
    ["Disabled as a string", (h) => h.key(`${USERS_KEY}\\000001F4`)!.setValue("Disabled", REG_SZ, encodeString("0")), /^SAM account 000001F4 \("Administrator"\), value Disabled: is REG_SZ of 4 bytes, not a REG_DWORD/],
    ["Disabled as 2", (h) => h.key(`${USERS_KEY}\\000001F4`)!.setValue("Disabled", REG_DWORD, encodeDword(2)), /value Disabled: is 2, not 0 or 1/],
    ["no UserName", (h) => h.key(`${USERS_KEY}\\000001F5`)!.deleteValue("UserName"), /^SAM account 000001F5, value UserName: is missing/],
    ["a UserName as a DWORD", (h) => h.key(`${USERS_KEY}\\000001F5`)!.setValue("UserName", REG_DWORD, encodeDword(1)), /^SAM account 000001F5, value UserName: is REG_DWORD, not REG_SZ/],
    ["a key that is no RID", (h) => h.createKey(`${USERS_KEY}\\Somebody`), /^SAM account Somebody: the key's name is not a RID as 8 hex digits/],
    ["a RID below 500", (h) => h.createKey(`${USERS_KEY}\\000001F3`), /^SAM account 000001F3: RID 499 is outside 500\.\.2147483647/],
    ["a name key for no account", (h) => h.createKey(`${NAMES_KEY}\\Ghost`).setValue("", 2000, new Uint8Array(0)), /^SAM account name "Ghost", value \(default\): names RID 2000, which has no account/],
    ["a name key for another account", (h) => h.key(`${NAMES_KEY}\\Guest`)!.setValue("", 1000, new Uint8Array(0)), /^SAM account name "Guest", value \(default\): names RID 1000, whose UserName is "User"/],
    ["an account without its name key", (h) => h.deleteKey(`${NAMES_KEY}\\User`), /^SAM account 000003E8 \("User"\), value UserName: has no SAM\\Domains\\Account\\Users\\Names\\User key/],
    ["no Users key", (h) => h.deleteKey("SAM", { recursive: true }), /has no SAM\\Domains\\Account\\Users key/],
  ])("refuses %s, naming the account and the value", (_, change, message) => {
    expect(() => readAccounts(damaged(change))).toThrow(message);
    expect(() => readAccounts(damaged(change))).toThrow(SamError);
  });

  it("lookup by name checks what it reads", () => {
    expect(() => findAccount(damaged((h) => h.key(`${NAMES_KEY}\\Guest`)!.setValue("", 1000, new Uint8Array(0))), "Guest")).toThrow(/name "Guest", value \(default\): names RID 1000, whose UserName is "User"/);
    expect(() => findAccount(damaged((h) => h.key(`${NAMES_KEY}\\Guest`)!.setValue("", REG_DWORD, encodeDword(501))), "Guest")).toThrow(/name "Guest", value \(default\): its type 4 is not a user RID/);
    expect(() => findAccount(damaged((h) => h.key(`${NAMES_KEY}\\Guest`)!.deleteValue("")), "Guest")).toThrow(/name "Guest", value \(default\): is missing/);
    expect(findAccount(damaged((h) => h.key(`${USERS_KEY}\\000001F5`)!.setValue("Password", REG_SZ, encodeString("x"))), "Administrator")?.rid).toBe(500);
  });

  it("keeps Windows' layout: a real Windows SAM's name keys lead to its accounts, whose binary F/V values are refused", () => {
    const real = Hive.open(new Uint8Array(readFileSync(realHivePath("SAM"))));
    expect(() => findAccount(real, "administrator")).toThrow(/^SAM account 000001F4, value UserName: is missing/);
    expect(() => readAccounts(real)).toThrow(SamError);
  });

  it("refuses accounts Windows would refuse", async () => {
    const account = (rid: number, userName: string): NewAccount => ({ rid, userName, fullName: "", password: "", disabled: false });
    const salt = () => new Uint8Array(16);
    await expect(buildSamHive([account(1000, "a"), account(1001, "A")], hostArgon2id, salt)).rejects.toThrow(/SAM account 000003E9 \("A"\): its name is "a"'s too/);
    await expect(buildSamHive([account(1000, "a"), account(1000, "b")], hostArgon2id, salt)).rejects.toThrow(/its RID is "a"'s too/);
    await expect(buildSamHive([account(499, "a")], hostArgon2id, salt)).rejects.toThrow(/RID 499 is not an integer in 500..2147483647/);
    await expect(buildSamHive([account(1000, "a\\b")], hostArgon2id, salt)).rejects.toThrow(/value UserName: a user name may not hold "\\\\"/);
    await expect(buildSamHive([account(1000, "a".repeat(21))], hostArgon2id, salt)).rejects.toThrow(/1 to 20 characters, not 21/);
    await expect(buildSamHive([account(1000, ". .")], hostArgon2id, salt)).rejects.toThrow(/only dots and spaces/);
    await expect(buildSamHive([account(1000, "a")], hostArgon2id, () => new Uint8Array(4))).rejects.toThrow(/salt length 4 is outside 8..1024/);
  });

  it("images/hives/accounts.json: a malformed entry is named", () => {
    expect(() => parseAccountsFile(bytesOf("{"), "a.json")).toThrow(FileError);
    expect(() => parseAccountsFile(bytesOf("{}"), "a.json")).toThrow(/^a.json: not a JSON array of accounts/);
    expect(() => parseAccountsFile(bytesOf('[{"rid":500,"userName":"a","fullName":"","password":"","disabled":0}]'), "a.json")).toThrow(/^a.json: account 0: disabled must be true or false/);
    expect(() => parseAccountsFile(bytesOf('[{"rid":500,"userName":"a","fullName":"","password":"","disabled":false,"admin":true}]'), "a.json")).toThrow(/account 0: unknown field "admin"/);
  });
});

describe("the default disk's SAM, read by hivex", () => {
  let file: string;
  let sam: Uint8Array;
  beforeAll(async () => {
    const disk = new Uint8Array(readFileSync(await ensureDefaultDisk()));
    sam = openVolume(disk).readFile(SAM_PATH);
    const directory = mkdtempSync(join(tmpdir(), "smss86-sam-"));
    file = join(directory, "SAM");
    writeFileSync(file, sam);
    return () => rmSync(directory, { recursive: true, force: true });
  });
  const hivexget = (key: string, value: string) => {
    const result = spawnSync("hivexget", [file, key, value], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    return result.stdout.trimEnd();
  };

  it("shows each account's values and name key", () => {
    for (const account of defaultAccounts()) {
      const key = `\\${USERS_KEY}\\${ridKeyName(account.rid)}`;
      expect(hivexget(key, "UserName")).toBe(account.userName);
      expect(hivexget(key, "FullName")).toBe(account.fullName);
      expect(hivexget(key, "Disabled")).toBe(account.disabled ? "1" : "0");
      expect(hivexget(key, "Password")).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    }
    const exported = spawnSync("hivexregedit", ["--export", file, "\\"], { encoding: "utf8" });
    expect(exported.status).toBe(0);
    expect(exported.stdout).toContain("[\\SAM\\Domains\\Account\\Users\\Names\\Administrator]\n@=hex(1f4):\n");
    expect(exported.stdout).toContain("[\\SAM\\Domains\\Account\\Users\\Names\\Guest]\n@=hex(1f5):\n");
    expect(exported.stdout).toContain("[\\SAM\\Domains\\Account\\Users\\Names\\User]\n@=hex(3e8):\n");
  });

  it("holds no password in clear, as UTF-8 or UTF-16", () => {
    const haystack = Buffer.from(sam);
    const passwords = defaultAccounts().map((account) => account.password).filter((password) => password !== "");
    expect(passwords).toEqual(["smss86", "password"]);
    for (const password of passwords) {
      expect(haystack.includes(Buffer.from(password, "utf8")), password).toBe(false);
      expect(haystack.includes(Buffer.from(password, "utf16le")), password).toBe(false);
    }
  });
});

describe("in the emulated PC", () => {
  // Cases for test/fixtures/runtime/argon2.ts: { hex } is a Uint8Array there, anything else passed as is.
  const somesalt = { hex: hex(bytesOf("somesalt")) };
  const valid: Array<{ password: string | { hex: string }; salt: { hex: string }; options: Argon2Params }> = [
    { password: "password", salt: somesalt, options: params(8, 1, 1, 32) },
    { password: "password", salt: somesalt, options: params(64, 3, 2, 16) },
    { password: "x", salt: { hex: "00".repeat(1024) }, options: params(256, 1, 4, 64) },
    { password: "", salt: somesalt, options: params(32, 1, 1, 4) },
    { password: "pässwörd 密码 🔑", salt: somesalt, options: params(32, 1, 1, 1024) },
    { password: { hex: "00ff80c0" }, salt: somesalt, options: params(16, 2, 1, 32) },
    { password: "smss86", salt: { hex: hex(defaultAccountSalt({ userName: "Administrator" } as NewAccount)) }, options: { ...DEFAULT_ARGON2_PARAMS } },
  ];
  const ok = params(8, 1, 1, 32);
  const invalid: Array<[unknown, unknown, unknown, string]> = [
    [5, somesalt, ok, "TypeError: sys.argon2id: password must be a Uint8Array (or another typed array) or a string"],
    [{ hex: "00".repeat(65537) }, somesalt, ok, "RangeError: sys.argon2id: password must be 0 to 65536 bytes long, got 65537"],
    ["p", "somesalt", ok, "TypeError: sys.argon2id: salt must be a Uint8Array (or another typed array)"],
    ["p", [1, 2, 3, 4, 5, 6, 7, 8], ok, "TypeError: sys.argon2id: salt must be a Uint8Array (or another typed array)"],
    ["p", { hex: "00".repeat(7) }, ok, "RangeError: sys.argon2id: salt must be 8 to 1024 bytes long, got 7"],
    ["p", { hex: "00".repeat(1025) }, ok, "RangeError: sys.argon2id: salt must be 8 to 1024 bytes long, got 1025"],
    ["p", somesalt, null, "TypeError: sys.argon2id: options must be an object { timeCost, memoryKiB, parallelism, hashLength }"],
    ["p", somesalt, { memoryKiB: 8, parallelism: 1, hashLength: 32 }, "TypeError: sys.argon2id: options.timeCost must be a number"],
    ["p", somesalt, { ...ok, timeCost: "1" }, "TypeError: sys.argon2id: options.timeCost must be a number"],
    ["p", somesalt, { ...ok, timeCost: 0 }, "RangeError: sys.argon2id: options.timeCost must be an integer from 1 to 64, got 0"],
    ["p", somesalt, { ...ok, memoryKiB: 65537 }, "RangeError: sys.argon2id: options.memoryKiB must be an integer from 8 to 65536, got 65537"],
    ["p", somesalt, { ...ok, memoryKiB: 8.5 }, "RangeError: sys.argon2id: options.memoryKiB must be an integer from 8 to 65536, got 8.5"],
    ["p", somesalt, { ...ok, parallelism: 17 }, "RangeError: sys.argon2id: options.parallelism must be an integer from 1 to 16, got 17"],
    ["p", somesalt, { ...ok, parallelism: 2 }, "RangeError: sys.argon2id: options.memoryKiB must be at least 8 per lane (16 for 2), got 8"],
    ["p", somesalt, { ...ok, hashLength: 3 }, "RangeError: sys.argon2id: options.hashLength must be an integer from 4 to 1024, got 3"],
    // The machine has 64 MiB of RAM and no swap: the kernel refuses argon2's one 64 MiB allocation outright.
    ["p", somesalt, { ...ok, memoryKiB: 65536 }, "Error: sys.argon2id: argon2 failed: Memory allocation error (error -22; m=65536 KiB, t=1, p=1)"],
  ];
  const logons = [
    ["Administrator", "smss86"],
    ["administrator", "smss87"],
    ["USER", "password"],
    ["User", "Password"],
    ["Guest", ""],
    ["nobody", "x"],
  ];
  let run: GuestRun;
  let hashes: Array<{ hash?: string; error?: string; isError?: boolean }>;
  let logonResults: Array<Record<string, unknown>>;

  beforeAll(async () => {
    const [argon2Program, logonProgram, sam] = await Promise.all([buildGuestProgram(join(fixtures, "argon2.ts")), buildGuestProgram(join(fixtures, "sam-logon.ts")), buildDefaultSamHive()]);
    const cases = [...valid, ...invalid.map(([password, salt, options]) => ({ password, salt, options }))];
    run = await runInGuest(
      { "/t/argon2.exe": argon2Program, "/t/sam-logon.exe": logonProgram, "/t/cases.json": JSON.stringify(cases), [SAM_PATH]: sam },
      [{ argv: ["/t/argon2.exe", "/t/cases.json"] }, { argv: ["/t/sam-logon.exe", SAM_PATH, ...logons.flat()] }],
      { timeoutMs: 180_000 },
    );
    for (const result of run.results) expect(result).toMatchObject({ code: 0, stderr: "" });
    hashes = run.results[0].stdout.trim().split("\n").map((line) => JSON.parse(line));
    logonResults = run.results[1].stdout.trim().split("\n").map((line) => JSON.parse(line));
  });

  it("sys.argon2id equals the host's binding", async () => {
    expect(hashes).toHaveLength(valid.length + invalid.length);
    for (const [index, entry] of valid.entries()) {
      const password = typeof entry.password === "string" ? bytesOf(entry.password) : Buffer.from(entry.password.hex, "hex");
      const expected = await hostArgon2id(password, Buffer.from(entry.salt.hex, "hex"), entry.options);
      expect(hashes[index], JSON.stringify(entry)).toEqual({ hash: hex(expected) });
    }
  });

  it("sys.argon2id refuses bad arguments with TypeError or RangeError, and reports argon2's own failure", () => {
    for (const [index, [, , , message]] of invalid.entries()) expect(hashes[valid.length + index]).toEqual({ error: message, isError: true });
  });

  it("a logon reads the SAM from the disk and tells the right password from a wrong one", () => {
    expect(logonResults).toEqual([
      { name: "Administrator", rid: 500, disabled: false, verified: true },
      { name: "administrator", rid: 500, disabled: false, verified: false },
      { name: "USER", rid: 1000, disabled: false, verified: true },
      { name: "User", rid: 1000, disabled: false, verified: false },
      { name: "Guest", rid: 501, disabled: true, verified: true },
      { name: "nobody", rid: null, disabled: null, verified: null },
    ]);
  });

  it("one verification costs at most 5e7 guest instructions", () => {
    const counts = spans(run, "sam-logon");
    expect(counts).toHaveLength(logons.length);
    // The lookup and verification of each account that exists; the last name has none, and costs no hash.
    for (const count of counts.slice(0, -1)) {
      expect(count).toBeGreaterThan(1e7);
      expect(count).toBeLessThan(5e7);
    }
    expect(counts.at(-1)).toBeLessThan(1e6);
  });
});
