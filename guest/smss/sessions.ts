// The sessions smss starts once its own work is done, and what it watches in them (reference §2, §4).
// Vista model: a copy of smss for session 0 starts csrss and wininit there, then a copy for session 1 starts
// csrss and winlogon. NT5 model: one copy for session 0 starts csrss and winlogon (XP ran both in smss itself;
// a copy gives the same processes and sessions with one code path). StartCsr starts further sessions the
// same way. Each copy (session-copy.ts, a fork of this process: Windows starts smss.exe again, but a fork is
// the same program for a tenth of the cost) starts the session's subsystems, waits until each has
// connected here, starts the initial command, reports the pids and exits; its children are then this
// process's (the kernel gives orphans to PID 1), so the master reaps them and knows how each ended:
// - a critical process (csrss in the Vista model, and whoever asked: wininit) → STOP 0xEF CRITICAL_PROCESS_DIED;
// - csrss in the NT5 model, winlogon in both → STOP 0xC000021A naming "Windows SubSystem" or "Windows Logon
//   Process" and the exit status (the exit code, or 128 + the signal that killed it, as a shell says).
// A session whose subsystems cannot start is fatal for sessions 0 and 1 and an error status for StartCsr.
import * as sys from "sys";
import type { Environment } from "../../src/config/environment.ts";
import type { SessionConfig } from "../../src/config/sessions.ts";
import type { ProcessStartData, SessionData } from "../../src/events/index.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { encodeMessage, MAX_MESSAGE_BYTES, NtStatus, SmApiNumber, type SessionCopyMessage, type SessionPlan, type SmReply } from "../../src/smapi/index.ts";
import { report } from "../lib/probe.ts";
import { processStatus, reportExit } from "../lib/processes.ts";
import { runSessionCopy } from "./session-copy.ts";
import { destroySession, sessionTable } from "../lib/win32k.ts";
import { findCommand } from "../lib/image-search.ts";
import { bugcheck, CRITICAL_PROCESS_DIED, STATUS_SYSTEM_PROCESS_TERMINATED } from "./bugcheck.ts";
import type { Subsystem } from "./smapi.ts";

/** How long StopCsr waits for a subsystem to acknowledge the end of its session. */
const SB_REPLY_TIMEOUT_MS = 5_000;
/** Windows waits this long for a new session's subsystems (session 0 waits without a limit). */
const SUBSYSTEM_TIMEOUT_MS = 60_000;

type Role = "critical" | "Windows SubSystem" | "Windows Logon Process";

interface Watched {
  image: string;
  sessionId: number;
  role: Role;
}

interface Copy {
  sessionId: number;
  plan: SessionPlan;
  /** Set once the copy reported the session started or failed. */
  finished: boolean;
  /** A StartCsr caller waiting for the answer; the boot's own sessions have none. */
  requester?: number;
}

export class SessionManager {
  private readonly watched = new Map<number, Watched>();
  private readonly copies = new Map<number, Copy>();
  private readonly awaiting: { fd: number; sessionId: number; subsystem: string }[] = [];
  private readonly subsystemsBySession = new Map<number, Subsystem[]>();
  private readonly endingSessions = new Set<number>();
  private nextSessionId = 2;

  constructor(
    private readonly config: SessionConfig,
    private readonly environment: Environment,
    private readonly smssImage: string,
  ) {}

  /** Session 0 now; session 1 follows once session 0 is up (Vista model). */
  startBootSessions(): void {
    this.startCopy(0, this.config.model === "Vista" ? this.config.sessionZeroCommand : this.config.initialCommand);
  }

  /** StartCsr: a new session with its subsystems and `initialCommand` (winlogon when empty); answered later. */
  startSession(initialCommand: string, requester: number): void {
    const sessionId = this.nextSessionId++;
    this.startCopy(sessionId, initialCommand === "" ? this.config.initialCommand : initialCommand, requester);
  }

