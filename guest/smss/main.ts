// smss.exe: the Session Manager, PID 1 of the guest. Each phase is a module; they run in this order, and
// any failure ends in a STOP screen (smss must never exit).
import * as sys from "sys";
import { guestToNtPath } from "../../src/ntpath/index.ts";
import { bugcheck, STATUS_SYSTEM_PROCESS_TERMINATED } from "./bugcheck.ts";
import { recordBoot } from "./bootlog.ts";
import { say } from "./console.ts";
import { mountSystemFilesystems } from "./mounts.ts";
import { millisecondsSinceStart, phase } from "./probe.ts";
import { readSystemInfo } from "./systeminfo.ts";
import { stayResident } from "./resident.ts";

function main(): never {
  const pid = sys.getpid();
  const image = sys.argv[0] ?? "";
  say(`smss: Session Manager starting as pid ${pid} (${image})`);
  phase("smss-start", () => ({ pid, image, ntImage: guestToNtPath(image), argv: [...sys.argv] }));
  phase("mount", mountSystemFilesystems);
  const info = phase("system-info", readSystemInfo);
  phase("volume-write", () => recordBoot({ pid, ...info }));
  phase("ready", () => {
    const uptimeMs = millisecondsSinceStart();
    say(`smss: ready after ${uptimeMs} ms`);
    return { uptimeMs };
  });
  stayResident();
}

try {
  main();
} catch (err) {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  bugcheck(STATUS_SYSTEM_PROCESS_TERMINATED, [0, 0, 0, 0], message);
}
