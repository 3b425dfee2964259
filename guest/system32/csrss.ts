// csrss.exe: the Client/Server Runtime Subsystem, the user-mode half of the Win32 subsystem of one session.
// As Windows' CSRSRV it parses its command line (src/config/csrss.ts; a bad one ends it with
// STATUS_INVALID_PARAMETER as its exit status), creates its object directory with \Windows\ApiPort and
// \Windows\SbApiPort in it (under \Sessions\N for sessions other than 0), loads each ServerDll and calls
// its entry (a DLL that cannot be loaded is fatal), then connects to \SmApiPort to say the subsystem is
// up. It then serves the ports, waiting in poll(2): requests on ApiPort go to the server DLL of the slot
// they name; smss's requests on SbApiPort end the session.
import * as sys from "sys";
import { CsrssCommandLineError, parseCsrssCommandLine, SERVER_DLL_SLOTS, type CsrssCommandLine } from "../../src/config/csrss.ts";
import { decodeUtf8 } from "../../src/hive/text.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { MAX_MESSAGE_BYTES, NtStatus } from "../../src/smapi/index.ts";
import type { CsrCaller, CsrReply, CsrRequest, CsrServerDll, CsrServerDllEntry } from "../lib/csr.ts";
import { report } from "../lib/probe.ts";
import { announceSubsystem } from "../lib/sm-client.ts";
import { sessionOf } from "../lib/win32k.ts";

const SYSTEM32 = "/Windows/System32";
const DEFAULT_ENTRY = "ServerDllInitialization";

/** Exit statuses (an NTSTATUS does not fit one): what smss puts on the STOP screen when csrss ends. */
const EXIT_INVALID_PARAMETER = 2;
const EXIT_FAILED = 1;

function fail(status: number, why: string): never {
  sys.write(2, `csrss: ${why}\n`);
  report("subsystem", "failed", { name: "Windows", pid: sys.getpid(), error: why, status });
  sys.exit(status === NtStatus.INVALID_PARAMETER ? EXIT_INVALID_PARAMETER : EXIT_FAILED);
}

function mkdirs(guestPath: string): void {
  let path = "";
  for (const part of guestPath.split("/").filter((component) => component !== "")) {
    path += `/${part}`;
    try {
      sys.mkdir(path, 0o755);
    } catch (error) {
      if (!(error instanceof sys.SysError && error.code === "EEXIST")) throw error;
    }
  }
}

async function loadServerDlls(commandLine: CsrssCommandLine, sessionId: number, objectDirectory: string): Promise<(CsrServerDll | undefined)[]> {
  const slots: (CsrServerDll | undefined)[] = new Array(SERVER_DLL_SLOTS).fill(undefined);
  for (const spec of commandLine.serverDlls) {
    const path = `${SYSTEM32}/${spec.dll}`;
    let module: Record<string, unknown>;
    try {
      module = (await import(path)) as Record<string, unknown>;
    } catch (error) {
      fail(NtStatus.UNSUCCESSFUL, `cannot load server DLL ${spec.dll}: ${(error as Error).message}`);
    }
    const entryName = spec.entry ?? DEFAULT_ENTRY;
    const entry = module[entryName];
    if (typeof entry !== "function") fail(NtStatus.UNSUCCESSFUL, `server DLL ${spec.dll} has no entry point ${entryName}`);
    slots[spec.index] = (entry as CsrServerDllEntry)({ sessionId, objectDirectory, index: spec.index });
  }
  return slots;
}

function answer(slots: (CsrServerDll | undefined)[], bytes: Uint8Array, caller: CsrCaller): CsrReply {
  let request: CsrRequest;
  try {
    request = JSON.parse(decodeUtf8(bytes)) as CsrRequest;
  } catch {
    return { status: NtStatus.INVALID_PARAMETER };
  }
  const handler = typeof request === "object" && request !== null ? slots[request.dll]?.apis[request.api] : undefined;
  if (handler === undefined) return { status: NtStatus.NOT_IMPLEMENTED };
  // A server DLL that fails one request fails that request, not the session's subsystem.
  try {
    return handler(request, caller);
  } catch (error) {
    sys.write(2, `csrss: ${slots[request.dll]!.name} API ${request.api}: ${error instanceof Error ? error.message : String(error)}\n`);
    return { status: NtStatus.UNSUCCESSFUL };
  }
}

