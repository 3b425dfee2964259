// The guest runtime (images/prebuilt/qjs-runtime) and programs built by images/guest.ts, run where they
// run for real: in the emulated PC (test/guest-run.ts boots it once per group of commands).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuestBuildError, TRAILER_SIZE, buildGuestProgram, bundleGuestModule, compileGuestModule, compilerPath, runtimePath } from "../images/guest.ts";
import { runInGuest, readGuestFile, type GuestResult } from "./guest-run.ts";

const fixtures = join(import.meta.dirname, "fixtures", "runtime");
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "smss86-runtime-"));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

const buildFixture = (name: string) => buildGuestProgram(join(fixtures, `${name}.ts`));

describe("guest program with the sys module", () => {
  let report: Record<string, any>;
  let probe: GuestResult;

  beforeAll(async () => {
    const [program, child] = await Promise.all([buildFixture("probe"), buildFixture("child")]);
    const run = await runInGuest({ "/t/probe.exe": program, "/t/child.exe": child }, [
      { argv: ["/t/probe.exe", "/tmp", "/t/child.exe"], env: ["PROBE_VALUE=42"] },
    ]);
    probe = run.results[0];
    report = JSON.parse(probe.stdout.trim().split("\n").at(-1) ?? "null");
  });

  it("exits 0 with nothing on stderr", () => {
    expect(probe.stderr).toBe("");
    expect(probe.code).toBe(0);
  });

  it("writes, reads and stats files", () => {
    expect(report.readBack).toBe("hello");
    expect(report.fileSize).toBe(5);
    expect(report.fileIsRegular).toBe(true);
    expect(report.written).toBe(6);
    expect(report.endOffset).toBe(4);
    expect(report.middle).toEqual([2, 3, 4]);
    expect(report.atEnd).toBe(0);
    expect(report.fdSize).toBe(4);
  });

  it("renames, links, lists and removes", () => {
    expect(report.linkTarget).toBe("g.txt");
    expect(report.linkIsSymlink).toBe(true);
    expect(report.throughLink).toBe("hello");
    expect(report.names).toEqual(["data.bin", "g.txt", "link"]);
    expect(report.namesAfterUnlink).toEqual([]);
  });

  it("makes nodes and mounts filesystems", () => {
    expect(report.fifoIsFifo).toBe(true);
    expect(report.mountError).toBeNull();
    expect(report.mountedDevDiffers).toBe(true);
  });

  it("throws SysError with errno, code, syscall and path", () => {
    expect(report.missing).toMatchObject({ name: "SysError", code: "ENOENT", errno: 2, syscall: "stat", isSysError: true });
    expect(report.missing.path).toMatch(/\/missing$/);
    expect(report.notEmpty).toMatchObject({ code: "ENOTEMPTY", syscall: "rmdir" });
    expect(report.typeError).toBe("TypeError: sys.open: path must be a string");
  });

  it("spawns children and reaps their exit codes and signals", () => {
    expect(report.trueResult).toMatchObject({ exited: true, code: 0, signal: null });
    expect(report.falseResult).toMatchObject({ exited: true, code: 1, signal: null });
    expect(report.shellResult).toMatchObject({ exited: true, code: 7 });
    expect(report.childOutput).toBe("child 42\n");
    expect(report.envResult).toMatchObject({ code: 0 });
    expect(report.sessionResult).toMatchObject({ code: 0 });
    expect(report.stdinLine).toBe("from stdin");
    expect(report.childCwd).toBe(report.root);
    expect(report.childInOwnSession).toBe(true);
    expect(report.execFailure).toMatchObject({ code: "ENOENT", syscall: "execve", isSysError: true });
    expect(report.noChangeYet).toBeNull();
    expect(report.killed).toMatchObject({ exited: false, code: null, signal: 15 });
    expect(report.noChildren).toMatchObject({ code: "ECHILD", syscall: "waitpid" });
  });

  it("reports process, clock, environment and machine facts", () => {
    expect(report.pid).toBeGreaterThan(1);
    expect(report.ppid).toBe(1);
    expect(report.argv).toEqual(["/t/probe.exe", "/tmp", "/t/child.exe"]);
    expect(report.probeValue).toBe("42");
    expect(report.unsetValue).toBeNull();
    expect(report.environHasProbe).toBe(true);
    expect(report.sleptMs).toBeGreaterThanOrEqual(29);
    expect(report.sleptMs).toBeLessThan(5_000);
    expect(report.sysname).toBe("Linux");
    expect(report.totalRam).toBeGreaterThan(0);
    expect(Math.abs(report.realtimeMs - Date.now())).toBeLessThan(60_000);
  });

  it("runs promise jobs after the module body", () => {
    expect(report.awaited).toBe("jobs ran");
  });
});

