// smss's phases from the on-disk SYSTEM hive, booted on the real path with the hive written as .reg text in
// each test, checked through the probe events and the disk read back afterwards.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootMachine, type BootedMachine, type BootMachineOptions, type ObservedEvent, type Phase } from "smss86";
import { PARTITION_START_LBA } from "../emulator/disk/image.ts";
import { SYSTEM_HIVE_ON_DISK } from "../emulator/scenario.ts";
import { FatVolume } from "../src/fat/fat.ts";
import { splitMultiString } from "../src/config/values.ts";
import { Hive } from "../src/hive/index.ts";
import { done, envdumpProgram, multiSz, regFragment, SM, smapiClientProgram } from "./scenario-helpers.ts";
import { NtStatus } from "../src/smapi/index.ts";
import { PHASES } from "../src/events/index.ts";

const running: BootedMachine[] = [];
afterAll(async () => {
  for (const machine of running) await machine.stop();
});
/**
 * The default disk changed as asked, started from the scenario point where the disk allows it (the first
 * test shows that is the same as booting it), and waited on until `until` is done (when one is given).
 */
async function boot(options: BootMachineOptions, until?: Phase): Promise<BootedMachine> {
  const machine = await bootMachine({ fromScenarioPoint: true, ...options });
  running.push(machine);
  if (until) await machine.waitForPhase(until);
  return machine;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
function hiveOnDisk(machine: BootedMachine): Hive {
  return Hive.open(machine.readFile(SYSTEM_HIVE_ON_DISK));
}

describe("the default hive", () => {
  let scenario: BootedMachine;
  it("boots through every phase in order", async () => {
    scenario = await boot({ fromScenarioPoint: false, files: { "/Windows/System32/envdump.exe": await envdumpProgram() } }, "ready");
    expect(scenario.startedFrom).toBe("power-on");
    // After ready come the sessions' events (test/sessions.test.ts); smss's own phases are these.
    const phasesDone = scenario.events.filter((e) => e.status === "done" && (PHASES as readonly string[]).includes(e.phase)).map((e) => e.phase);
    expect(phasesDone).toEqual([
      "smss-start", "mount", "system-info", "hive", "environment", "object-namespace", "boot-execute",
      "volume-write", "renames", "paging-files", "dynamic-environment", "kmode", "ready",
    ]);
    expect(scenario.events.filter((e) => e.status === "failed")).toEqual([]);
    expect(done(scenario, "system-info").data!.commandLine).toMatch(/ ro init=\/Windows\/System32\/smss\.exe/);
  });

  it("runs autochk.exe, which is only bytecode, on the shared runtime qjs.exe that smss registered", () => {
    expect(done(scenario, "mount").data!.sharedRuntime).toBe("/Windows/System32/qjs.exe");
    const autochk = scenario.readFile("/Windows/System32/autochk.exe");
    expect(text(autochk.subarray(0, 8))).toBe("S86QJSX1");
    expect(autochk.length).toBeLessThan(100_000);
    expect(done(scenario, "boot-execute").data!.commands).toMatchObject([{ exitCode: 0 }]);
  });

  it("does from the scenario point what it does from power-on", async () => {
    const restored = await boot({ files: { "/Windows/System32/envdump.exe": await envdumpProgram() } }, "ready");
    expect(restored.startedFrom).toBe("scenario point");
    expect(done(restored, "scenario-point").data).toEqual({ bootDevice: "/dev/sda1" });
    const phases: Phase[] = ["hive", "environment", "object-namespace", "autochk", "boot-execute", "renames", "paging-files", "dynamic-environment"];
    for (const phase of phases) expect(done(restored, phase).data, phase).toEqual(done(scenario, phase).data);
    // The boot log records the kernel command line, which has the switches in it; otherwise the disks agree.
    const files = (machine: BootedMachine, path: string) => machine.volume().list(path).map(({ name, size }) => (name === "ntbtlog.txt" ? name : `${name} ${size}`));
    for (const path of ["/", "/Windows", "/Windows/System32", "/Windows/System32/config"]) expect(files(restored, path), path).toEqual(files(scenario, path));
    const bootLog = (machine: BootedMachine) => text(machine.readFile("/Windows/ntbtlog.txt")).replace(" smss86.scenario-point", "").replace(" smss86.test-control", "");
    expect(bootLog(restored)).toBe(bootLog(scenario));
  });

  it("sets the Environment values in order, REG_EXPAND_SZ expanded", () => {
    const variables = done(scenario, "environment").data!.variables as { name: string; value: string; expanded: boolean }[];
    const value = (name: string) => variables.find((v) => v.name === name);
    expect(variables[0]).toEqual({ name: "SystemRoot", value: "C:\\Windows", expanded: false });
    expect(value("ComSpec")).toEqual({ name: "ComSpec", value: "C:\\Windows\\system32\\cmd.exe", expanded: true });
    expect(value("Path")!.value).toMatch(/^C:\\Windows\\system32;C:\\Windows;/);
    expect(value("TEMP")!.value).toBe("C:\\Windows\\TEMP");
    expect(value("windir")!.value).toBe("C:\\Windows");
    expect(value("PATHEXT")!.expanded).toBe(false);
  });

  it("links the DOS devices to the guest's devices", () => {
    const links = done(scenario, "object-namespace").data!.links as { name: string; target: string; resolves: string }[];
    const link = (name: string) => links.find((l) => l.name === name);
    expect(link("\\GLOBAL??\\COM1")).toMatchObject({ target: "\\Device\\Serial0", resolves: "char 4:64" });
    expect(link("\\GLOBAL??\\COM2")).toMatchObject({ resolves: "char 4:65" });
    expect(link("\\GLOBAL??\\AUX")).toMatchObject({ target: "\\DosDevices\\COM1", resolves: "char 4:64" });
    expect(link("\\GLOBAL??\\NUL")).toMatchObject({ target: "\\Device\\Null", resolves: "char 1:3" });
    expect(link("\\GLOBAL??\\CON")).toMatchObject({ resolves: "char 5:1" });
    // v86 emulates one parallel port (0x378): LPT1; LPT2 and LPT3 exist as links, as in Windows, and lead nowhere.
    expect(link("\\GLOBAL??\\PRN")).toMatchObject({ target: "\\DosDevices\\LPT1", resolves: "char 6:0" });
    expect(link("\\GLOBAL??\\LPT1")).toMatchObject({ target: "\\Device\\Parallel0", resolves: "char 6:0" });
    expect(link("\\GLOBAL??\\LPT2")).toMatchObject({ resolves: "missing" });
    expect(link("\\GLOBAL??\\C:")).toMatchObject({ target: "\\Device\\HarddiskVolume1", resolves: "directory" });
    expect(done(scenario, "object-namespace").data!.volumes).toEqual([{ device: "\\Device\\HarddiskVolume1", letter: "C:", blockDevice: "/dev/sda1", mounted: true }]);
  });

  it("runs autochk on the clean boot volume without checking it, then remounts C: read-write", () => {
    expect(done(scenario, "autochk").data).toMatchObject({ volume: "C:", blockDevice: "/dev/sda1", dirty: false, checked: false });
    expect(done(scenario, "boot-execute").data).toMatchObject({
      commands: [{ line: "autocheck autochk *", image: "/NT/??/C:/Windows/system32/autochk.exe", exitCode: 0 }],
      remountedReadWrite: true,
    });
  });

  it("activates the page file as swap and writes ExistingPageFiles and the dynamic variables back", async () => {
    const paging = done(scenario, "paging-files").data!;
    expect(paging.files).toEqual([expect.objectContaining({ path: "\\??\\C:\\pagefile.sys", sizeMiB: 4, active: true })]);
    expect(paging.swaps).toMatch(/\/pagefile\.sys\s+file\s+4092\s/);
    await scenario.command("shutdown");
    await scenario.waitForEnd();
    const hive = hiveOnDisk(scenario);
    const sm = hive.key("ControlSet001\\Control\\Session Manager")!;
    expect(splitMultiString(sm.subkey("Memory Management")!.value("ExistingPageFiles")!.data)).toEqual(["\\??\\C:\\pagefile.sys"]);
    const written = done(scenario, "dynamic-environment").data!.written as { name: string; value: string }[];
    expect(written.map((w) => w.name)).toEqual(["OS", "PROCESSOR_ARCHITECTURE", "PROCESSOR_LEVEL", "PROCESSOR_IDENTIFIER", "PROCESSOR_REVISION", "NUMBER_OF_PROCESSORS"]);
    expect(sm.subkey("Environment")!.value("PROCESSOR_IDENTIFIER")!.asString()).toMatch(/^x86 Family \d+ Model \d+ Stepping \d+, \S+$/);
    expect(sm.subkey("Environment")!.value("NUMBER_OF_PROCESSORS")!.asString()).toBe("1");
  });
});

describe("scenario hives", () => {
  it("a BootExecute program sees the environment, is searched along Path, and missing ones are skipped", async () => {
    const scenario = await boot(
      {
        hive: { merge: regFragment(`[${SM}]`, `"BootExecute"=${multiSz(["autocheck autochk *", "nosuchprogram", "envdump 5", "async envdump"])}`, "", `[${SM}\\Environment]`, `"SMSS86_TEST"="from the hive"`),
        },
        files: { "/Windows/envdump.exe": await envdumpProgram() },
      },
      "ready",
    );
    const commands = done(scenario, "boot-execute").data!.commands as Record<string, unknown>[];
    expect(commands[1]).toMatchObject({ line: "nosuchprogram", skipped: expect.stringMatching(/nosuchprogram\.exe not found/) });
    // Path lists C:\Windows\system32 before C:\Windows: the second is where envdump.exe is.
    expect(commands[2]).toMatchObject({ line: "envdump 5", image: "/NT/??/C:/Windows/envdump.exe", exitCode: 5 });
    expect(commands[3]).toMatchObject({ line: "async envdump", async: true });
    const report = scenario.events.find((e) => (e.phase as string) === "test-program")!.data!;
    expect(report.ppid).toBe(1);
    expect(report.environ).toContain("SMSS86_TEST=from the hive");
    expect(report.environ).toContain("ComSpec=C:\\Windows\\system32\\cmd.exe");
    expect(report.environ).toContain("SystemRoot=C:\\Windows");
  });

  it("renames, deletes and replaces in order across both values, refusing escapes, and deletes both values", async () => {
    const scenario = await boot(
      {
        hive: { merge: regFragment(
            `[${SM}]`,
            `"PendingFileRenameOperations"=${multiSz([
              "\\??\\C:\\Temp\\a.txt", "\\??\\C:\\Temp\\a-renamed.txt",
              "\\??\\C:\\Temp\\gone.txt", "",
              "\\??\\C:\\Temp\\new.sys", "!\\??\\C:\\Temp\\old.sys",
              "\\??\\C:\\Temp\\b.txt", "\\??\\C:\\Temp\\taken.txt",
              "\\??\\C:\\Temp\\..\\..\\x", "\\??\\C:\\Temp\\x",
            ])}`,
            `"PendingFileRenameOperations2"=${multiSz(["\\??\\C:\\Temp\\a-renamed.txt", "\\??\\C:\\Temp\\a-final.txt"])}`,
          ),
        },
        files: {
          "/Temp/a.txt": "A",
          "/Temp/gone.txt": "G",
          "/Temp/new.sys": "NEW",
          "/Temp/old.sys": "OLD",
          "/Temp/b.txt": "B",
          "/Temp/taken.txt": "T",
        },
      },
      "ready",
    );
    const operations = done(scenario, "renames").data!.operations as Record<string, unknown>[];
    expect(operations.map((o) => o.result)).toEqual(["done", "done", "done", "failed", "failed", "done"]);
    expect(operations[3].reason).toMatch(/target exists/);
    expect(operations[4].reason).toMatch(/climbs out of its volume/);
    await scenario.command("shutdown");
    await scenario.waitForEnd();
    const volume = scenario.volume();
    const names = volume.list("/Temp").map((e) => e.name).sort();
    expect(names).toEqual(["a-final.txt", "b.txt", "old.sys", "taken.txt"]);
    expect(text(volume.readFile("/Temp/a-final.txt"))).toBe("A");
    expect(text(volume.readFile("/Temp/old.sys"))).toBe("NEW");
    expect(text(volume.readFile("/Temp/taken.txt"))).toBe("T");
    const sm = hiveOnDisk(scenario).key("ControlSet001\\Control\\Session Manager")!;
    for (const name of ["PendingFileRenameOperations", "PendingFileRenameOperations2", "PendingFileRenameJournal", "PendingFileRenameProgress"]) {
      expect(sm.value(name), name).toBeUndefined();
    }
  });

  it("a subst drive from DOS Devices leads into its directory", async () => {
    const scenario = await boot(
      {
        hive: { merge: regFragment(`[${SM}\\DOS Devices]`, `"S:"="\\\\??\\\\C:\\\\Temp"`, "", `[${SM}]`, `"PendingFileRenameOperations"=${multiSz(["\\??\\S:\\in-subst.txt", "\\??\\S:\\moved.txt"])}`),
        },
        files: { "/Temp/in-subst.txt": "S" },
      },
      "ready",
    );
    const links = done(scenario, "object-namespace").data!.links as { name: string; target: string; resolves: string }[];
    expect(links.find((l) => l.name === "\\GLOBAL??\\S:")).toEqual({ name: "\\GLOBAL??\\S:", target: "\\??\\C:\\Temp", resolves: "directory" });
    expect((done(scenario, "renames").data!.operations as Record<string, unknown>[])[0]).toMatchObject({ result: "done" });
    await scenario.command("shutdown");
    await scenario.waitForEnd();
    expect(text(scenario.volume().readFile("/Temp/moved.txt"))).toBe("S");
  });

  it("sizes page files: ?: takes the first volume, no numbers means system-managed, max < min means max = min", async () => {
    const scenario = await boot(
      { hive: { merge: regFragment(`[${SM}\\Memory Management]`, `"PagingFiles"=${multiSz(["C:\\second.sys 20 4", "?:\\pagefile.sys", "Q:\\nowhere.sys 16"])}`) } },
      "ready",
    );
    const paging = done(scenario, "paging-files").data!;
    const files = paging.files as Record<string, unknown>[];
    expect(files[0]).toMatchObject({ path: "\\??\\C:\\second.sys", minMiB: 20, maxMiB: 20, sizeMiB: 20, active: true });
    // 64 MiB of RAM: system-managed is 1.5 x RAM (rounded up to whole MiB), more than the disk holds, so cut down.
    expect(files[1]).toMatchObject({ path: "\\??\\C:\\pagefile.sys", minMiB: expect.any(Number), active: true });
    expect(files[1].minMiB as number).toBeGreaterThanOrEqual(85);
    expect(files[1].sizeMiB as number).toBeLessThan(files[1].minMiB as number);
    expect(paging.problems).toContainEqual(expect.stringMatching(/Q:\\nowhere\.sys: no volume Q:/));
    expect(paging.swaps).toMatch(/pagefile\.sys/);
  }, 180_000);

  it("a DOS Devices value that cannot become a link stops the machine with 0xC000021A, on the console and the VGA screen", async () => {
    const scenario = await boot({ hive: { merge: regFragment(`[${SM}\\DOS Devices]`, `"BAD"=dword:00000001`) } });
    const stop = await scenario.expectStop();
    expect(stop.code).toBe(0xc000021a);
    expect(scenario.outcome).toMatchObject({ kind: "stop", code: 0xc000021a });
    expect((scenario.outcome as { reason: string }).reason).toMatch(/DOS Devices\\BAD: is REG_DWORD, not REG_SZ/);
    expect(scenario.console).toMatch(/\*\*\* STOP: 0xC000021A/);
    expect(scenario.screenText()).toMatch(/\*\*\* STOP: 0xC000021A/);
    expect(scenario.screenText().replaceAll("\n", "")).toMatch(/DOS Devices\\BAD/);
  });
});

describe("hostile values", () => {
  it("a 10,000-line BootExecute, a 64 KB string, wrong types, absurd sizes and escaping paths are logged, not obeyed, and the boot goes on", async () => {
    const scenario = await boot(
      {
        hive: {
          merge: regFragment(
            `[${SM}]`,
            `"BootExecute"=${multiSz(Array.from({ length: 10_000 }, (_, i) => (i === 0 ? "autocheck autochk *" : "nosuch")))}`,
            `"PendingFileRenameOperations"=${multiSz(["\\??\\C:\\Temp\\..\\..\\..\\keep.txt", "", "", "\\??\\C:\\Temp\\x", "\\??\\Q:\\nowhere", ""])}`,
            "",
            `[${SM}\\Environment]`,
            `"HUGE"="${"h".repeat(65_536)}"`,
            `"NUMBER"=dword:00000007`,
            `@="default"`,
            "",
            `[${SM}\\Memory Management]`,
            `"PagingFiles"=${multiSz(["C:\\ok.sys 2", "C:\\huge.sys 4000", "C:\\bigger.sys 100000", "C:\\..\\..\\escape.sys 4", "nonsense"])}`,
          ),
        },
        files: { "/Temp/keep.txt": "K", "/keep.txt": "root" },
      },
      "ready",
    );
    const commands = done(scenario, "boot-execute").data!.commands as Record<string, unknown>[];
    expect(commands[0]).toMatchObject({ skipped: "beyond the first 256 commands", line: "(9744 more lines)" });
    expect(commands.filter((c) => typeof c.skipped === "string" && /nosuch\.exe not found/.test(c.skipped as string))).toHaveLength(255);
    const environment = done(scenario, "environment").data!;
    expect((environment.variables as { name: string; value: string }[]).find((v) => v.name === "HUGE")!.value).toHaveLength(65_536);
    expect(environment.problems).toEqual([
      expect.stringMatching(/Environment\\NUMBER: is REG_DWORD, not REG_SZ or REG_EXPAND_SZ; skipped/),
      expect.stringMatching(/unnamed \(default\) value names no variable; skipped/),
    ]);
    const renames = done(scenario, "renames").data!.operations as Record<string, unknown>[];
    expect(renames.map((o) => o.result)).toEqual(["failed", "failed", "failed"]);
    expect(renames[0].reason).toMatch(/climbs out of its volume/);
    expect(renames[1].reason).toMatch(/not an absolute NT path/);
    const paging = done(scenario, "paging-files").data!;
    expect(paging.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/huge\.sys: 4000 MiB do not fit/),
        expect.stringMatching(/bigger\.sys 100000": size 100000 MB is beyond 4 GB/),
        expect.stringMatching(/escape\.sys.*climbs out of its volume/),
        expect.stringMatching(/"nonsense": the path must be a drive letter/),
      ]),
    );
    expect((paging.files as Record<string, unknown>[]).map((f) => f.path)).toContain("\\??\\C:\\ok.sys");
    await scenario.command("shutdown");
    await scenario.waitForEnd();
    const volume = scenario.volume();
    expect(text(volume.readFile("/Temp/keep.txt"))).toBe("K");
    expect(text(volume.readFile("/keep.txt"))).toBe("root");
  }, 300_000);
});

