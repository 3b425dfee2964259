// The boot disk: an MBR with smss86's boot loader (images/loader/loader.S), its stage and boot map in the
// sectors after the MBR, and one active FAT16 partition (the C: volume) at LBA 2048, started from a
// formatted template partition, plus the caller's files. Pure: Uint8Array/DataView only, so the web page
// can build and read disks too.

import { FatVolume, type FatVolumeOptions } from "../../src/fat/fat.ts";
import { type SparseImage, writeSparseImage } from "./sparse.ts";

export class DiskImageError extends Error {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at disk offset 0x${offset.toString(16)})`);
    this.name = "DiskImageError";
  }
}

export const SECTOR_SIZE = 512;
/** The partition starts 1 MiB in, where every current partitioning tool puts the first one. */
export const PARTITION_START_LBA = 2048;
export const DEFAULT_DISK_SIZE_MIB = 64;
/** Partition type 0x06: FAT16 with more than 65535 sectors (also accepted for smaller ones). */
export const PARTITION_TYPE_FAT16 = 0x06;
/** Written into the MBR so the disk has a stable identity (Linux shows it as PARTUUID 534d5353-01). */
export const DISK_SIGNATURE = 0x534d5353;

const MBR_CODE_SIZE = 440;
/** The loader: the MBR (its first 440 bytes are boot code), then its stage for LBA 1..LOADER_STAGE_SECTORS. */
const LOADER_STAGE_SECTORS = 6;
/** The boot map's sector, right after the stage (loader.S reads both in one go). */
const BOOT_MAP_LBA = 1 + LOADER_STAGE_SECTORS;
const BOOT_MAP_MAGIC = "SMSS6MAP";
const BOOT_MAP_COMMAND_LINE = 18;
/** Where the kernel is on C: (the default disk's boot map points at it). */
export const KERNEL_FILE = "/boot/bzImage";
/** The kernel's command line as the loader hands it over, NUL included, must fit the map's sector. */
export const MAX_KERNEL_COMMAND_LINE = SECTOR_SIZE - BOOT_MAP_COMMAND_LINE - 1;
const PARTITION_TABLE_OFFSET = 446;
const PARTITION_ENTRY_SIZE = 16;
const ACTIVE = 0x80;
/** v86's IDE disks report 16 heads and 63 sectors per track; the CHS fields follow that geometry. */
const HEADS = 16;
const SECTORS_PER_TRACK = 63;
const FAT16_MIN_CLUSTERS = 4085;
const FAT16_MAX_CLUSTERS = 65524;
const MIB = 1024 * 1024;

export interface DiskImageSpec {
  /** A formatted FAT16 partition (images/loader/build.sh makes it); its data is placed unmoved. */
  template: SparseImage;
  /** smss86's boot loader (images/prebuilt/smss86-loader.bin): MBR boot code, then the loader's stage. */
  loader: Uint8Array;
  /** What the loader boots: a kernel file on the volume and its command line (see writeBootMap). */
  boot?: BootEntry;
  /** Volume paths ("/Windows/System32/smss.exe") to contents; missing parent directories are created. */
  files: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  /** Directories to create even if empty, e.g. "/dev" for the kernel's devtmpfs. */
  directories?: readonly string[];
  /** The whole disk's size; the partition takes all of it after the first MiB. */
  sizeMiB?: number;
  /** Time stamped on every file and directory added. */
  timestamp?: Date;
}

export interface PartitionEntry {
  readonly index: number;
  readonly active: boolean;
  readonly type: number;
  readonly startLba: number;
  readonly sectorCount: number;
}

/** Builds the raw disk image (for v86's `hda: { buffer }`). */
export function buildDiskImage(spec: DiskImageSpec): Uint8Array {
  const sizeMiB = spec.sizeMiB ?? DEFAULT_DISK_SIZE_MIB;
  if (!Number.isInteger(sizeMiB) || sizeMiB < 2) {
    throw new DiskImageError(`disk size ${sizeMiB} MiB must be a whole number of MiB, at least 2`);
  }
  if (spec.loader.length !== BOOT_MAP_LBA * SECTOR_SIZE) {
    throw new DiskImageError(`the boot loader is ${spec.loader.length} bytes; expected ${BOOT_MAP_LBA * SECTOR_SIZE} (the MBR and a ${LOADER_STAGE_SECTORS}-sector stage)`);
  }
  const partitionSectors = (sizeMiB * MIB) / SECTOR_SIZE - PARTITION_START_LBA;
  checkPartitionSize(spec.template, sizeMiB, partitionSectors);

  const disk = new Uint8Array(sizeMiB * MIB);
  writeMbr(disk, spec.loader.subarray(0, MBR_CODE_SIZE), partitionSectors);
  disk.set(spec.loader.subarray(SECTOR_SIZE), SECTOR_SIZE);
  const partition = disk.subarray(PARTITION_START_LBA * SECTOR_SIZE);
  writeSparseImage(spec.template, partition, 0);
  setTotalSectors(partition, partitionSectors);

  const volume = openFat(partition, { timestamp: spec.timestamp });
  for (const directory of spec.directories ?? []) volume.mkdir(directory);
  const files = spec.files instanceof Map ? [...spec.files] : Object.entries(spec.files);
  for (const [path, contents] of files) {
    volume.mkdir(path.slice(0, path.lastIndexOf("/")));
    volume.writeFile(path, contents);
  }
  if (spec.boot) writeBootMap(disk, spec.boot);
  return disk;
}

export interface BootEntry {
  /** The kernel's path on the volume, e.g. "/boot/bzImage"; the loader needs its clusters contiguous. */
  kernel: string;
  /** The kernel's command line; the map's copy starts with BOOT_IMAGE=<kernel>, as other loaders add it. */
  commandLine: string;
}

export interface BootMap {
  kernelLba: number;
  kernelSectors: number;
  /** As the kernel receives it, BOOT_IMAGE= included. */
  commandLine: string;
}

/**
 * Writes the boot map the loader reads (loader.S): where the kernel file lies on the disk and its command
 * line. Like LILO's map, it must be written again when the kernel file moves; the command line can be
 * changed alone with setKernelCommandLine.
 */
export function writeBootMap(disk: Uint8Array, boot: BootEntry): void {
  encodeBootMap(disk, { ...locateKernel(disk, boot.kernel), commandLine: `BOOT_IMAGE=${boot.kernel} ${boot.commandLine}` });
}

/** Where the loader finds the kernel file on the disk: its first sector and length (it must be in one piece). */
export function locateKernel(disk: Uint8Array, kernel: string): Omit<BootMap, "commandLine"> {
  const volume = openVolume(disk);
  const entry = volume.stat(kernel);
  if (entry === undefined || entry.isDirectory || entry.size === 0) throw new DiskImageError(`boot map: the kernel ${kernel} is not a file on the volume`);
  const extents = volume.extents(kernel);
  if (extents.length !== 1) throw new DiskImageError(`boot map: the kernel ${kernel} lies in ${extents.length} pieces; the loader needs it in one`);
  const partition = readPartitionTable(disk).find((candidate) => candidate.active)!;
  return { kernelLba: partition.startLba + extents[0].offset / SECTOR_SIZE, kernelSectors: Math.ceil(entry.size / SECTOR_SIZE) };
}

export function readBootMap(disk: Uint8Array): BootMap {
  const offset = BOOT_MAP_LBA * SECTOR_SIZE;
  if (disk.length < offset + SECTOR_SIZE) throw new DiskImageError("the disk is too short for a boot map", offset);
  const sector = disk.subarray(offset, offset + SECTOR_SIZE);
  if (String.fromCharCode(...sector.subarray(0, 8)) !== BOOT_MAP_MAGIC) throw new DiskImageError("no boot map (the disk was not made by smss86's disk builder)", offset);
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR_SIZE);
  const length = view.getUint16(16, true);
  if (length > MAX_KERNEL_COMMAND_LINE) throw new DiskImageError(`the boot map's command line is ${length} bytes, more than ${MAX_KERNEL_COMMAND_LINE}`, offset + 16);
  return {
    kernelLba: view.getUint32(8, true),
    kernelSectors: view.getUint32(12, true),
    commandLine: String.fromCharCode(...sector.subarray(BOOT_MAP_COMMAND_LINE, BOOT_MAP_COMMAND_LINE + length)),
  };
}

