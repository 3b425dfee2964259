// The SAM hive (C:\Windows\System32\config\SAM, HKLM\SAM): the machine's local accounts and their
// password hashes, as lsass reads them to log a user on. Shared by the host, which builds the default disk's
// hive (images/disk.ts), and the guest; pure TypeScript over src/hive.
//
// Layout. Windows' key path is kept: each account is the key
//   SAM\Domains\Account\Users\<RID as 8 hex digits>      e.g. ...\Users\000001F4 for Administrator
// (the hive's root is HKLM\SAM, so HKLM\SAM\SAM\Domains\... as regedit shows it). Windows stores the account
// there as two binary values, F (flags, times, counters) and V (names, comment and the NT hash, an unsalted
// MD4 encrypted with a key derived from the SYSTEM hive's boot key). We simplify to values of our own:
//   UserName  REG_SZ     the logon name, as typed when the account was made
//   FullName  REG_SZ     may be empty
//   Password  REG_SZ     a PHC string: $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, salt and hash
//                        in base64 without padding: Argon2id (RFC 9106) with a salt of its own per account
//   Disabled  REG_DWORD  1 when the account may not log on (Windows: UF_ACCOUNTDISABLE in F), else 0
// and, as Windows has them, a key per account name for lookup by name:
//   SAM\Domains\Account\Users\Names\<UserName>
// whose default value carries the RID as its value *type*, with no data (Windows' own trick, kept as it is).
// Names match case-insensitively, as Windows matches account names, since key names do.
//
// The RID (the last part of the account's SID) is also the account's uid in the guest: Administrator 500,
// Guest 501, other users from 1000.
//
// Argon2id's parameters are chosen for the emulated CPU: m=1024 KiB, t=2, p=1 costs 3.6e7 guest
// instructions in sys.argon2id and 3.8e7 with the account's lookup (measured; test/sam.test.ts checks that
// it stays under 5e7, the budget of a logon), about 0.7 s of an emulated PC. That is far below what a real machine would use (RFC 9106 suggests 64 MiB or
// more); the PHC string records the parameters, so a hive made with stronger ones still verifies.
import { Hive, type HiveKey, type HiveValue, encodeDword, encodeString, encodeUtf8, namesEqual, REG_DWORD, REG_SZ, valueTypeName } from "../hive/index.ts";

export const USERS_KEY = "SAM\\Domains\\Account\\Users";
export const NAMES_KEY = `${USERS_KEY}\\Names`;
/** The hive's own name for itself, as Windows writes it into the base block. */
const HIVE_FILE_NAME = "\\SystemRoot\\System32\\Config\\SAM";

/**
 * RIDs below 500 are Windows' well-known groups and aliases, never a user; the top is 2^31 - 1 so that the
 * RID as a uid stays a positive int everywhere (uid 0xFFFFFFFF means "no uid" to the kernel).
 */
export const MIN_USER_RID = 500;
export const MAX_USER_RID = 0x7fffffff;
/** Windows' limit on a user name, and the characters it refuses in one. */
export const MAX_USER_NAME_LENGTH = 20;
const FORBIDDEN_NAME_CHARACTERS = "\"/\\[]:;|=,+*?<>@";

/** Argon2id's cost parameters and output length: the options of sys.argon2id, so it can be a PasswordHasher as it is. */
export interface Argon2Params {
  /** Passes over memory (t). */
  timeCost: number;
  /** Memory in KiB (m). */
  memoryKiB: number;
  /** Lanes (p). */
  parallelism: number;
  /** Bytes of hash. */
  hashLength: number;
}

/** What new accounts are hashed with (see the top of this file for why so little). */
export const DEFAULT_ARGON2_PARAMS: Readonly<Argon2Params> = { memoryKiB: 1024, timeCost: 2, parallelism: 1, hashLength: 32 };
export const DEFAULT_SALT_LENGTH = 16;

/**
 * What a stored hash may ask for: the bounds sys.argon2id enforces (guest/native/sys_crypto.c), so that any
 * hash a hive holds can be verified in the guest, and a damaged or hostile hive cannot ask for unbounded work.
 */