describe("autochk", () => {
  const work = mkdtempSync(join(tmpdir(), "smss86-autochk-"));

  it("repairs a dirty, damaged second volume (D:) and fsck.fat agrees afterwards", async () => {
    const image = join(work, "d.img");
    execFileSync("mkfs.fat", ["-C", "-F", "16", "-s", "1", "-i", "12345678", image, "16384"], { stdio: "ignore" });
    const bytes = new Uint8Array(new ArrayBuffer(16384 * 1024));
    bytes.set(readFileSync(image));
    const volume = FatVolume.open(bytes);
    volume.writeFile("/KEEP.TXT", new TextEncoder().encode("kept".repeat(300)));
    volume.writeFile("/LONG.TXT", new TextEncoder().encode("x".repeat(100)));
    // Damage: the dirty bit, a size beyond the chain, a lost chain.
    bytes[37] |= 1;
    const view = new DataView(bytes.buffer);
    for (let offset = 0; offset < bytes.length; offset += 32) {
      if (text(bytes.subarray(offset, offset + 11)) === "LONG    TXT") {
        view.setUint32(offset + 28, 50_000, true);
        break;
      }
    }
    const fatOffset = volume.layout.fatOffset;
    view.setUint16(fatOffset + 2 * 4000, 0xffff, true);
    writeFileSync(join(work, "damaged.img"), bytes);
    expect(spawnSync("fsck.fat", ["-n", join(work, "damaged.img")]).status).not.toBe(0);

    const scenario = await boot({ secondDisk: bytes }, "ready");
    expect(scenario.coldBootReason).toBe("a second disk is attached");
    const namespace = done(scenario, "object-namespace").data!;
    // Mounted only after autochk has checked it.
    expect(namespace.volumes).toContainEqual({ device: "\\Device\\HarddiskVolume2", letter: "D:", blockDevice: "/dev/sdb", mounted: false });
    const checks = scenario.events.filter((e) => e.phase === "autochk" && e.status === "done").map((e) => e.data!);
    const d = checks.find((c) => c.volume === "D:")!;
    expect(d).toMatchObject({ dirty: true, checked: true });
    expect((d.findings as { kind: string }[]).map((f) => f.kind).sort()).toEqual(["dirty", "fat-copies-differ", "lost-chain", "size-mismatch"]);
    expect(scenario.console).toMatch(/autochk: D:\/LONG\.TXT: size 50000 needs/);
    await scenario.command("shutdown");
    await scenario.waitForEnd();
    // The guest mounted D: read-write after the check; a clean shutdown is not there yet, so look at the
    // volume as autochk left it: only the dirty bit that the mount set again may differ.
    const after = scenario.secondDisk!.slice();
    after[37] &= ~1;
    writeFileSync(join(work, "repaired.img"), after);
    const fsck = spawnSync("fsck.fat", ["-n", join(work, "repaired.img")], { encoding: "utf8" });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    expect(text(FatVolume.open(after).readFile("/KEEP.TXT"))).toBe("kept".repeat(300));
  });

  it("a hive log that a power cut left with a broken cluster chain is not read while the hive is clean; autochk repairs it", async () => {
    const log = "/Windows/System32/config/SYSTEM.LOG1";
    const scenario = await boot(
      {
        files: { [log]: new Uint8Array(3 * 4096).fill(7) },
        beforeBoot: (disk) => {
          const partition = disk.subarray(PARTITION_START_LBA * 512);
          const volume = FatVolume.open(partition);
          const first = volume.stat(log)!.firstCluster;
          const { fatOffset, fatSectors, fatCount } = volume.layout;
          for (let copy = 0; copy < fatCount; copy++) new DataView(partition.buffer, partition.byteOffset).setUint16(fatOffset + copy * fatSectors * 512 + first * 2, 0, true);
          partition[37] |= 1;
        },
      },
      "ready",
    );
    expect(done(scenario, "hive").data).toMatchObject({ state: "clean", unreadableLogs: [] });
    const checks = scenario.events.filter((e) => e.phase === "autochk" && e.status === "done").map((e) => e.data!);
    expect((checks[0].findings as { kind: string; path?: string }[]).find((f) => f.kind === "bad-chain")?.path).toBe(log);
    expect(scenario.events.some((e) => e.phase === "restart")).toBe(true);
  });

  it("repairs the boot volume while it is read-only, restarts the machine and boots clean", async () => {
    const scenario = await boot(
      {
        files: { "/Temp/BIG.TXT": "y".repeat(5000) },
        beforeBoot: (disk) => {
          const partition = disk.subarray(PARTITION_START_LBA * 512);
          partition[37] |= 1;
          const view = new DataView(partition.buffer, partition.byteOffset);
          for (let offset = 0; offset < 64 << 20; offset += 32) {
            if (text(partition.subarray(offset, offset + 11)) === "BIG     TXT") {
              view.setUint32(offset + 28, 900_000, true);
              return;
            }
          }
          throw new Error("BIG.TXT not found");
        },
      },
      "ready",
    );
    // The kernel reads the dirty bit when it mounts C:, so a machine saved on a clean C: cannot stand in.
    expect(scenario.startedFrom).toBe("power-on");
    expect(scenario.coldBootReason).toBe("the disk cannot stand in for the saved machine's: the boot sector is not what the saved machine's kernel read");
    const checks = scenario.events.filter((e) => e.phase === "autochk" && e.status === "done").map((e) => e.data!);
    expect(checks[0]).toMatchObject({ volume: "C:", dirty: true, checked: true });
    expect((checks[0].findings as { kind: string }[]).map((f) => f.kind)).toEqual(["dirty", "size-mismatch"]);
    const restart = scenario.events.findIndex((e) => e.phase === "restart");
    expect(restart).toBeGreaterThan(0);
    // The second boot: smss starts again, finds C: clean, and gets to ready.
    expect(scenario.events.slice(restart).filter((e) => e.phase === "smss-start" && e.status === "done")).toHaveLength(1);
    expect(checks[1]).toMatchObject({ volume: "C:", dirty: false, checked: false });
    const volume = scenario.volume();
    expect(volume.stat("/Temp/BIG.TXT")!.size).toBe(Math.ceil(5000 / volume.layout.clusterSize) * volume.layout.clusterSize);
  });
});

