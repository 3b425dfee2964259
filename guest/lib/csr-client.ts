// The client side of csrss's ApiPort, as kernel32/user32 call CSR in Windows: one request, one reply, on a
// connection of its own, to the csrss of the caller's session.
import * as sys from "sys";
import { decodeUtf8 } from "../../src/hive/text.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { MAX_MESSAGE_BYTES } from "../../src/smapi/index.ts";
import { apiPortName, CsrSlot, UserApi, type CsrReply, type ExitWindowsAction } from "./csr.ts";
import { sessionOf } from "./win32k.ts";

export function mySession(): number {
  return sessionOf(sys.getpid()) ?? 0;
}

/** Sends a request to the server DLL in slot `dll`; a reply that is not a JSON object is an Error. */
export function callCsr(dll: number, api: number, body: Record<string, unknown> = {}, sessionId = mySession()): CsrReply {
  const fd = sys.connectPort(ntObjectPath(apiPortName(sessionId)));
  try {
    sys.write(fd, JSON.stringify({ ...body, dll, api }));
    const reply = JSON.parse(decodeUtf8(sys.read(fd, MAX_MESSAGE_BYTES))) as unknown;
    if (typeof reply !== "object" || reply === null || typeof (reply as CsrReply).status !== "number") throw new Error("csrss sent a malformed reply");
    return reply as CsrReply;
  } finally {
    sys.close(fd);
  }
}

/** ExitWindowsEx: asks the session's logon process to log the user off or shut the machine down. */
export function exitWindows(action: ExitWindowsAction): CsrReply {
  return callCsr(CsrSlot.User, UserApi.ExitWindows, { action });
}
