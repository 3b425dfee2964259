// Runs guest programs in the emulated PC, for tests of the guest runtime and of code that must behave the
// same under QuickJS: a small FAT disk holds the programs and files, the kernel is loaded directly (no
// BIOS disk boot needed) with test/guest/run-init.ts as PID 1, which runs each command and reports its
// exit status and captured output on the probe channel. One boot runs any number of commands.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDiskImage, openVolume } from "../emulator/disk/image.ts";
import { Machine, type ObservedEvent } from "../emulator/machine.ts";
import { loadFirmware, REPO_ROOT } from "../emulator/node.ts";
import { buildGuestProgram } from "../images/guest.ts";
import { loadBootParts } from "../images/loader/parts.ts";

export interface GuestCommand {
  argv: string[];
  /** "NAME=value" strings; none by default. */
  env?: string[];
  stdin?: string;
}

export interface GuestResult {
  code: number | null;
  signal: number | null;
  spawnError?: string;
  stdout: string;
  stderr: string;
}

export interface GuestRun {
  results: GuestResult[];
  /** The disk as the guest left it (synced before power-off). */
  disk: Uint8Array;
  console: string;
  /** Every probe event with the guest instruction count when it arrived (programs may mark spans there). */
  events: ObservedEvent[];
}

const INIT = "/init.exe";

/** Boots once and runs the commands in order; files are volume paths ("/t/x.exe") to contents. */
export async function runInGuest(
  files: Record<string, Uint8Array | string>,
  commands: GuestCommand[],
  options: { timeoutMs?: number; secondDisk?: Uint8Array } = {},
): Promise<GuestRun> {
  const [{ template, loader }, init] = await Promise.all([loadBootParts(), buildGuestProgram(join(REPO_ROOT, "test", "guest", "run-init.ts"))]);
  const encoded = Object.fromEntries(Object.entries(files).map(([path, data]) => [path, typeof data === "string" ? new TextEncoder().encode(data) : data]));
  const disk = buildDiskImage({
    template,
    loader,
    sizeMiB: 24,
    files: { ...encoded, [INIT]: init, "/guest-run.json": new TextEncoder().encode(JSON.stringify(commands)) },
    directories: ["/dev", "/proc", "/tmp"],
  });
  const bzImage = readFileSync(join(REPO_ROOT, "images", "prebuilt", "bzImage"));
  const cmdline = `console=ttyS0 quiet tsc=reliable libata.force=2.00:disable root=/dev/sda1 rootfstype=vfat rw init=${INIT}`;
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "kernel", bzImage, cmdline, disk }, secondDisk: options.secondDisk });
  try {
    await machine.waitForPhase("power-off", options.timeoutMs ?? 60_000);
    const results = machine.events.filter((e) => (e.phase as string) === "guest-run").map((e) => e.data as unknown as GuestResult);
    return { results, disk, console: machine.console, events: [...machine.events] };
  } finally {
    await machine.stop();
  }
}

/** Reads a file back from the disk a guest run left. */
export function readGuestFile(run: GuestRun, path: string): Uint8Array {
  return openVolume(run.disk).readFile(path);
}
