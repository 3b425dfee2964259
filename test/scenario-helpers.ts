// What the smss phase tests build their scenarios from (booted with bootMachine, the library's own API):
// .reg fragments, REG_MULTI_SZ data, a test program for the guest, and the done event of a phase.
import { join } from "node:path";
import type { BootedMachine, ObservedEvent, Phase } from "smss86";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildGuestProgram } from "../images/guest.ts";

export const SM = "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Session Manager";

/** The machine's done event of `phase`; failing, it lists the events there were. */
export function done(machine: BootedMachine, phase: Phase): ObservedEvent {
  const event = machine.events.find((e) => e.phase === phase && e.status === "done");
  if (!event) throw new Error(`no "${phase}" done event; events: ${machine.events.map((e) => `${e.phase} ${e.status}`).join(", ")}`);
  return event;
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

let smapiClient: Promise<Uint8Array> | undefined;
export function smapiClientProgram(): Promise<Uint8Array> {
  smapiClient ??= buildGuestProgram(join(REPO_ROOT, "test", "guest", "smapi-client.ts"));
  return smapiClient;
}
