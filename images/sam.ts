// The default disk's SAM hive, from images/hives/accounts.json: the host's side of src/sam. Passwords are
// hashed here with the npm argon2 binding (native code, the same reference implementation the guest runs
// as sys.argon2id). Node only.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import argon2 from "argon2";
import { FileError } from "../emulator/files.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildSamHive, DEFAULT_SALT_LENGTH, type NewAccount, type PasswordHasher } from "../src/sam/index.ts";

export const ACCOUNTS_JSON = join(REPO_ROOT, "images", "hives", "accounts.json");

/** Argon2id through the npm binding: a PasswordHasher for src/sam. */
export const hostArgon2id: PasswordHasher<Promise<Uint8Array>> = async (password, salt, params) =>
  new Uint8Array(
    await argon2.hash(Buffer.from(password), {
      type: argon2.argon2id,
      raw: true,
      salt: Buffer.from(salt),
      memoryCost: params.memoryKiB,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
      hashLength: params.hashLength,
    }),
  );

/**
 * The salt of a default account: derived from its name rather than random, so that the same sources build
 * the same hive contents. A salt need only differ between accounts (and machines, which these accounts do
 * not: their passwords are published in the README anyway).
 */
export function defaultAccountSalt(account: NewAccount): Uint8Array {
  return new Uint8Array(createHash("sha256").update("smss86 default account salt\0").update(account.userName, "utf8").digest().subarray(0, DEFAULT_SALT_LENGTH));
}

/** The accounts listed in a file like images/hives/accounts.json; a malformed entry is a FileError naming it. */
export function parseAccountsFile(bytes: Uint8Array, file: string): NewAccount[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new FileError(file, `not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new FileError(file, "not a JSON array of accounts");
  return parsed.map((entry: unknown, index) => {
    const fields = entry as Record<string, unknown>;
    const fail = (why: string): never => {
      throw new FileError(file, `account ${index}: ${why}`);
    };
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail("not an object");
    const expected = ["rid", "userName", "fullName", "password", "disabled"];
    for (const name of Object.keys(fields)) if (!expected.includes(name)) fail(`unknown field ${JSON.stringify(name)} (expected ${expected.join(", ")})`);
    if (typeof fields.rid !== "number") fail("rid must be a number");
    for (const name of ["userName", "fullName", "password"]) if (typeof fields[name] !== "string") fail(`${name} must be a string`);
    if (typeof fields.disabled !== "boolean") fail("disabled must be true or false");
    return fields as unknown as NewAccount;
  });
}

/** The SAM hive of the default disk (the file's bytes). */
export async function buildDefaultSamHive(): Promise<Uint8Array> {
  return buildSamHive(parseAccountsFile(readFileSync(ACCOUNTS_JSON), ACCOUNTS_JSON), hostArgon2id, defaultAccountSalt);
}
