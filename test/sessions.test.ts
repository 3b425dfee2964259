// The Win32 subsystem and the sessions on the real boot path: session 0 (csrss, wininit, services, lsass)
// and session 1 (csrss, winlogon) started by smss copies, logon against the SAM, the shell, logoff,
// shutdown through winlogon, and the STOP codes when a watched process dies.
import { afterAll, describe, expect, it } from "vitest";
import { bootMachine, type BootedMachine, type BootMachineOptions, type ObservedEvent } from "smss86";
import { regFragment, SM } from "./scenario-helpers.ts";

const running: BootedMachine[] = [];
afterAll(async () => {
  for (const machine of running) await machine.stop();
});

async function boot(options: BootMachineOptions = {}): Promise<BootedMachine> {
  const machine = await bootMachine({ fromScenarioPoint: true, ...options });
  running.push(machine);
  return machine;
}

const ADMINISTRATOR = { user: "Administrator", password: "smss86" };
const USER = { user: "User", password: "password" };

function sessionStart(machine: BootedMachine, sessionId: number): Promise<ObservedEvent> {
  return machine.waitForEvent((e) => e.phase === "session" && e.status === "start" && e.data?.sessionId === sessionId, { description: `session ${sessionId} started` });
}

function processStarts(machine: BootedMachine): { pid: number; parent: number; session?: number; image: string; uid: number }[] {
  return machine.events.filter((e) => e.phase === "process" && e.status === "start").map((e) => e.data as never);
}

