// Node-side loader for the committed bootloader parts that emulator/disk/image.ts builds disks from.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PREBUILT } from "../../emulator/node.ts";
import { decodeSparseImage, type SparseImage } from "../../emulator/disk/sparse.ts";

export interface SyslinuxTemplate {
  /** A 256 MiB FAT16 partition with SYSLINUX installed; see build-template.sh. */
  template: SparseImage;
  /** SYSLINUX's MBR boot code. */
  mbrCode: Uint8Array;
}

const TEMPLATE_PATH = join(PREBUILT, "syslinux-fat16.sparse");
const MBR_CODE_PATH = join(PREBUILT, "syslinux-mbr.bin");

export async function loadSyslinuxTemplate(): Promise<SyslinuxTemplate> {
  const [template, mbrCode] = await Promise.all([readFile(TEMPLATE_PATH), readFile(MBR_CODE_PATH)]);
  return {
    template: decodeSparseImage(new Uint8Array(template.buffer, template.byteOffset, template.byteLength)),
    mbrCode: new Uint8Array(mbrCode.buffer, mbrCode.byteOffset, mbrCode.byteLength),
  };
}
