// Scenario machines without a boot each. One machine boots the default disk with smss86.scenario-point on
// the kernel command line: smss stops just before it reads the SYSTEM hive (guest/smss/scenario.ts) and
// the machine is saved there. Each scenario restores that state with its own disk in place of the booted
// one and lets smss go on, so smss's phases run on the scenario's hive and files after a restore (0.5 s)
// instead of a boot (BIOS, boot loader and kernel).
//
// That is only the same as booting the scenario's disk when the kernel's view of the saved disk still
// holds on the new one: the partition table and boot sector it read at mount, and the directory entries
// and cluster chains of what it had looked up (the directories on the way to smss.exe, smss.exe itself,
// and the mount points). `mismatch` checks exactly that, and a disk that fails it must be booted cold
// (bootMachine does so). What the kernel caches of the volume's blocks (FAT, directory sectors) smss
// drops at the point. Node only.
import { Machine, type ObservedEvent } from "./machine.ts";
import { openVolume, readPartition } from "./disk/image.ts";
import { loadFirmware } from "./node.ts";
import { prepareDisk, withKernelSwitch } from "./scenario.ts";
import { SCENARIO_GO_BYTE, SCENARIO_POINT_SWITCH, TEST_CONTROL_SWITCH } from "../src/events/index.ts";

/** What the kernel has looked up on the boot volume by the time smss reaches the point. */
const PATHS_SEEN_BEFORE_THE_POINT = ["/", "/dev", "/proc", "/sys", "/Windows", "/Windows/System32", "/Windows/System32/smss.exe"];
const PARTITION_TABLE = { start: 446, end: 512 };
const SECTOR = 512;
const SAVE_TIMEOUT_MS = 90_000;
/** v86's state layout (its src/state.js): four int32s (magic, format version, total length, info length), the
 * info block as JSON ({ buffer_infos: [{ offset, length }], state }), then the buffers from a 4-aligned start. */
const V86_STATE_MAGIC = 0x86768676;
const V86_STATE_VERSION = 6;
const V86_HEADER_BYTES = 16;

export class ScenarioPointError extends Error {
  override name = "ScenarioPointError";
}

/** One fact per thing the kernel had read, keyed by what it describes; equal facts mean the same view. */
function kernelView(disk: Uint8Array): Map<string, string> {
  const view = new Map<string, string>();
  view.set("the partition table", Array.from(disk.subarray(PARTITION_TABLE.start, PARTITION_TABLE.end)).join(","));
  view.set("the boot sector", Array.from(readPartition(disk).subarray(0, SECTOR)).join(","));
  const volume = openVolume(disk);
  for (const path of PATHS_SEEN_BEFORE_THE_POINT) {
    try {
      const entry = path === "/" ? undefined : volume.stat(path);
      if (path !== "/" && entry === undefined) {
        view.set(path, "missing");
        continue;
      }
      view.set(path, JSON.stringify([entry?.size, entry?.attributes, entry?.firstCluster, volume.clusters(path)]));
    } catch (error) {
      view.set(path, `unreadable: ${(error as Error).message}`);
    }
  }
  return view;
}

/**
 * v86's state without the boot disk's bytes, which it carries like any device buffer: restoring them would
 * copy 64 MiB twice only for start() to put the scenario's disk in their place.
 */
