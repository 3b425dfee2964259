#!/usr/bin/env bash
# The Debian packages the tests use: hive tools to cross-check against, FAT and partition tools, xz, time,
# script (bsdutils) to give the CLI a terminal, chromium (driven by playwright-core) for the web page and
# qemu-system-x86 to boot the disk image on a second PC emulator.
set -euo pipefail
exec "$(dirname "$0")/apt-ensure.sh" libhivex-bin libwin-hivex-perl libregf-utils reglookup mtools dosfstools fdisk \
  xz-utils time bsdutils chromium qemu-system-x86
