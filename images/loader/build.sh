#!/usr/bin/env bash
# Builds the boot parts of the disk with Debian's tools, once, so that building a disk needs only Node:
#   images/prebuilt/smss86-loader.bin  smss86's boot loader (images/loader/loader.S): the MBR's boot code
#                                      (its first 440 bytes) and the stage for the sectors after the MBR
#   images/prebuilt/fat16.sparse       a formatted 256 MiB FAT16 partition (sparse format,
#                                      emulator/disk/sparse.ts); emulator/disk/image.ts shrinks it to the
#                                      disk's size by changing only the boot sector's sector count
# and a provenance stamp next to each. Needs scripts/setup-build.sh's packages; no root (plain files).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
recipe=images/loader/build.sh
source_file=images/loader/loader.S
packer=images/loader/pack-template.ts
sparse_codec=emulator/disk/sparse.ts
declare -A expected=(
  [binutils]="2.40-2"
  [dosfstools]="4.2-1"
  [mtools]="4.0.33-1+really4.0.32-1"
)
declare -A version
for package in "${!expected[@]}"; do
  version[$package]=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || true)
  if [ "${version[$package]}" != "${expected[$package]}" ]; then
    # Another version may well work, but the committed files and their stamps would silently change.
    echo "build.sh: $package is '${version[$package]}', expected ${expected[$package]} (run scripts/setup-build.sh)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$repo/images/prebuilt"

# The loader: linked to run at 0x7C00, where the BIOS puts the MBR; flat binary.
as --32 -o "$work/loader.o" "$repo/$source_file"
ld -m elf_i386 -Ttext 0x7c00 -e start --oformat binary -o "$repo/images/prebuilt/smss86-loader.bin" "$work/loader.o"

# 256 MiB with 4 KiB clusters (Linux's page size) is the largest FAT16 volume with a 256-sector FAT; smaller
# disks keep this FAT and just end earlier. Hidden sectors = the partition's LBA (2048); 16/63 is v86's disk
# geometry. Fixed volume id and label, and SOURCE_DATE_EPOCH for mtools' timestamps: the build reproduces.
partition=$work/partition.img
export SOURCE_DATE_EPOCH=946684800 # 2000-01-01 00:00:00 UTC, emulator/disk/fat.ts's default timestamp
export MTOOLS_SKIP_CHECK=1
truncate -s 256M "$partition"
mkfs.fat -F 16 -S 512 -s 8 -r 512 -g 16/63 -h 2048 -i 534D5353 "$partition" >/dev/null
mlabel -i "$partition" ::SMSS86
fsck.fat -n "$partition" >/dev/null
(cd "$repo" && node --import tsx "$packer" "$partition" images/prebuilt/fat16.sparse)

sha() { sha256sum "$repo/$1" | cut -d' ' -f1; }
stamp() {
  local output=$1 inputs=$2 packages=$3 notes=$4
  printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{%s},"packages":{%s},"notes":"%s"}\n' \
    "$output" "$(sha "$output")" "$recipe" "$inputs" "$packages" "$notes" > "$repo/$output.stamp.json"
  echo "$output $(sha "$output")"
}
input() { printf '"%s":"%s"' "$1" "$(sha "$1")"; }
package() { printf '"%s":"%s"' "$1" "${version[$1]}"; }

stamp images/prebuilt/smss86-loader.bin "$(input $recipe),$(input $source_file)" "$(package binutils)" \
  "bash $recipe (as --32 and ld -Ttext 0x7c00 --oformat binary from Debian binutils ${version[binutils]})"
stamp images/prebuilt/fat16.sparse \
  "$(input $recipe),$(input $packer),$(input $sparse_codec)" \
  "$(package dosfstools),$(package mtools)" \
  "bash $recipe (mkfs.fat -F 16 -s 8 on 256 MiB, mlabel, packed non-zero sectors)"
