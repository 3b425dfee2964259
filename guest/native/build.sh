#!/usr/bin/env bash
# Builds images/prebuilt/qjs-runtime: QuickJS (from the npm package qjsc, which carries the 2021-03-27
# C sources) plus this folder's runtime and "sys" module, as ONE static i386 Linux binary (glibc from
# Debian's gcc-multilib), and writes its provenance stamp. From the same sources it also builds
# images/prebuilt/qjs-compiler, a static x86_64 binary that the host runs to compile guest TypeScript
# to bytecode: machines of this project's kind run 64-bit user code only (i386 execve fails with
# ENOEXEC), and QuickJS's bytecode does not depend on the word size (test/runtime.test.ts compares the
# two compilers' output). Reproducible: sources are compiled by
# repository-relative path with no debug info, so the output depends only on the inputs and packages
# recorded in the stamp, not on the folder or the time of the build.
#
# Also compiled in: the Argon2 reference implementation (the portable ref.c, not the SSE opt.c: the
# guest's CPU is a plain i686) that the npm package argon2 carries in node_modules/argon2/argon2/, for
# sys.argon2id (sys_crypto.c). Its licence is CC0 1.0 or Apache 2.0 at the user's option
# (node_modules/argon2/argon2/LICENSE, hashed into the stamp); it is built without threads, since the
# guest has one CPU and the runtime no thread library.
#
# Needs: scripts/setup-build.sh (gcc-multilib) and `npm ci` (node_modules/qjsc, node_modules/argon2).
# Usage: bash guest/native/build.sh [-j N]   (parallel compiles, default 2)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

jobs=2
if [ "${1:-}" = "-j" ] && [ -n "${2:-}" ]; then jobs=$2; fi

recipe=guest/native/build.sh
output=images/prebuilt/qjs-runtime
compiler_output=images/prebuilt/qjs-compiler
quickjs_dir=node_modules/qjsc/deps/quickjs_2021_03_27
quickjs_version=2021-03-27
argon2_dir=node_modules/argon2/argon2
argon2_package_version=0.45.1
packages=(gcc-multilib gcc-12 lib32gcc-12-dev libc6-dev-i386 libc6-dev binutils)

if [ ! -f "$quickjs_dir/quickjs.c" ]; then
  echo "build.sh: $quickjs_dir is missing: run 'npm ci' (qjsc is a devDependency)" >&2
  exit 1
fi
if [ "$(cat "$quickjs_dir/VERSION")" != "$quickjs_version" ]; then
  echo "build.sh: $quickjs_dir/VERSION is '$(cat "$quickjs_dir/VERSION")', expected $quickjs_version" >&2
  exit 1
fi
argon2_found_version=$(node -p 'require("./node_modules/argon2/package.json").version' 2>/dev/null || echo none)
if [ "$argon2_found_version" != "$argon2_package_version" ]; then
  echo "build.sh: node_modules/argon2 is version $argon2_found_version, expected $argon2_package_version: run 'npm ci'" >&2
  exit 1
fi
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    echo "build.sh: Debian package '$package' is not installed (run scripts/setup-build.sh)" >&2
    exit 1
  fi
done

quickjs_sources=(quickjs.c libregexp.c libunicode.c cutils.c libbf.c)
quickjs_headers=(quickjs.h quickjs-atom.h quickjs-opcode.h libregexp.h libregexp-opcode.h libunicode.h
                 libunicode-table.h libbf.h cutils.h list.h VERSION)
argon2_sources=(src/argon2.c src/core.c src/encoding.c src/ref.c src/blake2/blake2b.c)
argon2_headers=(include/argon2.h src/core.h src/encoding.h src/thread.h src/blake2/blake2.h src/blake2/blake2-impl.h
                src/blake2/blamka-round-ref.h LICENSE)
own_sources=(guest/native/runtime.c guest/native/allocator.c guest/native/sys.c guest/native/sys_support.c guest/native/sys_fs.c
             guest/native/sys_process.c guest/native/sys_system.c guest/native/sys_ports.c guest/native/sys_crypto.c)
