// The boot disk: an MBR with SYSLINUX's boot code and one active FAT16 partition (the C: volume) at LBA 2048,
// started from a template partition that already has SYSLINUX installed, plus the caller's files.
// Pure: Uint8Array/DataView only, so the web page can build and read disks too.

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
  /** A FAT16 partition with SYSLINUX installed (images/syslinux builds it); its data is placed unmoved. */
  template: SparseImage;
  /** Boot code for the MBR's first 440 bytes (SYSLINUX's mbr.bin). */
  mbrCode: Uint8Array;
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
  if (spec.mbrCode.length > MBR_CODE_SIZE) {
    throw new DiskImageError(`MBR boot code is ${spec.mbrCode.length} bytes; at most ${MBR_CODE_SIZE} fit before the partition table`);
  }
  const partitionSectors = (sizeMiB * MIB) / SECTOR_SIZE - PARTITION_START_LBA;
  checkPartitionSize(spec.template, sizeMiB, partitionSectors);

  const disk = new Uint8Array(sizeMiB * MIB);
  writeMbr(disk, spec.mbrCode, partitionSectors);
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
  return disk;
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
 * The template's FATs are sized for its largest FAT16 volume, and its data (SYSLINUX) sits at the start, so
 * only the boot sector's sector count changes with the disk size: nothing SYSLINUX recorded moves. The size
 * must keep the cluster count within FAT16's range and the template's FAT.
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

function writeMbr(disk: Uint8Array, mbrCode: Uint8Array, partitionSectors: number): void {
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  disk.set(mbrCode, 0);
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
