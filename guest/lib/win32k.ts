// The session table that win32k.sys keeps in the kernel (guest/kernel/win32k/win32k.c has the protocol):
// one command per write on /dev/win32k, the answer to it on the next read.
import * as sys from "sys";

const DEVICE = "/dev/win32k";

/** Writes a change; a refusal is a SysError (EEXIST, ENOENT, EBUSY, ESRCH, EPERM, EINVAL). */
function change(text: string): void {
  const fd = sys.open(DEVICE, sys.O_WRONLY, 0);
  try {
    sys.write(fd, text);
  } finally {
    sys.close(fd);
  }
}

/** The answer to a question, or the whole table when there is none. */
function ask(question?: string): string {
  const fd = sys.open(DEVICE, sys.O_RDWR, 0);
  try {
    if (question !== undefined) sys.write(fd, question);
    let reply = "";
    for (let chunk = sys.read(fd, 4096); chunk.length > 0; chunk = sys.read(fd, 4096)) reply += String.fromCharCode.apply(null, chunk as unknown as number[]);
    return reply;
  } finally {
    sys.close(fd);
  }
}

/** The session a process is in, or undefined when it is in none (win32k not loaded counts as none). */
export function sessionOf(pid: number): number | undefined {
  let reply: string;
  try {
    reply = ask(`process ${pid}`).trim();
  } catch (error) {
    if (error instanceof sys.SysError && error.code === "ENOENT") return undefined;
    throw error;
  }
  const session = reply.slice(reply.indexOf(":") + 1).trim();
  return session.startsWith("session ") ? Number(session.slice(8)) : undefined;
}

export function createSession(sessionId: number): void {
  change(`create ${sessionId}`);
}

export function destroySession(sessionId: number): void {
  change(`destroy ${sessionId}`);
}

/** Puts a process, and every child it forks from now on, into a session. */
export function attachProcess(pid: number, sessionId: number): void {
  change(`attach ${pid} ${sessionId}`);
}

/** Every session's processes, as the kernel has them now. */
export function sessionTable(): Map<number, number[]> {
  const table = new Map<number, number[]>();
  for (const line of ask().split("\n")) {
    const match = /^session (\d+):(.*)$/.exec(line);
    if (match) table.set(Number(match[1]), match[2].trim() === "" ? [] : match[2].trim().split(" ").map(Number));
  }
  return table;
}