own_headers=(guest/native/allocator.h guest/native/sys.h guest/native/sys_internal.h)

# -O2, not -Os: the emulated CPU counts every instruction the interpreter executes; -O2 runs smss's phases
# in 13% fewer guest instructions (3.54e7 vs 4.09e7, measured) for a 23% larger binary. -O3 gained nothing more.
common_flags=(-O2 -fno-pie -g0 -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
              -fno-ident "-ffile-prefix-map=$repo/=" -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64
              "-DCONFIG_VERSION=\"$quickjs_version\"" -DCONFIG_BIGNUM)
# build_binary OUTPUT ARCH_FLAGS...: compiles every source with the common and the given flags, links
# one static stripped binary.
build_binary() {
  local binary=$1
  shift
  local object_dir=build/native/$(basename "$binary")
  rm -rf "$object_dir"
  mkdir -p "$object_dir" images/prebuilt
  # The shared flags go through a gcc response file so that xargs can run the compiles in parallel.
  printf '%s\n' "$@" "${common_flags[@]}" | sed 's/"/\\"/g' > "$object_dir/common-flags"
  local compile_list=() source
  for source in "${quickjs_sources[@]}"; do
    compile_list+=("$quickjs_dir/$source" "-w")
  done
  for source in "${argon2_sources[@]}"; do
    compile_list+=("$argon2_dir/$source" "-w -DARGON2_NO_THREADS -I$argon2_dir/include")
  done
  for source in "${own_sources[@]}"; do
    compile_list+=("$source" "-Wall -Wextra -Werror -isystem $quickjs_dir -isystem $argon2_dir/include")
  done
  printf '%s\0' "${compile_list[@]}" |
    xargs -0 -n 2 -P "$jobs" bash -c '
      # shellcheck disable=SC2086
      gcc @"$0/common-flags" $2 -c "$1" -o "$0/$(basename "${1%.c}").o"
    ' "$object_dir"
  local objects=()
  for source in "${quickjs_sources[@]}" "${argon2_sources[@]}" "${own_sources[@]}"; do
    objects+=("$object_dir/$(basename "${source%.c}").o")
  done
  gcc "$1" -static -no-pie -Wl,--gc-sections -Wl,--build-id=none -s -o "$binary" "${objects[@]}" -lm
  chmod 0755 "$binary"
}

build_binary "$output" -m32 -march=i686
build_binary "$compiler_output" -m64

sha() { sha256sum "$1" | cut -d' ' -f1; }
inputs=""
for file in "$recipe" "${own_sources[@]}" "${own_headers[@]}"; do
  inputs+="\"$file\":\"$(sha "$file")\","
done
for file in "${quickjs_sources[@]}" "${quickjs_headers[@]}"; do
  inputs+="\"$quickjs_dir/$file\":\"$(sha "$quickjs_dir/$file")\","
done
for file in "${argon2_sources[@]}" "${argon2_headers[@]}"; do
  inputs+="\"$argon2_dir/$file\":\"$(sha "$argon2_dir/$file")\","
done
package_versions=""
for package in "${packages[@]}"; do
  package_versions+="\"$package\":\"$(dpkg-query -W -f='${Version}' "$package")\","
done
write_stamp() {
  printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{%s},"packages":{%s},"notes":"%s"}\n' \
    "$1" "$(sha "$1")" "$recipe" "${inputs%,}" "${package_versions%,}" "bash $recipe after scripts/setup-build.sh and npm ci (QuickJS $quickjs_version from npm qjsc; Argon2 reference C from npm argon2 $argon2_package_version, CC0 1.0 or Apache 2.0; $2)" \
    > "$1.stamp.json"
  echo "$1 $(sha "$1") $(stat -c %s "$1") bytes"
}
write_stamp "$output" "static i386 glibc: the guest runtime"
write_stamp "$compiler_output" "static x86_64 glibc: the host's bytecode compiler"
