#!/usr/bin/env bash
# What rebuilding the committed prebuilt parts needs (kernel, QuickJS runtime, firmware, boot loader and
# FAT template).
# Not needed to build the disk image or to run the tests: those need only Node.
set -euo pipefail
exec "$(dirname "$0")/apt-ensure.sh" linux-source-6.1 bc flex bison libelf-dev libssl-dev cpio xz-utils gcc-multilib \
  make binutils python3 curl seabios mtools dosfstools
