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
}

export type CsrRequest = Record<string, unknown> & { dll: number; api: number };
export type CsrReply = Record<string, unknown> & { status: number };

export interface CsrServerDll {
  name: string;
  apis: Record<number, (request: CsrRequest, caller: CsrCaller) => CsrReply>;
}

/** An entry point of a server DLL, as ServerDll=dll:Entry names it. */
export type CsrServerDllEntry = (context: CsrServerDllContext) => CsrServerDll;
