// Phase "boot-execute": each BootExecute command line, in order, in smss's syntax (src/config/commandline):
// `autocheck` routes to autochk, `async` does not wait, `debug` is accepted and ignored (there is no
// debugger); the image is looked for along Path, then in \SystemRoot\System32; a missing one is logged and
// skipped. Then the boot volume, read-only until now so that autochk could check it, is remounted
// read-write and the other volumes are mounted.
import * as sys from "sys";
import { parseSmssCommand, CommandLineError } from "../../src/config/commandline.ts";
import type { Environment } from "../../src/config/environment.ts";
import { multiStringValue, type SessionManagerKey } from "../../src/config/values.ts";
import type { BootExecuteData } from "../../src/events/index.ts";
import { findImage } from "../lib/image-search.ts";
import { mountVolumes, type Volume } from "./namespace.ts";

const DEFAULT_BOOT_EXECUTE = ["autocheck autochk *"];
/** Windows runs every line; a hive asking for thousands of programs would keep the machine in boot for hours. */
export const MAX_BOOT_EXECUTE = 256;
/** autochk's exit code when it repaired the boot volume: the machine must restart before using it. */
export const AUTOCHK_RESTART_NEEDED = 3;

export function runBootExecute(
  sessionManager: SessionManagerKey,
  environment: Environment,
  volumes: Volume[],
): { data: BootExecuteData; restartNeeded: boolean } {
  const value = sessionManager.key.value("BootExecute");
  const lines = value ? multiStringValue(value, sessionManager.displayPath) : DEFAULT_BOOT_EXECUTE;
  const commands: BootExecuteData["commands"] = [];
  let restartNeeded = false;
  if (lines.length > MAX_BOOT_EXECUTE) {
    commands.push({ line: `(${lines.length - MAX_BOOT_EXECUTE} more lines)`, async: false, skipped: `beyond the first ${MAX_BOOT_EXECUTE} commands` });
  }
  lines.slice(0, MAX_BOOT_EXECUTE).forEach((line) => {
    if (line.trim() === "") return;
    let command;
    try {
      command = parseSmssCommand(line);
    } catch (error) {
      if (!(error instanceof CommandLineError)) throw error;
      commands.push({ line, async: false, skipped: error.message });
      return;
    }
    const image = findImage(command.image, environment);
    if (image === undefined) {
      commands.push({ line, async: command.async, skipped: `${command.image} not found along Path or in \\SystemRoot\\System32` });
      return;
    }
    const pid = sys.spawn(image, [image, ...command.args], environment.toEnvp());
    if (command.async) {
      commands.push({ line, image, async: true });
      return;
    }
    const status = sys.waitpid(pid)!;
    if (command.autocheck && status.code === AUTOCHK_RESTART_NEEDED) restartNeeded = true;
    commands.push({ line, image, async: false, ...(status.code !== null ? { exitCode: status.code } : {}), ...(status.signal !== null ? { signal: status.signal } : {}) });
  });
  if (restartNeeded) return { data: { commands, remountedReadWrite: false }, restartNeeded };
  sys.mount(null, "/", null, sys.MS_REMOUNT, "");
  // The bind of / onto \Device\HarddiskVolume1 copied the read-only flag of the mount it was made from.
  sys.mount(null, volumes[0].mountPoint, null, sys.MS_REMOUNT | sys.MS_BIND, "");
  mountVolumes(volumes);
  return { data: { commands, remountedReadWrite: true }, restartNeeded };
}
