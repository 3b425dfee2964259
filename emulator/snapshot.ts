// Snapshot files: a machine's state (v86's save_state) behind a small header saying what the machine was made
// from — the BIOS, the VGA BIOS and the disk image it booted (SHA-256 each), its memory and v86's version —
// so that a state is only started on the same images: v86 restores whatever it is given, and a state on
// other firmware or another emulator build fails in ways that say nothing about why. The CLI
// (`boot --snapshot/--from-snapshot`) and the web page (Save state / Start from state file) both use this
// module, so each starts the other's files. Browser-safe: hashes come from Web Crypto.
//
// Layout: the 16 bytes "smss86 snapshot\n", a little-endian uint32 giving the header's length, the header
// as UTF-8 JSON, then v86's state unchanged. v86's own layout (its src/state.js): a 16-byte header of four
// little-endian int32s — magic 0x86768676, format version, total length, length of the JSON info block —
// then the info block, whose `state` array is the CPU's, memory size in bytes first.
import v86Package from "v86/package.json" with { type: "json" };
import type { Firmware } from "./machine.ts";

const MAGIC = "smss86 snapshot\n";
const HEADER_LENGTH_AT = MAGIC.length;
const HEADER_AT = HEADER_LENGTH_AT + 4;
/** Far more than any header needs: a larger length means the file is something else. */
const MAX_HEADER_BYTES = 1 << 20;
const FORMAT = 1;
const V86_STATE_MAGIC = 0x86768676;
const V86_STATE_VERSION = 6;
/** zstd's frame magic: v86 also loads compressed states, which neither the CLI nor the page writes. */
const ZSTD_MAGIC = 0xfd2fb528;
const V86_STATE_HEADER_SIZE = 16;
const MIB = 1024 * 1024;

/** The v86 this machine runs on: a state from another build may not restore. */
export const V86_VERSION: string = v86Package.version;

export class SnapshotError extends Error {
  constructor(
    readonly fileName: string,
    reason: string,
  ) {
    super(`${fileName}: ${reason}`);
    this.name = "SnapshotError";
  }
}

/** What a machine was made from: a snapshot starts only on a machine made from the same. */
export interface SnapshotOrigin {
  v86: string;
  memoryMiB: number;
  /** SHA-256, hex. */
  bios: string;
  vgaBios: string;
  /** The disk image as it was booted (before the guest wrote to it). */
  disk: string;
  diskBytes: number;
}

export interface SnapshotHeader extends SnapshotOrigin {
  format: typeof FORMAT;
  /** Where the disk came from, for people reading a mismatch ("build/disk.img", "default disk, edited hive"). */
  diskName: string;
  /** The phases smss had reported done when the state was saved. */
  phasesDone: string[];
  /** ISO 8601. */
  savedAt: string;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What every machine on this firmware and v86 shares, whatever its disk and memory. */
export async function firmwareOrigin(firmware: Firmware): Promise<Pick<SnapshotOrigin, "v86" | "bios" | "vgaBios">> {
  const [bios, vgaBios] = await Promise.all([sha256Hex(firmware.bios), sha256Hex(firmware.vgaBios)]);
  return { v86: V86_VERSION, bios, vgaBios };
}

/** Call before booting: the disk's hash must be of the image as booted, not as the guest changes it. */
export async function machineOrigin(firmware: Firmware, disk: Uint8Array, memoryMiB: number): Promise<SnapshotOrigin> {
  const [shared, diskHash] = await Promise.all([firmwareOrigin(firmware), sha256Hex(disk)]);
  return { ...shared, memoryMiB, disk: diskHash, diskBytes: disk.length };
}

export function encodeSnapshot(header: SnapshotHeader, state: ArrayBuffer): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(HEADER_AT + json.length + state.byteLength);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(HEADER_LENGTH_AT, json.length, true);
  bytes.set(json, HEADER_AT);
  bytes.set(new Uint8Array(state), HEADER_AT + json.length);
  return bytes;
}

