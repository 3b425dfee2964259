// basesrv.dll: the base (kernel32) server DLL of csrss. It answers who is in the caller's session, from the
// kernel's session table (win32k.sys), for tools such as tasklist.
import { BaseApi, type CsrServerDllContext, type CsrServerDllEntry } from "../lib/csr.ts";
import { NtStatus } from "../../src/smapi/index.ts";
import { sessionTable } from "../lib/win32k.ts";

export const ServerDllInitialization: CsrServerDllEntry = (context: CsrServerDllContext) => ({
  name: "basesrv",
  apis: {
    [BaseApi.GetSessionProcesses]: () => ({ status: NtStatus.SUCCESS, sessionId: context.sessionId, pids: sessionTable().get(context.sessionId) ?? [] }),
  },
});
