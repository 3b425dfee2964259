// Boot scenarios for the smss phase tests: the default disk with a hive given as .reg text and extra files
// (emulator/scenario.ts), booted on the real path (SeaBIOS, SYSLINUX, the kernel from the disk).
import { join } from "node:path";
import { Machine, type ObservedEvent } from "../emulator/machine.ts";
import { loadFirmware, REPO_ROOT } from "../emulator/node.ts";
import { prepareDisk, type DiskChanges } from "../emulator/scenario.ts";
import { buildGuestProgram } from "../images/guest.ts";
import type { Phase } from "../src/events/index.ts";

export const SM = "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager";
const BOOT_TIMEOUT_MS = 90_000;

export interface Scenario {
  machine: Machine;
  disk: Uint8Array;
  secondDisk?: Uint8Array;
  done(phase: Phase): ObservedEvent;
}

/** A .reg fragment (merged over the default hive) from its body lines. */
export function regFragment(...lines: string[]): string {
  return ["Windows Registry Editor Version 5.00", "", ...lines, ""].join("\r\n");
}

/** hex(7) data of a REG_MULTI_SZ holding these strings (empty ones included), as .reg writes it. */
export function multiSz(strings: string[]): string {
  const bytes: number[] = [];
  for (const s of [...strings, ""]) {
    for (let i = 0; i < s.length; i++) bytes.push(s.charCodeAt(i) & 0xff, s.charCodeAt(i) >> 8);
    bytes.push(0, 0);
  }
  if (strings.length === 0) bytes.push(0, 0);
  return "hex(7):" + bytes.map((b) => b.toString(16).padStart(2, "0")).join(",");
}

let envdump: Promise<Uint8Array> | undefined;
export function envdumpProgram(): Promise<Uint8Array> {
  envdump ??= buildGuestProgram(join(REPO_ROOT, "test", "guest", "envdump.ts"));
  return envdump;
}

/** Boots the changed default disk until `until` is done (or the machine ends, when `until` is undefined). */
export async function bootScenario(
  changes: DiskChanges,
  options: { until?: Phase; secondDisk?: Uint8Array; beforeBoot?: (disk: Uint8Array) => void } = {},
): Promise<Scenario> {
  const disk = await prepareDisk(changes);
  options.beforeBoot?.(disk);
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk }, secondDisk: options.secondDisk });
  try {
    if (options.until) await machine.waitForPhase(options.until, BOOT_TIMEOUT_MS);
    else await Promise.race([machine.ended(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no end within ${BOOT_TIMEOUT_MS} ms; last event ${JSON.stringify(machine.events.at(-1))}`)), BOOT_TIMEOUT_MS))]);
  } catch (error) {
    await machine.stop();
    throw new Error(`${(error as Error).message}\n--- console tail ---\n${machine.console.slice(-2000)}`);
  }
  const done = (phase: Phase) => {
    const event = machine.events.find((e) => e.phase === phase && e.status === "done");
    if (!event) throw new Error(`no "${phase}" done event; events: ${machine.events.map((e) => `${e.phase} ${e.status}`).join(", ")}`);
    return event;
  };
  return { machine, disk, secondDisk: options.secondDisk, done };
}
