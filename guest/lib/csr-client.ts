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

/** A connection to the csrss of a session (the caller's by default). */
export function connectCsr(sessionId = mySession()): number {
  return sys.connectPort(ntObjectPath(apiPortName(sessionId)));
}

/** One request to the server DLL in slot `dll` on an open connection; a reply that is not a JSON object is an Error. */
export function askCsr(fd: number, dll: number, api: number, body: Record<string, unknown> = {}): CsrReply {
  sys.write(fd, JSON.stringify({ ...body, dll, api }));
  const reply = JSON.parse(decodeUtf8(sys.read(fd, MAX_MESSAGE_BYTES))) as unknown;
  if (typeof reply !== "object" || reply === null || typeof (reply as CsrReply).status !== "number") throw new Error("csrss sent a malformed reply");
  return reply as CsrReply;
}

/** One request on a connection of its own. */
export function callCsr(dll: number, api: number, body: Record<string, unknown> = {}, sessionId = mySession()): CsrReply {
  const fd = connectCsr(sessionId);
  try {
    return askCsr(fd, dll, api, body);
  } finally {
    sys.close(fd);
  }
}

/** ExitWindowsEx: asks the session's logon process to log the user off or shut the machine down. */
export function exitWindows(action: ExitWindowsAction): CsrReply {
  return callCsr(CsrSlot.User, UserApi.ExitWindows, { action });
}
