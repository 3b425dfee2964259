// win32k.sys (guest/kernel/win32k/win32k.c), the prebuilt kernel module, loaded into the prebuilt kernel in
// the emulated PC and driven through /dev/win32k by test/guest/win32k.ts: sessions, inheritance across
// fork, exits, pid reuse, errors. One boot runs two commands: the checks, then a look at the table after
// the first command's process has exited.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../emulator/node.ts";
import { buildGuestProgram } from "../images/guest.ts";
import { runInGuest, type GuestRun } from "./guest-run.ts";

const MODULE = "/Windows/System32/win32k.sys";
const PROGRAM = "/t/win32k.exe";

let run: GuestRun;
let report: Record<string, any>;
let after: Record<string, any>;

/** Guest instructions between two marks the program wrote on the probe channel. */
function span(name: string): number {
  const at = (suffix: string) => {
    const event = run.events.find((e) => (e.phase as string) === `win32k-${name}-${suffix}`);
    if (!event) throw new Error(`no win32k-${name}-${suffix} mark on the probe channel`);
    return event.instructions;
  };
  return at("end") - at("start");
}

beforeAll(async () => {
  const program = await buildGuestProgram(join(REPO_ROOT, "test", "guest", "win32k.ts"));
  run = await runInGuest({ [MODULE]: readFileSync(join(REPO_ROOT, "images", "prebuilt", "win32k.sys")), [PROGRAM]: program }, [
    { argv: [PROGRAM, "drive", MODULE, PROGRAM] },
    { argv: [PROGRAM, "after", MODULE] },
  ], { timeoutMs: 180_000 });
  const parse = (index: number) => {
    const result = run.results[index];
    expect(result, `command ${index} ran`).toBeDefined();
    expect(result.stderr, `command ${index} stderr`).toBe("");
    expect(result.code, `command ${index} exit code`).toBe(0);
    return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null");
  };
  report = parse(0);
  after = parse(1);
  const idle = span("idle");
  const forks = 20;
  console.log(
    `win32k.sys: load ${span("load") - idle} guest instructions (idle mark span ${idle} subtracted); ` +
      `a failed spawn (fork, exec ENOENT, exit, wait) ${Math.round((span("forks-outside") - idle) / forks)} outside a session, ` +
      `${Math.round((span("forks-inside") - idle) / forks)} inside one`,
  );
}, 240_000);

describe("loading", () => {
  it("loads once; a second load is EEXIST from finit_module, naming the file", () => {
    expect(report.loadAgain).toEqual({ code: "EEXIST", syscall: "finit_module", path: MODULE });
    expect(after.loadAgain).toBe("EEXIST");
  });
  it("reports a missing file as open's ENOENT", () => {
    expect(report.loadMissing).toEqual({ code: "ENOENT", syscall: "open", path: "/t/missing.sys" });
  });
  it("makes /dev/win32k, a stream anyone may open", () => {
    expect(report.device).toEqual({ isCharacterDevice: true, permissions: 0o666 });
    expect(report.seek).toBe("ESPIPE");
    expect(report.emptyTable).toBe("");
  });
});

describe("commands", () => {
  it("refuses malformed commands and unknown sessions or processes", () => {
    expect(report.errors).toEqual({
      create: "EINVAL",
      "create x": "EINVAL",
      "create -1": "EINVAL",
      "create +1": "EINVAL",
      "create 01": "EINVAL",
      "create 4294967296": "EINVAL",
      "create 1 2": "EINVAL",
      "frobnicate 1": "EINVAL",
      "create 1\ncreate 2\n": "EINVAL",
      "\n": "EINVAL",
      [`create ${"1".repeat(70)}`]: "EINVAL",
      "destroy 7": "ENOENT",
      "attach 1 7": "ENOENT",
      "session 7": "ENOENT",
      "process 0": "EINVAL",
      "process 30000": "ESRCH",
    });
  });
  it("creates sessions once each and lists them in order", () => {
    expect(report.created).toEqual(["ok", "ok", "EEXIST"]);
    expect(report.tableAfterCreate).toBe("session 0:\nsession 1:\n");
  });
  it("keeps kernel threads out", () => {
    expect(report.kernelThread).toBe("EINVAL");
  });
  it("fixes a process's session for its life", () => {
    expect(report.attachSelf).toBe("ok");
    expect(report.selfAnswer).toBe(`process ${report.me}: session 1\n`);
    expect(report.attachSelfAgain).toBe("EBUSY");
  });
  it("destroys only empty sessions", () => {
    expect(report.destroyBusy).toBe("EBUSY");
    expect(report.destroyEmpty).toBe("ok");
  });
});

describe("membership follows processes", () => {
  it("a child inherits its parent's session", () => {
    expect(report.child.answer).toBe(`process ${report.child.pid}: session 1\n`);
  });
  it("a grandchild whose parent exited keeps it", () => {
    expect(report.middle).toEqual({ code: 0, answer: "ESRCH" });
    // Reparented to PID 1, which is in no session: the session did not come from the current parent.
    expect(report.grandchild.parent).toBe(1);
    expect(report.grandchild.answer).toBe(`process ${report.grandchild.pid}: session 1\n`);
  });
  it("a process leaves the table when it exits, before it is reaped", () => {
    expect(report.zombie.answer).toBe("ESRCH");
    expect(report.zombie.session1.trim().split(" ")).not.toContain(String(report.zombie.pid));
  });
  it("lists exactly the live members, in pid order", () => {
    const members = [report.me, report.child.pid, report.grandchild.pid].sort((a, b) => a - b);
    expect(report.session1).toBe(`session 1: ${members.join(" ")}\n`);
    expect(report.session0).toBe("session 0:\n");
    expect(report.table).toBe(`session 0:\nsession 1: ${members.join(" ")}\n`);
    expect(report.tableAgain).toBe(report.table);
  });
  it("killed members leave", () => {
    expect(report.afterKill).toEqual({ child: "ESRCH", grandchild: "ESRCH", session1: `session 1: ${report.me}\n` });
  });
  it("a new process with an exited member's pid is not in its session", () => {
    const { doomed, heir } = report.reuse;
    expect(report.reuse.attach).toBe("ok");
    expect(report.reuse.doomedBefore).toBe(`process ${doomed}: session 1\n`);
    expect(report.reuse.doomedAfter).toBe("ESRCH");
    expect(heir).toBe(doomed);
    expect(report.reuse.heirAnswer).toBe(`process ${heir}: none\n`);
    expect(report.reuse.session1).toBe("session 1:\n");
  });
  it("a session whose processes have all exited can be destroyed and made again", () => {
    expect(after.tableBefore).toBe("session 1:\n");
    expect(after.destroy).toBe("ok");
    expect(after.tableAfter).toBe("");
    expect(after.createAgain).toBe("ok");
    expect(after.session1).toBe("session 1:\n");
  });
  it("a process that is not root may ask but not change the table (EPERM)", () => {
    expect(after.unprivileged).toEqual({ create: "EPERM", attach: "EPERM", destroy: "EPERM", session1: "session 1:\n" });
  });
});
