#!/usr/bin/env bash
# The PC firmware the guest boots with, into images/prebuilt/ with a provenance stamp next to each file:
#   seabios.bin  SeaBIOS built from Debian's seabios source package (downloaded from deb.debian.org and
#                checked against the hashes below), with Debian's patches and bios.bin configuration and one
#                patch of ours (seabios-flat-memset.patch, which says why)
#   vgabios.bin  copied from Debian's seabios binary package: of its VGA BIOSes only the stdvga one prints
#                to v86's text screen, which is where SeaBIOS reports boot errors
# v86 ships no BIOS of its own. Needs scripts/setup-build.sh's packages and the network for the source.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
recipe=images/firmware/build.sh
patch_file=images/firmware/seabios-flat-memset.patch
package=seabios
version=1.16.2-1
upstream=1.16.2
mirror=http://deb.debian.org/debian/pool/main/s/seabios
declare -A source_sha256=(
  [seabios_1.16.2.orig.tar.gz]=efa8d529442ad168056f94ac6666b1b3543c62ff7af6d9e020561f4d0e32f959
  [seabios_1.16.2-1.debian.tar.xz]=7970d1790903f8ebabebce7c1952764c41edaa1f8a915097c2119bb7877efa98
)
# debian/rules' bios-config: the 128 KiB bios.bin.
config=(QEMU=y ROM_SIZE=128 PVSCSI=n ATA_DMA=n BOOTSPLASH=n XEN=n USB_OHCI=n USB_XHCI=n USB_UAS=n SDCARD=n
        TCGBIOS=n MPT_SCSI=n ESP_SCSI=n MEGASAS=n NVME=n USE_SMM=n VGAHOOKS=n HOST_BIOS_GEOMETRY=n ACPI_PARSE=n)

fail() {
  echo "build.sh: $*" >&2
  exit 1
}
package_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}
[ "$(package_version "$package")" = "$version" ] ||
  fail "Debian package $package is '$(package_version "$package")', expected $version (run scripts/setup-build.sh)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for file in "${!source_sha256[@]}"; do
  curl -sSfL -o "$work/$file" "$mirror/$file" || fail "cannot download $mirror/$file"
  echo "${source_sha256[$file]}  $work/$file" | sha256sum -c --quiet - || fail "$file does not have the expected SHA-256"
done
tar -xzf "$work/seabios_$upstream.orig.tar.gz" -C "$work"
tree=$work/seabios-$upstream
tar -xJf "$work/seabios_$version.debian.tar.xz" -C "$tree"
while read -r debian_patch; do
  [ -n "$debian_patch" ] && patch -s -p1 -d "$tree" < "$tree/debian/patches/$debian_patch"
done < "$tree/debian/patches/series"
patch -s -p1 -d "$tree" < "$repo/$patch_file" || fail "$patch_file does not apply to SeaBIOS $upstream"

# As debian/rules builds it, with the .hex ACPI tables the source ships (no iasl).
out=$tree/build/bios
mkdir -p "$out"
for option in "${config[@]}"; do echo "CONFIG_$option"; done > "$out/.config"
log=$work/build.log
{
  make -C "$tree" PYTHON="python3 -B" KCONFIG_CONFIG="$out/.config" OUT=build/bios/ oldnoconfig &&
    make -C "$tree" PYTHON="python3 -B" EXTRAVERSION="-debian-$version-smss86" KCONFIG_CONFIG="$out/.config" \
      OUT=build/bios/ build/bios/bios.bin
} > "$log" 2>&1 || { cat "$log" >&2; fail "building SeaBIOS failed (log above)"; }

mkdir -p "$repo/images/prebuilt"
install -m 0644 "$out/bios.bin" "$repo/images/prebuilt/seabios.bin"
install -m 0644 /usr/share/seabios/vgabios-stdvga.bin "$repo/images/prebuilt/vgabios.bin"

sha() { sha256sum "$1" | cut -d' ' -f1; }
stamp() {
  local output=$1 inputs=$2 packages=$3 notes=$4
  printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{%s},"packages":{%s},"notes":"%s"}\n' \
    "$output" "$(sha "$repo/$output")" "$recipe" "$inputs" "$packages" "$notes" > "$repo/$output.stamp.json"
  echo "$output $(sha "$repo/$output")"
}
input() { printf '"%s":"%s"' "$1" "$(sha "$repo/$1")"; }
package() { printf '"%s":"%s"' "$1" "$(package_version "$1")"; }

stamp images/prebuilt/seabios.bin "$(input $recipe),$(input $patch_file)" \
  "\"seabios (source)\":\"$version\",$(package gcc-12),$(package binutils),$(package python3)" \
  "bash $recipe (Debian's seabios $version source, its patches and bios.bin configuration, and $patch_file)"
stamp images/prebuilt/vgabios.bin "$(input $recipe)" "$(package seabios)" \
  "bash $recipe (copies /usr/share/seabios/vgabios-stdvga.bin from Debian seabios $version)"
