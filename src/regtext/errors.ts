// Typed errors for .reg text. Each names where the problem is and says why.

/** A .reg file that cannot be read: file, line and column (1-based; columns count UTF-16 code units). */
export class RegTextError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "RegTextError";
  }
}

/** A well-formed document that does not fit the hive it is applied to (a key outside the prefix, ...). */
export class RegApplyError extends Error {
  constructor(
    readonly reason: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file === undefined ? reason : line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
    this.name = "RegApplyError";
  }
}

/**
 * Hive content regedit's text format cannot express, such as a name containing a line break: the hive's
 * file and the offset of the key concerned, where there is one.
 */
export class RegExportError extends Error {
  constructor(
    readonly reason: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super([file, offset === undefined ? undefined : `offset 0x${offset.toString(16)}`, reason].filter((part) => part !== undefined).join(": "));
    this.name = "RegExportError";
  }
}
