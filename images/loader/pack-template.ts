// Packs a partition image into the sparse format: `node --import tsx pack-template.ts <image> <output>`.
// Called by images/loader/build.sh.
import { readFileSync, writeFileSync } from "node:fs";
import { encodeSparseImage } from "../../emulator/disk/sparse.ts";

const [imagePath, outputPath] = process.argv.slice(2);
if (imagePath === undefined || outputPath === undefined) {
  console.error("usage: pack-template.ts <partition image> <output .sparse>");
  process.exit(2);
}
const image = readFileSync(imagePath);
writeFileSync(outputPath, encodeSparseImage(new Uint8Array(image.buffer, image.byteOffset, image.byteLength)));
