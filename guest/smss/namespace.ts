// Phase "object-namespace": the NT object namespace as a tmpfs tree at /NT (see src/ntpath), then the DOS
// device links in \?? (= \GLOBAL??). What the I/O manager and the drivers would create comes first:
// \Device objects for the null device, the console, the serial and parallel ports and every FAT volume
// (C: = the boot volume, mounted as / and bound onto \Device\HarddiskVolume1; further volumes get the next
// letters and are mounted once autochk has checked them), then ObjectDirectories, \Sessions, and each
// Session Manager\DOS Devices value as a link (replacing one of the same name, as Windows does). Any
// failure here is fatal, as in Windows.
import * as sys from "sys";
import { deviceNumbers } from "../lib/block-device.ts";
import { ConfigError, multiStringValue, stringValue, type SessionManagerKey } from "../../src/config/values.ts";
import type { LinkData, ObjectNamespaceData } from "../../src/events/index.ts";
import { decodeLatin1 } from "../../src/hive/index.ts";
import { NtPathError, NT_ROOT_GUEST, ntObjectPath } from "../../src/ntpath/index.ts";
import { createSmApiPort } from "./smapi.ts";
import { SM_API_PORT } from "../../src/smapi/index.ts";

export class NamespaceError extends Error {
  override name = "NamespaceError";
}

export interface Volume {
  /** \Device\HarddiskVolumeN */
  device: string;
  letter: string;
  /** /dev/sda1 */
  blockDevice: string;
  /** Where its file system is (to be) mounted: /NT/Device/HarddiskVolumeN. */
  mountPoint: string;
  isBoot: boolean;
  mounted: boolean;
}

const DEFAULT_OBJECT_DIRECTORIES = ["\\Windows", "\\RPC Control"];

/** What the kernel's device nodes are called under \Device, and the DOS names the drivers give them. */
const DEVICES: { device: string; node: string; dosName?: string }[] = [
  { device: "Null", node: "/dev/null" },
  { device: "Console", node: "/dev/console", dosName: "CON" },
  { device: "Serial0", node: "/dev/ttyS0", dosName: "COM1" },
  { device: "Serial1", node: "/dev/ttyS1", dosName: "COM2" },
  { device: "Serial2", node: "/dev/ttyS2", dosName: "COM3" },
  { device: "Serial3", node: "/dev/ttyS3", dosName: "COM4" },
  { device: "Parallel0", node: "/dev/lp0", dosName: "LPT1" },
  { device: "Parallel1", node: "/dev/lp1", dosName: "LPT2" },
  { device: "Parallel2", node: "/dev/lp2", dosName: "LPT3" },
];

const MAX_LINK_NAME = 255;
const MAX_LINK_TARGET = 4096;

/**
 * The /NT tree as smss builds it, remembering what it made: the tmpfs starts empty, so whether a name
 * exists is known without asking the kernel (a failed call costs a SysError with its stack in QuickJS).
 */
class ObjectTree {
  private readonly made = new Set<string>([NT_ROOT_GUEST]);

  mkdirs(guestPath: string): void {
    let path = "";
    for (const part of guestPath.split("/")) {
      if (part === "") continue;
      path += "/" + part;
      if (this.made.has(path)) continue;
      sys.mkdir(path, 0o755);
      this.made.add(path);
    }
  }

  /** A symbolic link object: replaces one of the same name. */
  link(objectPath: string, target: string): void {
    if (this.made.has(objectPath)) sys.unlink(objectPath);
    sys.symlink(target, objectPath);
    this.made.add(objectPath);
  }
}

/** What a guest path leads to, for the event: "char 4:64", "block 8:1", "directory", "missing", ... */
export function describeTarget(guestPath: string): string {
  try {
    const stat = sys.stat(guestPath);
    const type = stat.mode & sys.S_IFMT;
    if (type === sys.S_IFCHR) return `char ${stat.rdevMajor}:${stat.rdevMinor}`;
    if (type === sys.S_IFBLK) return `block ${stat.rdevMajor}:${stat.rdevMinor}`;
    if (type === sys.S_IFDIR) return "directory";
    if (type === sys.S_IFSOCK) return "socket";
    return "file";
  } catch (error) {
    if (error instanceof sys.SysError) return error.code === "ENOENT" ? "missing" : error.code.toLowerCase();
    throw error;
  }
}

