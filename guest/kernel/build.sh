#!/usr/bin/env bash
# Builds the guest kernel images/prebuilt/bzImage from Debian's linux-source-6.1 with smss86's patches
# (guest/kernel/patches/, each says why): `make ARCH=i386 tinyconfig`, guest/kernel/config.fragment
# merged on top, `olddefconfig`, then checks that every option of the fragment survived (olddefconfig
# silently drops options whose dependencies are unmet), packs the boot image with the kernel
# uncompressed (see "uncompressed boot image" below) and writes the provenance stamp. Then builds the kernel module win32k.sys against that same tree
# (guest/kernel/win32k/build.sh, which writes its own stamp). Needs the packages of
# scripts/setup-build.sh; takes a few minutes on 2 cores.
#
# Reproducible: the tree is unpacked fresh into the same directory every time and the build-time facts
# the kernel embeds (timestamp, user, host, build number) are fixed, so two builds give the same bytes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
recipe=guest/kernel/build.sh
fragment=guest/kernel/config.fragment
# The exported symbols the kernel keeps (CONFIG_UNUSED_KSYMS_WHITELIST in the fragment names the copy in
# the tree): what win32k.sys imports.
exports=guest/kernel/win32k/exports.txt
exports_in_tree=smss86-win32k-exports.txt
output=images/prebuilt/bzImage
source_package=linux-source-6.1
source_tarball=/usr/src/linux-source-6.1.tar.xz
build_root=/var/tmp/smss86-kernel
tree=$build_root/linux-source-6.1

fail() {
  echo "build.sh: $*" >&2
  exit 1
}

package_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}

source_version=$(package_version "$source_package")
[ -n "$source_version" ] || fail "Debian package $source_package is not installed (run scripts/setup-build.sh)"
[ -f "$source_tarball" ] || fail "$source_tarball is missing although $source_package $source_version is installed"
command -v gcc >/dev/null || fail "gcc is not installed (run scripts/setup-build.sh)"