  /** StopCsr: the session's csrss is told to stop and what is left of the session ends. */
  stopSession(sessionId: number): SmReply {
    const subsystems = this.subsystemsBySession.get(sessionId);
    if (subsystems === undefined || sessionId < 2) return { status: NtStatus.INVALID_PARAMETER };
    for (const [pid, watched] of this.watched) if (watched.sessionId === sessionId) this.watched.delete(pid);
    for (const subsystem of subsystems) {
      let fd = -1;
      try {
        fd = sys.connectPort(ntObjectPath(subsystem.sbApiPort));
        sys.write(fd, encodeMessage({ api: SmApiNumber.StopCsr, sessionId }));
        // smss is PID 1: a subsystem that does not answer must not hold it; it is killed below anyway.
        if (sys.poll([{ fd, events: sys.POLLIN }], SB_REPLY_TIMEOUT_MS)[0] !== 0) sys.read(fd, MAX_MESSAGE_BYTES);
      } catch (error) {
        if (!(error instanceof sys.SysError)) throw error;
      } finally {
        if (fd >= 0) sys.close(fd);
      }
    }
    for (const pid of sessionTable().get(sessionId) ?? []) this.kill(pid);
    this.subsystemsBySession.delete(sessionId);
    this.endingSessions.add(sessionId);
    this.destroyEndedSessions();
    return { status: NtStatus.SUCCESS };
  }

  /** Sessions whose processes were told to end leave win32k's table once the last has exited. */
  private destroyEndedSessions(): void {
    for (const sessionId of this.endingSessions) {
      try {
        destroySession(sessionId);
      } catch (error) {
        if (error instanceof sys.SysError && error.code === "EBUSY") continue;
        throw error;
      }
      this.endingSessions.delete(sessionId);
      report("session", "done", { sessionId });
    }
  }

  /** A subsystem connected to \SmApiPort: releases a copy waiting for it. */
  subsystemConnected(subsystem: Subsystem): void {
    const list = this.subsystemsBySession.get(subsystem.sessionId) ?? [];
    list.push(subsystem);
    this.subsystemsBySession.set(subsystem.sessionId, list);
    for (let index = this.awaiting.length - 1; index >= 0; index--) {
      const waiter = this.awaiting[index];
      if (waiter.sessionId !== subsystem.sessionId || waiter.subsystem.toUpperCase() !== subsystem.name.toUpperCase()) continue;
      this.awaiting.splice(index, 1);
      this.send(waiter.fd, { status: NtStatus.SUCCESS, pid: subsystem.pid });
    }
  }

  /** The caller is gone: nothing is waiting on its connection any more. */
  connectionClosed(fd: number): void {
    for (let index = this.awaiting.length - 1; index >= 0; index--) if (this.awaiting[index].fd === fd) this.awaiting.splice(index, 1);
    for (const copy of this.copies.values()) if (copy.requester === fd) copy.requester = undefined;
  }

  /** A message of smss86's own protocol; undefined when the answer comes later. */
  serveCopyMessage(message: SessionCopyMessage, fd: number, pid: number): SmReply | undefined {
    if (message.kind === "critical") {
      // The kernel's name for it (for a program of the shared runtime, the .exe's own name).
      this.watched.set(pid, { image: processStatus(pid)?.field("Name") ?? `pid ${pid}`, sessionId: -1, role: "critical" });
      return { status: NtStatus.SUCCESS };
    }
    const copy = this.copies.get(pid);
    if (copy === undefined || copy.sessionId !== message.sessionId) return { status: NtStatus.ACCESS_DENIED };
    switch (message.kind) {
      case "await-subsystem":
        if (this.subsystemsBySession.get(copy.sessionId)?.some((s) => s.name.toUpperCase() === message.subsystem.toUpperCase())) return { status: NtStatus.SUCCESS };
        this.awaiting.push({ fd, sessionId: copy.sessionId, subsystem: message.subsystem });
        return undefined;
      case "session-started":
        this.sessionStarted(copy, message);
        return { status: NtStatus.SUCCESS };
      case "session-failed":
        this.sessionFailed(copy, message.reason);
        return { status: NtStatus.SUCCESS };
    }
  }

  /** A child (or an orphan the kernel handed to PID 1) ended. */
  processEnded(result: sys.WaitResult): void {
    const watched = this.watched.get(result.pid);
    const copy = this.copies.get(result.pid);
    reportExit(result, watched?.image ?? (copy ? this.smssImage : undefined));
    this.destroyEndedSessions();
    if (copy !== undefined) {
      this.copies.delete(result.pid);
      if (!copy.finished) this.sessionFailed(copy, `its smss copy ended (${describeEnd(result)}) before the session was up`);
      return;
    }
    if (watched === undefined) return;
    this.watched.delete(result.pid);
    const status = result.code ?? 128 + (result.signal ?? 0);
    if (watched.role === "critical") {
      bugcheck(CRITICAL_PROCESS_DIED, [result.pid, status, 0, 0], `CRITICAL_PROCESS_DIED: ${watched.image} (pid ${result.pid}) ${describeEnd(result)}`);
    }
    bugcheck(
      STATUS_SYSTEM_PROCESS_TERMINATED,
      [status, 0, 0, 0],
      `The ${watched.role} system process terminated unexpectedly with a status of 0x${status.toString(16).padStart(8, "0")} (${watched.image}, pid ${result.pid}, ${describeEnd(result)})`,
    );
  }

