// regedit's .reg text ("Windows Registry Editor Version 5.00"): read, write, export from and apply to a hive.
// Pure TypeScript over Uint8Array, like src/hive: runs in Node, browsers and the guest.

export { RegTextError, RegApplyError, RegExportError } from "./errors.ts";
export {
  MAX_KEY_NAME_LENGTH,
  MAX_VALUE_NAME_LENGTH,
  REGEDIT5_HEADER,
  type RegDocument,
  type RegKeySection,
  type RegValueEntry,
  type RegValueSet,
  type RegValueDelete,
} from "./document.ts";
export type { RegEncoding, RegTextSink } from "./encoding.ts";
export { parseReg } from "./parse.ts";
export { splitRegPath } from "./paths.ts";
export { serializeReg, type RegSerializeOptions } from "./serialize.ts";
export { exportReg, exportRegTo, DEFAULT_PREFIX, type RegExportOptions } from "./export.ts";
export { applyReg, type RegApplyOptions } from "./apply.ts";
