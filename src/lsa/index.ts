// The logon request winlogon sends lsass on \LsaAuthenticationPort (Windows: LsaLogonUser over the LSA's
// LPC port), defined once for both. One JSON object per datagram, checked on arrival like the SM API's.
import { decodeUtf8 } from "../hive/text.ts";

export const LSA_AUTHENTICATION_PORT = "\\LsaAuthenticationPort";

export const LogonStatus = {
  SUCCESS: 0x00000000,
  /** STATUS_LOGON_FAILURE: unknown user or wrong password (Windows does not say which). */
  LOGON_FAILURE: 0xc000006d,
  ACCOUNT_DISABLED: 0xc0000072,
  INVALID_PARAMETER: 0xc000000d,
  ACCESS_DENIED: 0xc0000022,
} as const;

export interface LogonRequest {
  user: string;
  password: string;
}

export interface LogonReply {
  status: number;
  /** On success: the account's name as the SAM spells it, its RID (the guest uid) and full name. */
  user?: string;
  uid?: number;
  fullName?: string;
}

/** Names and passwords longer than this are refused before any hashing. */
export const MAX_CREDENTIAL_LENGTH = 256;

export class LsaMessageError extends Error {
  override name = "LsaMessageError";
}

function parse(bytes: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(bytes));
  } catch {
    throw new LsaMessageError("the message is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new LsaMessageError("the message is not an object");
  return parsed as Record<string, unknown>;
}

export function decodeLogonRequest(bytes: Uint8Array): LogonRequest {
  const message = parse(bytes);
  const { user, password } = message;
  if (typeof user !== "string" || typeof password !== "string") throw new LsaMessageError("user and password must be strings");
  if (user === "" || user.length > MAX_CREDENTIAL_LENGTH || password.length > MAX_CREDENTIAL_LENGTH) {
    throw new LsaMessageError(`the user name must be 1 to ${MAX_CREDENTIAL_LENGTH} characters, the password at most ${MAX_CREDENTIAL_LENGTH}`);
  }
  return { user, password };
}

export function decodeLogonReply(bytes: Uint8Array): LogonReply {
  const message = parse(bytes);
  if (typeof message.status !== "number") throw new LsaMessageError("a reply carries a status");
  return {
    status: message.status,
    ...(typeof message.user === "string" ? { user: message.user } : {}),
    ...(typeof message.uid === "number" ? { uid: message.uid } : {}),
    ...(typeof message.fullName === "string" ? { fullName: message.fullName } : {}),
  };
}