echo "build.sh: unpacking $source_tarball into $tree" >&2
rm -rf "$build_root"
mkdir -p "$build_root"
tar -xJf "$source_tarball" -C "$build_root"
[ -f "$tree/Makefile" ] || fail "$source_tarball did not unpack to $tree"
install -m 0644 "$repo/$exports" "$tree/$exports_in_tree"
patches=("$repo"/guest/kernel/patches/*.patch)
for patch_file in "${patches[@]}"; do
  patch -s -p1 -d "$tree" < "$patch_file" || fail "${patch_file#"$repo"/} does not apply to $source_package $source_version"
done

export KBUILD_BUILD_TIMESTAMP='1970-01-01 00:00:00 UTC'
export KBUILD_BUILD_USER=smss86
export KBUILD_BUILD_HOST=smss86
export KBUILD_BUILD_VERSION=1
unset KCFLAGS KCPPFLAGS KAFLAGS LOCALVERSION ARCH CROSS_COMPILE
kmake() {
  make -C "$tree" ARCH=i386 "$@"
}

# Configuration tools chat about every overridden default; keep that in a log unless something fails.
config_log=$build_root/config.log
{
  kmake -s tinyconfig &&
    "$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$repo/$fragment" &&
    kmake -s olddefconfig
} > "$config_log" 2>&1 || { cat "$config_log" >&2; fail "configuring the kernel failed (log above)"; }

# Every option line of the fragment must hold in the final .config: `CONFIG_X=value` exactly, and
# `# CONFIG_X is not set` as absent or unset.
config=$tree/.config
dropped=()
while IFS= read -r line; do
  if [[ $line =~ ^CONFIG_[A-Za-z0-9_]+= ]]; then
    grep -qxF -- "$line" "$config" || dropped+=("$line (final: $(grep -E "^(# )?${line%%=*}[= ]" "$config" || echo absent))")
  elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
    name=${BASH_REMATCH[1]}
    if grep -qE "^$name=" "$config"; then dropped+=("$line (final: $(grep -E "^$name=" "$config"))"); fi
  fi
done < "$repo/$fragment"
if [ ${#dropped[@]} -gt 0 ]; then
  echo "build.sh: olddefconfig did not honour these lines of $fragment (unmet or reverse dependency?):" >&2
  printf '  %s\n' "${dropped[@]}" >&2
  exit 1
fi

# `modules` builds no module of the tree's own (everything is built in) but writes Module.symvers, the
# kernel's exported symbols that an out-of-tree module is linked against.
echo "build.sh: building bzImage and the module symbols (-j2)" >&2
kmake -s -j2 bzImage modules

# The uncompressed boot image: the bzImage's real-mode setup, followed by the kernel itself instead of
# the decompressor and its LZ4 payload. The setup code jumps to code32_start (0x100000, where the loader
# puts the protected-mode part) with %esi = boot_params, which is how the decompressor enters the kernel
# too; the kernel is linked to run at 0x100000 (CONFIG_PHYSICAL_START, not relocatable), so nothing needs
# moving. Decompressing cost 1.05e7 guest instructions (0.2 s) per boot; loading the 1 MB more costs
# 0.05 s. The header says how much the loader loads (syssize, in 16-byte units) and how much memory the
# kernel needs from its load address before it reads the memory map (init_size); the fields that describe
# the compressed payload (payload_offset, payload_length, kernel_info_offset) are cleared.
vmlinux=$tree/vmlinux
entry=$(readelf -hW "$vmlinux" | awk '/Entry point address/ { print $4 }')
[ $((entry)) -eq $((0x100000)) ] || fail "vmlinux's entry point is $entry, not 0x100000 where the setup code jumps"
lowest=$(readelf -lW "$vmlinux" | awk '$1 == "LOAD" { print $4 }' | sort | head -1)
[ $((lowest)) -eq $((0x100000)) ] || fail "vmlinux's first segment is at $lowest, not 0x100000"
kernel_end=0
while read -r physical memory_size; do
  end=$((physical + memory_size))
  [ $end -gt $kernel_end ] && kernel_end=$end
done < <(readelf -lW "$vmlinux" | awk '$1 == "LOAD" { print $4, $6 }')
init_size=$(( (kernel_end - 0x100000 + 0xfff) & ~0xfff ))
raw=$build_root/vmlinux.raw
objcopy -O binary "$vmlinux" "$raw"
raw_size=$(stat -c %s "$raw")
syssize=$(( (raw_size + 15) / 16 ))
truncate -s $((syssize * 16)) "$raw"
bzimage=$tree/arch/x86/boot/bzImage
setup_sectors=$(od -An -tu1 -j $((0x1f1)) -N1 "$bzimage" | tr -d ' ')
[ "$setup_sectors" -gt 0 ] || fail "the bzImage's setup_sects is 0"
le32() { printf '\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
put32() { printf "$(le32 "$2")" | dd of="$image" bs=1 seek=$(($1)) conv=notrunc status=none; }
image=$tree/arch/x86/boot/bzImage-uncompressed
head -c $(((setup_sectors + 1) * 512)) "$bzimage" > "$image"
put32 0x1f4 $syssize
put32 0x248 0
put32 0x24c 0
put32 0x260 $init_size
put32 0x268 0
cat "$raw" >> "$image"
install -m 0644 "$image" "$repo/$output"

sha() { sha256sum "$1" | cut -d' ' -f1; }
patch_inputs=""
for patch_file in "${patches[@]}"; do
  patch_inputs+=",\"${patch_file#"$repo"/}\":\"$(sha "$patch_file")\""
done
printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{"%s":"%s","%s":"%s","%s":"%s"%s},"packages":{"%s":"%s"},"notes":"%s"}\n' \
  "$output" "$(sha "$repo/$output")" "$recipe" \
  "$recipe" "$(sha "$repo/$recipe")" "$fragment" "$(sha "$repo/$fragment")" "$exports" "$(sha "$repo/$exports")" "$patch_inputs" \
  "$source_package" "$source_version" \
  "bash $recipe (unpacks $source_tarball into $build_root; built with gcc $(package_version gcc-12), binutils $(package_version binutils); final config at $config)" \
  > "$repo/$output.stamp.json"
echo "build.sh: $output $(sha "$repo/$output") ($(stat -c %s "$repo/$output") bytes)" >&2

bash "$repo/guest/kernel/win32k/build.sh"