export const ARGON2_LIMITS = {
  timeCost: { min: 1, max: 64 },
  /** Also at least 8 KiB per lane: Argon2 needs two blocks per lane and slice. */
  memoryKiB: { min: 8, max: 65536 },
  parallelism: { min: 1, max: 16 },
  hashLength: { min: 4, max: 1024 },
  saltLength: { min: 8, max: 1024 },
} as const;

/** A password hash as the Password value's PHC string holds it. */
export interface PasswordHash {
  params: Argon2Params;
  salt: Uint8Array;
  hash: Uint8Array;
}

export interface SamAccount {
  rid: number;
  userName: string;
  fullName: string;
  password: PasswordHash;
  /** A disabled account must not log on, whatever its password: verifyPassword does not look at this. */
  disabled: boolean;
}

/** An account to put in a new hive, with its password in clear (buildSamHive hashes it). */
export interface NewAccount {
  rid: number;
  userName: string;
  fullName: string;
  password: string;
  disabled: boolean;
}

/**
 * Computes Argon2id: sys.argon2id in the guest (returns the hash), the npm argon2 binding on the host
 * (returns a promise of it). The password comes as UTF-8.
 */
export type PasswordHasher<Result extends Uint8Array | Promise<Uint8Array>> = (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => Result;

/** A SAM hive or an account in it that cannot be used; names the account (its key or name) and the value. */
export class SamError extends Error {
  constructor(
    readonly account: string,
    readonly valueName: string | undefined,
    readonly reason: string,
  ) {
    super(`SAM account ${account}${valueName === undefined ? "" : `, value ${valueName}`}: ${reason}`);
    this.name = "SamError";
  }
}

/** The key name of an account: its RID as 8 upper-case hex digits, as Windows names it. */
export function ridKeyName(rid: number): string {
  return rid.toString(16).toUpperCase().padStart(8, "0");
}

// PHC strings. The format (https://github.com/P-H-C/phc-string-format) fixes the parameters' order for
// each function; for argon2 it is m, t, p, as the reference implementation writes them. Parsing is strict
// (one spelling per hash: no leading zeros, no padding, no stray bits) so that a stored string either is
// exactly what encodePasswordHash would write or is refused.

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUES = new Map(Array.from(BASE64_ALPHABET, (character, index) => [character, index]));

function encodeBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const characters = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < characters; j++) text += BASE64_ALPHABET[(chunk >> (18 - 6 * j)) & 63];
  }
  return text;
}

/** The bytes, or a reason the text is not canonical unpadded base64. */
function decodeBase64(text: string): Uint8Array | string {
  if (text.length % 4 === 1) return `${text.length} characters cannot be base64 (a length of 4n+1)`;
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const value = BASE64_VALUES.get(text[i]);
    if (value === undefined) return `character ${JSON.stringify(text[i])} at ${i} is not base64 (standard alphabet, no padding)`;
    bits = ((bits << 6) | value) & 0xfff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes[at++] = (bits >> count) & 0xff;
    }
  }
  if ((bits & ((1 << count) - 1)) !== 0) return "its last character has bits set beyond the data (not the canonical spelling)";
  return bytes;
}

/** A decimal integer as the PHC format spells it (no sign, no leading zero), within min..max. */
function phcInteger(text: string, name: string, min: number, max: number): number | string {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text)) return `${name}=${JSON.stringify(text)} is not a decimal integer without leading zeros`;
  const value = Number(text);
  return value < min || value > max ? `${name}=${value} is outside ${min}..${max}` : value;
}

/** Why params or the salt and hash lengths are outside ARGON2_LIMITS, or undefined. */
function limitProblem(params: Argon2Params, saltLength: number): string | undefined {
  const outside = (name: string, value: number, limit: { min: number; max: number }) =>
    Number.isInteger(value) && value >= limit.min && value <= limit.max ? undefined : `${name} ${value} is outside ${limit.min}..${limit.max}`;
  return (
    outside("memory (KiB)", params.memoryKiB, ARGON2_LIMITS.memoryKiB) ??
    outside("passes", params.timeCost, ARGON2_LIMITS.timeCost) ??
    outside("lanes", params.parallelism, ARGON2_LIMITS.parallelism) ??
    outside("hash length", params.hashLength, ARGON2_LIMITS.hashLength) ??
    outside("salt length", saltLength, ARGON2_LIMITS.saltLength) ??
    (params.memoryKiB < 8 * params.parallelism ? `memory ${params.memoryKiB} KiB is less than 8 KiB for each of ${params.parallelism} lanes` : undefined)
  );
}

