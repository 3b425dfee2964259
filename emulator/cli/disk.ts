// `smss86 disk`: the C: volume of a disk image (the FAT volume on its active partition), listed, read and
// changed on the host through src/fat, without root or mounting. A change reads the image under the image's
// lock and replaces it atomically (emulator/files.ts): a failed change leaves the image as it was.
import { basename } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { FatError, type FatEntry, type FatVolume } from "../../src/fat/fat.ts";
import { DiskImageError, openVolume, refreshBootMap } from "../disk/image.ts";
import { FileError, GiB, readRegularFileSync, readRequired, replaceFile } from "../files.ts";
import { DISK_IMAGE_FILE } from "../node.ts";
import { action, fileName, StdoutClosed, writeStdoutSync, type Settle } from "./common.ts";

export function declareDisk(program: Command, settle: Settle): void {
  const disk = program
    .command("disk")
    .description("list, read and change the C: volume of a disk image (no root, no mounting)")
    .helpCommand("help [command]", "show the help of a disk command")
    .addHelpText(
      "after",
      `
PATH is a path on the C: volume: /Windows/ntbtlog.txt, or as Windows writes it, C:\\Windows\\ntbtlog.txt.
Names are matched without regard to case, as FAT does. A change replaces IMAGE atomically, under its lock.`,
    );

  disk
    .command("ls")
    .summary("list a directory of the C: volume")
    .description("list the directory at PATH (default: the root) with sizes and modification times, or the one file PATH names")
    .argument("<IMAGE>", "the disk image", fileName("IMAGE"))
    .argument("[PATH]", "a directory or file on the volume", volumePath, "/")
    .action(action("smss86 disk ls", settle, listPath));

  disk
    .command("cat")
    .summary("print a file of the C: volume")
    .description("write the file at PATH to stdout, byte for byte")
    .argument("<IMAGE>", "the disk image", fileName("IMAGE"))
    .argument("<PATH>", "a file on the volume", volumePath)
    .action(action("smss86 disk cat", settle, catFile));

  disk
    .command("put")
    .summary("copy a host file onto the C: volume")
    .description("copy SRC (a file or a pipe) to PATH on the volume, replacing a file there; a PATH that is a directory receives SRC under its own name. PATH's directory must exist (disk mkdir makes it).")
    .argument("<IMAGE>", "the disk image", fileName("IMAGE"))
    .argument("<SRC>", "the host file", fileName("SRC"))
    .argument("<PATH>", "where on the volume", volumePath)
    .action(action("smss86 disk put", settle, putFile));

  disk
    .command("rm")
    .summary("delete a file or an empty directory of the C: volume")
    .argument("<IMAGE>", "the disk image", fileName("IMAGE"))
    .argument("<PATH>", "a file or empty directory on the volume", volumePath)
    .action(action("smss86 disk rm", settle, removePath));

  disk
    .command("mkdir")
    .summary("make a directory (and its parents) on the C: volume")
    .argument("<IMAGE>", "the disk image", fileName("IMAGE"))
    .argument("<PATH>", "the directory to make; one already there is fine", volumePath)
    .action(action("smss86 disk mkdir", settle, makeDirectory));
}

/** "C:\Windows\x", "\Windows\x", "Windows/x" and "/Windows/x" all name /Windows/x on the volume. */
function volumePath(text: string): string {
  if (text === "") throw new InvalidArgumentError("PATH takes a path on the volume such as /Windows/ntbtlog.txt, not an empty string.");
  if (/[\x00-\x1f]/.test(text)) throw new InvalidArgumentError("PATH may not hold control characters (FAT names cannot).");
  const path = text.replace(/^[cC]:/, "").replace(/\\/g, "/").replace(/\/+/g, "/");
  const absolute = path.startsWith("/") ? path : `/${path}`;
  return absolute.length > 1 ? absolute.replace(/\/$/, "") : absolute;
}

/** The image's C: volume; failures of the image or its volume name the image. */
function volumeOf(image: string, bytes: Uint8Array, options: { timestamp?: Date } = {}): FatVolume {
  try {
    return openVolume(bytes, options);
  } catch (error) {
    if (error instanceof DiskImageError || error instanceof FatError) throw new FileError(image, `no C: volume to be read: ${error.message}`);
    throw error;
  }
}

/** Runs a volume operation, naming the image in what fails. */
function onVolume<T>(image: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof FatError) throw new FileError(image, error.message);
    throw error;
  }
}

function readImage(image: string): Uint8Array {
  return readRegularFileSync(image, DISK_IMAGE_FILE);
}

/** Changes the image's volume under the image's lock, then replaces the image whole. */
async function changeImage(image: string, change: (volume: FatVolume) => void): Promise<void> {
  await replaceFile(image, "disk image", () => {
    const bytes = readImage(image);
    // Entries made or changed now carry the time of the change, as on a mounted volume.
    onVolume(image, () => change(volumeOf(image, bytes, { timestamp: new Date() })));
    // A kernel written again lies elsewhere: the boot loader's map follows it, or the change is refused.
    try {
      refreshBootMap(bytes);
    } catch (error) {
      if (error instanceof DiskImageError) throw new FileError(image, `${error.message}; the image is left as it was`);
      throw error;
    }
    return bytes;
  });
}

function formatEntry(entry: FatEntry): string {
  const when = entry.modified.toISOString().slice(0, 16).replace("T", " ");
  const size = entry.isDirectory ? "<DIR>" : String(entry.size);
  return `${size.padStart(10)}  ${when}  ${entry.name}${entry.isDirectory ? "/" : ""}`;
}

async function listPath(image: string, path: string): Promise<number> {
  const volume = volumeOf(image, readImage(image));
  const lines = onVolume(image, () => {
    if (path === "/") return volume.list("/").map(formatEntry);
    const entry = volume.stat(path);
    if (!entry) throw new FatError("not-found", `${path} does not exist`);
    return entry.isDirectory ? volume.list(path).map(formatEntry) : [formatEntry(entry)];
  });
  try {
    writeStdoutSync(lines.map((line) => line + "\n").join(""));
  } catch (error) {
    if (!(error instanceof StdoutClosed)) throw error;
  }
  return 0;
}

async function catFile(image: string, path: string): Promise<number> {
  const volume = volumeOf(image, readImage(image));
  const bytes = onVolume(image, () => volume.readFile(path));
  try {
    writeStdoutSync(bytes);
  } catch (error) {
    if (!(error instanceof StdoutClosed)) throw error;
  }
  return 0;
}

/** v86 holds a disk of at most 2 GiB, so no file on it can be larger. */
const SOURCE_LIMIT = 2 * GiB;

async function putFile(image: string, source: string, path: string): Promise<number> {
  const contents = await readRequired(source, { what: "source file", limit: SOURCE_LIMIT, stream: true });
  await changeImage(image, (volume) => {
    const target = path === "/" || volume.stat(path)?.isDirectory ? `${path.replace(/\/$/, "")}/${basename(source)}` : path;
    volume.writeFile(target, contents);
  });
  return 0;
}

async function removePath(image: string, path: string): Promise<number> {
  if (path === "/") throw new FileError(image, "the root directory of the volume cannot be removed");
  await changeImage(image, (volume) => volume.delete(path));
  return 0;
}

async function makeDirectory(image: string, path: string): Promise<number> {
  await changeImage(image, (volume) => volume.mkdir(path));
  return 0;
}
