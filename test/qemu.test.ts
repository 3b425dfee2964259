// The default disk is a real PC disk, not something only v86 accepts: QEMU (another PC emulator, with its own
// BIOS and IDE controller) boots the same image and smss reports the same phases on its probe line (COM2).
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { openVolume } from "../emulator/disk/image.ts";
import { Machine } from "../emulator/machine.ts";
import { loadDiskImage, loadFirmware } from "../emulator/node.ts";
import { ensureDefaultDisk } from "../images/disk.ts";
import { decodeEvent, PHASES, type PhaseEvent } from "../src/events/index.ts";

const QEMU = "/usr/bin/qemu-system-i386";
/** TCG on a busy 2-core machine: the boot takes a few seconds; allow for much slower. */
const QEMU_BOOT_TIMEOUT_MS = 90_000;

let qemu: ChildProcess | undefined;
/** QEMU's copy of the disk and its serial files. */
const dir = mkdtempSync(join(tmpdir(), "smss86-qemu-"));
afterAll(() => {
  qemu?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

it("QEMU boots the default disk image and smss reports the same phases as under v86", async () => {
  const defaultDisk = await ensureDefaultDisk();
  const disk = join(dir, "disk.img");
  // The guest writes its boot log: give QEMU a copy, not the cached default disk.
  copyFileSync(defaultDisk, disk);
  const consoleFile = join(dir, "console.txt");
  const probeFile = join(dir, "probe.txt");

  qemu = spawn(
    QEMU,
    [
      "-accel", "tcg",
      "-m", "64",
      "-no-reboot",
      "-display", "none",
      "-monitor", "none",
      "-serial", `file:${consoleFile}`,
      "-serial", `file:${probeFile}`,
      "-drive", `file=${disk},format=raw,if=ide`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let qemuErrors = "";
  qemu.stderr!.on("data", (chunk: Buffer) => (qemuErrors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => qemu!.on("exit", resolve));

  const qemuEvents = await waitForProbeEvent(probeFile, (e) => e.phase === "logon-prompt" && e.status === "done", exited, () => qemuErrors);
  qemu.kill("SIGKILL");
  await exited;

  // The same image under v86, for the phases to compare with.
  const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk: loadDiskImage(defaultDisk) } });
  let v86Events: PhaseEvent[];
  try {
    await machine.waitForPhase("logon-prompt", 60_000);
    v86Events = [...machine.events];
  } finally {
    await machine.stop();
  }

  // smss's own phases come in one order; the sessions' processes interleave as each emulator's timing has it.
  const phasesOf = (events: PhaseEvent[]) => events.filter((e) => (PHASES as readonly string[]).includes(e.phase) || e.phase === "autochk").map((e) => `${e.phase} ${e.status}`);
  expect(phasesOf(qemuEvents)).toEqual(phasesOf(v86Events));
  const sessionsOf = (events: PhaseEvent[]) => events.filter((e) => e.phase === "session").map((e) => `${e.data!.sessionId} ${(e.data!.initialCommand as { image: string }).image}`);
  expect(sessionsOf(qemuEvents)).toEqual(sessionsOf(v86Events));
  expect(sessionsOf(qemuEvents)).toHaveLength(2);
  expect(phasesOf(qemuEvents)).toContain("volume-write done");

  // SeaBIOS (QEMU's own build) handed over to smss86's loader in the MBR, as on a PC.
  const info = qemuEvents.find((e) => e.phase === "system-info" && e.status === "done")!;
  expect(info.data!.commandLine).toMatch(/^BOOT_IMAGE=\/boot\/bzImage /);
  expect(info.data!.memoryKiB).toBeGreaterThan(32 * 1024);
  expect(readFileSync(consoleFile, "latin1")).toMatch(/smss86 loader: loading the kernel[\s\S]*smss: Session Manager starting as pid 1/);

  // smss synced its boot log before reporting ready, so it is on QEMU's disk file.
  const log = new TextDecoder().decode(openVolume(new Uint8Array(readFileSync(disk))).readFile("/Windows/ntbtlog.txt"));
  expect(log).toMatch(/^BOOT 1 smss pid=1 kernel=6\.1\.\S+ cmdline="BOOT_IMAGE=/);
}, 180_000);

it("on a PC without a PIIX IDE controller (QEMU's q35: AHCI) the loader reads the kernel through the BIOS instead", async () => {
  const disk = join(dir, "q35.img");
  copyFileSync(await ensureDefaultDisk(), disk);
  const consoleFile = join(dir, "q35-console.txt");
  qemu = spawn(
    QEMU,
    [
      "-accel", "tcg",
      "-machine", "q35",
      "-m", "64",
      "-no-reboot",
      "-display", "none",
      "-monitor", "none",
      "-serial", `file:${consoleFile}`,
      "-drive", `file=${disk},format=raw,if=none,id=boot`,
      "-device", "ide-hd,drive=boot,bus=ide.0",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => qemu!.on("exit", resolve));
  // The kernel has no AHCI driver, so it stops at the root volume: what matters is that it was loaded and ran.
  const rootMissing = /Kernel panic - not syncing: VFS: Unable to mount root fs/;
  const deadline = Date.now() + QEMU_BOOT_TIMEOUT_MS;
  let text = "";
  while (Date.now() < deadline && !rootMissing.test(text)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    text = existsSync(consoleFile) ? readFileSync(consoleFile, "latin1") : "";
  }
  qemu.kill("SIGKILL");
  await exited;
  expect(text).toMatch(/^smss86 loader: loading the kernel\r?$/m);
  expect(text).not.toMatch(/smss86 loader: (?!loading)/);
  expect(text).toMatch(rootMissing);
});

/** Polls QEMU's COM2 file until an event passes `test`; fails with what arrived if QEMU exits or time runs out. */
async function waitForProbeEvent(
  file: string,
  test: (e: PhaseEvent) => boolean,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<PhaseEvent[]> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + QEMU_BOOT_TIMEOUT_MS;
  let events: PhaseEvent[] = [];
  while (Date.now() < deadline) {
    const text = existsSync(file) ? readFileSync(file, "latin1") : "";
    // Only whole lines: QEMU may be part way through writing the last one.
    const lines = text.split("\n").slice(0, -1).map((line) => line.replace(/\r$/, "")).filter((line) => line.trim() !== "");
    events = lines.map(decodeEvent);
    if (events.some(test)) return events;
    if (exitCode !== undefined) throw new Error(`QEMU exited (${exitCode}) before the event; stderr: ${stderr()}; probe: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`QEMU: no ready event within ${QEMU_BOOT_TIMEOUT_MS / 1000} s; probe events so far: ${events.map((e) => `${e.phase} ${e.status}`).join(", ")}`);
}