function serve(slots: (CsrServerDll | undefined)[], apiPort: number, sbApiPort: number, sessionId: number): never {
  const connections = new Map<number, { caller: CsrCaller; fromSm: boolean; allowed: boolean }>();
  for (;;) {
    const watched = [apiPort, sbApiPort, ...connections.keys()];
    const ready = sys.poll(watched.map((fd) => ({ fd, events: sys.POLLIN })), -1);
    ready.forEach((events, index) => {
      if (events === 0) return;
      const fd = watched[index];
      if (fd === apiPort || fd === sbApiPort) {
        const connection = sys.accept(fd);
        const credentials = sys.peerCredentials(connection);
        // ApiPort serves the session's own processes (all of them are session 0 while win32k is not
        // loaded); SbApiPort only smss (root). Others get ACCESS_DENIED for every request they send.
        const allowed = fd === apiPort ? (sessionOf(credentials.pid) ?? 0) === sessionId : credentials.uid === 0;
        connections.set(connection, { caller: { pid: credentials.pid, uid: credentials.uid, connection }, fromSm: fd === sbApiPort, allowed });
        return;
      }
      const message = sys.read(fd, MAX_MESSAGE_BYTES);
      const connection = connections.get(fd)!;
      if (message.length === 0) {
        connections.delete(fd);
        for (const dll of slots) dll?.connectionClosed?.(fd);
        sys.close(fd);
        return;
      }
      if (!connection.allowed) {
        sys.write(fd, JSON.stringify({ status: NtStatus.ACCESS_DENIED }));
        return;
      }
      if (connection.fromSm) {
        // The only SB request: the session ends (StopCsr). csrss answers, then leaves.
        sys.write(fd, JSON.stringify({ status: NtStatus.SUCCESS }));
        report("subsystem", "done", { name: "Windows", sessionId, pid: sys.getpid(), stopped: true });
        sys.exit(0);
      }
      sys.write(fd, JSON.stringify(answer(slots, message, connection.caller)));
    });
  }
}

async function main(): Promise<void> {
  let commandLine: CsrssCommandLine;
  try {
    commandLine = parseCsrssCommandLine(sys.argv.slice(1));
  } catch (error) {
    if (!(error instanceof CsrssCommandLineError)) throw error;
    fail(NtStatus.INVALID_PARAMETER, `invalid command line: ${error.message}`);
  }
  const sessionId = sessionOf(sys.getpid()) ?? 0;
  const objectDirectory = sessionId === 0 ? commandLine.objectDirectory : `\\Sessions\\${sessionId}${commandLine.objectDirectory}`;
  mkdirs(ntObjectPath(objectDirectory));
  const slots = await loadServerDlls(commandLine, sessionId, objectDirectory);
  const apiPortPath = ntObjectPath(`${objectDirectory}\\ApiPort`);
  const sbApiPortName = `${objectDirectory}\\SbApiPort`;
  const apiPort = sys.createPort(apiPortPath);
  // Any process may knock; the server decides by the caller's session (see serve).
  sys.chmod(apiPortPath, 0o666);
  const sbApiPort = sys.createPort(ntObjectPath(sbApiPortName));
  const status = announceSubsystem("Windows", sessionId, sbApiPortName);
  if (status !== NtStatus.SUCCESS) fail(status, `smss refused the connection: status 0x${status.toString(16)}`);
  report("subsystem", "done", {
    name: "Windows",
    sessionId,
    pid: sys.getpid(),
    objectDirectory,
    serverDlls: commandLine.serverDlls.map((spec) => `${spec.dll}${spec.entry ? `:${spec.entry}` : ""},${spec.index}`),
  });
  serve(slots, apiPort, sbApiPort, sessionId);
}

main().catch((error: unknown) => fail(NtStatus.UNSUCCESSFUL, error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