/**
 * After a change to the volume of a disk that has a boot map: the map names where the kernel lies now, with
 * the same command line (what lilo does after a new kernel is installed). A disk without a map, or without
 * the kernel, is left as it is; a kernel that now lies in pieces is refused (DiskImageError).
 */
export function refreshBootMap(disk: Uint8Array): void {
  let map: BootMap;
  try {
    map = readBootMap(disk);
  } catch (error) {
    if (error instanceof DiskImageError) return;
    throw error;
  }
  if (openVolume(disk).stat(KERNEL_FILE) === undefined) return;
  encodeBootMap(disk, { ...locateKernel(disk, KERNEL_FILE), commandLine: map.commandLine });
}

/** Replaces the kernel's command line in the boot map (BOOT_IMAGE= included, as readBootMap gives it). */
export function setKernelCommandLine(disk: Uint8Array, commandLine: string): void {
  encodeBootMap(disk, { ...readBootMap(disk), commandLine });
}

function encodeBootMap(disk: Uint8Array, map: BootMap): void {
  if (map.commandLine.length > MAX_KERNEL_COMMAND_LINE) {
    throw new DiskImageError(`boot map: the kernel command line is ${map.commandLine.length} characters; the map holds ${MAX_KERNEL_COMMAND_LINE}`);
  }
  if (/[^\x20-\x7e]/.test(map.commandLine)) throw new DiskImageError("boot map: the kernel command line must be printable ASCII");
  const sector = new Uint8Array(SECTOR_SIZE);
  const view = new DataView(sector.buffer);
  for (let i = 0; i < BOOT_MAP_MAGIC.length; i++) sector[i] = BOOT_MAP_MAGIC.charCodeAt(i);
  view.setUint32(8, map.kernelLba, true);
  view.setUint32(12, map.kernelSectors, true);
  view.setUint16(16, map.commandLine.length, true);
  for (let i = 0; i < map.commandLine.length; i++) sector[BOOT_MAP_COMMAND_LINE + i] = map.commandLine.charCodeAt(i);
  disk.set(sector, BOOT_MAP_LBA * SECTOR_SIZE);
}