  private startCopy(sessionId: number, initialCommand: string, requester?: number): void {
    let plan: SessionPlan;
    try {
      plan = {
        subsystems: this.config.required.map(({ name, commandLine }) => ({ name, ...this.resolve(commandLine, `SubSystems\\${name}`) })),
        initialCommand: this.resolve(initialCommand, "the initial command"),
        subsystemTimeoutMs: sessionId === 0 ? -1 : SUBSYSTEM_TIMEOUT_MS,
      };
    } catch (error) {
      if (requester === undefined) bugcheck(STATUS_SYSTEM_PROCESS_TERMINATED, [NtStatus.OBJECT_NAME_NOT_FOUND, 0, 0, 0], `session ${sessionId}: ${(error as Error).message}`);
      this.send(requester, { status: NtStatus.OBJECT_NAME_NOT_FOUND });
      return;
    }
    const pid = sys.fork();
    if (pid === 0) runSessionCopy(sessionId, plan, this.environment.toEnvp());
    report("process", "start", { pid, parent: sys.getpid(), image: this.smssImage, uid: 0 } satisfies ProcessStartData);
    this.copies.set(pid, { sessionId, plan, finished: false, ...(requester === undefined ? {} : { requester }) });
  }

  private resolve(commandLine: string, what: string): { image: string; args: string[] } {
    const { requested, image, args } = findCommand(commandLine, this.environment);
    if (image === undefined) throw new Error(`${what}: ${requested} not found along Path or in \\SystemRoot\\System32`);
    return { image, args };
  }

  private sessionStarted(copy: Copy, message: Extract<SessionCopyMessage, { kind: "session-started" }>): void {
    copy.finished = true;
    const critical = this.config.model === "Vista";
    for (const { name, pid } of message.subsystems) {
      const image = copy.plan.subsystems.find((s) => s.name === name)?.image ?? name;
      this.watched.set(pid, { image, sessionId: copy.sessionId, role: critical ? "critical" : "Windows SubSystem" });
    }
    const initial = message.initialCommand;
    if (initial !== undefined && /winlogon\.exe$/i.test(initial.image)) this.watched.set(initial.pid, { image: initial.image, sessionId: copy.sessionId, role: "Windows Logon Process" });
    const data: SessionData = {
      sessionId: copy.sessionId,
      ...(message.subsystems[0] ? { csrss: message.subsystems[0].pid } : {}),
      ...(initial ? { initialCommand: initial } : {}),
    };
    report("session", "start", data);
    if (copy.requester !== undefined) {
      this.send(copy.requester, { status: NtStatus.SUCCESS, sessionId: copy.sessionId, csrssPid: message.subsystems[0]?.pid, initialCommandPid: initial?.pid });
    } else if (copy.sessionId === 0 && this.config.model === "Vista") {
      this.startCopy(1, this.config.initialCommand);
    }
  }

  private sessionFailed(copy: Copy, reason: string): void {
    copy.finished = true;
    report("session", "failed", { sessionId: copy.sessionId, reason });
    if (copy.requester === undefined) bugcheck(STATUS_SYSTEM_PROCESS_TERMINATED, [NtStatus.UNSUCCESSFUL, 0, 0, 0], `The Windows SubSystem of session ${copy.sessionId} could not start: ${reason}`);
    this.send(copy.requester, { status: NtStatus.UNSUCCESSFUL });
  }

  private send(fd: number, reply: SmReply): void {
    try {
      sys.write(fd, encodeMessage(reply));
    } catch (error) {
      // The caller hung up; nobody is left to tell.
      if (!(error instanceof sys.SysError)) throw error;
    }
  }

  private kill(pid: number): void {
    try {
      sys.kill(pid, sys.SIGKILL);
    } catch (error) {
      if (!(error instanceof sys.SysError && error.code === "ESRCH")) throw error;
    }
  }
}

function describeEnd(result: sys.WaitResult): string {
  return result.code !== null ? `exited with code ${result.code}` : `was killed by signal ${result.signal}`;
}
