// userinit.exe: what Windows' userinit does once winlogon has logged a user on and started it as that user,
// reduced to what smss86 has: it reads Shell from the SOFTWARE hive (HKLM\SOFTWARE\Microsoft\Windows NT\
// CurrentVersion\Winlogon), finds its image as smss finds one (Path, then System32, `.exe` added when the
// name has none), starts it in the user's profile directory (USERPROFILE; C:\ when that does not exist) with
// the environment and standard streams winlogon gave, and waits for it. Unlike Windows' userinit, which
// leaves the shell running and exits, it stays: winlogon waits for userinit, so the user is logged off when
// the shell ends. Its exit code is the shell's (128 + the signal's number when a signal ended it); a Shell
// that cannot be read, found or started is a message on stderr and exit code 1.
import * as sys from "sys";
import { splitWin32CommandLine, withExeExtension } from "../../src/config/commandline.ts";
import { Environment } from "../../src/config/environment.ts";
import { ConfigError } from "../../src/config/values.ts";
import { shellCommand } from "../../src/config/winlogon.ts";
import { HiveError } from "../../src/hive/index.ts";
import { NtPathError, ntToGuestPath } from "../../src/ntpath/index.ts";
import { findImage } from "../lib/image-search.ts";
import { startProcess, waitForProcess } from "../lib/processes.ts";
import { openConfigHive } from "../lib/config-hive.ts";

function fail(why: string): never {
  sys.write(2, `userinit: ${why}\n`);
  sys.exit(1);
}

/**
 * The profile directory as a guest path on the boot volume (C: is the root filesystem; cmd keeps its current
 * directory in those terms), or the root when USERPROFILE is unset or names no directory.
 */
function profileDirectory(environment: Environment): string {
  const profile = environment.get("USERPROFILE");
  if (profile === undefined) return "/";
  try {
    const guestPath = ntToGuestPath(profile);
    return (sys.stat(guestPath).mode & sys.S_IFMT) === sys.S_IFDIR ? guestPath : "/";
  } catch (error) {
    if (error instanceof NtPathError || error instanceof sys.SysError) return "/";
    throw error;
  }
}

const environment = Environment.fromEnvp(sys.environ());
let command: string;
try {
  command = shellCommand(openConfigHive("SOFTWARE"), environment);
} catch (error) {
  if (!(error instanceof HiveError || error instanceof ConfigError || error instanceof sys.SysError)) throw error;
  fail(`cannot read the shell from the SOFTWARE hive: ${error.message}`);
}
const [name, ...args] = splitWin32CommandLine(command);
const image = findImage(withExeExtension(name), environment);
if (image === undefined) fail(`the shell ${withExeExtension(name)} (Shell = ${command}) is not along Path or in \\SystemRoot\\System32`);
let pid: number;
try {
  pid = startProcess(image, [name, ...args], environment.toEnvp(), { cwd: profileDirectory(environment) });
} catch (error) {
  if (!(error instanceof sys.SysError)) throw error;
  fail(`cannot start the shell ${image}: ${error.message}`);
}
const result = waitForProcess(pid, image);
sys.exit(result.code ?? 128 + (result.signal ?? 0));
