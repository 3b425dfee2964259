// The CLI's tools end to end through `node bin/smss86.cjs`: boot's serial logs and `smss86 log` (markers,
// --phase, following a running boot), snapshots (saved at --until, started from, refused when made from
// other images), the live progress line on a terminal, and `smss86 disk` on a copy of the default disk.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { locateKernel, openVolume, PARTITION_START_LBA, readBootMap, readPartition } from "../emulator/disk/image.ts";
import { REPO_ROOT } from "../emulator/node.ts";
import { decodeSnapshot, encodeSnapshot, V86_VERSION } from "../emulator/snapshot.ts";
import { ensureDefaultDisk } from "../images/disk.ts";

const BIN = join(REPO_ROOT, "bin", "smss86.cjs");
const work = mkdtempSync(join(tmpdir(), "smss86-tools-"));

function smss86(args: string[], options: { input?: string; timeout?: number } = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: work,
    input: options.input,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    timeout: options.timeout ?? 120_000,
    maxBuffer: 1 << 28,
  });
  return { status: result.status, stdout: result.stdout.toString(), stdoutBytes: new Uint8Array(result.stdout), stderr: result.stderr.toString() };
}

describe("boot's serial logs, smss86 log and snapshots", () => {
  let boot: ReturnType<typeof smss86>;

  beforeAll(() => {
    boot = smss86(["boot", "--until", "ready", "--console-log", "c.log", "--probe-log", "p.log", "--snapshot", "s.snap"]);
  });

  it("keeps both serial lines, each line stamped with host time, under a header and above an end marker", () => {
    expect(boot.status, boot.stderr).toBe(0);
    // Off a terminal, progress is a plain line per event.
    expect(boot.stderr).toMatch(/^\[smss86\] \d+\.\d\d s  \S+ instr  ready done$/m);
    expect(boot.stderr).toMatch(/^\[smss86\] saved the machine's state to s\.snap \(\d+ MiB\)$/m);
    const consoleLines = readFileSync(join(work, "c.log"), "utf8").trimEnd().split("\n");
    expect(JSON.parse(consoleLines[0].replace("# smss86 console log ", ""))).toMatchObject({ disk: "default disk", probeLog: "p.log" });
    expect(consoleLines).toContainEqual(expect.stringMatching(/^\+\d+\.\d{3}s smss86 loader: loading the kernel/));
    expect(consoleLines).toContainEqual(expect.stringMatching(/^\+\d+\.\d{3}s smss: Session Manager starting as pid 1/));
    expect(consoleLines.at(-1)).toMatch(/^# end \{"result":"ok","wallMs":\d+\}$/);
    const probeLines = readFileSync(join(work, "p.log"), "utf8").trimEnd().split("\n");
    expect(probeLines[0]).toMatch(/^# smss86 probe log \{/);
    const events = probeLines.slice(1, -1).map((line) => JSON.parse(line.replace(/^\+\d+\.\d{3}s /, "")));
    expect(events.filter((e) => e.status === "done").map((e) => e.phase)).toContain("ready");
    expect(events[0]).toMatchObject({ phase: "smss-start", status: "start", t: expect.any(Number) });
    // Host times only grow.
    const times = probeLines.slice(1, -1).map((line) => Number(/^\+(\S+)s/.exec(line)![1]));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("prints a probe log as a line per event and a console log with phase markers from the probe log beside it", () => {
    const probe = smss86(["log", "p.log"]);
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout).toMatch(/^\+\d+\.\d{3}s smss-start +start +guest +\d+ ms$/m);
    expect(probe.stdout).toMatch(/^\+\d+\.\d{3}s ready +done +guest +\d+ ms  \{"uptimeMs":\d+\}$/m);
    const log = smss86(["log", "c.log"]);
    expect(log.status, log.stderr).toBe(0);
    const lines = log.stdout.trimEnd().split("\n");
    const starting = lines.findIndex((line) => /smss: Session Manager starting/.test(line));
    const mountStart = lines.findIndex((line) => /── mount start ──$/.test(line));
    const readyLine = lines.findIndex((line) => /smss: ready after/.test(line));
    expect(starting).toBeGreaterThan(0);
    expect(mountStart).toBeGreaterThan(starting);
    expect(readyLine).toBeGreaterThan(mountStart);
    expect(lines.at(-1)).toMatch(/^── end of the boot: ok, \d+\.\d{3} s ──$/);
  });

  it("--phase keeps one phase's span: its console lines, or its events and those within it", () => {
    const ready = smss86(["log", "c.log", "--phase", "ready"]);
    expect(ready.status, ready.stderr).toBe(0);
    expect(ready.stdout).toMatch(/── ready start ──\n(.*\n)*.*smss: ready after \d+ ms\n/);
    expect(ready.stdout).not.toMatch(/smss86 loader|mount/);
    const bootExecute = smss86(["log", "p.log", "--phase", "boot-execute"]);
    expect(bootExecute.stdout.trimEnd().split("\n").map((line) => line.split(/\s+/).slice(1, 3).join(" "))).toEqual([
      "boot-execute start",
      "autochk start",
      "autochk done",
      "boot-execute done",
    ]);
    const never = smss86(["log", "c.log", "--phase", "restart"]);
    expect(never.status).toBe(1);
    expect(never.stderr).toBe(`smss86 log: ${join(work, "p.log")}: phase "restart" never ran in this boot\n`);
  });

  it("--probe-log names the probe log for a console log that does not name one", () => {
    writeFileSync(join(work, "bare.log"), readFileSync(join(work, "c.log"), "utf8").replace(/,"probeLog":"p\.log"/, ""));
    expect(smss86(["log", "bare.log"]).stdout).not.toMatch(/──.*start ──/);
    const log = smss86(["log", "bare.log", "--probe-log", "p.log", "--phase", "mount"]);
    expect(log.status, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/^\+\S+ ── mount start ──\n\+\S+ ── mount done ──\n$/);
  });

  it("saves a snapshot made from what it booted, and a boot from it answers at once", () => {
    const { header } = decodeSnapshot(new Uint8Array(readFileSync(join(work, "s.snap"))), "s.snap");
    expect(header).toMatchObject({ format: 1, v86: V86_VERSION, memoryMiB: 64, diskBytes: 64 * 2 ** 20 });
    expect(header.phasesDone.at(-1)).toBe("ready");
    const resumed = smss86(["boot", "--from-snapshot", "s.snap", "--timeout", "60", "--console-log", "r.log"], { input: "User\npassword\nver\nshutdown\n" });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/smss86 \[Version 6\.1\.7601\][\s\S]*Windows is shutting down/);
    expect(resumed.stderr).toMatch(/starting from s\.snap \(saved after ready;/);
    expect(resumed.stderr).toMatch(/result: +the guest powered off/);
    // No boot came before the first line: the machine's clock starts where the snapshot was saved.
    expect(readFileSync(join(work, "r.log"), "utf8")).not.toMatch(/smss86 loader/);
  });

  it("refuses a snapshot made from another disk, BIOS or memory size, naming what differs, and one saved past --until", () => {
    const disk = join(work, "other.img");
    copyFileSync(join(REPO_ROOT, "build", "disk.img"), disk);
    expect(smss86(["disk", "put", "other.img", "p.log", "/p.log"]).status).toBe(0);
    const otherDisk = smss86(["boot", "--from-snapshot", "s.snap", "--disk", "other.img"]);
    expect(otherDisk.status).toBe(1);
    expect(otherDisk.stderr).toMatch(
      /^smss86 boot: s\.snap: made from another disk image \(\S+\/build\/disk\.img, 67108864 bytes, sha256 [0-9a-f]{12}; this boot's other\.img has 67108864 bytes, sha256 [0-9a-f]{12}\); not started\n$/,
    );
    const { header, state } = decodeSnapshot(new Uint8Array(readFileSync(join(work, "s.snap"))), "s.snap");
    writeFileSync(join(work, "bios.snap"), encodeSnapshot({ ...header, bios: "0".repeat(64) }, state));
    const otherBios = smss86(["boot", "--from-snapshot", "bios.snap"]);
    expect(otherBios.status).toBe(1);
    expect(otherBios.stderr).toMatch(/^smss86 boot: bios\.snap: made from another BIOS \(sha256 000000000000, not sha256 [0-9a-f]{12}\); not started\n$/);
    const memory = smss86(["boot", "--from-snapshot", "s.snap", "--memory", "128"]);
    expect(memory.stderr).toBe("smss86 boot: s.snap: made from 64 MiB of memory, not 128; not started\n");
    const until = smss86(["boot", "--from-snapshot", "s.snap", "--until", "ready"]);
    expect(until.status).toBe(1);
    expect(until.stderr).toBe('smss86 boot: s.snap: was saved after phase "ready" was done: --until ready would never come\n');
    writeFileSync(join(work, "bare.state"), new Uint8Array(state));
    expect(smss86(["boot", "--from-snapshot", "bare.state"]).stderr).toBe(
      "smss86 boot: bare.state: a bare v86 state without the smss86 snapshot header, so what it was made from is unknown; not started\n",
    );
  });
});

describe("following a running boot's log", () => {
  it("`log -f` prints lines as the boot writes them and ends with the boot's end marker", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smss86-follow-"));
    const booting = spawn(process.execPath, [BIN, "boot", "--until", "ready", "--console-log", "f.log", "--probe-log", "fp.log"], { cwd: dir, stdio: "ignore" });
    const bootEnded = new Promise<number | null>((resolve) => booting.on("exit", resolve));
    while (!existsSync(join(dir, "f.log"))) await new Promise((resume) => setTimeout(resume, 5));
    const follower = spawn(process.execPath, [BIN, "log", "-f", "f.log"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let printedWhileBooting = false;
    follower.stdout.on("data", (chunk: Buffer) => {
      // Lines of the log while the boot still ran: what -f is for.
      if (output === "" && booting.exitCode === null) printedWhileBooting = true;
      output += chunk.toString();
    });
    const followerStatus = await new Promise<number | null>((resolve) => follower.on("exit", resolve));
    expect(await bootEnded).toBe(0);
    expect(followerStatus).toBe(0);
    expect(printedWhileBooting).toBe(true);
    expect(output).toMatch(/smss: Session Manager starting as pid 1/);
    expect(output).toMatch(/── ready done ──/);
    expect(output.trimEnd().split("\n").at(-1)).toMatch(/^── end of the boot: ok, /);
  }, 120_000);

  it("`log -f` of a log without its end marker goes on until Ctrl-C, having printed what is there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smss86-follow-"));
    writeFileSync(join(dir, "open.log"), '# smss86 console log {"disk":"d","started":"s"}\n+0.100s first line\n');
    const follower = spawn(process.execPath, [BIN, "log", "-f", "open.log"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    follower.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    while (!output.includes("first line")) await new Promise((resume) => setTimeout(resume, 20));
    writeFileSync(join(dir, "open.log"), "+0.200s second line\n", { flag: "a" });
    while (!output.includes("second line")) await new Promise((resume) => setTimeout(resume, 20));
    expect(follower.exitCode).toBeNull();
    follower.kill("SIGINT");
    const ended = await new Promise<NodeJS.Signals | null>((resolve) => follower.on("exit", (_code, signal) => resolve(signal)));
    expect(ended).toBe("SIGINT");
    expect(output).toBe("+0.100s first line\n+0.200s second line\n");
  }, 60_000);

  it("without -f, a log whose boot has not ended is printed with a note on stderr", () => {
    writeFileSync(join(work, "open.log"), '# smss86 probe log {"disk":"d","started":"s"}\n+0.100s {"t":5,"phase":"mount","status":"start"}\n');
    const log = smss86(["log", "open.log"]);
    expect(log.status).toBe(0);
    expect(log.stdout).toMatch(/^\+0\.100s mount +start +guest +5 ms\n$/);
    expect(log.stderr).toBe("smss86 log: open.log: no end marker: its boot is still running, or was killed (-f follows it)\n");
  });
});

describe("progress while booting", () => {
  /** util-linux's script gives the command a pseudo-terminal, as a person's shell would. */
  function onTerminal(args: string): string {
    const result = spawnSync("script", ["-qfec", `${process.execPath} ${BIN} ${args}`, "/dev/null"], { cwd: work, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    expect(result.status, result.stdout.toString()).toBe(0);
    return result.stdout.toString();
  }

  it("on a terminal: one live line rewritten in place with the phase, elapsed time and instructions", () => {
    const output = onTerminal("boot --until ready");
    expect(output).toMatch(/\r\x1b\[K\x1b\[2m\[smss86\] +\d+\.\d s  \d\.\d\de[+-]\d+ instr  [a-z-]+ (start|done)\x1b\[0m/);
    // No line per event, as there is off a terminal.
    expect(output).not.toMatch(/\[smss86\] \d+\.\d\d s  \S+ instr  mount done/);
    expect(output).toMatch(/result: +reached the requested event/);
  });

  it("--quiet on a terminal: no live line", () => {
    const output = onTerminal("boot --until ready --quiet");
    expect(output).not.toMatch(/instr  /);
    expect(output).toMatch(/result: +reached the requested event/);
  });
});

describe("smss86 disk", () => {
  let image: string;
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  beforeAll(async () => {
    image = join(work, "disk.img");
    copyFileSync(await ensureDefaultDisk(), image);
  });

  it("lists the root and a directory, as Windows or as Unix writes the path", () => {
    const root = smss86(["disk", "ls", "disk.img"]);
    expect(root.status, root.stderr).toBe(0);
    expect(root.stdout).toMatch(/^ +<DIR>  \d{4}-\d\d-\d\d \d\d:\d\d  Windows\/$/m);
    expect(root.stdout).toMatch(/^ +\d+  \d{4}-\d\d-\d\d \d\d:\d\d  pagefile\.sys$/m);
    expect(smss86(["disk", "ls", "disk.img", "C:\\Windows\\System32"]).stdout).toMatch(/  smss\.exe$/m);
    expect(smss86(["disk", "ls", "disk.img", "windows/system32/SMSS.EXE"]).stdout).toMatch(/^ +\d+  \S+ \S+  smss\.exe\n$/);
  });

  it("cat prints a file byte for byte, as mtools reads it", () => {
    const cat = smss86(["disk", "cat", "disk.img", "/Windows/System32/win32k.sys"]);
    expect(cat.status).toBe(0);
    const viaMtools = spawnSync("mtype", ["-i", `${image}@@${PARTITION_START_LBA * 512}`, "::/Windows/System32/win32k.sys"], { env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
    expect(Buffer.compare(cat.stdoutBytes, viaMtools.stdout)).toBe(0);
    expect([...cat.stdoutBytes.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  });

  it("put, mkdir and rm change the volume; fsck.fat finds it clean; the image keeps its mode and the link to it", () => {
    const payload = new Uint8Array(40_000).map((_, i) => (i * 7919) % 251);
    writeFileSync(join(work, "payload.bin"), payload);
    symlinkSync("disk.img", join(work, "link.img"));
    chmodSync(image, 0o640);
    expect(smss86(["disk", "mkdir", "link.img", "/Tools/Deep/Er"]).status).toBe(0);
    expect(smss86(["disk", "put", "link.img", "payload.bin", "C:\\Tools\\Deep\\data.bin"]).status).toBe(0);
    // A directory as PATH receives the file under its own name.
    expect(smss86(["disk", "put", "link.img", "payload.bin", "/Tools/Deep/Er"]).status).toBe(0);
    const volume = openVolume(new Uint8Array(readFileSync(image)));
    expect(volume.readFile("/Tools/Deep/data.bin")).toEqual(payload);
    expect(volume.readFile("/Tools/Deep/Er/payload.bin")).toEqual(payload);
    expect(smss86(["disk", "cat", "disk.img", "/tools/deep/DATA.BIN"]).stdoutBytes).toEqual(payload);
    expect(lstatSync(join(work, "link.img")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(work, "link.img"))).toBe("disk.img");
    expect(statSync(image).mode & 0o777).toBe(0o640);

    expect(smss86(["disk", "rm", "disk.img", "/Tools/Deep/Er/payload.bin"]).status).toBe(0);
    expect(smss86(["disk", "rm", "disk.img", "/Tools/Deep/Er"]).status).toBe(0);
    expect(smss86(["disk", "ls", "disk.img", "/Tools/Deep"]).stdout).toMatch(/^ +40000  \S+ \S+  data\.bin\n$/);
    const partition = join(work, "partition.img");
    writeFileSync(partition, readPartition(new Uint8Array(readFileSync(image))));
    const fsck = spawnSync("fsck.fat", ["-n", partition], { encoding: "utf8" });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
  });

  it("the changed image still boots, and the guest writes its boot log beside the file put there", () => {
    writeFileSync(join(work, "hello.txt"), "put there by smss86 disk\n");
    expect(smss86(["disk", "mkdir", "disk.img", "/Temp"]).status).toBe(0);
    expect(smss86(["disk", "put", "disk.img", "hello.txt", "/Temp/hello.txt"]).status).toBe(0);
    const booted = smss86(["boot", "--disk", "disk.img", "--until", "ready", "--quiet", "--save-disk", "after.img"]);
    expect(booted.status, booted.stderr).toBe(0);
    const volume = openVolume(new Uint8Array(readFileSync(join(work, "after.img"))));
    expect(text(volume.readFile("/Temp/hello.txt"))).toBe("put there by smss86 disk\n");
    expect(text(volume.readFile("/Windows/ntbtlog.txt"))).toMatch(/^BOOT 1 smss pid=1 /);
  });

  it("a kernel put there again moves the boot loader's map with it, and one that would lie in pieces is refused", () => {
    copyFileSync(image, join(work, "kernel.img"));
    const kernel = openVolume(new Uint8Array(readFileSync(join(work, "kernel.img")))).readFile("/boot/bzImage");
    writeFileSync(join(work, "bzImage"), kernel);
    // A file as large as the kernel first, so that the kernel put after it lies elsewhere.
    writeFileSync(join(work, "filler.bin"), new Uint8Array(kernel.length));
    expect(smss86(["disk", "rm", "kernel.img", "/boot/bzImage"]).status).toBe(0);
    expect(smss86(["disk", "put", "kernel.img", "filler.bin", "/filler.bin"]).status).toBe(0);
    const put = smss86(["disk", "put", "kernel.img", "bzImage", "/boot/bzImage"]);
    expect(put.status, put.stderr).toBe(0);
    const disk = new Uint8Array(readFileSync(join(work, "kernel.img")));
    expect(readBootMap(disk)).toMatchObject(locateKernel(disk, "/boot/bzImage"));
    expect(readBootMap(disk).kernelLba).not.toBe(readBootMap(new Uint8Array(readFileSync(image))).kernelLba);
    const booted = smss86(["boot", "--disk", "kernel.img", "--until", "smss-start", "--quiet"]);
    expect(booted.status, booted.stderr).toBe(0);
    // Free a cluster in the middle of the filler: a kernel put again would start there and lie in two pieces.
    writeFileSync(join(work, "one-cluster.bin"), new Uint8Array(4096));
    expect(smss86(["disk", "rm", "kernel.img", "/filler.bin"]).status).toBe(0);
    expect(smss86(["disk", "put", "kernel.img", "one-cluster.bin", "/a.bin"]).status).toBe(0);
    expect(smss86(["disk", "put", "kernel.img", "one-cluster.bin", "/b.bin"]).status).toBe(0);
    expect(smss86(["disk", "rm", "kernel.img", "/a.bin"]).status).toBe(0);
    const before = readFileSync(join(work, "kernel.img"));
    const refused = smss86(["disk", "put", "kernel.img", "bzImage", "/boot/bzImage"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/kernel\.img: boot map: the kernel \/boot\/bzImage lies in [2-9] pieces; the loader needs it in one; the image is left as it was/);
    expect(Buffer.compare(readFileSync(join(work, "kernel.img")), before)).toBe(0);
  });

  it("`smss86 disk` alone shows its usage and exits 2", () => {
    const bare = smss86(["disk"]);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: smss86 disk \[options\] \[command\]\n/);
    expect(bare.stderr).toMatch(/put <IMAGE> <SRC> <PATH> +copy a host file onto the C: volume/);
  });
});
