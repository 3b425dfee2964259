#!/usr/bin/env bash
# Installs the Debian packages the tests cross-check against (hive tools, FAT and partition tools, xz).
# Idempotent and quiet when everything is present; needs root (as on this project's machines).
set -euo pipefail
packages=(libhivex-bin libwin-hivex-perl libregf-utils reglookup mtools dosfstools fdisk xz-utils time)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup-host: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