/** The PHC string of a hash; `account` names it in the SamError thrown for parameters outside ARGON2_LIMITS. */
export function encodePasswordHash(value: PasswordHash, account: string): string {
  const problem = limitProblem(value.params, value.salt.length) ?? (value.hash.length === value.params.hashLength ? undefined : `the hash is ${value.hash.length} bytes, not hashLength ${value.params.hashLength}`);
  if (problem !== undefined) throw new SamError(account, "Password", problem);
  const { memoryKiB, timeCost, parallelism } = value.params;
  return `$argon2id$v=19$m=${memoryKiB},t=${timeCost},p=${parallelism}$${encodeBase64(value.salt)}$${encodeBase64(value.hash)}`;
}

/** Parses a Password value; `account` names it in the SamError thrown for anything but a usable argon2id PHC string. */
export function parsePasswordHash(text: string, account: string): PasswordHash {
  const fail = (why: string): never => {
    throw new SamError(account, "Password", why);
  };
  const fields = text.split("$");
  if (fields.length !== 6 || fields[0] !== "") fail(`${JSON.stringify(text.slice(0, 120))} is not a PHC string $argon2id$v=19$m=...,t=...,p=...$salt$hash`);
  const [, algorithm, version, parameters, saltText, hashText] = fields;
  if (algorithm !== "argon2id") fail(`the algorithm is ${JSON.stringify(algorithm)}, not argon2id`);
  if (version !== "v=19") fail(`the version is ${JSON.stringify(version)}, not v=19 (Argon2 1.3)`);
  const pairs = parameters.split(",");
  if (pairs.length !== 3 || !pairs[0].startsWith("m=") || !pairs[1].startsWith("t=") || !pairs[2].startsWith("p=")) {
    fail(`the parameters ${JSON.stringify(parameters)} are not m=<KiB>,t=<passes>,p=<lanes> in that order`);
  }
  const numbers = [
    phcInteger(pairs[0].slice(2), "m", ARGON2_LIMITS.memoryKiB.min, ARGON2_LIMITS.memoryKiB.max),
    phcInteger(pairs[1].slice(2), "t", ARGON2_LIMITS.timeCost.min, ARGON2_LIMITS.timeCost.max),
    phcInteger(pairs[2].slice(2), "p", ARGON2_LIMITS.parallelism.min, ARGON2_LIMITS.parallelism.max),
  ];
  for (const number of numbers) if (typeof number === "string") fail(number);
  const [memoryKiB, timeCost, parallelism] = numbers as number[];
  const salt = decodeBase64(saltText);
  if (typeof salt === "string") fail(`the salt: ${salt}`);
  const hash = decodeBase64(hashText);
  if (typeof hash === "string") fail(`the hash: ${hash}`);
  const result = { params: { memoryKiB, timeCost, parallelism, hashLength: (hash as Uint8Array).length }, salt: salt as Uint8Array, hash: hash as Uint8Array };
  const problem = limitProblem(result.params, result.salt.length);
  if (problem !== undefined) fail(problem);
  return result;
}

/** Why Windows would refuse this as a user name, or undefined. */
export function userNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_USER_NAME_LENGTH) return `a user name has 1 to ${MAX_USER_NAME_LENGTH} characters, not ${name.length}`;
  for (const character of name) {
    if (FORBIDDEN_NAME_CHARACTERS.includes(character) || character.charCodeAt(0) < 0x20) return `a user name may not hold ${JSON.stringify(character)}`;
  }
  if (/^[. ]*$/.test(name)) return "a user name may not be only dots and spaces";
  return undefined;
}

// Reading.

function stringValue(key: HiveKey, name: string, account: string): string {
  const value = requiredValue(key, name, account);
  if (value.type !== REG_SZ) throw new SamError(account, name, `is ${valueTypeName(value.type)}, not REG_SZ`);
  return value.asString();
}

function requiredValue(key: HiveKey, name: string, account: string): HiveValue {
  const value = key.value(name);
  if (value === undefined) throw new SamError(account, name, "is missing");
  return value;
}

