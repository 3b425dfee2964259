#!/usr/bin/env bash
# Copies the PC firmware the guest boots with out of Debian's seabios package into images/prebuilt/
# and writes a provenance stamp next to each file. v86 ships no BIOS of its own; of the VGA BIOSes in that
# package only the stdvga one prints to v86's text screen, which is where SeaBIOS reports boot errors.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
recipe=images/firmware/collect.sh
package=seabios
expected_version=1.16.2-1

version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "collect.sh: Debian package '$package' is not installed (run scripts/setup-build.sh)" >&2
  exit 1
fi
if [ "$version" != "$expected_version" ]; then
  # Another version may boot too, but the committed files and their stamps would silently change.
  echo "collect.sh: $package is $version, expected $expected_version" >&2
  exit 1
fi

recipe_sha=$(sha256sum "$repo/$recipe" | cut -d' ' -f1)
mkdir -p "$repo/images/prebuilt"

collect() {
  local source=$1 name=$2
  local output=images/prebuilt/$name
  install -m 0644 "$source" "$repo/$output"
  local sha
  sha=$(sha256sum "$repo/$output" | cut -d' ' -f1)
  printf '{"output":"%s","sha256":"%s","recipe":"%s","inputs":{"%s":"%s"},"packages":{"%s":"%s"},"notes":"%s"}\n' \
    "$output" "$sha" "$recipe" "$recipe" "$recipe_sha" "$package" "$version" \
    "bash $recipe (copies $source from Debian $package $version)" \
    > "$repo/$output.stamp.json"
  echo "$output $sha"
}

collect /usr/share/seabios/bios.bin seabios.bin
collect /usr/share/seabios/vgabios-stdvga.bin vgabios.bin
