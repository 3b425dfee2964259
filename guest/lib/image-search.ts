// Finding a program to start the way smss does (BootExecute, ExecPgm) and userinit does for the Shell:
// along Path, then in \SystemRoot\System32.
import * as sys from "sys";
import { parseSmssCommand } from "../../src/config/commandline.ts";
import type { Environment } from "../../src/config/environment.ts";
import { NtPathError, ntObjectPath } from "../../src/ntpath/index.ts";

/** Whether a regular file is at guestPath (following links); anything that cannot be stat'ed is not one. */
export function isRegularFile(guestPath: string): boolean {
  try {
    return (sys.stat(guestPath).mode & sys.S_IFMT) === sys.S_IFREG;
  } catch {
    return false;
  }
}

/** Path's directories, then System32: the first that holds the image (a path with a backslash is used as is). */
export function findImage(image: string, environment: Environment): string | undefined {
  const candidates = image.includes("\\")
    ? [image]
    : [...(environment.get("Path") ?? "").split(";").filter((dir) => dir.trim() !== ""), "\\SystemRoot\\System32"].map(
        (dir) => `${dir.replace(/\\+$/, "")}\\${image}`,
      );
  for (const candidate of candidates) {
    try {
      const guestPath = ntObjectPath(candidate);
      if (isRegularFile(guestPath)) return guestPath;
    } catch (error) {
      if (!(error instanceof NtPathError)) throw error;
    }
  }
  return undefined;
}

/** A command line in smss's syntax and where its image is (undefined: nowhere); a malformed line throws CommandLineError. */
export function findCommand(commandLine: string, environment: Environment): { requested: string; image: string | undefined; args: string[] } {
  const command = parseSmssCommand(commandLine);
  return { requested: command.image, image: findImage(environment.expand(command.image), environment), args: command.args };
}
