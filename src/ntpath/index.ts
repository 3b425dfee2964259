// NT paths ↔ guest paths. The C: volume is the guest's root filesystem, so `\??\C:\x` is `/x`, and
// `\SystemRoot` is the Windows directory on it. One place translates, and it refuses any path that would
// climb out of its volume.

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