describe("the SM API on \\SmApiPort", () => {
  it("serves the system's requests once resident, answers bad ones with error statuses and refuses other users", async () => {
    const scenario = await boot(
      {
        hive: { merge: regFragment(`[${SM}]`, `"BootExecute"=${multiSz(["autocheck autochk *", "async smapiclient"])}`) },
        files: { "/Windows/System32/smapiclient.exe": await smapiClientProgram(), "/Windows/System32/envdump.exe": await envdumpProgram() },
      },
      "ready",
    );
    expect(done(scenario, "object-namespace").data!.ports).toEqual(["\\SmApiPort"]);
    const report = await scenario.waitForEvent((e) => (e.phase as string) === "test-program" && e.data?.replies !== undefined);
    const replies = report.data!.replies as Record<string, { status: number; pid?: number; sessionId?: number; csrssPid?: number; initialCommandPid?: number }>;
    expect(replies.posix).toMatchObject({ status: NtStatus.SUCCESS });
    expect(replies.unknownSubsystem).toEqual({ status: NtStatus.OBJECT_NAME_NOT_FOUND });
    expect(replies.emptyName).toEqual({ status: NtStatus.INVALID_PARAMETER });
    expect(replies.api7).toEqual({ status: NtStatus.NOT_IMPLEMENTED });
    expect(replies.foreignSession).toEqual({ status: NtStatus.NOT_IMPLEMENTED });
    expect(replies.garbage).toEqual({ status: NtStatus.INVALID_PARAMETER });
    expect(replies.sessionComplete).toEqual({ status: NtStatus.SUCCESS });
    expect(replies.execPgm).toMatchObject({ status: NtStatus.SUCCESS });
    expect(replies.execMissing).toEqual({ status: NtStatus.OBJECT_NAME_NOT_FOUND });
    // The Optional subsystem (the POSIX stand-in) started on request and announced itself to smss.
    await scenario.waitForEvent((e) => e.phase === "subsystem" && e.status === "start" && e.data?.name === "Posix" && e.data?.sbApiPort === "\\PsxSbApiPort");
    // ExecPgm started envdump with its argument and smss's environment.
    const envdump = await scenario.waitForEvent((e) => (e.phase as string) === "test-program" && Array.isArray(e.data?.argv));
    expect(envdump.data!.pid).toBe(replies.execPgm.pid);
    expect((envdump.data!.argv as string[]).slice(1)).toEqual(["5"]);
    expect(replies.unprivileged).toEqual({ status: NtStatus.ACCESS_DENIED });
    // StartCsr made session 2 with its own csrss and ran the initial command in it; StopCsr ended it. The
    // boot's own sessions are not the SM API's to stop.
    expect(replies.startCsr).toEqual({ status: NtStatus.SUCCESS, sessionId: 2, csrssPid: expect.any(Number), initialCommandPid: expect.any(Number) });
    const sessionTwo = (e: ObservedEvent) => e.phase === "process" && e.status === "start" && e.data?.session === 2;
    expect(scenario.events.filter(sessionTwo).map((e) => e.data!.pid)).toEqual([replies.startCsr.csrssPid, replies.startCsr.initialCommandPid]);
    expect(replies.startCsrMissing).toEqual({ status: NtStatus.OBJECT_NAME_NOT_FOUND });
    expect(replies.stopCsrBootSession).toEqual({ status: NtStatus.INVALID_PARAMETER });
    expect(replies.stopCsr).toEqual({ status: NtStatus.SUCCESS });
    await scenario.waitForEvent((e) => e.phase === "session" && e.status === "done" && e.data?.sessionId === 2, { description: "session 2's end" });
  });
});

