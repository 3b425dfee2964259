// NT paths ↔ guest paths. One place translates, and it refuses any path that would climb out of its volume.
//
// The NT object namespace lives in the guest as a tmpfs tree at /NT, built by smss: directories are object
// directories, symbolic links are symbolic link objects (\?? → \GLOBAL??, \??\C: → \Device\HarddiskVolume1,
// \??\COM1 → \Device\Serial0 → /dev/ttyS0), and each volume's file system is mounted on its
// \Device\HarddiskVolumeN directory. So ntObjectPath() only spells an NT path as a path under /NT and the
// kernel follows the links, as the object manager would.
//
// Before that tree exists (smss's first phases), ntToGuestPath() reaches the boot volume directly: the C:
// volume is the guest's root filesystem, so `\??\C:\x` is `/x`, and `\SystemRoot` is the Windows directory.

export const SYSTEM_ROOT_GUEST = "/Windows";

export class NtPathError extends Error {
  constructor(readonly path: string, why: string) {
    super(`path ${JSON.stringify(path)}: ${why}`);
    this.name = "NtPathError";
  }
}

/** `\SystemRoot\System32\smss.exe`, `\??\C:\x`, `C:\x` → guest path. Other devices are not mapped yet. */
export function ntToGuestPath(ntPath: string): string {
  const systemRoot = /^\\SystemRoot(?=\\|$)/i.exec(ntPath);
  const driveC = /^(?:\\\?\?\\|\\DosDevices\\)?C:(?=\\|$)/i.exec(ntPath);
  const [base, rest] = systemRoot
    ? [SYSTEM_ROOT_GUEST, ntPath.slice(systemRoot[0].length)]
    : driveC
      ? ["", ntPath.slice(driveC[0].length)]
      : ["", undefined];
  if (rest === undefined) throw new NtPathError(ntPath, "not on the C: volume or under \\SystemRoot");
  const parts: string[] = [];
  for (const part of rest.split("\\")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) throw new NtPathError(ntPath, "climbs out of its volume");
      parts.pop();
      continue;
    }
    if (part.includes("/") || part.includes("\0")) throw new NtPathError(ntPath, `component ${JSON.stringify(part)} holds "/" or NUL`);
    parts.push(part);
  }
  return (base + "/" + parts.join("/")).replace(/\/$/, "") || "/";
}

/** Guest path → NT path, preferring `\SystemRoot` for what lies under the Windows directory. */
export function guestToNtPath(guestPath: string): string {
  if (!guestPath.startsWith("/")) throw new NtPathError(guestPath, "not absolute");
  const lower = guestPath.toLowerCase();
  const root = SYSTEM_ROOT_GUEST.toLowerCase();
  if (lower === root || lower.startsWith(root + "/")) {
    return "\\SystemRoot" + guestPath.slice(SYSTEM_ROOT_GUEST.length).replaceAll("/", "\\");
  }
  return "\\??\\C:" + (guestPath === "/" ? "\\" : guestPath.replaceAll("/", "\\"));
}

export const NT_ROOT_GUEST = "/NT";

/** "C:" or "c:": a drive letter and a colon. (Character tests, not a regex: in the guest's interpreter a
 * regex test costs as much as a few hundred of these comparisons, and every path passes through here.) */
function isDrive(text: string): boolean {
  if (text.length !== 2 || text.charCodeAt(1) !== 0x3a) return false;
  const letter = text.charCodeAt(0) | 0x20;
  return letter >= 0x61 && letter <= 0x7a;
}

/** How many leading components name a volume (or a directory standing for one): ".." may not climb above them. */
function volumePrefixLength(first: string | undefined, second: string | undefined): number {
  const name = first?.toLowerCase();
  if (name === "??" || name === "dosdevices" || name === "global??") return second !== undefined && isDrive(second) ? 2 : 1;
  if (name === "device") return 2;
  if (name === "systemroot") return 1;
  return 0;
}

/**
 * An NT path (`\??\C:\x`, `\Device\HarddiskVolume2\y`, `\SystemRoot\z`, or a Win32 `C:\x`) as a guest path
 * under /NT. "." is dropped and ".." resolved; one that would climb above the path's volume (or drive, or
 * \SystemRoot) is refused, as are empty paths and components holding "/" or NUL.
 */
export function ntObjectPath(ntPath: string): string {
  // A pure function that smss calls with the same few dozen paths over and over (a link's name when it is
  // made and again when the event describes it, volumes, images): each translation costs the guest ~1e4
  // instructions, a lookup a few hundred. Refusals are not kept; they throw every time.
  let guestPath = translated.get(ntPath);
  if (guestPath === undefined) {
    guestPath = translate(ntPath);
    if (translated.size >= TRANSLATIONS_KEPT) translated.clear();
    translated.set(ntPath, guestPath);
  }
  return guestPath;
}

