#!/usr/bin/env bash
# Installs what rebuilding the committed prebuilt parts needs (kernel, QuickJS runtime, firmware,
# bootloader). Not needed to build the disk image or run the tests: those need only Node.
set -euo pipefail
packages=(linux-source-6.1 bc flex bison libelf-dev libssl-dev cpio xz-utils gcc-multilib make
          seabios syslinux syslinux-common mtools dosfstools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup-build: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
