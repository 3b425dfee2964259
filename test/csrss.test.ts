// csrss.exe and its server DLLs (basesrv.dll, winsrv.dll), run in the emulated PC on the shared runtime
// against a stand-in for smss (test/fixtures/runtime/fake-sm.ts): command line, DLL loading, ports, the
// connection to \SmApiPort, requests on ApiPort and the end of the session on SbApiPort.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildGuestProgram, runtimePath } from "../images/guest.ts";
import { NtStatus } from "../src/smapi/index.ts";
import { runInGuest, type GuestResult } from "./guest-run.ts";

const shared = (path: string) => buildGuestProgram(join(REPO_ROOT, path), undefined, { runtime: "system" });
const own = (path: string) => buildGuestProgram(join(REPO_ROOT, path));

describe("csrss", () => {
  let result: GuestResult;
  let report: Record<string, any>;

  beforeAll(async () => {
    const [csrss, basesrv, winsrv, setup, fakeSm] = await Promise.all([
      shared("guest/system32/csrss.ts"),
      shared("guest/system32/basesrv.ts"),
      shared("guest/system32/winsrv.ts"),
      own("test/fixtures/runtime/shared-setup.ts"),
      own("test/fixtures/runtime/fake-sm.ts"),
    ]);
    const run = await runInGuest(
      {
        "/qjs.exe": readFileSync(runtimePath),
        "/Windows/System32/csrss.exe": csrss,
        "/Windows/System32/basesrv.dll": basesrv,
        "/Windows/System32/winsrv.dll": winsrv,
        "/Windows/System32/win32k.sys": readFileSync(join(REPO_ROOT, "images", "prebuilt", "win32k.sys")),
        "/t/setup.exe": setup,
        "/t/fake-sm.exe": fakeSm,
      },
      [{ argv: ["/t/setup.exe"] }, { argv: ["/t/fake-sm.exe"] }],
    );
    result = run.results[1];
    if (result.code !== 0) throw new Error(`fake-sm failed: ${JSON.stringify(run.results)}`);
    report = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null");
  }, 120_000);

  it("connects to \\SmApiPort announcing the Windows subsystem and its SbApiPort", () => {
    expect(result.stderr).toBe("");
    expect(report.connect).toEqual({ kind: "connect", subsystem: "Windows", sessionId: 0, sbApiPort: "\\Windows\\SbApiPort" });
    expect(report.ports).toEqual(["ApiPort", "SbApiPort"]);
  });

  it("serves ApiPort through the server DLL of each slot", () => {
    // basesrv answers from win32k's table, where csrss is in session 0.
    expect(report.processes).toMatchObject({ status: NtStatus.SUCCESS, sessionId: 0 });
    expect(report.csrssInSession0).toBe(true);
    expect(report.console).toEqual({ status: NtStatus.SUCCESS, device: "/dev/null" });
    expect(report.unknownApi).toEqual({ status: NtStatus.NOT_IMPLEMENTED });
    expect(report.emptySlot).toEqual({ status: NtStatus.NOT_IMPLEMENTED });
    expect(report.garbage).toEqual({ status: NtStatus.INVALID_PARAMETER });
  });

  it("ends when smss stops the session on SbApiPort", () => {
    expect(report.stop).toEqual({ status: NtStatus.SUCCESS });
    expect(report.exitedAfterStop).toBe(true);
  });

  it("in session 1 puts its ports under \\Sessions\\1 and serves only that session's processes", () => {
    expect(report.session1Connect).toEqual({ kind: "connect", subsystem: "Windows", sessionId: 1, sbApiPort: "\\Sessions\\1\\Windows\\SbApiPort" });
    expect(report.session1Ports).toEqual(["ApiPort", "SbApiPort"]);
    expect(report.otherSession).toEqual({ status: NtStatus.ACCESS_DENIED });
    expect(report.session1Stop).toEqual({ status: NtStatus.SUCCESS });
  });

  it("refuses a bad command line and a server DLL it cannot load, saying why", () => {
    expect(report.badCommandLine).toMatchObject({ code: 2 });
    expect(report.missingDll).toMatchObject({ code: 1 });
    expect(report.stderr).toContain('csrss: invalid command line: unknown argument "Bogus=1"');
    expect(report.stderr).toMatch(/csrss: cannot load server DLL nosuch\.dll: cannot import '\/Windows\/System32\/nosuch\.dll': cannot open/);
  });
});
