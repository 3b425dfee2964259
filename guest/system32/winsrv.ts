// winsrv.dll: the USER and console server DLLs of csrss in one file, as in Windows. USER knows the session's
// logon process (winlogon registers a connection of its own) and drives ExitWindowsEx: a user's request to
// log off or shut down is passed to winlogon, and winlogon's own request ends every other process of the
// session. The console part answers which console device the session's programs use.
import * as sys from "sys";
import { UserApi, ConsoleApi, type CsrServerDllContext, type CsrServerDllEntry, type ExitWindowsAction, type ExitWindowsNotification } from "../lib/csr.ts";
import { NtStatus } from "../../src/smapi/index.ts";
import { sessionTable } from "../lib/win32k.ts";

const SIGTERM = 15;

export const UserServerDllInitialization: CsrServerDllEntry = (context: CsrServerDllContext) => {
  let logonProcess: { pid: number; connection: number } | undefined;
  return {
    name: "winsrv (USER)",
    apis: {
      [UserApi.RegisterLogonProcess]: (_request, caller) => {
        if (caller.uid !== 0) return { status: NtStatus.ACCESS_DENIED };
        if (logonProcess !== undefined) return { status: NtStatus.OBJECT_NAME_COLLISION };
        logonProcess = { pid: caller.pid, connection: caller.connection };
        return { status: NtStatus.SUCCESS };
      },
      [UserApi.ExitWindows]: (request, caller) => {
        const action = request.action;
        if (action !== "logoff" && action !== "shutdown") return { status: NtStatus.INVALID_PARAMETER };
        if (logonProcess === undefined) return { status: NtStatus.UNSUCCESSFUL };
        if (caller.pid !== logonProcess.pid) {
          const notification: ExitWindowsNotification = { notify: "exit-windows", action: action as ExitWindowsAction, pid: caller.pid, uid: caller.uid };
          sys.write(logonProcess.connection, JSON.stringify(notification));
          return { status: NtStatus.SUCCESS };
        }
        // The logon process itself: every process of the session but csrss and the caller is asked to end.
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
    connectionClosed: (connection) => {
      if (logonProcess?.connection === connection) logonProcess = undefined;
    },
  };
};

export const ConServerDllInitialization: CsrServerDllEntry = (context: CsrServerDllContext) => ({
  name: "winsrv (console)",
  apis: {
    [ConsoleApi.GetConsole]: () => ({ status: NtStatus.SUCCESS, device: context.sessionId === 0 ? "/dev/null" : "/dev/ttyS0" }),
  },
});
