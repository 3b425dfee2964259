// A .reg file as data: its key sections in file order, each with its value lines in file order.
// Paths are full registry paths as written (e.g. HKEY_LOCAL_MACHINE\SYSTEM\Select); applying a document
// maps them onto a hive through a prefix.

/** `"name"=data` or `@=data` (name ""): set a value. */
export interface RegValueSet {
  name: string;
  delete?: false;
  type: number;
  data: Uint8Array;
  /** Line in the source file, when the entry came from one. */
  line?: number;
}

/** `"name"=-`: delete a value (nothing happens when it does not exist). */
export interface RegValueDelete {
  name: string;
  delete: true;
  line?: number;
}

export type RegValueEntry = RegValueSet | RegValueDelete;

/** `[path]` (create the key and its missing parents, then apply the values) or `[-path]` (delete the tree). */
export interface RegKeySection {
  path: string;
  delete?: boolean;
  /** Always empty for a deletion. */
  values: RegValueEntry[];
  line?: number;
}

export interface RegDocument {
  /** The file the document was parsed from, for messages. */
  fileName?: string;
  keys: RegKeySection[];
}

/** Windows' limits, checked while parsing so that a document that parses also applies. */
export const MAX_KEY_NAME_LENGTH = 255;
export const MAX_VALUE_NAME_LENGTH = 16383;

export const REGEDIT5_HEADER = "Windows Registry Editor Version 5.00";
