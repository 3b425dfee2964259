// winlogon.exe: the logon process of an interactive session, on the console (COM1, /dev/ttyS0). It
// registers with its session's csrss as the logon process, prompts for a user name and password, asks
// lsass to check them, and starts Userinit (from the SOFTWARE hive, read by userenv.dll, which winlogon
// loads at the first logon) as the user. When Userinit ends, or a
// program of the user asks csrss to log off, the session's processes end and the prompt comes back; a
// shutdown request ends them too and then powers the machine off, as NtShutdownSystem does.
// In session 0 it is the NT5 model's winlogon (XP, ReactOS): it starts services.exe and lsass.exe itself.
//
// The terminal is read one byte at a time with the kernel's echo off: winlogon echoes the user name
// itself and the password not at all, so nothing typed ahead (a script piped to COM1) is echoed before
// its time, and whatever follows the password stays in the terminal for the user's shell.
import * as sys from "sys";
import type { LogonData } from "../../src/events/index.ts";
import { decodeUtf8 } from "../../src/hive/text.ts";
import { decodeLogonReply, LogonStatus, LSA_AUTHENTICATION_PORT, LsaMessageError, MAX_CREDENTIAL_LENGTH, type LogonReply } from "../../src/lsa/index.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { MAX_MESSAGE_BYTES, NtStatus } from "../../src/smapi/index.ts";
import { Children } from "../lib/children.ts";
import { CsrSlot, UserApi, type ExitWindowsAction, type ExitWindowsNotification } from "../lib/csr.ts";
import { askCsr, callCsr, connectCsr, mySession } from "../lib/csr-client.ts";
import { report } from "../lib/probe.ts";
import { startProcess } from "../lib/processes.ts";

const CONSOLE = "/dev/ttyS0";
const USERENV = "/Windows/System32/userenv.dll";
/** Windows makes a refused logon wait before the prompt comes back, to slow down guessing. */
const REFUSAL_DELAY_MS = 1000;
/** lsass's port is looked for this many times, 100 ms apart, before the logon is refused. */
const LSA_START_ATTEMPTS = 50;
const BACKSPACE = 0x7f;
const CONTROL_H = 0x08;
const CONTROL_U = 0x15;

const sessionId = mySession();
const tty = sys.open(CONSOLE, sys.O_RDWR | sys.O_NOCTTY, 0);

function write(text: string): void {
  sys.write(tty, text);
}

/**
 * One line from the terminal; `echo` false for a password. undefined when the terminal hung up. What is typed
 * past the longest name or password lsass takes is dropped.
 */
function readLine(echo: boolean): string | undefined {
  let line = "";
  for (;;) {
    const bytes = sys.read(tty, 1);
    if (bytes.length === 0) return undefined;
    const byte = bytes[0];
    if (byte === 0x0a || byte === 0x0d) {
      write("\n");
      return line;
    }
    if (byte === BACKSPACE || byte === CONTROL_H) {
      if (line.length > 0 && echo) write("\b \b");
      line = line.slice(0, -1);
    } else if (byte === CONTROL_U) {
      if (echo) write("\b \b".repeat(line.length));
      line = "";
    } else if (byte >= 0x20 && line.length < MAX_CREDENTIAL_LENGTH) {
      line += String.fromCharCode(byte);
      if (echo) write(String.fromCharCode(byte));
    }
  }
}

/** lsass's answer, or undefined when it cannot be reached or sends no answer (it ended, say). */
function askLsa(user: string, password: string): LogonReply | undefined {
  // lsass may still be starting in session 0 when the first user types.
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = sys.connectPort(ntObjectPath(LSA_AUTHENTICATION_PORT));
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      if (attempt >= LSA_START_ATTEMPTS) return undefined;
      sys.sleep(100);
      continue;
    }
    try {
      sys.write(fd, JSON.stringify({ user, password }));
      return decodeLogonReply(sys.read(fd, MAX_MESSAGE_BYTES));
    } catch (error) {
      if (error instanceof sys.SysError || error instanceof LsaMessageError) return undefined;
      throw error;
    } finally {
      sys.close(fd);
    }
  }
}

/** The connection csrss sends ExitWindows requests on: it stays open as long as winlogon runs. */
function registerWithCsrss(): number {
  const fd = connectCsr(sessionId);
  const reply = askCsr(fd, CsrSlot.User, UserApi.RegisterLogonProcess);
  if (reply.status !== NtStatus.SUCCESS) throw new Error(`csrss refused winlogon as the logon process: status 0x${reply.status.toString(16)}`);
  return fd;
}

