// Boots the real default disk (SeaBIOS → MBR → smss86 loader → Linux → smss.exe) and checks what each stage left.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootMachine, type BootedMachine } from "smss86";
import { openVolume, PARTITION_START_LBA, readBootMap } from "../emulator/disk/image.ts";
import { Machine } from "../emulator/machine.ts";
import { loadDiskImage, loadFirmware, REPO_ROOT } from "../emulator/node.ts";
import { ensureDefaultDisk } from "../images/disk.ts";
import { DONE_ON_A_GOOD_BOOT } from "./phases.ts";

const BOOT_TIMEOUT_MS = 60_000;

describe("boot from the default disk", () => {
  let machine: BootedMachine;

  beforeAll(async () => {
    machine = await bootMachine({ timeoutMs: BOOT_TIMEOUT_MS });
    await machine.waitForPhase("ready");
  });
  afterAll(async () => machine?.stop());

  it("went through SeaBIOS and smss86's loader, not a direct kernel load", () => {
    expect(machine.screenText()).toMatch(/SeaBIOS[\s\S]*smss86 loader: loading the kernel/);
    expect(machine.console).toMatch(/^smss86 loader: loading the kernel\r?$/m);
    const info = machine.events.find((e) => e.phase === "system-info" && e.status === "done")!;
    // The boot map's command line starts with BOOT_IMAGE= naming the kernel file, as other loaders add it.
    expect(info.data!.commandLine).toMatch(/^BOOT_IMAGE=\/boot\/bzImage .*init=\/Windows\/System32\/smss\.exe/);
  });

  it("runs smss as PID 1 from \\Windows\\System32\\smss.exe", () => {
    const start = machine.events.find((e) => e.phase === "smss-start" && e.status === "done")!;
    expect(start.data).toMatchObject({
      pid: 1,
      image: "/Windows/System32/smss.exe",
      ntImage: "\\SystemRoot\\System32\\smss.exe",
    });
  });

  it("reports its phases in order, each started and done", () => {
    const done = machine.events.filter((e) => e.status === "done").map((e) => e.phase);
    expect(done).toEqual(DONE_ON_A_GOOD_BOOT);
    expect(machine.events.filter((e) => e.status === "failed")).toEqual([]);
    const info = machine.events.find((e) => e.phase === "system-info" && e.status === "done")!;
    expect(info.data!.memoryKiB).toBeGreaterThan(32 * 1024);
    expect(info.data!.kernelRelease).toMatch(/^6\.1\./);
  });

  it("left its boot log on C:, readable by our FAT reader and by mtools", async () => {
    const log = new TextDecoder().decode(machine.readFile("/Windows/ntbtlog.txt"));
    expect(log).toMatch(/^BOOT 1 smss pid=1 kernel=6\.1\.\S+ cmdline="BOOT_IMAGE=/);

    const dir = mkdtempSync(join(tmpdir(), "smss86-boot-"));
    const image = join(dir, "disk.img");
    await machine.saveDisk(image);
    const viaMtools = execFileSync("mtype", ["-i", `${image}@@${PARTITION_START_LBA * 512}`, "::/Windows/ntbtlog.txt"], {
      env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
    }).toString();
    expect(viaMtools).toBe(log);
  });

  it("answers on the control line and ends in a STOP screen when asked to crash", async () => {
    await machine.command("crash");
    const outcome = await machine.waitForEnd();
    expect(outcome).toMatchObject({ kind: "stop", code: 0xc000021a, reason: "crash requested on the control line" });
    expect(machine.console).toMatch(/\*\*\* STOP: 0xC000021A \(0x00000000,0x00000000,0x00000000,0x00000000\)/);
  });
});

describe("boot variants", () => {
  it("the loader says why it cannot boot and stops there: a disk without a boot map, a map naming no kernel or too long a command line", async () => {
    const base = loadDiskImage(await ensureDefaultDisk());
    const mapOffset = 7 * 512;
    const cases: [string, (disk: Uint8Array) => void, RegExp][] = [
      ["no map", (disk) => disk.fill(0, mapOffset, mapOffset + 512), /smss86 loader: no boot map \(the disk was not made by smss86's disk builder\)/],
      // The map's kernel sector moved onto the volume's boot sector: no Linux header there.
      ["no kernel", (disk) => new DataView(disk.buffer).setUint32(mapOffset + 8, PARTITION_START_LBA, true), /smss86 loader: the boot map does not point at a Linux kernel/],
      // A length past the map's sector: the loader reads no further than the sector.
      ["long command line", (disk) => new DataView(disk.buffer).setUint16(mapOffset + 16, 494, true), /smss86 loader: the boot map's command line is too long/],
    ];
    expect(readBootMap(base).kernelLba).toBeGreaterThan(PARTITION_START_LBA);
    for (const [what, corrupt, message] of cases) {
      const disk = base.slice();
      corrupt(disk);
      const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "disk", disk } });
      try {
        const deadline = Date.now() + BOOT_TIMEOUT_MS;
        while (!message.test(machine.console) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(machine.console, what).toMatch(message);
        expect(machine.screenText(), what).toMatch(message);
        // Halted, not gone on: the kernel never started.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(machine.bootMarks.kernelStart, what).toBeUndefined();
        expect(machine.events, what).toEqual([]);
      } finally {
        await machine.stop();
      }
    }
  });

  it("boots the same disk with the kernel loaded directly by the host, without the boot loader", async () => {
    const disk = loadDiskImage(await ensureDefaultDisk());
    const bzImage = readFileSync(join(REPO_ROOT, "images", "prebuilt", "bzImage"));
    const cmdline = "console=ttyS0 root=/dev/sda1 rootfstype=vfat rw init=/Windows/System32/smss.exe";
    const machine = await Machine.start({ firmware: loadFirmware(), boot: { kind: "kernel", bzImage, cmdline, disk } });
    try {
      const info = await machine.waitForPhase("system-info", BOOT_TIMEOUT_MS);
      expect(info.data!.commandLine).toBe(cmdline);
      expect(machine.console).not.toMatch(/smss86 loader/);
    } finally {
      await machine.stop();
    }
  });

  it("`smss86 boot --until ready --json FILE` exits 0 and reports every phase", () => {
    const dir = mkdtempSync(join(tmpdir(), "smss86-cli-"));
    const report = join(dir, "report.json");
    const result = spawnSync(process.execPath, ["bin/smss86.cjs", "boot", "--until", "ready", "--json", report], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    expect(result.status, result.stderr.toString()).toBe(0);
    // The console (COM1) and the probe channel (COM2) drain separately: only what smss printed well before
    // "ready" is sure to be out when the machine stops.
    expect(result.stdout.toString()).toMatch(/smss: Session Manager starting as pid 1/);
    expect(result.stderr.toString()).toMatch(/smss86 boot summary[\s\S]*result: +reached the requested event/);
    const json = JSON.parse(readFileSync(report, "utf8"));
    expect(json.result).toBe("ok");
    expect(json.phases.filter((p: { status: string }) => p.status === "done").map((p: { phase: string }) => p.phase)).toEqual(DONE_ON_A_GOOD_BOOT);
    expect(json.instructions).toBeGreaterThan(1e6);
  });

  it("on a terminal, Ctrl-] quits a boot, also one waiting for an event with --until", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smss86-cli-"));
    const report = join(dir, "report.json");
    // util-linux's script gives the command a pseudo-terminal, as a person's shell would.
    const child = spawn("script", ["-qfec", `${process.execPath} bin/smss86.cjs boot --until ready --json ${report}`, "/dev/null"], {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdin.on("error", () => {});
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      // At once when the machine starts: smss is not ready for about a second.
      if (output.includes("booting ") && !child.stdin.writableEnded) child.stdin.end("\x1d");
    });
    const status = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(status, output).toBe(0);
    expect(output).toMatch(/result: +stopped at the user's request/);
    const json = JSON.parse(readFileSync(report, "utf8"));
    expect(json.result).toBe("quit");
    expect(json.phases.map((p: { phase: string }) => p.phase)).not.toContain("ready");
  }, 120_000);

  it("takes a logon and shell commands piped into `smss86 boot` and ends when the guest powers off", () => {
    const result = spawnSync(process.execPath, ["bin/smss86.cjs", "boot", "--timeout", "60"], {
      cwd: REPO_ROOT,
      input: "User\npassword\nver\nshutdown\n",
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 120_000,
    });
    expect(result.status, result.stderr.toString()).toBe(0);
    expect(result.stdout.toString()).toMatch(/User name: User\r?\nPassword: \r?\n/);
    expect(result.stdout.toString()).toMatch(/smss86 \[Version 6\.1\.7601\]/);
    expect(result.stdout.toString()).toMatch(/Windows is shutting down/);
    expect(result.stderr.toString()).toMatch(/result: +the guest powered off/);
  });
});

describe("bad disk images", () => {
  const dir = mkdtempSync(join(tmpdir(), "smss86-bad-"));

  it("a missing image is refused with its name", () => {
    expect(() => loadDiskImage(join(dir, "nope.img"))).toThrow(/nope\.img: no such disk image$/);
  });

  it("an image without a boot signature is refused, naming the offset", () => {
    const file = join(dir, "blank.img");
    writeFileSync(file, new Uint8Array(1 << 20));
    expect(() => loadDiskImage(file)).toThrow(/blank\.img: not bootable: MBR signature is 0x0, not 0xaa55 \(at disk offset 0x1fe\)/);
  });

  it("an image whose FAT volume is wiped is refused before booting", async () => {
    const good = readFileSync(await ensureDefaultDisk());
    good.fill(0, PARTITION_START_LBA * 512, PARTITION_START_LBA * 512 + 512);
    const file = join(dir, "wiped.img");
    writeFileSync(file, good);
    expect(() => loadDiskImage(file)).toThrow(/wiped\.img: not bootable: .*(boot sector|signature|BPB)/i);
  });

  it("an image whose kernel was written again after its boot map, or that has no map, is refused before booting", async () => {
    const original = new Uint8Array(readFileSync(await ensureDefaultDisk()));
    const rewritten = (spacerBytes: (kernel: Uint8Array) => number) => {
      const disk = original.slice();
      const volume = openVolume(disk);
      const kernel = volume.readFile("/boot/bzImage");
      volume.delete("/boot/bzImage");
      volume.writeFile("/boot/spacer", new Uint8Array(spacerBytes(kernel)));
      volume.writeFile("/boot/bzImage", kernel);
      return disk;
    };
    // A spacer larger than the kernel takes its old place: the kernel goes elsewhere, in one piece.
    writeFileSync(join(dir, "moved.img"), rewritten((kernel) => kernel.length + 4096));
    expect(() => loadDiskImage(join(dir, "moved.img"))).toThrow(/moved\.img: not bootable: the boot map does not name where \/boot\/bzImage lies/);
    // A one-cluster spacer splits the kernel's old place: the kernel lies in two pieces.
    writeFileSync(join(dir, "split.img"), rewritten(() => 4096));
    expect(() => loadDiskImage(join(dir, "split.img"))).toThrow(/split\.img: not bootable: boot map: the kernel \/boot\/bzImage lies in 2 pieces/);
    const disk = original.slice();
    disk.fill(0, 7 * 512, 8 * 512);
    writeFileSync(join(dir, "unmapped.img"), disk);
    expect(() => loadDiskImage(join(dir, "unmapped.img"))).toThrow(/unmapped\.img: not bootable: no boot map/);
  });

  it("the CLI exits non-zero at once with the reason", () => {
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, ["bin/smss86.cjs", "boot", "--disk", join(dir, "nope.img"), "--until", "ready"], {
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 30_000,
      });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    expect(status).toBe(1);
    expect(stderr).toBe(`smss86 boot: ${join(dir, "nope.img")}: no such disk image\n`);
  });
});
