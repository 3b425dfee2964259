// The SM API: the messages smss serves on \SmApiPort (reference §3), defined once for smss (server), the
// subsystems and tools (clients) and the host's tests. NT passes fixed C structures over an LPC port; here
// each message is one JSON object in one SOCK_SEQPACKET datagram, and every field is checked on arrival:
// a malformed message gets an error status, never a crash of the server.
import { decodeUtf8 } from "../hive/text.ts";

/** SMSRV_API_NUMBER: what a request asks for. Numbers from 7 on are not implemented, as in Windows. */
export const SmApiNumber = {
  CreateForeignSession: 0,
  SessionComplete: 1,
  TerminateForeignSession: 2,
  ExecPgm: 3,
  LoadDeferedSubsystem: 4,
  StartCsr: 5,
  StopCsr: 6,
} as const;
export type SmApiNumber = (typeof SmApiNumber)[keyof typeof SmApiNumber];

/** The NTSTATUS values the SM API answers with. */
export const NtStatus = {
  SUCCESS: 0x00000000,
  NOT_IMPLEMENTED: 0xc0000002,
  INVALID_PARAMETER: 0xc000000d,
  ACCESS_DENIED: 0xc0000022,
  OBJECT_NAME_NOT_FOUND: 0xc0000034,
  OBJECT_NAME_COLLISION: 0xc0000035,
  INVALID_CID: 0xc000000b,
  UNSUCCESSFUL: 0xc0000001,
} as const;

/** Where smss serves the SM API. */
export const SM_API_PORT = "\\SmApiPort";

/** Largest message either side sends or reads; a longer one is malformed. */
export const MAX_MESSAGE_BYTES = 4096;
/** LoadDeferedSubsystem: a name longer than this many bytes (UTF-16, as in Windows) is invalid. */
export const MAX_SUBSYSTEM_NAME_BYTES = 64;

/** What a subsystem says when it connects (NT: SB_CONNECTION_INFO): who it is and where its SbApiPort is. */
export interface SubsystemConnect {
  kind: "connect";
  subsystem: string;
  sessionId: number;
  sbApiPort: string;
}

/**
 * smss86's own messages between the master smss and the copy of itself it starts for a session (Windows
 * uses its private LPC messages and duplicated handles): the copy waits for each subsystem to connect,
 * then reports what the master must watch, or why the session could not start.
 * `critical` makes the caller a critical process (RtlSetProcessIsCritical): its end stops the machine.
 */
export type SessionCopyMessage =
  | { kind: "await-subsystem"; sessionId: number; subsystem: string }
  | { kind: "session-started"; sessionId: number; subsystems: { name: string; pid: number }[]; initialCommand?: { image: string; pid: number } }
  | { kind: "session-failed"; sessionId: number; reason: string }
  | { kind: "critical" };

/** What a session copy starts: the Required subsystems in order, then the initial command. */
export interface SessionPlan {
  subsystems: { name: string; image: string; args: string[] }[];
  initialCommand?: { image: string; args: string[] };
  /** Session 0 waits for its subsystems without a limit, other sessions this long (Windows: 60 s). */
  subsystemTimeoutMs: number;
}

export type SmRequest =
  | { api: typeof SmApiNumber.SessionComplete; sessionId: number; status: number }
  | { api: typeof SmApiNumber.ExecPgm; sessionId: number; commandLine: string }
  | { api: typeof SmApiNumber.LoadDeferedSubsystem; name: string }
  | { api: typeof SmApiNumber.StartCsr; initialCommand: string }
  | { api: typeof SmApiNumber.StopCsr; sessionId: number }
  | { api: typeof SmApiNumber.CreateForeignSession | typeof SmApiNumber.TerminateForeignSession };

export interface SmReply {
  status: number;
  /** StartCsr: the new session, its csrss and its initial command. ExecPgm: the process started. */
  sessionId?: number;
  csrssPid?: number;
  initialCommandPid?: number;
  pid?: number;
}

/** A message that cannot be served: the status to answer with and why (for the log). */
export class SmMessageError extends Error {
  override name = "SmMessageError";
  constructor(
    readonly status: number,
    why: string,
  ) {
    super(why);
  }
}

/** The message as one datagram's text (sys.write sends a string as UTF-8). */
export function encodeMessage(message: SmRequest | SmReply | SubsystemConnect | SessionCopyMessage): string {
  return JSON.stringify(message);
}