/** FAT boot sector: the 0x55AA signature and a FAT file-system type string (FAT12/16 at 54, FAT32 at 82). */
function isFatVolume(node: string): boolean {
  let fd: number;
  try {
    fd = sys.open(node, sys.O_RDONLY, 0);
  } catch {
    return false;
  }
  try {
    const sector = sys.read(fd, 512);
    if (sector.length < 512 || sector[510] !== 0x55 || sector[511] !== 0xaa) return false;
    return decodeLatin1(sector.subarray(54, 57)) === "FAT" || decodeLatin1(sector.subarray(82, 87)) === "FAT32";
  } finally {
    sys.close(fd);
  }
}

/** The block device the root file system was mounted from, by its numbers (sysfs knows its name). */
export function rootBlockDevice(): string {
  const { major, minor } = deviceNumbers(sys.stat("/").dev);
  const uevent = decodeLatin1(sys.readFile(`/sys/dev/block/${major}:${minor}/uevent`));
  const name = /^DEVNAME=(.+)$/m.exec(uevent)?.[1];
  if (name === undefined) throw new NamespaceError(`the root file system's device ${major}:${minor} has no name in sysfs`);
  return `/dev/${name}`;
}

/** FAT volumes on the machine's disks: partitions, and whole disks without any (superfloppies). */
function findFatVolumes(): string[] {
  const names = decodeLatin1(sys.readFile("/proc/partitions"))
    .split("\n")
    .slice(2)
    .map((line) => line.trim().split(/\s+/)[3])
    .filter((name): name is string => name !== undefined && /^sd[a-z]+\d*$/.test(name));
  const wholeDisksWithPartitions = new Set(names.filter((name) => /\d$/.test(name)).map((name) => name.replace(/\d+$/, "")));
  return names
    .filter((name) => !wholeDisksWithPartitions.has(name))
    .map((name) => `/dev/${name}`)
    .filter(isFatVolume);
}