function readAccountKey(key: HiveKey): SamAccount {
  const keyName = key.name;
  if (!/^[0-9A-Fa-f]{8}$/.test(keyName)) throw new SamError(keyName, undefined, "the key's name is not a RID as 8 hex digits");
  const rid = parseInt(keyName, 16);
  if (rid < MIN_USER_RID || rid > MAX_USER_RID) throw new SamError(keyName, undefined, `RID ${rid} is outside ${MIN_USER_RID}..${MAX_USER_RID}`);
  const userName = stringValue(key, "UserName", keyName);
  const account = `${keyName} (${JSON.stringify(userName)})`;
  const problem = userNameProblem(userName);
  if (problem !== undefined) throw new SamError(account, "UserName", problem);
  const disabledValue = requiredValue(key, "Disabled", account);
  if (disabledValue.type !== REG_DWORD || disabledValue.dataLength !== 4) {
    throw new SamError(account, "Disabled", `is ${valueTypeName(disabledValue.type)} of ${disabledValue.dataLength} bytes, not a REG_DWORD`);
  }
  const disabled = disabledValue.asDword();
  if (disabled !== 0 && disabled !== 1) throw new SamError(account, "Disabled", `is ${disabled}, not 0 or 1`);
  return {
    rid,
    userName,
    fullName: stringValue(key, "FullName", account),
    password: parsePasswordHash(stringValue(key, "Password", account), account),
    disabled: disabled === 1,
  };
}

/** The RID a Names\<name> key gives, from its default value's type. */
function namedRid(key: HiveKey): number {
  const account = `name ${JSON.stringify(key.name)}`;
  const value = key.value("");
  if (value === undefined) throw new SamError(account, "(default)", "is missing: it should carry the account's RID as its type");
  if (value.type < MIN_USER_RID || value.type > MAX_USER_RID) throw new SamError(account, "(default)", `its type ${value.type} is not a user RID ${MIN_USER_RID}..${MAX_USER_RID}`);
  return value.type;
}

function usersKey(hive: Hive): HiveKey {
  const users = hive.key(USERS_KEY);
  if (users === undefined) throw new SamError("(all)", undefined, `the hive has no ${USERS_KEY} key`);
  return users;
}

/**
 * Every account, by RID, after checking the hive holds them consistently: each name key names an account of
 * that name and each account has its name key.
 */
export function readAccounts(hive: Hive): SamAccount[] {
  const accounts = usersKey(hive)
    .subkeys()
    .filter((key) => !namesEqual(key.name, "Names"))
    .map(readAccountKey)
    .sort((a, b) => a.rid - b.rid);
  const names = hive.key(NAMES_KEY)?.subkeys() ?? [];
  for (const nameKey of names) {
    const rid = namedRid(nameKey);
    const account = accounts.find((candidate) => candidate.rid === rid);
    if (account === undefined || !namesEqual(account.userName, nameKey.name)) {
      throw new SamError(`name ${JSON.stringify(nameKey.name)}`, "(default)", `names RID ${rid}, ${account === undefined ? "which has no account" : `whose UserName is ${JSON.stringify(account.userName)}`}`);
    }
  }
  for (const account of accounts) {
    if (!names.some((nameKey) => namesEqual(nameKey.name, account.userName))) {
      throw new SamError(`${ridKeyName(account.rid)} (${JSON.stringify(account.userName)})`, "UserName", `has no ${NAMES_KEY}\\${account.userName} key`);
    }
  }
  return accounts;
}

/** The account of this name, compared case-insensitively; undefined when there is none. */
export function findAccount(hive: Hive, name: string): SamAccount | undefined {
  // A name Windows would refuse cannot be an account's, and one holding "\" would be read as a path.
  if (userNameProblem(name) !== undefined) return undefined;
  const nameKey = hive.key(`${NAMES_KEY}\\${name}`);
  if (nameKey === undefined) return undefined;
  const rid = namedRid(nameKey);
  const key = usersKey(hive).subkey(ridKeyName(rid));
  if (key === undefined) throw new SamError(`name ${JSON.stringify(nameKey.name)}`, "(default)", `names RID ${rid}, which has no account`);
  const account = readAccountKey(key);
  if (!namesEqual(account.userName, nameKey.name)) {
    throw new SamError(`name ${JSON.stringify(nameKey.name)}`, "(default)", `names RID ${rid}, whose UserName is ${JSON.stringify(account.userName)}`);
  }
  return account;
}

