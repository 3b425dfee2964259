// Typed errors: every failure on bad input surfaces as a HiveError carrying a machine-readable code, the
// file it concerns and (where one exists) the offset in that file, so callers never see a bare RangeError.

export type HiveErrorCode =
  | "bad-signature" // a structure lacks its magic ("regf", "hbin", "nk", ...)
  | "bad-checksum" // base block XOR checksum does not match
  | "bad-version" // unsupported major/minor version or file type/format
  | "bad-hbin" // hive bin header inconsistent (offset, size)
  | "bad-cell" // cell offset/size/contents out of bounds or inconsistent
  | "bad-list" // subkey/value list malformed
  | "bad-data" // value data malformed (inline size, big data segments)
  | "bad-name" // key or value name unusable (empty, contains a backslash, too long)
  | "truncated" // file shorter than the structures it declares
  | "too-deep" // key nesting beyond Windows' limit (also stops cycles)
  | "dirty" // hive needs recovery from logs (or was read without it and cannot be changed)
  | "bad-log" // transaction log does not verify or does not apply
  | "not-found" // key or value named by a path does not exist
  | "exists" // key to create is in the way or key to delete has subkeys
  | "read-only" // hive cannot be modified (opened dirty without recovery)
  | "too-large"; // a size exceeds what the format can hold

export class HiveError extends Error {
  constructor(
    readonly code: HiveErrorCode,
    readonly reason: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(formatMessage(reason, file, offset));
    this.name = "HiveError";
  }
}

function formatMessage(reason: string, file: string | undefined, offset: number | undefined): string {
  const where: string[] = [];
  if (file !== undefined) where.push(file);
  if (offset !== undefined) where.push(`offset 0x${offset.toString(16)}`);
  return where.length > 0 ? `${where.join(": ")}: ${reason}` : reason;
}
