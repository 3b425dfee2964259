// cmd's paths. cmd knows drive C:, the boot volume, which is the guest's root filesystem (C:\ is /): a path
// typed on another drive names nothing here. Names are matched without regard to case, as FAT matches them,
// and shown as the directory spells them (`cd \users\user` shows C:\Users\User).
import * as sys from "sys";
import { fullWin32Path, guestToWin32Path, NtPathError, ntToGuestPath } from "../../src/ntpath/index.ts";

/** A typed path made absolute against the current directory (both Win32), as a guest path; undefined when it is not on C:. */
export function guestPathOf(path: string, currentDirectory: string): string | undefined {
  try {
    return ntToGuestPath(fullWin32Path(path, currentDirectory));
  } catch (error) {
    if (error instanceof NtPathError) return undefined;
    throw error;
  }
}

/**
 * An existing guest path with each component spelled as its directory lists it; undefined when a component
 * does not exist. A directory that cannot be listed (no read permission) keeps the component as written.
 */
export function onDiskCase(guestPath: string): string | undefined {
  let resolved = "";
  for (const part of guestPath.split("/")) {
    if (part === "") continue;
    let names: string[] | undefined;
    try {
      names = sys.readdir(resolved === "" ? "/" : resolved);
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      if (error.code !== "EACCES") return undefined;
    }
    const wanted = part.toLowerCase();
    const found =
      names === undefined ? (exists(`${resolved}/${part}`) ? part : undefined) : names.includes(part) ? part : names.find((name) => name.toLowerCase() === wanted);
    if (found === undefined) return undefined;
    resolved += `/${found}`;
  }
  return resolved === "" ? "/" : resolved;
}

function exists(guestPath: string): boolean {
  try {
    sys.lstat(guestPath);
    return true;
  } catch {
    return false;
  }
}

export function isDirectory(guestPath: string): boolean {
  try {
    return (sys.stat(guestPath).mode & sys.S_IFMT) === sys.S_IFDIR;
  } catch {
    return false;
  }
}

/** The process's current directory as cmd shows it. */
export function currentWin32Directory(): string {
  const cwd = sys.getcwd();
  return guestToWin32Path(onDiskCase(cwd) ?? cwd);
}
