// The copy of smss the master makes for one session (a fork: it starts with the master's plan for the
// session in hand): it joins the session in win32k (creating it unless it is session 0, which the kmode
// phase made), starts the Required subsystems one by one and waits until each has connected to \SmApiPort
// (the master answers when it has; session 0 waits without a limit, others 60 s), starts the initial
// command, tells the master what it started and exits. Its children then belong to the master, which
// watches them.
import * as sys from "sys";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { decodeReply, encodeMessage, MAX_MESSAGE_BYTES, NtStatus, SM_API_PORT, type SessionCopyMessage, type SessionPlan, type SmReply } from "../../src/smapi/index.ts";
import { startProcess } from "../lib/processes.ts";
import { askSm } from "../lib/sm-client.ts";
import { attachProcess, createSession } from "../lib/win32k.ts";
import { say } from "./console.ts";

class SessionCopyError extends Error {}

export function runSessionCopy(sessionId: number, plan: SessionPlan, environment: string[]): never {
  let port = -1;
  try {
    port = sys.connectPort(ntObjectPath(SM_API_PORT));
    if (sessionId !== 0) createSession(sessionId);
    attachProcess(sys.getpid(), sessionId);
    const childExits = sys.signalfd([sys.SIGCHLD]);
    const subsystems: { name: string; pid: number }[] = [];
    for (const subsystem of plan.subsystems) {
      const pid = startProcess(subsystem.image, [subsystem.image, ...subsystem.args], environment);
      subsystems.push({ name: subsystem.name, pid });
      sys.write(port, encodeMessage({ kind: "await-subsystem", sessionId, subsystem: subsystem.name }));
      const [answered, exited] = sys.poll(
        [
          { fd: port, events: sys.POLLIN },
          { fd: childExits, events: sys.POLLIN },
        ],
        plan.subsystemTimeoutMs,
      );
      if (answered === 0 && exited !== 0) {
        const end = sys.waitpid(pid, sys.WNOHANG);
        if (end !== null) throw new SessionCopyError(`subsystem ${subsystem.name} (${subsystem.image}) ended before it connected: ${end.code !== null ? `exit code ${end.code}` : `signal ${end.signal}`}`);
      }
      if (answered === 0) throw new SessionCopyError(`subsystem ${subsystem.name} did not connect within ${plan.subsystemTimeoutMs / 1000} s`);
      const reply = decodeReply(sys.read(port, MAX_MESSAGE_BYTES));
      if (reply.status !== NtStatus.SUCCESS) throw new SessionCopyError(`the master refused to wait for ${subsystem.name}: 0x${reply.status.toString(16)}`);
    }
    const initial = plan.initialCommand;
    const initialCommand = initial ? { image: initial.image, pid: startProcess(initial.image, [initial.image, ...initial.args], environment) } : undefined;
    ask(port, { kind: "session-started", sessionId, subsystems, ...(initialCommand ? { initialCommand } : {}) });
    sys.exit(0);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    say(`smss (session ${sessionId}): ${reason}`);
    try {
      if (port >= 0) ask(port, { kind: "session-failed", sessionId, reason });
    } finally {
      sys.exit(1);
    }
  }
}

function ask(port: number, message: SessionCopyMessage): SmReply {
  const reply = askSm(port, message);
  if (reply.status !== NtStatus.SUCCESS) throw new SessionCopyError(`the master answered ${message.kind} with status 0x${reply.status.toString(16)}`);
  return reply;
}
