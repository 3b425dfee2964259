// The power-cut harness for PendingFileRenameOperations: one boot records every disk write the guest makes
// while smss works through a rename queue; then, for a write k, the disk as it stood right after write k
// (the boot disk plus the first k writes: a power cut, nothing else reached the platters) is booted
// again, and the queue must have ended with every operation done exactly once and no file lost or
// duplicated. Used by test/power-cuts.test.ts (a sample of k) and `npm run power-cuts` (every k).
import { Machine } from "../emulator/machine.ts";
import { loadFirmware } from "../emulator/node.ts";
import { prepareDisk, SYSTEM_HIVE_ON_DISK } from "../emulator/scenario.ts";
import { openVolume } from "../emulator/disk/image.ts";
import { Hive } from "../src/hive/index.ts";
import { multiSz, regFragment, SM } from "./scenario-helpers.ts";

const BOOT_TIMEOUT_MS = 120_000;

/**
 * A queue in which a repeated or lost operation shows: a.txt is renamed away and the name reused by c.txt,
 * so running the first rename twice would move C's contents; a delete, a replace of an existing file, a
 * rename that must fail (its target exists), and a second value whose rename follows the first one's.
 */
const QUEUE = regFragment(
  `[${SM}]`,
  `"PendingFileRenameOperations"=${multiSz([
    "\\??\\C:\\Temp\\a.txt", "\\??\\C:\\Temp\\b.txt",
    "\\??\\C:\\Temp\\c.txt", "\\??\\C:\\Temp\\a.txt",
    "\\??\\C:\\Temp\\d.txt", "",
    "\\??\\C:\\Temp\\e.txt", "!\\??\\C:\\Temp\\f.txt",
    "\\??\\C:\\Temp\\g.txt", "\\??\\C:\\Temp\\h.txt",
  ])}`,
  `"PendingFileRenameOperations2"=${multiSz(["\\??\\C:\\Temp\\b.txt", "\\??\\C:\\Temp\\final.txt"])}`,
);
const FILES = { "/Temp/a.txt": "A", "/Temp/c.txt": "C", "/Temp/d.txt": "D", "/Temp/e.txt": "E", "/Temp/f.txt": "F", "/Temp/g.txt": "G", "/Temp/h.txt": "H" };
/** What /Temp holds when every operation ran once, in order. */
const EXPECTED: Record<string, string> = { "a.txt": "C", "f.txt": "E", "final.txt": "A", "g.txt": "G", "h.txt": "H" };

export interface Recording {
  /** The disk before the boot. */
  initial: Uint8Array;
  writes: { offset: number; bytes: Uint8Array }[];
  /** Indexes (1-based counts of writes) whose cut falls in the renames phase: after write k, for k in [first, last]. */
  first: number;
  last: number;
}

async function startMachine(disk: Uint8Array): Promise<Machine> {
  return Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk } });
}

/**
 * Boots the queue once, recording every write. The renames phase's writes are those after smss reported
 * boot-execute done and before it reported paging-files start (the probe line of each arrives after the
 * writes that precede it in the guest, so the window holds the whole phase, and perhaps the boot log's
 * line before it).
 */
export async function recordRenameWrites(): Promise<Recording> {
  const initial = await prepareDisk({ hive: { regText: QUEUE, merge: true }, files: FILES });
  const disk = initial.slice();
  const writes: Recording["writes"] = [];
  const machine = await startMachine(disk);
  let first = -1;
  let last = -1;
  machine.onDiskWrite((offset, bytes) => writes.push({ offset, bytes }));
  machine.onEvent((e) => {
    if (e.phase === "boot-execute" && e.status === "done") first = writes.length + 1;
    if (e.phase === "paging-files" && e.status === "start") last = writes.length;
  });
  try {
    await machine.waitForPhase("ready", BOOT_TIMEOUT_MS);
  } finally {
    await machine.stop();
  }
  const renames = machine.events.find((e) => e.phase === "renames" && e.status === "done")!;
  const problems = checkDisk(disk, renames.data);
  if (problems.length > 0) throw new Error(`the uninterrupted run went wrong: ${problems.join("; ")}`);
  return { initial, writes, first, last };
}

/** The disk as it stood right after write k (1-based). */
export function diskAfterWrite(recording: Recording, k: number): Uint8Array {
  const disk = recording.initial.slice();
  for (const { offset, bytes } of recording.writes.slice(0, k)) disk.set(bytes, offset);
  return disk;
}

/** What is wrong with the disk after the queue ran (empty: all right). */
export function checkDisk(disk: Uint8Array, renamesData?: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const volume = openVolume(disk);
  const files = Object.fromEntries(volume.list("/Temp").map((entry) => [entry.name, new TextDecoder().decode(volume.readFile(`/Temp/${entry.name}`))]));
  for (const [name, contents] of Object.entries(EXPECTED)) {
    if (files[name] !== contents) problems.push(`/Temp/${name} is ${files[name] === undefined ? "missing" : JSON.stringify(files[name])}, expected ${JSON.stringify(contents)}`);
  }
  for (const name of Object.keys(files)) if (!(name in EXPECTED)) problems.push(`/Temp/${name} should not exist`);
  const sm = Hive.open(volume.readFile(SYSTEM_HIVE_ON_DISK)).key("ControlSet001\\Control\\Session Manager")!;
  for (const value of ["PendingFileRenameOperations", "PendingFileRenameOperations2", "PendingFileRenameJournal", "PendingFileRenameProgress"]) {
    if (sm.value(value) !== undefined) problems.push(`${value} is still in the hive`);
  }
  const expected = ["done", "done", "done", "done", "failed", "done"];
  for (const op of (renamesData?.operations ?? []) as { index: number; result: string }[]) {
    if (op.result !== expected[op.index]) problems.push(`operation ${op.index} ended ${op.result}, expected ${expected[op.index]}`);
  }
  return problems;
}

/** Cuts the power after write k, boots what is left, and returns what is wrong afterwards. */
export async function bootAfterCut(recording: Recording, k: number): Promise<string[]> {
  const disk = diskAfterWrite(recording, k);
  const machine = await startMachine(disk);
  try {
    await machine.waitForPhase("ready", BOOT_TIMEOUT_MS);
  } catch (error) {
    await machine.stop();
    return [`the boot after the cut did not get to ready: ${(error as Error).message}; console: ${machine.console.slice(-600)}`];
  }
  await machine.stop();
  const renames = machine.events.filter((e) => e.phase === "renames" && e.status === "done").at(-1);
  return checkDisk(disk, renames?.data);
}
