// lsass.exe: the Local Security Authority. It serves \LsaAuthenticationPort (root callers only: the logon
// processes) and checks a user name and password against the SAM hive (src/sam: salted Argon2id, computed
// by the runtime's sys.argon2id). The SAM is read for each logon, so an account changed on the disk counts
// at the next logon. Unknown user and wrong password get the same answer, as in Windows.
import * as sys from "sys";
import { decodeLogonRequest, LogonStatus, LSA_AUTHENTICATION_PORT, LsaMessageError, MAX_CREDENTIAL_LENGTH, type LogonReply, type LogonRequest } from "../../src/lsa/index.ts";
import { ntObjectPath } from "../../src/ntpath/index.ts";
import { findAccount, verifyPassword, type Argon2Params } from "../../src/sam/index.ts";
import { openConfigHive } from "../lib/config-hive.ts";

const hasher = (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => sys.argon2id(password, salt, params);

function logon(request: LogonRequest): LogonReply {
  const account = findAccount(openConfigHive("SAM"), request.user);
  if (account === undefined || !verifyPassword(account, request.password, hasher)) return { status: LogonStatus.LOGON_FAILURE };
  if (account.disabled) return { status: LogonStatus.ACCOUNT_DISABLED };
  return { status: LogonStatus.SUCCESS, user: account.userName, uid: account.rid, fullName: account.fullName };
}

function answer(bytes: Uint8Array, uid: number): LogonReply {
  if (uid !== 0) return { status: LogonStatus.ACCESS_DENIED };
  try {
    return logon(decodeLogonRequest(bytes));
  } catch (error) {
    if (error instanceof LsaMessageError) return { status: LogonStatus.INVALID_PARAMETER };
    // A SAM that cannot be read refuses the logon and says why on the console; lsass goes on serving.
    sys.write(2, `lsass: ${error instanceof Error ? error.message : String(error)}\n`);
    return { status: LogonStatus.LOGON_FAILURE };
  }
}

function main(): never {
  const path = ntObjectPath(LSA_AUTHENTICATION_PORT);
  const port = sys.createPort(path);
  sys.chmod(path, 0o666);
  const connections = new Map<number, number>();
  for (;;) {
    const watched = [port, ...connections.keys()];
    const ready = sys.poll(watched.map((fd) => ({ fd, events: sys.POLLIN })), -1);
    ready.forEach((events, index) => {
      if (events === 0) return;
      const fd = watched[index];
      if (fd === port) {
        const connection = sys.accept(port);
        connections.set(connection, sys.peerCredentials(connection).uid);
        return;
      }
      const bytes = sys.read(fd, 4 * MAX_CREDENTIAL_LENGTH + 64);
      if (bytes.length === 0) {
        connections.delete(fd);
        sys.close(fd);
        return;
      }
      sys.write(fd, JSON.stringify(answer(bytes, connections.get(fd)!)));
    });
  }
}

main();