describe("fork and priorities", () => {
  it("forks a child that goes on with the parent's state; spawns a child at a lower priority; refuses nice 20", async () => {
    const run = await runInGuest({ "/t/fork.exe": await buildFixture("fork-nice") }, [{ argv: ["/t/fork.exe"] }]);
    const [result] = run.results;
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe("10");
    expect(JSON.parse(lines[1])).toEqual({ forkedCode: 42, differentPid: true, nicedCode: 0, refused: expect.stringMatching(/^RangeError: .*nice/) });
  });
});

describe("failures are reported, never silent", () => {
  const results: Record<string, GuestResult> = {};

  beforeAll(async () => {
    const [throws, rejects] = await Promise.all([buildFixture("throws"), buildFixture("rejects")]);
    const damaged = throws.slice();
    damaged[damaged.length - TRAILER_SIZE - 10] ^= 0xff;
    const oversized = throws.slice();
    new DataView(oversized.buffer).setUint32(oversized.length - TRAILER_SIZE, 0x7fffffff, true);
    const files = {
      "/t/throws.exe": throws,
      "/t/rejects.exe": rejects,
      "/t/damaged.exe": damaged,
      "/t/oversized.exe": oversized,
      "/t/runtime": readFileSync(runtimePath),
    };
    const names = ["throws", "rejects", "damaged", "oversized", "runtime"];
    const run = await runInGuest(files, names.map((name) => ({ argv: [name === "runtime" ? "/t/runtime" : `/t/${name}.exe`] })));
    names.forEach((name, index) => (results[name] = run.results[index]));
  });

  it("an uncaught exception prints its message and stack, then exits 1", () => {
    const result = results.throws;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("before the failure\n");
    expect(result.stderr).toContain("throws.exe: Uncaught Error: deliberate failure from the guest");
    expect(result.stderr).toMatch(/at inner \(throws\.js:\d+\)/);
    expect(result.stderr).toMatch(/at outer \(throws\.js:\d+\)/);
  });

  it("an unhandled promise rejection exits 1 with its reason", () => {
    expect(results.rejects.code).toBe(1);
    expect(results.rejects.stderr).toContain("rejects.exe: Uncaught (in promise) TypeError: deliberate unhandled rejection");
  });

  it("the runtime without a program says so and exits 2", () => {
    expect(results.runtime.code).toBe(2);
    expect(results.runtime.stderr).toContain("carries no program");
    expect(results.runtime.stderr).toContain("--compile");
  });

  it("a damaged payload is refused by its CRC, exit 2", () => {
    expect(results.damaged.code).toBe(2);
    expect(results.damaged.stderr).toMatch(/damaged program in \/t\/damaged\.exe: CRC-32 of the \d+-byte payload is [0-9a-f]{8}, the trailer expects [0-9a-f]{8}/);
  });

  it("a trailer claiming more bytes than the file holds is refused, exit 2", () => {
    expect(results.oversized.code).toBe(2);
    expect(results.oversized.stderr).toContain("payload length 2147483647 does not fit");
  });
});