/** The four MBR partition entries that are in use. */
export function readPartitionTable(disk: Uint8Array): PartitionEntry[] {
  if (disk.length < SECTOR_SIZE) throw new DiskImageError(`disk is ${disk.length} bytes, too short for an MBR`, disk.length);
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  const signature = view.getUint16(510, true);
  if (signature !== 0xaa55) throw new DiskImageError(`MBR signature is 0x${signature.toString(16)}, not 0xaa55`, 510);
  const entries: PartitionEntry[] = [];
  for (let index = 0; index < 4; index++) {
    const offset = PARTITION_TABLE_OFFSET + index * PARTITION_ENTRY_SIZE;
    const status = disk[offset];
    const type = disk[offset + 4];
    if (type === 0) continue;
    if (status !== 0 && status !== ACTIVE) {
      throw new DiskImageError(`partition ${index + 1} has status 0x${status.toString(16)}, neither 0x00 nor 0x80`, offset);
    }
    const startLba = view.getUint32(offset + 8, true);
    const sectorCount = view.getUint32(offset + 12, true);
    if (startLba === 0 || sectorCount === 0 || (startLba + sectorCount) * SECTOR_SIZE > disk.length) {
      throw new DiskImageError(
        `partition ${index + 1} (sectors ${startLba}+${sectorCount}) does not lie within the disk's ${Math.floor(disk.length / SECTOR_SIZE)} sectors`,
        offset + 8,
      );
    }
    entries.push({ index: index + 1, active: status === ACTIVE, type, startLba, sectorCount });
  }
  return entries;
}

/** The active partition's bytes: a view into `disk`, so changes made through it land in the disk. */
export function readPartition(disk: Uint8Array): Uint8Array {
  const active = readPartitionTable(disk).filter((entry) => entry.active);
  if (active.length !== 1) throw new DiskImageError(`the MBR marks ${active.length} partitions active; expected exactly 1`, PARTITION_TABLE_OFFSET);
  const { startLba, sectorCount } = active[0];
  return disk.subarray(startLba * SECTOR_SIZE, (startLba + sectorCount) * SECTOR_SIZE);
}

/** The FAT volume on the disk's active partition, e.g. to read what the guest wrote. */
export function openVolume(disk: Uint8Array, options: FatVolumeOptions = {}): FatVolume {
  return FatVolume.open(readPartition(disk), options);
}

