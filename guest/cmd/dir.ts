// DIR [path] [/B]: a directory's entries in directory order (FAT's, as Windows shows them on FAT), "." and
// ".." included below the root, with Windows' header, columns and totals, the free space from statfs. The
// path may name a directory, a file, or a pattern with * and ? in its last component. The volume's label
// and serial number are in its boot sector, which only root may read: the header says "has no label" and
// leaves the serial number out.
import * as sys from "sys";
import { dirDirsLine, dirEntryLine, dirFilesLine, type DirEntry } from "../../src/cmd/format.ts";
import { hasWildcard, matchesWildcard } from "../../src/cmd/parse.ts";
import { splitWin32CommandLine } from "../../src/config/commandline.ts";
import { guestToWin32Path } from "../../src/ntpath/index.ts";
import { guestPathOf, isDirectory, onDiskCase } from "./paths.ts";
import type { Shell } from "./shell.ts";

const HEADER = " Volume in drive C has no label.\n\n";
const PATH_NOT_FOUND = "The system cannot find the path specified.";

function parentOf(guestPath: string): string {
  const slash = guestPath.lastIndexOf("/");
  return slash <= 0 ? "/" : guestPath.slice(0, slash);
}

function baseName(guestPath: string): string {
  return guestPath.slice(guestPath.lastIndexOf("/") + 1);
}

/** The directory to list and the names to show, or undefined when the directory does not exist. */
function target(path: string | undefined, shell: Shell): { directory: string; pattern: string } | undefined {
  if (path === undefined) {
    const here = guestPathOf(".", shell.currentDirectory);
    return here === undefined ? undefined : { directory: here, pattern: "*" };
  }
  const guestPath = guestPathOf(path, shell.currentDirectory);
  if (guestPath === undefined) return undefined;
  const found = hasWildcard(baseName(guestPath)) ? undefined : onDiskCase(guestPath);
  if (found !== undefined && isDirectory(found)) return { directory: found, pattern: "*" };
  const directory = onDiskCase(parentOf(guestPath));
  if (directory === undefined || !isDirectory(directory)) return undefined;
  return { directory, pattern: baseName(found ?? guestPath) };
}

function entryOf(name: string, guestPath: string): DirEntry | undefined {
  let stat: sys.Stat;
  try {
    stat = sys.stat(guestPath);
  } catch {
    // Gone since it was listed, or a link to nothing: not shown.
    return undefined;
  }
  const modified = new Date(stat.mtimeMs);
  return (stat.mode & sys.S_IFMT) === sys.S_IFDIR ? { name, modified, directory: true } : { name, modified, directory: false, size: stat.size };
}

export function dir(shell: Shell, rest: string): void {
  let bare = false;
  const paths: string[] = [];
  for (const word of splitWin32CommandLine(rest)) {
    if (!word.startsWith("/")) paths.push(word);
    else if (word.toLowerCase() === "/b") bare = true;
    else return shell.fail(`DIR ${word} is not supported by this cmd.exe.`);
  }
  if (paths.length > 1) return shell.fail("DIR of more than one path is not supported by this cmd.exe.");
  if (!bare) shell.out(HEADER);
  const where = target(paths[0], shell);
  if (where === undefined) return shell.fail(PATH_NOT_FOUND);
  const { directory, pattern } = where;
  let names: string[];
  try {
    names = sys.readdir(directory);
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    return shell.fail(error.code === "EACCES" ? "Access is denied." : `${guestToWin32Path(directory)}: ${error.message}`);
  }
  const entries: DirEntry[] = [];
  const visit = (name: string, guestPath: string) => {
    if (!matchesWildcard(name, pattern)) return;
    const entry = entryOf(name, guestPath);
    if (entry !== undefined) entries.push(entry);
  };
  if (directory !== "/" && !bare) {
    visit(".", directory);
    visit("..", parentOf(directory));
  }
  for (const name of names) visit(name, `${directory === "/" ? "" : directory}/${name}`);
  if (!bare) shell.out(` Directory of ${guestToWin32Path(directory)}\n\n`);
  if (entries.length === 0) return shell.fail("File Not Found");
  if (bare) {
    shell.out(entries.map(({ name }) => `${name}\n`).join(""));
    return;
  }
  shell.out(entries.map((entry) => `${dirEntryLine(entry)}\n`).join(""));
  const files = entries.filter((entry) => !entry.directory);
  const bytes = files.reduce((sum, entry) => sum + (entry.directory ? 0 : entry.size), 0);
  const space = sys.statfs(directory);
  shell.out(`${dirFilesLine(files.length, bytes)}\n${dirDirsLine(entries.length - files.length, space.availableBlocks * space.blockSize)}\n`);
}