const TRANSLATIONS_KEPT = 512;
const translated = new Map<string, string>();

function translate(ntPath: string): string {
  const win32Drive = isDrive(ntPath.slice(0, 2)) && (ntPath.length === 2 || ntPath.charCodeAt(2) === 0x5c);
  const absolute = win32Drive ? "\\??\\" + ntPath : ntPath;
  if (!absolute.startsWith("\\")) throw new NtPathError(ntPath, "not an absolute NT path (it must start with \\)");
  const raw = absolute.split("\\");
  if (absolute.includes("/") || absolute.includes("\0")) {
    const part = raw.find((component) => component.includes("/") || component.includes("\0"));
    throw new NtPathError(ntPath, `component ${JSON.stringify(part)} holds "/" or NUL`);
  }
  let first: string | undefined;
  let second: string | undefined;
  for (let i = 1; i < raw.length && second === undefined; i++) {
    const part = raw[i];
    if (part === "" || part === ".") continue;
    if (first === undefined) first = part;
    else second = part;
  }
  const floor = volumePrefixLength(first, second);
  const components: string[] = [];
  for (let i = 1; i < raw.length; i++) {
    const part = raw[i];
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (components.length <= floor) throw new NtPathError(ntPath, "climbs out of its volume");
      components.pop();
      continue;
    }
    // Object names are case-insensitive in NT, but the tmpfs under /NT is not: drive letters are stored upper-case.
    components.push(components.length === 1 && floor === 2 && isDrive(part) ? part.toUpperCase() : part);
  }
  return components.length === 0 ? NT_ROOT_GUEST : `${NT_ROOT_GUEST}/${components.join("/")}`;
}

/**
 * A Win32 path made absolute against a current directory (`C:\Users\User`), as GetFullPathName does for
 * drive paths: `\` and `/` both separate; `C:\x` is absolute; `\x` is on the current directory's drive; `C:x`
 * is relative to the current directory when that is on the same drive, else to the drive's root (no
 * per-drive current directories are kept); anything else is relative to the current directory. "." is
 * dropped, ".." climbs but never above the drive's root, and trailing dots and spaces are dropped from each
 * component (`a.` names `a`). UNC paths (`\\server\share`) and a current directory that is not a drive path
 * are refused. The drive letter comes back upper-case; the result is `C:\` or `C:\a\b`.
 */
export function fullWin32Path(path: string, currentDirectory: string): string {
  if (!isDrive(currentDirectory.slice(0, 2)) || (currentDirectory.length > 2 && !isSeparator(currentDirectory.charCodeAt(2)))) {
    throw new NtPathError(currentDirectory, "the current directory is not a drive path like C:\\x");
  }
  if (isSeparator(path.charCodeAt(0)) && isSeparator(path.charCodeAt(1))) throw new NtPathError(path, "UNC and device paths are not supported");
  const currentDrive = currentDirectory.slice(0, 2).toUpperCase();
  let drive = currentDrive;
  let rest = path;
  let base = currentDirectory.slice(2);
  if (isDrive(path.slice(0, 2))) {
    drive = path.slice(0, 2).toUpperCase();
    rest = path.slice(2);
    if (drive !== currentDrive) base = "";
  }
  if (isSeparator(rest.charCodeAt(0))) base = "";
  const components: string[] = [];
  for (const part of `${base}\\${rest}`.split(/[\\/]/)) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      components.pop();
      continue;
    }
    let end = part.length;
    while (end > 0 && (part.charCodeAt(end - 1) === 0x2e || part.charCodeAt(end - 1) === 0x20)) end--;
    if (end > 0) components.push(part.slice(0, end));
  }
  return `${drive}\\${components.join("\\")}`;
}

function isSeparator(code: number): boolean {
  return code === 0x5c || code === 0x2f;
}

/** A guest path on the boot volume (the guest's root filesystem, C:) as a Win32 path: `/Users/User` → `C:\Users\User`. */
export function guestToWin32Path(guestPath: string): string {
  if (!guestPath.startsWith("/")) throw new NtPathError(guestPath, "not absolute");
  const components = guestPath.split("/").filter((part) => part !== "");
  const backslashed = components.find((part) => part.includes("\\"));
  if (backslashed !== undefined) throw new NtPathError(guestPath, `component ${JSON.stringify(backslashed)} holds "\\", which a Win32 path cannot spell`);
  return `C:\\${components.join("\\")}`;
}
