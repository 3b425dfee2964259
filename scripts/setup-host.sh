#!/usr/bin/env bash
# The Debian packages the tests use: hive tools to cross-check against, FAT and partition tools, xz, time,
# and script (bsdutils) to give the CLI a terminal.
set -euo pipefail
exec "$(dirname "$0")/apt-ensure.sh" libhivex-bin libwin-hivex-perl libregf-utils reglookup mtools dosfstools fdisk \
  xz-utils time bsdutils
