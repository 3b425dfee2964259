// Node-side reader of the committed boot parts that emulator/disk/image.ts builds disks from.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PREBUILT } from "../../emulator/node.ts";
import { decodeSparseImage, type SparseImage } from "../../emulator/disk/sparse.ts";

export interface BootParts {
  /** A formatted 256 MiB FAT16 partition; see build.sh. */
  template: SparseImage;
  /** smss86's boot loader: the MBR's boot code, then the stage for the sectors after the MBR. */
  loader: Uint8Array;
}

const TEMPLATE_PATH = join(PREBUILT, "fat16.sparse");
const LOADER_PATH = join(PREBUILT, "smss86-loader.bin");

export async function loadBootParts(): Promise<BootParts> {
  const [template, loader] = await Promise.all([readFile(TEMPLATE_PATH), readFile(LOADER_PATH)]);
  return {
    template: decodeSparseImage(new Uint8Array(template.buffer, template.byteOffset, template.byteLength)),
    loader: new Uint8Array(loader.buffer, loader.byteOffset, loader.byteLength),
  };
}