export function withoutDiskBytes(state: ArrayBuffer, disk: Uint8Array): ArrayBuffer {
  const header = new Int32Array(state, 0, 4);
  if (header[0] >>> 0 !== V86_STATE_MAGIC || header[1] !== V86_STATE_VERSION) {
    throw new ScenarioPointError(`v86 saved a state of a layout this version does not know (magic 0x${(header[0] >>> 0).toString(16)}, format ${header[1]})`);
  }
  const bytes = new Uint8Array(state);
  const info = JSON.parse(new TextDecoder().decode(bytes.subarray(V86_HEADER_BYTES, V86_HEADER_BYTES + header[3]))) as {
    buffer_infos: { offset: number; length: number }[];
    state: unknown;
  };
  const blockStart = (V86_HEADER_BYTES + header[3] + 3) & ~3;
  const buffers = info.buffer_infos.map(({ offset, length }) => bytes.subarray(blockStart + offset, blockStart + offset + length));
  const diskIndex = buffers.findIndex((buffer) => buffer.length === disk.length && Buffer.from(buffer).equals(disk));
  if (diskIndex < 0) throw new ScenarioPointError("the saved state holds no copy of the booted disk to leave out");
  buffers[diskIndex] = new Uint8Array(0);
  let offset = 0;
  info.buffer_infos = buffers.map((buffer) => {
    const entry = { offset, length: buffer.length };
    offset = (offset + buffer.length + 7) & ~7;
    return entry;
  });
  const infoBytes = new TextEncoder().encode(JSON.stringify(info));
  const start = (V86_HEADER_BYTES + infoBytes.length + 3) & ~3;
  const out = new Uint8Array(start + offset);
  out.set(infoBytes, V86_HEADER_BYTES);
  info.buffer_infos.forEach((entry, index) => out.set(buffers[index], start + entry.offset));
  new Int32Array(out.buffer, 0, 4).set([V86_STATE_MAGIC | 0, V86_STATE_VERSION, out.length, infoBytes.length]);
  return out.buffer;
}


export class ScenarioPoint {
  private constructor(
    private readonly state: ArrayBuffer,
    /** The events of the boot that reached the point; a restored machine's list starts with them. */
    readonly history: readonly ObservedEvent[],
    private readonly view: Map<string, string>,
    readonly memoryMiB: number | undefined,
  ) {}

  /** Boots the default disk with the switch and saves the machine where smss waits. */
  static async save(options: { memoryMiB?: number } = {}): Promise<ScenarioPoint> {
    const disk = withKernelSwitch(withKernelSwitch(await prepareDisk(), SCENARIO_POINT_SWITCH), TEST_CONTROL_SWITCH);
    const view = kernelView(disk);
    const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk }, memoryMiB: options.memoryMiB });
    try {
      await machine.waitForPhase("scenario-point", SAVE_TIMEOUT_MS, "start");
      await machine.pause();
      const state = withoutDiskBytes(await machine.saveState(), machine.diskBytes() ?? disk);
      return new ScenarioPoint(state, [...machine.events], view, options.memoryMiB);
    } finally {
      await machine.stop();
    }
  }

  /** Why `disk` cannot stand in for the saved machine's disk (what the kernel saw differs), or undefined. */
  mismatch(disk: Uint8Array): string | undefined {
    let theirs: Map<string, string>;
    try {
      theirs = kernelView(disk);
    } catch (error) {
      return `its boot volume cannot be read: ${(error as Error).message}`;
    }
    for (const [what, fact] of this.view) {
      if (theirs.get(what) !== fact) return `${what} is not what the saved machine's kernel read`;
    }
    return undefined;
  }

  /**
   * A machine restored at the point with `disk` as its boot disk (used in place, as a booted machine uses
   * it), already told to go on. The caller checks `mismatch(disk)` first.
   */
  async start(disk: Uint8Array): Promise<Machine> {
    const machine = await Machine.start({
      firmware: loadFirmware(),
      boot: { kind: "disk", disk },
      memoryMiB: this.memoryMiB,
      initialState: this.state,
      history: this.history,
    });
    // smss is blocked on the probe line: nothing reads the disk before the byte below.
    machine.replaceDisk(disk);
    machine.sendProbe(Uint8Array.of(SCENARIO_GO_BYTE));
    return machine;
  }
}

const savedPoints = new Map<number | undefined, Promise<ScenarioPoint>>();

/** The scenario point of this process's machines of a memory size, saved on first use. */
export function sharedScenarioPoint(memoryMiB?: number): Promise<ScenarioPoint> {
  let point = savedPoints.get(memoryMiB);
  if (point === undefined) {
    point = ScenarioPoint.save({ memoryMiB });
    // A failed save is not kept: the next caller tries again (and sees its own error).
    point.catch(() => savedPoints.delete(memoryMiB));
    savedPoints.set(memoryMiB, point);
  }
  return point;
}