describe("kmode", () => {
  it("loads win32k.sys and creates session 0; a win32k.sys replaced through PendingFileRenameOperations is the one loaded", async () => {
    const original = readFileSync(join(import.meta.dirname, "..", "images", "prebuilt", "win32k.sys"));
    // The kernel's module loader ignores bytes after the section headers: the same module, told apart by size.
    const replacement = new Uint8Array([...original, ...new TextEncoder().encode("smss86: the replacement win32k.sys\n")]);
    const scenario = await boot(
      {
        hive: { merge: regFragment(`[${SM}]`, `"PendingFileRenameOperations"=${multiSz(["\\??\\C:\\Windows\\System32\\win32k.new", "!\\??\\C:\\Windows\\System32\\win32k.sys"])}`) },
        files: { "/Windows/System32/win32k.new": replacement },
      },
      "ready",
    );
    expect(done(scenario, "kmode").data).toEqual({ loaded: true, path: "\\SystemRoot\\System32\\win32k.sys", bytes: replacement.length, sessions: [0] });
    expect(scenario.readFile("/Windows/System32/win32k.sys")).toEqual(replacement);
    expect(scenario.volume().stat("/Windows/System32/win32k.new")).toBeUndefined();
  });

  it("a Kmode that cannot be loaded stops the machine", async () => {
    const scenario = await boot({ hive: { merge: regFragment(`[${SM}\\SubSystems]`, `"Kmode"="\\\\SystemRoot\\\\System32\\\\missing.sys"`) } });
    const stop = await scenario.expectStop();
    expect(stop.code).toBe(0xc000021a);
    expect(stop.reason).toContain("cannot load \\SystemRoot\\System32\\missing.sys");
  });
});