function parseObject(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length === 0 || bytes.length > MAX_MESSAGE_BYTES) {
    throw new SmMessageError(NtStatus.INVALID_PARAMETER, `a message of ${bytes.length} bytes (1 to ${MAX_MESSAGE_BYTES} allowed)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(bytes));
  } catch {
    throw new SmMessageError(NtStatus.INVALID_PARAMETER, "the message is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new SmMessageError(NtStatus.INVALID_PARAMETER, "the message is not an object");
  return parsed as Record<string, unknown>;
}

function sessionIdField(message: Record<string, unknown>): number {
  const value = message.sessionId;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new SmMessageError(NtStatus.INVALID_PARAMETER, "sessionId must be an integer from 0 to 65535");
  }
  return value;
}

function stringField(message: Record<string, unknown>, name: string, maxLength: number): string {
  const value = message[name];
  if (typeof value !== "string") throw new SmMessageError(NtStatus.INVALID_PARAMETER, `${name} must be a string`);
  if (value.length > maxLength) throw new SmMessageError(NtStatus.INVALID_PARAMETER, `${name} is longer than ${maxLength} characters`);
  return value;
}

/** The first message on a connection: a subsystem announcing itself, or a client's first request. */
export function decodeConnectOrRequest(bytes: Uint8Array): SubsystemConnect | SessionCopyMessage | SmRequest {
  const message = parseObject(bytes);
  if (message.kind !== "connect") return checkRequestOrCopyMessage(message);
  const subsystem = stringField(message, "subsystem", 64);
  const sbApiPort = stringField(message, "sbApiPort", 256);
  if (subsystem === "" || sbApiPort === "") throw new SmMessageError(NtStatus.INVALID_PARAMETER, "a subsystem names itself and its SbApiPort");
  return { kind: "connect", subsystem, sessionId: sessionIdField(message), sbApiPort };
}

/** Any message after the first. */
export function decodeRequestOrCopyMessage(bytes: Uint8Array): SessionCopyMessage | SmRequest {
  return checkRequestOrCopyMessage(parseObject(bytes));
}

function pidField(message: Record<string, unknown>, name: string): number {
  const value = message[name];
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw new SmMessageError(NtStatus.INVALID_PARAMETER, `${name} must be a process id`);
  return value;
}

function checkRequestOrCopyMessage(message: Record<string, unknown>): SessionCopyMessage | SmRequest {
  switch (message.kind) {
    case undefined:
      return checkRequest(message);
    case "await-subsystem":
      return { kind: "await-subsystem", sessionId: sessionIdField(message), subsystem: stringField(message, "subsystem", 64) };
    case "critical":
      return { kind: "critical" };
    case "session-failed":
      return { kind: "session-failed", sessionId: sessionIdField(message), reason: stringField(message, "reason", 1024) };
    case "session-started": {
      const list = message.subsystems;
      if (!Array.isArray(list) || list.length > 16) throw new SmMessageError(NtStatus.INVALID_PARAMETER, "subsystems must be a list of at most 16");
      const subsystems = list.map((entry: unknown) => {
        if (typeof entry !== "object" || entry === null) throw new SmMessageError(NtStatus.INVALID_PARAMETER, "a subsystem entry is an object");
        const fields = entry as Record<string, unknown>;
        return { name: stringField(fields, "name", 64), pid: pidField(fields, "pid") };
      });
      const initial = message.initialCommand;
      let initialCommand: { image: string; pid: number } | undefined;
      if (initial !== undefined) {
        if (typeof initial !== "object" || initial === null) throw new SmMessageError(NtStatus.INVALID_PARAMETER, "initialCommand is an object");
        const fields = initial as Record<string, unknown>;
        initialCommand = { image: stringField(fields, "image", 1024), pid: pidField(fields, "pid") };
      }
      return { kind: "session-started", sessionId: sessionIdField(message), subsystems, ...(initialCommand ? { initialCommand } : {}) };
    }
    default:
      throw new SmMessageError(NtStatus.INVALID_PARAMETER, `unknown message kind ${JSON.stringify(String(message.kind)).slice(0, 40)}`);
  }
}

export function decodeRequest(bytes: Uint8Array): SmRequest {
  return checkRequest(parseObject(bytes));
}

function checkRequest(message: Record<string, unknown>): SmRequest {
  const api = message.api;
  if (typeof api !== "number" || !Number.isInteger(api) || api < 0) throw new SmMessageError(NtStatus.INVALID_PARAMETER, "api must be a non-negative integer");
  switch (api) {
    case SmApiNumber.SessionComplete: {
      const status = message.status;
      if (typeof status !== "number" || !Number.isInteger(status) || status < 0 || status > 0xffffffff) {
        throw new SmMessageError(NtStatus.INVALID_PARAMETER, "status must be a 32-bit NTSTATUS");
      }
      return { api, sessionId: sessionIdField(message), status };
    }
    case SmApiNumber.ExecPgm:
      return { api, sessionId: sessionIdField(message), commandLine: stringField(message, "commandLine", 1024) };
    case SmApiNumber.LoadDeferedSubsystem: {
      const name = stringField(message, "name", MAX_SUBSYSTEM_NAME_BYTES);
      if (name === "" || name.length * 2 > MAX_SUBSYSTEM_NAME_BYTES) {
        throw new SmMessageError(NtStatus.INVALID_PARAMETER, `the subsystem name must be 1 to ${MAX_SUBSYSTEM_NAME_BYTES} bytes`);
      }
      return { api, name };
    }
    case SmApiNumber.StartCsr:
      return { api, initialCommand: stringField(message, "initialCommand", 1024) };
    case SmApiNumber.StopCsr:
      return { api, sessionId: sessionIdField(message) };
    case SmApiNumber.CreateForeignSession:
    case SmApiNumber.TerminateForeignSession:
      return { api };
    default:
      throw new SmMessageError(NtStatus.NOT_IMPLEMENTED, `SM API number ${api} does not exist`);
  }
}

export function decodeReply(bytes: Uint8Array): SmReply {
  const message = parseObject(bytes);
  if (typeof message.status !== "number") throw new SmMessageError(NtStatus.INVALID_PARAMETER, "a reply carries a status");
  const reply: SmReply = { status: message.status };
  for (const field of ["sessionId", "csrssPid", "initialCommandPid", "pid"] as const) {
    if (typeof message[field] === "number") reply[field] = message[field] as number;
  }
  return reply;
}
