// smss.exe: the Session Manager, PID 1 of the guest. Each phase is a module; they run in this order (the
// reference's Windows 7 order, §2), and any failure ends in a STOP screen (smss must never exit). Then it
// stays resident and starts the sessions (sessions.ts), each through a copy of itself (session-copy.ts).
import * as sys from "sys";
import { guestToNtPath } from "../../src/ntpath/index.ts";
import { bugcheck, setAutoReboot, STATUS_SYSTEM_PROCESS_TERMINATED } from "./bugcheck.ts";
import { crashAutoReboot, readSessionConfig } from "../../src/config/sessions.ts";
import { SessionManager } from "./sessions.ts";
import { recordBoot } from "./bootlog.ts";
import { runBootExecute } from "./bootexecute.ts";
import { say } from "./console.ts";
import { writeDynamicEnvironment } from "./dynenv.ts";
import { configureEnvironment } from "./environment.ts";
import { loadKmode } from "./kmode.ts";
import { openSystemHive } from "./hive.ts";
import { mountSystemFilesystems } from "./mounts.ts";
import { buildObjectNamespace } from "./namespace.ts";
import { createPagingFiles } from "./pagefiles.ts";
import { millisecondsSinceStart, phase, phaseWithResult, report } from "../lib/probe.ts";
import { processPendingRenames } from "./renames.ts";
import { readSystemInfo } from "./systeminfo.ts";
import { stayResident } from "./resident.ts";
import { holdAtScenarioPoint } from "./scenario.ts";
import { SmApiServer } from "./smapi.ts";
import { SCENARIO_POINT_SWITCH } from "../../src/events/index.ts";

function main(): never {
  const pid = sys.getpid();
  const image = sys.argv[0] ?? "";
  say(`smss: Session Manager starting as pid ${pid} (${image})`);
  phase("smss-start", () => ({ pid, image, ntImage: guestToNtPath(image), argv: [...sys.argv] }));
  phase("mount", mountSystemFilesystems);
  const info = phase("system-info", readSystemInfo);
  if (info.commandLine.split(" ").includes(SCENARIO_POINT_SWITCH)) holdAtScenarioPoint();
  const system = phaseWithResult("hive", () => {
    const { data, system } = openSystemHive();
    return { data, result: system };
  });
  setAutoReboot(crashAutoReboot(system.hive));
  const sessionManager = system.sessionManager;
  const environment = phaseWithResult("environment", () => {
    const { data, environment } = configureEnvironment(sessionManager);
    return { data, result: environment };
  });
  const { volumes, smApiPort } = phaseWithResult("object-namespace", () => {
    const { data, volumes, smApiPort } = buildObjectNamespace(sessionManager);
    return { data, result: { volumes, smApiPort } };
  });
  const restartNeeded = phaseWithResult("boot-execute", () => {
    const { data, restartNeeded } = runBootExecute(sessionManager, environment, volumes);
    return { data, result: restartNeeded };
  });
  if (restartNeeded) restartAfterRepair();
  phase("volume-write", () => recordBoot({ pid, ...info }));
  phase("renames", () => processPendingRenames(system));
  phase("paging-files", () => createPagingFiles(sessionManager, volumes));
  // Also commits the ExistingPageFiles the paging-files phase wrote.
  phase("dynamic-environment", () => writeDynamicEnvironment(system, environment));
  phase("kmode", () => loadKmode(sessionManager, environment));
  const sessions = new SessionManager(readSessionConfig(sessionManager, environment), environment, image);
  phase("ready", () => {
    const uptimeMs = millisecondsSinceStart();
    say(`smss: ready after ${uptimeMs} ms`);
    return { uptimeMs };
  });
  stayResident(new SmApiServer(smApiPort, sessionManager, environment, sessions), sessions, info.commandLine);
}

/** autochk repaired the boot volume under the running kernel: start again on the repaired disk, as Windows does. */
function restartAfterRepair(): never {
  say("smss: autochk repaired the boot volume; restarting.");
  sys.sync();
  report("restart", "done", { reason: "autochk repaired the boot volume" });
  for (;;) sys.reboot("restart");
}

try {
  main();
} catch (err) {
  if (sys.getpid() !== 1) throw err;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  bugcheck(STATUS_SYSTEM_PROCESS_TERMINATED, [0, 0, 0, 0], message);
}