function openFat(partition: Uint8Array, options: FatVolumeOptions): FatVolume {
  const volume = FatVolume.open(partition, options);
  if (volume.type !== 16) throw new DiskImageError(`the template volume became FAT${volume.type}; it must stay FAT16`);
  return volume;
}

/**
 * The template's FATs are sized for its largest FAT16 volume, so only the boot sector's sector count changes
 * with the disk size. The size must keep the cluster count within FAT16's range and the template's FAT.
 */
function checkPartitionSize(template: SparseImage, sizeMiB: number, partitionSectors: number): void {
  const bootSector = template.extents[0];
  if (bootSector === undefined || bootSector.offset !== 0 || bootSector.bytes.length < SECTOR_SIZE) {
    throw new DiskImageError("the template has no boot sector");
  }
  const view = new DataView(bootSector.bytes.buffer, bootSector.bytes.byteOffset, SECTOR_SIZE);
  const bytesPerSector = view.getUint16(11, true);
  const sectorsPerCluster = bootSector.bytes[13];
  const fatSectors = view.getUint16(22, true);
  if (bytesPerSector !== SECTOR_SIZE || sectorsPerCluster === 0 || fatSectors === 0) {
    throw new DiskImageError(
      `the template's boot sector (${bytesPerSector} bytes per sector, ${sectorsPerCluster} per cluster, FAT of ${fatSectors}) is not FAT16 with 512-byte sectors`,
    );
  }
  const firstDataSector =
    view.getUint16(14, true) + bootSector.bytes[16] * fatSectors + Math.ceil((view.getUint16(17, true) * 32) / SECTOR_SIZE);
  const fatCapacity = (fatSectors * SECTOR_SIZE) / 2 - 2;
  const maxClusters = Math.min(FAT16_MAX_CLUSTERS, fatCapacity);
  const clusters = Math.floor((partitionSectors - firstDataSector) / sectorsPerCluster);
  const templateEnd = template.extents.reduce((end, extent) => Math.max(end, extent.offset + extent.bytes.length), 0);
  if (clusters < FAT16_MIN_CLUSTERS || clusters > maxClusters || templateEnd > partitionSectors * SECTOR_SIZE) {
    const diskMiB = (clusterCount: number): number =>
      (PARTITION_START_LBA + firstDataSector + clusterCount * sectorsPerCluster) * SECTOR_SIZE / MIB;
    throw new DiskImageError(
      `a ${sizeMiB} MiB disk gives the FAT16 volume ${clusters} clusters; this template allows ` +
        `${FAT16_MIN_CLUSTERS}..${maxClusters}, i.e. disks of ${Math.ceil(diskMiB(FAT16_MIN_CLUSTERS))}..${Math.floor(diskMiB(maxClusters))} MiB`,
    );
  }
}

function setTotalSectors(partition: Uint8Array, sectors: number): void {
  const view = new DataView(partition.buffer, partition.byteOffset, SECTOR_SIZE);
  // The 16-bit field if the count fits, else the 32-bit one, with the other zero (what mkfs.fat writes).
  view.setUint16(19, sectors <= 0xffff ? sectors : 0, true);
  view.setUint32(32, sectors <= 0xffff ? 0 : sectors, true);
}

function writeMbr(disk: Uint8Array, bootCode: Uint8Array, partitionSectors: number): void {
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  disk.set(bootCode, 0);
  view.setUint32(440, DISK_SIGNATURE, true);
  const entry = PARTITION_TABLE_OFFSET;
  disk[entry] = ACTIVE;
  disk.set(encodeChs(PARTITION_START_LBA), entry + 1);
  disk[entry + 4] = PARTITION_TYPE_FAT16;
  disk.set(encodeChs(PARTITION_START_LBA + partitionSectors - 1), entry + 5);
  view.setUint32(entry + 8, PARTITION_START_LBA, true);
  view.setUint32(entry + 12, partitionSectors, true);
  view.setUint16(510, 0xaa55, true);
}

/** Head, sector|cylinder-high, cylinder-low; past cylinder 1023 the conventional "use LBA" maximum. */
function encodeChs(lba: number): Uint8Array {
  const cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  if (cylinder > 1023) return Uint8Array.of(0xfe, 0xff, 0xff);
  const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  const sector = (lba % SECTORS_PER_TRACK) + 1;
  return Uint8Array.of(head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff);
}