describe("the shared runtime and ports", () => {
  let results: GuestResult[];
  const json = (result: GuestResult) => JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null");

  beforeAll(async () => {
    const shared = (name: string) => buildGuestProgram(join(fixtures, `${name}.ts`), undefined, { runtime: "system" });
    const [setup, argvProgram, ports] = await Promise.all([buildFixture("shared-setup"), shared("argv"), buildFixture("ports")]);
    const damaged = argvProgram.slice();
    damaged[damaged.length - 5] ^= 0xff;
    const run = await runInGuest(
      { "/qjs.exe": readFileSync(runtimePath), "/t/setup.exe": setup, "/t/argv.exe": argvProgram, "/t/damaged.exe": damaged, "/t/ports.exe": ports },
      [
        { argv: ["/t/setup.exe"] },
        { argv: ["/t/argv.exe", "one", "two words"] },
        { argv: ["given-name", "x"] },
        { argv: ["/t/damaged.exe"] },
        { argv: ["/t/ports.exe"] },
      ].map((command, index) => (index === 2 ? { ...command, argv: ["/t/argv.exe", ...command.argv] } : command)),
    );
    results = run.results;
  });

  it("runs a program that is only bytecode on the runtime registered with binfmt_misc, with its own argv", () => {
    expect(results[0]).toMatchObject({ code: 0, stderr: "" });
    expect(results[1]).toMatchObject({ code: 0, stderr: "" });
    expect(json(results[1])).toMatchObject({ argv: ["/t/argv.exe", "one", "two words"], uid: 0 });
    expect(json(results[2]).argv).toEqual(["/t/argv.exe", "given-name", "x"]);
  });

  it("refuses a damaged one by its CRC, exit 2", () => {
    expect(results[3].code).toBe(2);
    expect(results[3].stderr).toMatch(/^damaged\.exe: damaged program in \/t\/damaged\.exe: CRC-32 of the \d+-byte payload is [0-9a-f]{8}, the header expects [0-9a-f]{8}\n$/);
  });

  it("passes whole messages over ports and names each caller's pid and uid; spawn drops to another user", () => {
    expect(results[4]).toMatchObject({ code: 0, stderr: "" });
    const report = json(results[4]);
    expect(report.missing).toBe("ENOENT");
    for (const uid of [0, 1000]) {
      expect(report[`uid${uid}`]).toMatchObject({ samePid: true, uid, gid: uid, second: "second message", afterExit: 0, code: 0 });
      expect(report[`uid${uid}`].first).toMatch(/^ping from \d+$/);
    }
    expect(results[4].stdout).toContain("pong to uid 1000\n");
  });
});

describe("compiling to bytecode", () => {
  it("refuses imports other than sys at build time", async () => {
    const attempt = compileGuestModule('import { readFileSync } from "fs";\nreadFileSync("x");\n', "imports-fs.js");
    await expect(attempt).rejects.toThrow(GuestBuildError);
    await expect(attempt).rejects.toThrow(/cannot import 'fs': a guest program is a single bundle that imports only 'sys' \(and DLLs by absolute path\)/);
  });

  it("reports syntax errors with the module name", async () => {
    await expect(compileGuestModule("let = ;\n", "broken.js")).rejects.toThrow(/SyntaxError.*\n?.*broken\.js/s);
  });

  it("the host compiler gives the same bytecode every time, and the same as the guest runtime compiling in the guest", async () => {
    const source = await bundleGuestModule(join(fixtures, "probe.ts"));
    const sourceFile = join(workDir, "same.js");
    writeFileSync(sourceFile, source);
    const outputs = [join(workDir, "same1.qbc"), join(workDir, "same2.qbc")];
    for (const output of outputs) expect(spawnSync(compilerPath, ["--compile", sourceFile, output]).status).toBe(0);
    const hostBytecode = readFileSync(outputs[0]);
    expect(hostBytecode.equals(readFileSync(outputs[1]))).toBe(true);
    expect(hostBytecode.length).toBeGreaterThan(100);

    const run = await runInGuest({ "/t/runtime": readFileSync(runtimePath), "/t/same.js": source }, [
      { argv: ["/t/runtime", "--compile", "/t/same.js", "/t/same.qbc"] },
    ]);
    expect(run.results[0]).toMatchObject({ code: 0, stderr: "" });
    expect(Buffer.from(readGuestFile(run, "/t/same.qbc")).equals(hostBytecode)).toBe(true);
  });
});