// Verifying.

/** Equal contents, in a time that depends only on the lengths (which the PHC string makes public anyway). */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

function matches(account: SamAccount, computed: Uint8Array): boolean {
  if (computed.length !== account.password.hash.length) {
    throw new SamError(`${ridKeyName(account.rid)} (${JSON.stringify(account.userName)})`, "Password", `the hasher returned ${computed.length} bytes, not the ${account.password.hash.length} asked for`);
  }
  return constantTimeEqual(computed, account.password.hash);
}

/**
 * Whether password (hashed as UTF-8) is the account's. It does not look at `disabled`: a logon checks that
 * too. Synchronous with a synchronous hasher (sys.argon2id in the guest), a promise with an asynchronous one.
 */
export function verifyPassword(account: SamAccount, password: string, hasher: PasswordHasher<Uint8Array>): boolean;
export function verifyPassword(account: SamAccount, password: string, hasher: PasswordHasher<Promise<Uint8Array>>): Promise<boolean>;
export function verifyPassword(account: SamAccount, password: string, hasher: PasswordHasher<Uint8Array | Promise<Uint8Array>>): boolean | Promise<boolean> {
  const computed = hasher(encodeUtf8(password), account.password.salt, { ...account.password.params });
  return computed instanceof Uint8Array ? matches(account, computed) : computed.then((hash) => matches(account, hash));
}

// Building.

/**
 * A new SAM hive (the file's bytes) holding the accounts, each password hashed with its own salt from
 * saltFor. Refuses (SamError) a RID outside MIN_USER_RID..MAX_USER_RID, a name Windows would refuse, and a
 * RID or a name (case-insensitively) used twice.
 */
export async function buildSamHive(
  accounts: readonly NewAccount[],
  hasher: PasswordHasher<Uint8Array | Promise<Uint8Array>>,
  saltFor: (account: NewAccount) => Uint8Array,
  params: Argon2Params = DEFAULT_ARGON2_PARAMS,
): Promise<Uint8Array> {
  const hive = Hive.create({ name: HIVE_FILE_NAME });
  const users = hive.createKey(USERS_KEY);
  const names = hive.createKey(NAMES_KEY);
  for (const [index, account] of accounts.entries()) {
    const label = `${Number.isInteger(account.rid) ? ridKeyName(account.rid) : String(account.rid)} (${JSON.stringify(account.userName)})`;
    if (!Number.isInteger(account.rid) || account.rid < MIN_USER_RID || account.rid > MAX_USER_RID) {
      throw new SamError(label, undefined, `RID ${account.rid} is not an integer in ${MIN_USER_RID}..${MAX_USER_RID}`);
    }
    const problem = userNameProblem(account.userName);
    if (problem !== undefined) throw new SamError(label, "UserName", problem);
    const earlier = accounts.slice(0, index).find((other) => other.rid === account.rid || namesEqual(other.userName, account.userName));
    if (earlier !== undefined) throw new SamError(label, undefined, `its ${earlier.rid === account.rid ? "RID" : "name"} is ${JSON.stringify(earlier.userName)}'s too`);
    const salt = saltFor(account);
    const limits = limitProblem(params, salt.length);
    if (limits !== undefined) throw new SamError(label, "Password", limits);
    const hash = await hasher(encodeUtf8(account.password), salt, { ...params });
    const key = users.createSubkey(ridKeyName(account.rid));
    key.setValue("UserName", REG_SZ, encodeString(account.userName));
    key.setValue("FullName", REG_SZ, encodeString(account.fullName));
    key.setValue("Password", REG_SZ, encodeString(encodePasswordHash({ params: { ...params }, salt, hash: new Uint8Array(hash) }, label)));
    key.setValue("Disabled", REG_DWORD, encodeDword(account.disabled ? 1 : 0));
    names.createSubkey(account.userName).setValue("", account.rid, new Uint8Array(0));
  }
  return hive.toBytes();
}
