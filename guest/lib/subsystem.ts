// What every subsystem does once at start (NT: connecting to \SmApiPort with its SB_CONNECTION_INFO):
// announce itself and its SbApiPort to smss, and hear whether smss accepts it.
import * as sys from "sys";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { decodeReply, encodeMessage, MAX_MESSAGE_BYTES, SM_API_PORT } from "../../src/smapi/index.ts";

/** Returns smss's status: NtStatus.SUCCESS when the subsystem is accepted. */
export function announceSubsystem(subsystem: string, sessionId: number, sbApiPort: string): number {
  const fd = sys.connectPort(ntObjectPath(SM_API_PORT));
  try {
    sys.write(fd, encodeMessage({ kind: "connect", subsystem, sessionId, sbApiPort }));
    return decodeReply(sys.read(fd, MAX_MESSAGE_BYTES)).status;
  } finally {
    sys.close(fd);
  }
}
