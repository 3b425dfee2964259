// The guest runtime (images/prebuilt/qjs-runtime) run directly on the host: it is a static i386 Linux
// binary, so guest programs built by images/guest.ts execute here as they would in the emulated PC.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuestBuildError, TRAILER_SIZE, buildGuestProgram, compileGuestModule, runtimePath } from "../images/guest.ts";

const fixtures = join(import.meta.dirname, "fixtures", "runtime");
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "smss86-runtime-"));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function run(program: string, args: string[] = [], env: Record<string, string> = {}) {
  const result = spawnSync(program, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin", ...env }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function buildFixture(name: string): Promise<string> {
  const outFile = join(workDir, `${name}.exe`);
  await buildGuestProgram(join(fixtures, `${name}.ts`), outFile);
  return outFile;
}

describe("guest program with the sys module", () => {
  let report: Record<string, any>;
  let probe: ReturnType<typeof run>;

  beforeAll(async () => {
    const program = await buildFixture("probe");
    const scratch = mkdtempSync(join(workDir, "scratch-"));
    probe = run(program, [scratch], { PROBE_VALUE: "42" });
    report = JSON.parse(probe.stdout.trim().split("\n").at(-1) ?? "null");
  });

  it("exits 0 with nothing on stderr", () => {
    expect(probe.stderr).toBe("");
    expect(probe.status).toBe(0);
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
    if (process.getuid?.() === 0) {
      expect(report.mountError).toBeNull();
      expect(report.mountedDevDiffers).toBe(true);
    } else {
      expect(report.mountError).toMatchObject({ code: "EPERM", syscall: "mount" });
    }
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
    expect(report.ppid).toBe(process.pid);
    expect(report.argv.slice(1)).toEqual([expect.stringContaining("scratch-")]);
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

describe("failures are reported, never silent", () => {
  it("an uncaught exception prints its message and stack, then exits 1", async () => {
    const result = run(await buildFixture("throws"));
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("before the failure\n");
    expect(result.stderr).toContain("throws.exe: Uncaught Error: deliberate failure from the guest");
    expect(result.stderr).toMatch(/at inner \(throws\.js:\d+\)/);
    expect(result.stderr).toMatch(/at outer \(throws\.js:\d+\)/);
  });

  it("an unhandled promise rejection exits 1 with its reason", async () => {
    const result = run(await buildFixture("rejects"));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("rejects.exe: Uncaught (in promise) TypeError: deliberate unhandled rejection");
  });

  it("the runtime without a program says so and exits 2", () => {
    const result = run(runtimePath);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("carries no program");
    expect(result.stderr).toContain("--compile");
  });

  it("a damaged payload is refused by its CRC, exit 2", async () => {
    const program = new Uint8Array(readFileSync(await buildFixture("throws")));
    program[program.length - TRAILER_SIZE - 10] ^= 0xff;
    const damaged = join(workDir, "damaged.exe");
    writeFileSync(damaged, program, { mode: 0o755 });
    const result = run(damaged);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/damaged program in .*damaged\.exe: CRC-32 of the \d+-byte payload is [0-9a-f]{8}, the trailer expects [0-9a-f]{8}/);
  });

  it("a trailer claiming more bytes than the file holds is refused, exit 2", async () => {
    const program = new Uint8Array(readFileSync(await buildFixture("throws")));
    new DataView(program.buffer).setUint32(program.length - TRAILER_SIZE, 0x7fffffff, true);
    const damaged = join(workDir, "oversized.exe");
    writeFileSync(damaged, program, { mode: 0o755 });
    const result = run(damaged);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("payload length 2147483647 does not fit");
  });
});

describe("compiling to bytecode", () => {
  it("refuses imports other than sys at build time", async () => {
    const attempt = compileGuestModule('import { readFileSync } from "fs";\nreadFileSync("x");\n', "imports-fs.js");
    await expect(attempt).rejects.toThrow(GuestBuildError);
    await expect(attempt).rejects.toThrow(/cannot import 'fs': a guest program is a single bundle and may import only 'sys'/);
  });

  it("reports syntax errors with the module name", async () => {
    await expect(compileGuestModule("let = ;\n", "broken.js")).rejects.toThrow(/SyntaxError.*\n?.*broken\.js/s);
  });

  it("produces the same bytecode for the same source", () => {
    const source = join(workDir, "same.js");
    writeFileSync(source, 'import * as sys from "sys";\nconsole.log(sys.getpid());\n');
    const outputs = [join(workDir, "same1.qbc"), join(workDir, "same2.qbc")];
    for (const output of outputs) expect(run(runtimePath, ["--compile", source, output]).status).toBe(0);
    expect(readFileSync(outputs[0]).equals(readFileSync(outputs[1]))).toBe(true);
    expect(readFileSync(outputs[0]).length).toBeGreaterThan(0);
  });
});
