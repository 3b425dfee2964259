// Requests to the Session Manager on \SmApiPort: a subsystem's announcement, a critical process's mark.
import * as sys from "sys";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { decodeReply, encodeMessage, MAX_MESSAGE_BYTES, SM_API_PORT, type SessionCopyMessage, type SmReply, type SmRequest, type SubsystemConnect } from "../../src/smapi/index.ts";

/** One message on an open connection to \SmApiPort, and smss's reply. */
export function askSm(fd: number, message: SmRequest | SessionCopyMessage | SubsystemConnect): SmReply {
  sys.write(fd, encodeMessage(message));
  return decodeReply(sys.read(fd, MAX_MESSAGE_BYTES));
}

/** One message on a connection of its own. */
export function callSm(message: SmRequest | SessionCopyMessage | SubsystemConnect): SmReply {
  const fd = sys.connectPort(ntObjectPath(SM_API_PORT));
  try {
    return askSm(fd, message);
  } finally {
    sys.close(fd);
  }
}

/** RtlSetProcessIsCritical: from now on this process's end stops the machine (STOP 0xEF). */
export function markCritical(): void {
  const { status } = callSm({ kind: "critical" });
  if (status !== 0) throw new Error(`smss refused to mark the process critical: status 0x${status.toString(16)}`);
}

/** What every subsystem does once at start (NT: connecting with its SB_CONNECTION_INFO): returns smss's status. */
export function announceSubsystem(subsystem: string, sessionId: number, sbApiPort: string): number {
  return callSm({ kind: "connect", subsystem, sessionId, sbApiPort }).status;
}
