// Registry paths in .reg text: backslash-separated key names, the first ones naming the hive
// (HKEY_LOCAL_MACHINE\SYSTEM) and the rest a key inside it.

/** The key names of a path (one trailing backslash allowed), or undefined when a name is empty. */
export function splitRegPath(path: string): string[] | undefined {
  const trimmed = path.endsWith("\\") ? path.slice(0, -1) : path;
  const names = trimmed.split("\\");
  return names.some((name) => name === "") ? undefined : names;
}
