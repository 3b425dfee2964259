#!/usr/bin/env bash
# The Debian packages the tests cross-check against: hive tools, FAT and partition tools, xz, time.
set -euo pipefail
exec "$(dirname "$0")/apt-ensure.sh" libhivex-bin libwin-hivex-perl libregf-utils reglookup mtools dosfstools fdisk \
  xz-utils time
