#!/usr/bin/env bash
# Builds images/prebuilt/win32k.sys, the win32k kernel module (win32k.c here), against the kernel tree that
# guest/kernel/build.sh leaves in /var/tmp/smss86-kernel, and writes its provenance stamp. guest/kernel/build.sh
# runs it after building the kernel; run alone (after editing win32k.c), it rebuilds only the module.
#
# A module loads only into the kernel it was built against (vermagic; without MODVERSIONS nothing checks
# the layout of the kernel structures it reads), so the tree must be the one the committed bzImage came
# from: same bzImage bytes, and the kernel's Module.symvers present. That kernel exports only the symbols
# listed in exports.txt, which must be exactly what the module imports (checked below). The stamp records
# the bzImage's hash with the sources. Reproducible: the module is built in the same directory every time, from copies of
# the sources, with the kernel tree's fixed build settings; debug info is stripped (the kernel is built
# without any, so this only guards against a config that adds it).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
recipe=guest/kernel/win32k/build.sh
sources=(guest/kernel/win32k/win32k.c guest/kernel/win32k/Kbuild)
exports=guest/kernel/win32k/exports.txt
kernel_inputs=(guest/kernel/build.sh guest/kernel/config.fragment "$exports" images/prebuilt/bzImage)
output=images/prebuilt/win32k.sys
source_package=linux-source-6.1
build_root=/var/tmp/smss86-kernel
tree=$build_root/linux-source-6.1
module_dir=$build_root/win32k

fail() {
  echo "win32k/build.sh: $*" >&2
  exit 1
}

package_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

[ -f "$tree/Module.symvers" ] || fail "$tree has no built kernel with module symbols: run bash guest/kernel/build.sh"
[ "$(sha "$tree/arch/x86/boot/bzImage-uncompressed")" = "$(sha "$repo/images/prebuilt/bzImage")" ] ||
  fail "$tree was not the build of images/prebuilt/bzImage (hashes differ): run bash guest/kernel/build.sh"

rm -rf "$module_dir"
mkdir -p "$module_dir"
for file in "${sources[@]}"; do
  install -m 0644 "$repo/$file" "$module_dir/"
done

export KBUILD_BUILD_TIMESTAMP='1970-01-01 00:00:00 UTC'
export KBUILD_BUILD_USER=smss86
export KBUILD_BUILD_HOST=smss86
export KBUILD_BUILD_VERSION=1
unset KCFLAGS KCPPFLAGS KAFLAGS LOCALVERSION ARCH CROSS_COMPILE
echo "win32k/build.sh: building win32k.ko against $tree" >&2
make -C "$tree" ARCH=i386 M="$module_dir" -s modules
# The kernel exports only what exports.txt lists (TRIM_UNUSED_KSYMS), and the list must stay exactly what
# the module imports: modpost above has refused a missing symbol; a symbol no longer used would keep an
# export the kernel does not need.
imports=$(nm -u "$module_dir/win32k.ko" | awk '{print $2}' | LC_ALL=C sort)
if [ "$imports" != "$(LC_ALL=C sort "$repo/$exports")" ]; then
  diff <(echo "$imports") <(LC_ALL=C sort "$repo/$exports") | sed 's/^/  /' >&2 || true
  fail "$exports is not what win32k.ko imports (< imports, > list): update it and run bash guest/kernel/build.sh"
fi
strip --strip-debug -o "$repo/$output" "$module_dir/win32k.ko"
chmod 0644 "$repo/$output"

inputs=""
for file in "$recipe" "${sources[@]}" "${kernel_inputs[@]}"; do
  inputs+="\"$file\":\"$(sha "$repo/$file")\","
done
printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{%s},"packages":{"%s":"%s"},"notes":"%s"}\n' \
  "$output" "$(sha "$repo/$output")" "$recipe" "${inputs%,}" "$source_package" "$(package_version "$source_package")" \
  "bash $recipe, run by guest/kernel/build.sh (built with make M=$module_dir against $tree, the tree of images/prebuilt/bzImage; gcc $(package_version gcc-12), binutils $(package_version binutils))" \
  > "$repo/$output.stamp.json"
echo "win32k/build.sh: $output $(sha "$repo/$output") ($(stat -c %s "$repo/$output") bytes)" >&2