type UserEnv = typeof import("./userenv.ts");

/** Starts each Userinit program as the user; returns the pids (the session lasts while any runs). */
function startUserinit(userenv: UserEnv, account: { user: string; uid: number }, children: Children): Set<number> {
  const environment = userenv.createEnvironmentBlock(sys.environ(), account.user);
  const { programs, missing } = userenv.userinitPrograms(environment);
  for (const image of missing) write(`winlogon: ${image} was not found.\n`);
  const pids = new Set<number>();
  for (const { image, args } of programs) {
    const pid = startProcess(image, [image, ...args], environment.toEnvp(), { uid: account.uid, gid: account.uid, stdin: tty, stdout: tty, stderr: tty, setsid: true });
    children.add(pid, image);
    pids.add(pid);
  }
  return pids;
}

function endSession(): void {
  const reply = callCsr(CsrSlot.User, UserApi.ExitWindows, { action: "logoff" }, sessionId);
  if (reply.status !== NtStatus.SUCCESS) write(`winlogon: csrss could not end the session's processes: 0x${reply.status.toString(16)}\n`);
}

function powerOff(): never {
  write("Windows is shutting down...\n");
  sys.sync();
  report("power-off", "done", { by: "winlogon", sessionId });
  for (;;) sys.reboot("power-off");
}

/** Waits until the user's session ends: Userinit's programs all ended, or someone asked to log off or shut down. */
function waitForSessionEnd(userinit: Set<number>, csrss: number, children: Children): ExitWindowsAction {
  let requested: ExitWindowsAction | undefined;
  for (;;) {
    const [fromCsrss, childEvents] = sys.poll(
      [
        { fd: csrss, events: sys.POLLIN },
        { fd: children.fd, events: sys.POLLIN },
      ],
      -1,
    );
    if (childEvents !== 0) for (const ended of children.reap()) userinit.delete(ended.pid);
    if (fromCsrss !== 0) {
      const bytes = sys.read(csrss, MAX_MESSAGE_BYTES);
      if (bytes.length === 0) throw new Error("csrss closed the logon process's connection");
      const notification = JSON.parse(decodeUtf8(bytes)) as ExitWindowsNotification;
      if (notification.action === "shutdown" || requested === undefined) requested = notification.action;
      endSession();
    }
    if (userinit.size === 0) return requested ?? "logoff";
  }
}

function startSessionZeroServices(children: Children): void {
  for (const name of ["services.exe", "lsass.exe"]) {
    const image = `/Windows/System32/${name}`;
    children.add(startProcess(image, [image], null), image);
  }
}

async function main(): Promise<never> {
  const csrss = registerWithCsrss();
  let userenv: UserEnv | undefined;
  const children = new Children();
  if (sessionId === 0) startSessionZeroServices(children);
  for (;;) {
    sys.setTerminalMode(tty, false, false);
    write(`\nsmss86 - session ${sessionId}\n\nUser name: `);
    report("logon-prompt", "done", { sessionId } satisfies LogonData);
    const user = readLine(true);
    if (user === undefined) sys.exit(1);
    if (user.trim() === "") continue;
    write("Password: ");
    const password = readLine(false) ?? "";
    const reply = askLsa(user.trim(), password);
    if (reply?.status !== LogonStatus.SUCCESS || reply.user === undefined || reply.uid === undefined) {
      const [reason, message] =
        reply === undefined
          ? ["the Local Security Authority does not answer", "The Local Security Authority cannot be contacted.\n"]
          : reply.status === LogonStatus.ACCOUNT_DISABLED
            ? ["the account is disabled", "Your account has been disabled.\n"]
            : ["unknown user name or bad password", "The user name or password is incorrect.\n"];
      report("logon", "failed", { sessionId, user: user.trim(), reason } satisfies LogonData);
      sys.sleep(REFUSAL_DELAY_MS);
      write(message);
      continue;
    }
    const account = { user: reply.user, uid: reply.uid };
    report("logon", "done", { sessionId, user: account.user, uid: account.uid } satisfies LogonData);
    userenv ??= (await import(USERENV)) as UserEnv;
    sys.setTerminalMode(tty, true, true);
    const action = waitForSessionEnd(startUserinit(userenv, account, children), csrss, children);
    if (action === "shutdown") powerOff();
    report("logon", "done", { sessionId, user: account.user, uid: account.uid, loggedOff: true } satisfies LogonData);
  }
}

main().catch((error: unknown) => {
  write(`winlogon: ${error instanceof Error ? error.message : String(error)}\n`);
  sys.exit(1);
});
