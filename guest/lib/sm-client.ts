// Requests to the Session Manager on \SmApiPort from processes other than subsystems.
import * as sys from "sys";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { decodeReply, encodeMessage, MAX_MESSAGE_BYTES, SM_API_PORT, type SessionCopyMessage, type SmReply, type SmRequest } from "../../src/smapi/index.ts";

export function callSm(message: SmRequest | SessionCopyMessage): SmReply {
  const fd = sys.connectPort(ntObjectPath(SM_API_PORT));
  try {
    sys.write(fd, encodeMessage(message));
    return decodeReply(sys.read(fd, MAX_MESSAGE_BYTES));
  } finally {
    sys.close(fd);
  }
}

/** RtlSetProcessIsCritical: from now on this process's end stops the machine (STOP 0xEF). */
export function markCritical(): void {
  const { status } = callSm({ kind: "critical" });
  if (status !== 0) throw new Error(`smss refused to mark the process critical: status 0x${status.toString(16)}`);
}
