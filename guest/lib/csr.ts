// What csrss hands each server DLL it loads and what the DLL gives back: NT's CSR_SERVER_DLL, reduced to a
// name and the API calls the DLL serves on \Windows\ApiPort (each request names its DLL's slot and an API).
export interface CsrServerDllContext {
  sessionId: number;
  /** The object directory the session's ports are in, e.g. \Sessions\1\Windows. */
  objectDirectory: string;
  /** The slot the command line gave this DLL (ServerDll=name,Index). */
  index: number;
}

export interface CsrCaller {
  pid: number;
  uid: number;
  /** The caller's connection: a server DLL may keep it to send the caller notifications later. */
  connection: number;
}

export type CsrRequest = Record<string, unknown> & { dll: number; api: number };
export type CsrReply = Record<string, unknown> & { status: number };

export interface CsrServerDll {
  name: string;
  apis: Record<number, (request: CsrRequest, caller: CsrCaller) => CsrReply>;
  /** A connection closed (its descriptor number may soon name another one). */
  connectionClosed?: (connection: number) => void;
}

/** What winsrv sends the logon process on its registered connection when someone calls ExitWindows. */
export interface ExitWindowsNotification {
  notify: "exit-windows";
  action: ExitWindowsAction;
  pid: number;
  uid: number;
}

/** An entry point of a server DLL, as ServerDll=dll:Entry names it. */
export type CsrServerDllEntry = (context: CsrServerDllContext) => CsrServerDll;

/** The slots Windows gives its server DLLs (ServerDll=...,Index on csrss's command line): clients name the slot. */
export const CsrSlot = { Base: 1, Console: 2, User: 3 } as const;
export const BaseApi = { GetSessionProcesses: 0 } as const;
export const ConsoleApi = { GetConsole: 0 } as const;
/**
 * ExitWindows {action}: from the session's logon process (winlogon), ends every other process of the session
 * but csrss; from anyone else, asks the logon process to log off or shut down (as ExitWindowsEx does).
 * RegisterLogonProcess: winlogon's connection that stays open to hear those requests (root only).
 */
export const UserApi = { ExitWindows: 0, RegisterLogonProcess: 1 } as const;
export type ExitWindowsAction = "logoff" | "shutdown";

/** Where a session's csrss serves its clients (csrss's ObjectDirectory is \Windows on every machine we build). */
export function apiPortName(sessionId: number): string {
  return sessionId === 0 ? "\\Windows\\ApiPort" : `\\Sessions\\${sessionId}\\Windows\\ApiPort`;
}
