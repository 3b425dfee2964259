// A client of \SmApiPort for the SM API scenario: started by BootExecute with `async` (it connects while
// smss is still in its phases and is answered once smss is resident), it sends good and bad requests on
// one connection and reports each reply's status; a copy of itself running as uid 1000 reports what an
// unprivileged caller gets.
import * as sys from "sys";
import { report } from "../../guest/lib/probe.ts";

const PORT = "/NT/SmApiPort";
const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function ask(fd: number, message: string): Record<string, unknown> {
  sys.write(fd, message);
  return JSON.parse(text(sys.read(fd, 4096)));
}

// The unprivileged copy may not write on the probe line: it prints its reply on the stdout its parent gave it.
if (sys.argv[1] === "unprivileged") {
  const fd = sys.connectPort(PORT);
  sys.write(1, JSON.stringify(ask(fd, JSON.stringify({ api: 4, name: "Posix" }))));
  sys.exit(0);
}

const fd = sys.connectPort(PORT);
const replies: Record<string, unknown> = {};
replies.posix = ask(fd, JSON.stringify({ api: 4, name: "Posix" }));
replies.unknownSubsystem = ask(fd, JSON.stringify({ api: 4, name: "OS2" }));
replies.emptyName = ask(fd, JSON.stringify({ api: 4, name: "" }));
replies.api7 = ask(fd, JSON.stringify({ api: 7 }));
replies.foreignSession = ask(fd, JSON.stringify({ api: 0 }));
replies.garbage = ask(fd, "{{{");
replies.sessionComplete = ask(fd, JSON.stringify({ api: 1, sessionId: 3, status: 0 }));
replies.execPgm = ask(fd, JSON.stringify({ api: 3, sessionId: 0, commandLine: "envdump 5" }));
replies.execMissing = ask(fd, JSON.stringify({ api: 3, sessionId: 0, commandLine: "nosuchprogram" }));
// StartCsr is answered once the new session's csrss has announced itself and the initial command runs.
const started = ask(fd, JSON.stringify({ api: 5, initialCommand: "envdump 7" }));
replies.startCsr = started;
replies.startCsrMissing = ask(fd, JSON.stringify({ api: 5, initialCommand: "nosuchprogram" }));
replies.stopCsrBootSession = ask(fd, JSON.stringify({ api: 6, sessionId: 1 }));
replies.stopCsr = ask(fd, JSON.stringify({ api: 6, sessionId: started.sessionId }));
const output = "/NT/smapi-client.out";
const stdout = sys.open(output, sys.O_RDWR | sys.O_CREAT | sys.O_TRUNC, 0o600);
sys.waitpid(sys.spawn(sys.argv[0], [sys.argv[0], "unprivileged"], null, { uid: 1000, gid: 1000, stdout }));
sys.close(stdout);
replies.unprivileged = JSON.parse(text(sys.readFile(output)));
report("test-program" as never, "done", { replies });