export function buildObjectNamespace(sessionManager: SessionManagerKey): { volumes: Volume[]; smApiPort: number; data: ObjectNamespaceData } {
  const directories: string[] = [];
  const links: LinkData[] = [];
  const tree = new ObjectTree();
  const makeDirectory = (ntPath: string) => {
    tree.mkdirs(ntObjectPath(ntPath));
    directories.push(ntPath);
  };
  const makeLink = (name: string, target: string, guestTarget = ntObjectPath(target)) => {
    if (guestTarget.length > MAX_LINK_TARGET) throw new NamespaceError(`link ${name}: target is ${guestTarget.length} characters, more than ${MAX_LINK_TARGET}`);
    tree.link(ntObjectPath(name), guestTarget);
    links.push({ name, target, resolves: "" });
  };

  try {
    sys.mount("smss-objects", NT_ROOT_GUEST, "tmpfs", sys.MS_NOSUID | sys.MS_NODEV, "mode=755,size=1m");
  } catch (error) {
    throw new NamespaceError(`cannot mount the object namespace on ${NT_ROOT_GUEST}: ${(error as Error).message}`);
  }
  for (const directory of ["\\Device", "\\GLOBAL??", "\\KnownDlls", "\\BaseNamedObjects"]) makeDirectory(directory);
  makeLink("\\??", "\\GLOBAL??", "GLOBAL??");
  makeLink("\\DosDevices", "\\GLOBAL??", "GLOBAL??");

  for (const { device, node, dosName } of DEVICES) {
    makeLink(`\\Device\\${device}`, node, node);
    if (dosName !== undefined) makeLink(`\\GLOBAL??\\${dosName}`, `\\Device\\${device}`);
  }

  const bootDevice = rootBlockDevice();
  const others = findFatVolumes().filter((node) => node !== bootDevice);
  const volumes: Volume[] = [bootDevice, ...others].map((blockDevice, index) => ({
    device: `\\Device\\HarddiskVolume${index + 1}`,
    letter: String.fromCharCode(0x43 + index) + ":",
    blockDevice,
    mountPoint: ntObjectPath(`\\Device\\HarddiskVolume${index + 1}`),
    isBoot: index === 0,
    mounted: false,
  }));
  if (volumes.length > 24) volumes.length = 24;
  for (const volume of volumes) {
    const disk = volume.blockDevice.replace(/^\/dev\/sd([a-z]+)\d*$/, "$1").charCodeAt(0) - 0x61;
    const partition = /\d+$/.exec(volume.blockDevice)?.[0] ?? "0";
    makeDirectory(`\\Device\\Harddisk${disk}`);
    makeLink(`\\Device\\Harddisk${disk}\\Partition${partition}`, volume.blockDevice, volume.blockDevice);
    // As in Windows: \GLOBAL??\HarddiskNPartitionM names the volume on that partition (autochk pairs them).
    makeLink(`\\GLOBAL??\\Harddisk${disk}Partition${partition}`, volume.device);
    tree.mkdirs(volume.mountPoint);
    makeLink(`\\GLOBAL??\\${volume.letter}`, volume.device);
  }
  sys.mount("/", volumes[0].mountPoint, null, sys.MS_BIND, null);
  volumes[0].mounted = true;
  makeLink("\\SystemRoot", "\\Device\\HarddiskVolume1\\Windows");

  const displayPath = sessionManager.displayPath;
  const objectDirectories = sessionManager.key.value("ObjectDirectories");
  for (const directory of objectDirectories ? multiStringValue(objectDirectories, displayPath) : DEFAULT_OBJECT_DIRECTORIES) {
    // Failures here are only logged by Windows: a bad name just makes no directory.
    try {
      makeDirectory(directory);
    } catch (error) {
      if (!(error instanceof NtPathError || error instanceof sys.SysError)) throw error;
      directories.push(`${directory} (not created: ${error.message})`);
    }
  }
  makeDirectory("\\Sessions");

  const dosDevices = sessionManager.key.subkey("DOS Devices");
  for (const value of dosDevices?.values() ?? []) {
    const where = `${displayPath}\\DOS Devices\\${value.name}`;
    try {
      const { text } = stringValue(value, `${displayPath}\\DOS Devices`);
      if (value.name === "" || value.name.length > MAX_LINK_NAME || /[\\/\0]/.test(value.name) || value.name === "." || value.name === "..") {
        throw new NamespaceError(`${where}: ${JSON.stringify(value.name.slice(0, 64))} cannot name a link in \\??`);
      }
      if (text === "") throw new NamespaceError(`${where}: the target is empty`);
      makeLink(`\\GLOBAL??\\${value.name}`, text);
    } catch (error) {
      if (error instanceof NamespaceError) throw error;
      if (error instanceof ConfigError) throw new NamespaceError(error.message);
      if (error instanceof NtPathError || error instanceof sys.SysError) {
        throw new NamespaceError(`${where}: ${error.message}`);
      }
      throw error;
    }
  }
  for (const entry of links) entry.resolves = describeTarget(ntObjectPath(entry.name));
  // Created now, as Windows' smss creates it early: programs BootExecute starts asynchronously can connect
  // (their requests are answered once smss is resident).
  const smApiPort = createSmApiPort();
  return { volumes, smApiPort, data: { ports: [SM_API_PORT], directories, links, volumes: volumes.map(({ device, letter, blockDevice, mounted }) => ({ device, letter, blockDevice, mounted })) } };
}

/** After autochk: the volumes other than the boot volume get their file systems. */
export function mountVolumes(volumes: Volume[]): void {
  for (const volume of volumes) {
    if (volume.mounted) continue;
    sys.mount(volume.blockDevice, volume.mountPoint, "vfat", sys.MS_NOSUID | sys.MS_NODEV, "");
    volume.mounted = true;
  }
}