/** Types a line in the user's shell and resolves with what it printed up to the next prompt. */
async function run(machine: BootedMachine, line: string, prompt = />$/): Promise<string> {
  const from = machine.console.length;
  await machine.type(`${line}\n`);
  const text = await machine.waitForConsole(new RegExp(`${escape(line)}\\r?\\n[\\s\\S]*\\n[^\\n]*${prompt.source}`), { from });
  const output = text.slice(from);
  return output.slice(output.indexOf("\n") + 1, output.lastIndexOf("\n")).replace(/\s+$/, "");
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("the default machine (Vista model)", () => {
  let machine: BootedMachine;

  it("starts session 0 (csrss, wininit → services, lsass) and session 1 (csrss, winlogon) and prompts on COM1", async () => {
    machine = await boot();
    const zero = await sessionStart(machine, 0);
    const one = await sessionStart(machine, 1);
    await machine.waitForPhase("logon-prompt");
    expect(zero.data).toMatchObject({ sessionId: 0, initialCommand: { image: expect.stringMatching(/wininit\.exe$/) } });
    expect(one.data).toMatchObject({ sessionId: 1, initialCommand: { image: expect.stringMatching(/winlogon\.exe$/) } });
    await machine.waitForPhase("services");
    const starts = processStarts(machine);
    const byImage = (name: string) => starts.filter((p) => p.image.toLowerCase().endsWith(`/${name}`));
    expect(byImage("csrss.exe").map((p) => p.session).sort()).toEqual([0, 1]);
    expect(byImage("smss.exe").map((p) => p.parent)).toEqual([1, 1]);
    expect(byImage("wininit.exe")[0].session).toBe(0);
    expect(byImage("winlogon.exe")[0].session).toBe(1);
    const wininit = byImage("wininit.exe")[0].pid;
    expect(byImage("services.exe")[0]).toMatchObject({ session: 0, parent: wininit, uid: 0 });
    expect(byImage("lsass.exe")[0]).toMatchObject({ session: 0, parent: wininit, uid: 0 });
    const subsystems = machine.events.filter((e) => e.phase === "subsystem" && e.status === "start").map((e) => e.data?.sessionId);
    expect(subsystems).toEqual([0, 1]);
    expect(machine.console).toMatch(/User name: $/);
  });

  it("refuses a wrong password after a delay, and logs it", async () => {
    const refused = await machine.logon(USER.user, "not the password");
    expect(refused).toEqual({ status: "failed", data: { sessionId: 1, user: "User", reason: "unknown user name or bad password" } });
    await machine.waitForConsole("The user name or password is incorrect.");
    const unknown = await machine.logon("nobody", "x");
    expect(unknown.status).toBe("failed");
  });

  it("logs a user on and runs the shell as that user in session 1", async () => {
    const accepted = await machine.logon(USER.user, USER.password);
    expect(accepted).toEqual({ status: "done", data: { sessionId: 1, user: "User", uid: 1000 } });
    await machine.waitForConsole(/C:\\Users\\User>$/);
    // winlogon reports Userinit's start; what runs as the user (cmd.exe) may not write on the probe line.
    const userinit = processStarts(machine).find((p) => /userinit\.exe$/i.test(p.image))!;
    expect(userinit).toMatchObject({ session: 1, uid: 1000 });
    expect(machine.console).not.toMatch(/Password: *password/);
  });

  it("answers the shell's built-ins", async () => {
    expect(await run(machine, "echo %USERNAME% in %SESSIONNAME%")).toBe("User in Console");
    expect(await run(machine, "ver")).toMatch(/smss86 \[Version 6\.1\.7601\]/);
    const tasks = await run(machine, "tasklist");
    expect(tasks).toMatch(/^winlogon\.exe +\d+ +1 +[\d,]+ K NT AUTHORITY\\SYSTEM\r?$/m);
    expect(tasks).toMatch(/^cmd\.exe +\d+ +1 +[\d,]+ K SMSS86\\User\r?$/m);
    expect(tasks).toMatch(/^wininit\.exe +\d+ +0 +[\d,]+ K NT AUTHORITY\\SYSTEM\r?$/m);
    expect(await run(machine, "set USERPROFILE")).toBe("USERPROFILE=C:\\Users\\User");
    expect(await run(machine, "cd \\Windows\\System32", /System32>$/)).toBe("");
    expect(await run(machine, "dir csrss.exe", /System32>$/)).toMatch(/Directory of C:\\Windows\\System32[\s\S]*csrss\.exe[\s\S]*1 File\(s\)/);
    expect(await run(machine, "type \\Windows\\ntbtlog.txt", /System32>$/)).toMatch(/^BOOT \d+ smss pid=1 /m);
  });

  it("logs off: the session's user processes end and the prompt comes back; another user logs on", async () => {
    const userinit = processStarts(machine).find((p) => /userinit\.exe$/i.test(p.image))!;
    await machine.type("logoff\n");
    await machine.waitForEvent((e) => e.phase === "logon" && e.data?.loggedOff === true, { description: "the logoff" });
    expect(machine.events.find((e) => e.phase === "process" && e.status === "done" && e.data?.pid === userinit.pid)).toBeDefined();
    const again = await machine.logon(ADMINISTRATOR.user, ADMINISTRATOR.password);
    expect(again).toEqual({ status: "done", data: { sessionId: 1, user: "Administrator", uid: 500 } });
    await machine.waitForConsole(/C:\\Users\\Administrator>$/);
  });

  it("shuts down the Windows way: winlogon has csrss end the session, then powers off", async () => {
    const from = machine.console.length;
    await machine.type("shutdown /s /t 0\n");
    const end = await machine.waitForEnd();
    expect(end.kind).toBe("power-off");
    expect(machine.events.find((e) => e.phase === "power-off")?.data).toMatchObject({ by: "winlogon", sessionId: 1 });
    expect(machine.console.slice(from)).toMatch(/Windows is shutting down/);
    expect(machine.events.filter((e) => e.phase === "stop")).toEqual([]);
  });
});

describe("a watched process that dies stops the machine", () => {
  async function killAndStop(image: RegExp) {
    const machine = await boot();
    await machine.waitForPhase("logon-prompt");
    await machine.waitForPhase("services");
    const victim = processStarts(machine).find((p) => image.test(p.image))!;
    await machine.command(`kill ${victim.pid}`);
    return { stop: await machine.expectStop(), victim, machine };
  }

  it("csrss (critical in the Vista model) → STOP 0xEF CRITICAL_PROCESS_DIED", async () => {
    const { stop, victim, machine } = await killAndStop(/csrss\.exe$/i);
    expect(stop).toMatchObject({ code: 0xef, params: [victim.pid, 128 + 9, 0, 0] });
    expect(stop.reason).toMatch(/^CRITICAL_PROCESS_DIED: .*csrss\.exe \(pid \d+\) was killed by signal 9$/);
    expect(machine.screenText()).toMatch(/\*\*\* STOP: 0x000000EF/);
  });

  it("wininit (marks itself critical) → STOP 0xEF", async () => {
    const { stop } = await killAndStop(/wininit\.exe$/i);
    expect(stop.code).toBe(0xef);
    expect(stop.reason).toMatch(/wininit\.exe/);
  });

  it("winlogon → STOP 0xC000021A naming the Windows Logon Process and its exit status", async () => {
    const { stop } = await killAndStop(/winlogon\.exe$/i);
    expect(stop).toMatchObject({ code: 0xc000021a, params: [128 + 9, 0, 0, 0] });
    expect(stop.reason).toMatch(/^The Windows Logon Process system process terminated unexpectedly with a status of 0x00000089/);
  });

  it("restarts instead of halting when CrashControl\\AutoReboot is 1", async () => {
    const machine = await boot({ hive: { merge: regFragment("[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\CrashControl]", '"AutoReboot"=dword:00000001') } });
    await machine.waitForPhase("logon-prompt");
    await machine.command("crash");
    const stop = await machine.waitForPhase("stop", { status: "failed" });
    expect(stop.data).toMatchObject({ restart: true });
    expect(machine.console).toMatch(/the system restarts/);
  });
});

describe("winlogon under bad input and without lsass", () => {
  it("drops what is typed past 256 characters, and refuses the logon when lsass is gone, prompting again", async () => {
    const machine = await boot();
    await machine.waitForPhase("services");
    const long = await machine.logon("x".repeat(5000), "y".repeat(5000));
    expect(long).toEqual({ status: "failed", data: { sessionId: 1, user: "x".repeat(256), reason: "unknown user name or bad password" } });
    const lsass = processStarts(machine).find((p) => /lsass\.exe$/i.test(p.image))!;
    await machine.command(`kill ${lsass.pid}`);
    const refused = await machine.logon(USER.user, USER.password);
    expect(refused).toEqual({ status: "failed", data: { sessionId: 1, user: "User", reason: "the Local Security Authority does not answer" } });
    const before = new Set(machine.events);
    await machine.waitForConsole("The Local Security Authority cannot be contacted.");
    await machine.waitForEvent((e) => e.phase === "logon-prompt" && !before.has(e), { description: "winlogon's prompt again" });
    expect(machine.outcome).toBeUndefined();
  });
});

describe("subsystems that cannot start", () => {
  it("a Required subsystem whose image is missing → STOP 0xC000021A", async () => {
    const machine = await boot({
      hive: { merge: regFragment(`[${SM}\\SubSystems]`, '"Windows"="C:\\\\Windows\\\\system32\\\\nosuchcsrss.exe ObjectDirectory=\\\\Windows"') },
    });
    const stop = await machine.expectStop();
    expect(stop.code).toBe(0xc000021a);
    expect(stop.reason).toMatch(/SubSystems\\Windows: .*nosuchcsrss\.exe not found/);
  });

  it("a malformed csrss command line: csrss refuses it and the session cannot start → STOP", async () => {
    const machine = await boot({
      hive: { merge: regFragment(`[${SM}\\SubSystems]`, '"Windows"="C:\\\\Windows\\\\system32\\\\csrss.exe ObjectDirectory=\\\\Windows Bogus=1"') },
    });
    const stop = await machine.expectStop();
    expect(stop.code).toBe(0xc000021a);
    expect(stop.reason).toMatch(/session 0 could not start: subsystem Windows .* ended before it connected: exit code 2/);
  });
});

describe("the NT5 model (XP, Server 2003, ReactOS)", () => {
  it("runs csrss and winlogon in session 0, winlogon starts services and lsass, and a user logs on", async () => {
    const machine = await boot({ hive: { merge: regFragment(`[${SM}]`, '"SessionModel"="NT5"') } });
    const zero = await sessionStart(machine, 0);
    expect(zero.data).toMatchObject({ initialCommand: { image: expect.stringMatching(/winlogon\.exe$/) } });
    await machine.waitForPhase("logon-prompt");
    await machine.waitForPhase("services");
    const starts = processStarts(machine);
    const winlogon = starts.find((p) => /winlogon\.exe$/i.test(p.image))!;
    expect(winlogon.session).toBe(0);
    expect(starts.find((p) => /lsass\.exe$/i.test(p.image))).toMatchObject({ parent: winlogon.pid, session: 0 });
    expect(starts.some((p) => /wininit\.exe$/i.test(p.image))).toBe(false);
    expect(machine.events.some((e) => e.phase === "session" && e.data?.sessionId === 1)).toBe(false);
    expect((await machine.logon(USER.user, USER.password)).status).toBe("done");
    await machine.waitForConsole(/C:\\Users\\User>$/);
  });

  it("csrss dying there is the Windows SubSystem's STOP 0xC000021A, not 0xEF", async () => {
    const machine = await boot({ hive: { merge: regFragment(`[${SM}]`, '"SessionModel"="NT5"') } });
    await machine.waitForPhase("logon-prompt");
    const csrss = processStarts(machine).find((p) => /csrss\.exe$/i.test(p.image))!;
    await machine.command(`kill ${csrss.pid}`);
    const stop = await machine.expectStop();
    expect(stop.code).toBe(0xc000021a);
    expect(stop.reason).toMatch(/^The Windows SubSystem system process terminated unexpectedly/);
  });
});

describe("the control line", () => {
  it("answers smss's commands on COM2, and kill exists only with the test switch", async () => {
    const machine = await bootMachine({});
    running.push(machine);
    expect(await machine.command("ver")).toMatch(/^smss86 Session Manager on Linux 6\.1\.\d+ \(i686\)$/);
    await expect(machine.command("kill 2")).rejects.toThrow(/smss refused "kill 2": unknown command "kill"/);
    expect(machine.console).not.toMatch(/smss86 Session Manager on Linux/);
  });
});
