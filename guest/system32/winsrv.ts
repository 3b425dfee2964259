// winsrv.dll: the USER and console server DLLs of csrss in one file, as in Windows. USER ends a session's
// processes when it logs off or the machine shuts down (ExitWindowsEx); the console part answers which
// console device the session's programs use.
import * as sys from "sys";
import type { CsrServerDllContext, CsrServerDllEntry } from "../lib/csr.ts";
import { NtStatus } from "../../src/smapi/index.ts";
import { sessionTable } from "../lib/win32k.ts";

export const USERSRV_EXIT_WINDOWS = 0;
export const CONSRV_GET_CONSOLE = 0;
const SIGTERM = 15;

export const UserServerDllInitialization: CsrServerDllEntry = (context: CsrServerDllContext) => ({
  name: "winsrv (USER)",
  apis: {
    // Every process of the session but csrss and the caller is asked to end (SIGTERM); the caller (winlogon)
    // goes on to log off or shut down.
    [USERSRV_EXIT_WINDOWS]: (_request, caller) => {
      const ended: number[] = [];
      for (const pid of sessionTable().get(context.sessionId) ?? []) {
        if (pid === sys.getpid() || pid === caller.pid) continue;
        try {
          sys.kill(pid, SIGTERM);
          ended.push(pid);
        } catch (error) {
          if (!(error instanceof sys.SysError && error.code === "ESRCH")) throw error;
        }
      }
      return { status: NtStatus.SUCCESS, ended };
    },
  },
});

export const ConServerDllInitialization: CsrServerDllEntry = (context: CsrServerDllContext) => ({
  name: "winsrv (console)",
  apis: {
    [CONSRV_GET_CONSOLE]: () => ({ status: NtStatus.SUCCESS, device: context.sessionId === 0 ? "/dev/null" : "/dev/ttyS0" }),
  },
});
