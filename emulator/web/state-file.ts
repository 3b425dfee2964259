// Machine state files as v86's save_state writes them (what the page saves and starts from). Read only far
// enough to refuse other files with a clear message and to learn the guest memory size, which the machine
// must be built with before the state goes in (v86 only warns about a mismatch, and the guest then fails).
// v86's layout (src/state.js): a 16-byte header of four little-endian int32s — magic 0x86768676, format
// version, total length, length of the JSON info block — then the info block, whose `state` array is the
// CPU's, memory size in bytes first.

const STATE_MAGIC = 0x86768676;
const STATE_VERSION = 6;
/** zstd's frame magic: v86 also loads compressed states, which this page does not write. */
const ZSTD_MAGIC = 0xfd2fb528;
const HEADER_SIZE = 16;
const MIB = 1024 * 1024;

export class StateFileError extends Error {
  constructor(fileName: string, reason: string) {
    super(`${fileName}: ${reason}`);
    this.name = "StateFileError";
  }
}

export interface StateFileInfo {
  memoryMiB: number;
}

export function readStateFileInfo(state: ArrayBuffer, fileName: string): StateFileInfo {
  if (state.byteLength < HEADER_SIZE) throw new StateFileError(fileName, `${state.byteLength} bytes is too short for a machine state`);
  const view = new DataView(state);
  const magic = view.getUint32(0, true);
  if (magic === ZSTD_MAGIC) throw new StateFileError(fileName, "a compressed (zstd) state; save states from this page are uncompressed");
  if (magic !== STATE_MAGIC) {
    throw new StateFileError(fileName, `not a v86 machine state (starts with 0x${magic.toString(16).padStart(8, "0")}, not 0x${STATE_MAGIC.toString(16)})`);
  }
  const version = view.getInt32(4, true);
  if (version !== STATE_VERSION) throw new StateFileError(fileName, `state format version ${version}; this v86 reads version ${STATE_VERSION}`);
  const totalLength = view.getInt32(8, true);
  if (totalLength !== state.byteLength) {
    throw new StateFileError(fileName, `cut short or padded: the header says ${totalLength} bytes, the file has ${state.byteLength}`);
  }
  const infoLength = view.getInt32(12, true);
  if (infoLength <= 0 || HEADER_SIZE + infoLength > state.byteLength) throw new StateFileError(fileName, `bad info block length ${infoLength}`);
  let info: unknown;
  try {
    info = JSON.parse(new TextDecoder().decode(new Uint8Array(state, HEADER_SIZE, infoLength)));
  } catch {
    throw new StateFileError(fileName, "the info block is not JSON");
  }
  const memoryBytes = (info as { state?: unknown[] } | null)?.state?.[0];
  if (typeof memoryBytes !== "number" || memoryBytes <= 0 || memoryBytes % MIB !== 0) {
    throw new StateFileError(fileName, "the info block names no memory size");
  }
  return { memoryMiB: memoryBytes / MIB };
}