/** The header and v86's state (in a buffer of its own, as v86 wants it), both checked for sense. */
export function decodeSnapshot(bytes: Uint8Array, fileName: string): { header: SnapshotHeader; state: ArrayBuffer } {
  const fail = (reason: string) => new SnapshotError(fileName, reason);
  const magic = new TextDecoder("latin1").decode(bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length >= 4 && view.getUint32(0, true) === V86_STATE_MAGIC) {
      throw fail("a bare v86 state without the smss86 snapshot header, so what it was made from is unknown; not started");
    }
    const start = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw fail(`not an smss86 snapshot (it starts with ${start || "nothing"}, not "smss86 snapshot")`);
  }
  if (bytes.length < HEADER_AT) throw fail(`cut short: ${bytes.length} bytes`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(HEADER_LENGTH_AT, true);
  if (headerLength > MAX_HEADER_BYTES || HEADER_AT + headerLength > bytes.length) {
    throw fail(`cut short or damaged: its header claims ${headerLength} bytes and the file has ${bytes.length}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(HEADER_AT, HEADER_AT + headerLength)));
  } catch {
    throw fail("its header is not JSON");
  }
  const header = checkHeader(parsed, fail);
  const stateBytes = bytes.subarray(HEADER_AT + headerLength);
  const state = stateBytes.slice().buffer;
  const memoryMiB = v86StateMemoryMiB(state, fail);
  if (memoryMiB !== header.memoryMiB) throw fail(`its header says ${header.memoryMiB} MiB of memory but the state holds ${memoryMiB} MiB`);
  return { header, state };
}

function checkHeader(parsed: unknown, fail: (reason: string) => SnapshotError): SnapshotHeader {
  const header = parsed as Partial<SnapshotHeader> | null;
  if (typeof header !== "object" || header === null) throw fail("its header is not a JSON object");
  if (header.format !== FORMAT) throw fail(`snapshot format ${JSON.stringify(header.format)}; this smss86 reads format ${FORMAT}`);
  const hex = (value: unknown) => typeof value === "string" && /^[0-9a-f]{64}$/.test(value);
  const whole = (value: unknown) => typeof value === "number" && Number.isSafeInteger(value) && value > 0;
  if (typeof header.v86 !== "string" || !hex(header.bios) || !hex(header.vgaBios) || !hex(header.disk) || !whole(header.memoryMiB) || !whole(header.diskBytes)) {
    throw fail("its header lacks what the machine was made from (v86, bios, vgaBios, disk, diskBytes, memoryMiB)");
  }
  if (typeof header.diskName !== "string" || !Array.isArray(header.phasesDone) || !header.phasesDone.every((p) => typeof p === "string")) {
    throw fail("its header lacks diskName or phasesDone");
  }
  return header as SnapshotHeader;
}

function v86StateMemoryMiB(state: ArrayBuffer, fail: (reason: string) => SnapshotError): number {
  if (state.byteLength < V86_STATE_HEADER_SIZE) throw fail(`its machine state is ${state.byteLength} bytes, too short`);
  const view = new DataView(state);
  const magic = view.getUint32(0, true);
  if (magic === ZSTD_MAGIC) throw fail("its machine state is compressed (zstd); smss86 writes uncompressed states");
  if (magic !== V86_STATE_MAGIC) throw fail(`its machine state is not v86's (starts with 0x${magic.toString(16).padStart(8, "0")}, not 0x${V86_STATE_MAGIC.toString(16)})`);
  const version = view.getInt32(4, true);
  if (version !== V86_STATE_VERSION) throw fail(`v86 state format version ${version}; this v86 reads version ${V86_STATE_VERSION}`);
  const totalLength = view.getInt32(8, true);
  if (totalLength !== state.byteLength) throw fail(`cut short or padded: its machine state says ${totalLength} bytes, the file holds ${state.byteLength}`);
  const infoLength = view.getInt32(12, true);
  if (infoLength <= 0 || V86_STATE_HEADER_SIZE + infoLength > state.byteLength) throw fail(`its machine state has a bad info block length ${infoLength}`);
  let info: unknown;
  try {
    info = JSON.parse(new TextDecoder().decode(new Uint8Array(state, V86_STATE_HEADER_SIZE, infoLength)));
  } catch {
    throw fail("its machine state's info block is not JSON");
  }
  const memoryBytes = (info as { state?: unknown[] } | null)?.state?.[0];
  if (typeof memoryBytes !== "number" || memoryBytes <= 0 || memoryBytes % MIB !== 0) throw fail("its machine state names no memory size");
  return memoryBytes / MIB;
}

/**
 * What differs between the machine a snapshot was made from and the one it would start on, as one
 * sentence, or undefined when nothing does. Fields left out of `here` are not compared.
 */
export function originMismatch(header: SnapshotHeader, here: Partial<SnapshotOrigin> & { diskName?: string }): string | undefined {
  const short = (hash: string) => `sha256 ${hash.slice(0, 12)}`;
  const differences: string[] = [];
  if (here.v86 !== undefined && here.v86 !== header.v86) differences.push(`v86 ${header.v86}, not ${here.v86}`);
  if (here.bios !== undefined && here.bios !== header.bios) differences.push(`another BIOS (${short(header.bios)}, not ${short(here.bios)})`);
  if (here.vgaBios !== undefined && here.vgaBios !== header.vgaBios) differences.push(`another VGA BIOS (${short(header.vgaBios)}, not ${short(here.vgaBios)})`);
  if (here.disk !== undefined && (here.disk !== header.disk || here.diskBytes !== header.diskBytes)) {
    differences.push(
      `another disk image (${header.diskName}, ${header.diskBytes} bytes, ${short(header.disk)}; this boot's ${here.diskName ?? "disk"} has ${here.diskBytes} bytes, ${short(here.disk)})`,
    );
  }
  if (here.memoryMiB !== undefined && here.memoryMiB !== header.memoryMiB) differences.push(`${header.memoryMiB} MiB of memory, not ${here.memoryMiB}`);
  return differences.length === 0 ? undefined : `made from ${differences.join("; ")}`;
}
