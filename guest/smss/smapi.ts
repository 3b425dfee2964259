// \SmApiPort: the SM API that smss serves once resident (reference §3; messages in src/smapi). Only the
// system (root) may call it: any other caller gets STATUS_ACCESS_DENIED for every request. A subsystem's
// first message announces it (name, session, SbApiPort); the requests smss serves here are
// SessionComplete, ExecPgm and LoadDeferedSubsystem (an Optional subsystem, started on request).
// Foreign sessions were never implemented by Windows either: STATUS_NOT_IMPLEMENTED, as for unknown
// numbers. StartCsr and StopCsr, which create and end sessions, are not served yet (also
// STATUS_NOT_IMPLEMENTED). A malformed message gets its error status and the connection stays usable.
import * as sys from "sys";
import type { Environment } from "../../src/config/environment.ts";
import { multiStringValue, stringValue, type SessionManagerKey } from "../../src/config/values.ts";
import { parseSmssCommand } from "../../src/config/commandline.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import {
  decodeConnectOrRequest,
  decodeRequest,
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
import { findImage } from "./bootexecute.ts";

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
  readonly subsystems: Subsystem[] = [];

  constructor(
    private readonly port: number,
    private readonly sessionManager: SessionManagerKey,
    private readonly environment: Environment,
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
      sys.close(fd);
      return;
    }
    sys.write(fd, encodeMessage(this.answer(connection, message)));
  }

  private answer(connection: Connection, message: Uint8Array): SmReply {
    const first = !connection.greeted;
    connection.greeted = true;
    if (!connection.system) return { status: NtStatus.ACCESS_DENIED };
    try {
      const decoded = first ? decodeConnectOrRequest(message) : decodeRequest(message);
      if ("kind" in decoded) {
        const subsystem = { name: decoded.subsystem, sessionId: decoded.sessionId, pid: connection.pid, sbApiPort: decoded.sbApiPort };
        this.subsystems.push(subsystem);
        report("subsystem", "start", { ...subsystem });
        return { status: NtStatus.SUCCESS };
      }
      return this.request(decoded);
    } catch (error) {
      if (error instanceof SmMessageError) return { status: error.status };
      throw error;
    }
  }

  private request(request: SmRequest): SmReply {
    switch (request.api) {
      case SmApiNumber.SessionComplete:
        report("subsystem", "done", { sessionComplete: request.sessionId, status: request.status });
        return { status: NtStatus.SUCCESS };
      case SmApiNumber.ExecPgm:
        return this.execute(request.commandLine);
      case SmApiNumber.LoadDeferedSubsystem:
        return this.loadDeferred(request.name);
      default:
        return { status: NtStatus.NOT_IMPLEMENTED };
    }
  }

  /** A command line in smss's syntax (image searched along Path, then System32), started and not waited for. */
  private execute(commandLine: string): SmReply {
    let command;
    try {
      command = parseSmssCommand(commandLine);
    } catch {
      return { status: NtStatus.INVALID_PARAMETER };
    }
    const image = findImage(this.environment.expand(command.image), this.environment);
    if (image === undefined) return { status: NtStatus.OBJECT_NAME_NOT_FOUND };
    const pid = sys.spawn(image, [image, ...command.args], this.environment.toEnvp());
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
