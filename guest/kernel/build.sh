#!/usr/bin/env bash
# Builds the guest kernel images/prebuilt/bzImage from Debian's linux-source-6.1: `make ARCH=i386
# tinyconfig`, guest/kernel/config.fragment merged on top, `olddefconfig`, then checks that every option
# of the fragment survived (olddefconfig silently drops options whose dependencies are unmet) and writes
# the provenance stamp. Then builds the kernel module win32k.sys against that same tree
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
install -m 0644 "$tree/arch/x86/boot/bzImage" "$repo/$output"

sha() { sha256sum "$1" | cut -d' ' -f1; }
printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{"%s":"%s","%s":"%s","%s":"%s"},"packages":{"%s":"%s"},"notes":"%s"}\n' \
  "$output" "$(sha "$repo/$output")" "$recipe" \
  "$recipe" "$(sha "$repo/$recipe")" "$fragment" "$(sha "$repo/$fragment")" "$exports" "$(sha "$repo/$exports")" \
  "$source_package" "$source_version" \
  "bash $recipe (unpacks $source_tarball into $build_root; built with gcc $(package_version gcc-12), binutils $(package_version binutils); final config at $config)" \
  > "$repo/$output.stamp.json"
echo "build.sh: $output $(sha "$repo/$output") ($(stat -c %s "$repo/$output") bytes)" >&2

bash "$repo/guest/kernel/win32k/build.sh"
