// \SmApiPort: the SM API that smss serves once resident (reference §3; messages in src/smapi). Only the
// system (root) may call it: any other caller gets STATUS_ACCESS_DENIED for every request. A subsystem's
// first message announces it (name, session, SbApiPort); the requests smss serves here are
// SessionComplete, ExecPgm, LoadDeferedSubsystem (an Optional subsystem, started on request), StartCsr and
// StopCsr (sessions.ts creates and ends the session), and smss86's own messages between the master and its
// session copies. Foreign sessions were never implemented by Windows either: STATUS_NOT_IMPLEMENTED, as for
// unknown numbers. A malformed message gets its error status and the connection stays usable; StartCsr and
// a copy's wait for a subsystem are answered later, when the session or the subsystem is up.
import * as sys from "sys";
import type { Environment } from "../../src/config/environment.ts";
import { multiStringValue, stringValue, type SessionManagerKey } from "../../src/config/values.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import {
  decodeConnectOrRequest,
  decodeRequestOrCopyMessage,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  NtStatus,
  SmApiNumber,
  SmMessageError,
  SM_API_PORT,
  type SmReply,
  type SmRequest,
} from "../../src/smapi/index.ts";
import { report } from "../lib/probe.ts";
import { findCommand } from "../lib/image-search.ts";
import { startProcess } from "../lib/processes.ts";
import type { SessionManager } from "./sessions.ts";

/** Creates \SmApiPort; anyone may connect (the server refuses callers that are not the system). */
export function createSmApiPort(): number {
  const path = ntObjectPath(SM_API_PORT);
  const fd = sys.createPort(path);
  sys.chmod(path, 0o666);
  return fd;
}

interface Connection {
  pid: number;
  system: boolean;
  /** Whether a first message has arrived (only that one may be a subsystem's announcement). */
  greeted: boolean;
}

export interface Subsystem {
  name: string;
  sessionId: number;
  pid: number;
  sbApiPort: string;
}

export class SmApiServer {
  private readonly connections = new Map<number, Connection>();

  constructor(
    private readonly port: number,
    private readonly sessionManager: SessionManagerKey,
    private readonly environment: Environment,
    private readonly sessions: SessionManager,
  ) {}

  /** What to poll: the port and every open connection. */
  descriptors(): number[] {
    return [this.port, ...this.connections.keys()];
  }

  /** Serves whatever poll said is ready on fd. */
  serve(fd: number): void {
    if (fd === this.port) {
      const connection = sys.accept(this.port);
      const peer = sys.peerCredentials(connection);
      this.connections.set(connection, { pid: peer.pid, system: peer.uid === 0, greeted: false });
      return;
    }
    const connection = this.connections.get(fd);
    if (connection === undefined) return;
    const message = sys.read(fd, MAX_MESSAGE_BYTES + 1);
    if (message.length === 0) {
      this.connections.delete(fd);
      this.sessions.connectionClosed(fd);
      sys.close(fd);
      return;
    }
    const reply = this.answer(connection, message, fd);
    if (reply !== undefined) sys.write(fd, encodeMessage(reply));
  }

  /** undefined: the answer is sent later (StartCsr, a copy waiting for a subsystem). */
  private answer(connection: Connection, message: Uint8Array, fd: number): SmReply | undefined {
    const first = !connection.greeted;
    connection.greeted = true;
    if (!connection.system) return { status: NtStatus.ACCESS_DENIED };
    try {
      const decoded = first ? decodeConnectOrRequest(message) : decodeRequestOrCopyMessage(message);
      if (!("kind" in decoded)) return this.request(decoded, fd);
      if (decoded.kind !== "connect") return this.sessions.serveCopyMessage(decoded, fd, connection.pid);
      const subsystem = { name: decoded.subsystem, sessionId: decoded.sessionId, pid: connection.pid, sbApiPort: decoded.sbApiPort };
      report("subsystem", "start", { ...subsystem });
      this.sessions.subsystemConnected(subsystem);
      return { status: NtStatus.SUCCESS };
    } catch (error) {
      if (error instanceof SmMessageError) return { status: error.status };
      throw error;
    }
  }

  private request(request: SmRequest, fd: number): SmReply | undefined {
    switch (request.api) {
      case SmApiNumber.SessionComplete:
        report("subsystem", "done", { sessionComplete: request.sessionId, status: request.status });
        return { status: NtStatus.SUCCESS };
      case SmApiNumber.ExecPgm:
        return this.execute(request.commandLine);
      case SmApiNumber.LoadDeferedSubsystem:
        return this.loadDeferred(request.name);
      case SmApiNumber.StartCsr:
        this.sessions.startSession(request.initialCommand, fd);
        return undefined;
      case SmApiNumber.StopCsr:
        return this.sessions.stopSession(request.sessionId);
      default:
        return { status: NtStatus.NOT_IMPLEMENTED };
    }
  }

  /** A command line in smss's syntax (image searched along Path, then System32), started and not waited for. */
  private execute(commandLine: string): SmReply {
    let command;
    try {
      command = findCommand(commandLine, this.environment);
    } catch {
      return { status: NtStatus.INVALID_PARAMETER };
    }
    if (command.image === undefined) return { status: NtStatus.OBJECT_NAME_NOT_FOUND };
    const pid = startProcess(command.image, [command.image, ...command.args], this.environment.toEnvp());
    return { status: NtStatus.SUCCESS, pid };
  }

  /** SubSystems\Optional names the subsystems that start on request; SubSystems\<name> is the command line. */
  private loadDeferred(name: string): SmReply {
    const subsystems = this.sessionManager.key.subkey("SubSystems");
    const where = `${this.sessionManager.displayPath}\\SubSystems`;
    const optional = subsystems?.value("Optional");
    let names: string[] = [];
    try {
      names = optional ? multiStringValue(optional, where) : [];
    } catch {
      names = [];
    }
    const known = names.find((candidate) => candidate.toUpperCase() === name.toUpperCase());
    const value = known === undefined ? undefined : subsystems?.value(known);
    if (value === undefined) return { status: NtStatus.OBJECT_NAME_NOT_FOUND };
    let commandLine: string;
    try {
      const { text, expand } = stringValue(value, where);
      commandLine = expand ? this.environment.expand(text) : text;
    } catch {
      return { status: NtStatus.OBJECT_NAME_NOT_FOUND };
    }
    const reply = this.execute(commandLine);
    if (reply.status === NtStatus.SUCCESS) report("subsystem", "start", { name: known, pid: reply.pid, deferred: true });
    return reply;
  }
}
