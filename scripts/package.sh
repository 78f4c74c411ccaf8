#!/usr/bin/env bash
# Builds the Debian package roster_<version>_<arch>.deb into the current
# directory (or the directory given as $1): a Release build of the three
# binaries (no tests, no benchmarks) in build-package/, man pages from
# --help (help2man), the systemd units and /etc/roster examples, then CPack.
# Install it with `apt install ./roster_*.deb` (docs/OPERATIONS.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out_dir="$(realpath "${1:-$PWD}")"
build_dir="$root/build-package"
jobs="$(nproc 2>/dev/null || echo 2)"

"$root/scripts/setup.sh"

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DROSTER_PACKAGE=ON -DROSTER_BUILD_TESTS=OFF -DROSTER_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs"
(cd "$build_dir" && cpack -G DEB -B "$build_dir/cpack" >/dev/null)
mkdir -p "$out_dir"
for deb in "$build_dir"/cpack/roster_*.deb; do
  cp "$deb" "$out_dir/"
  echo "package.sh: $out_dir/$(basename "$deb")"
done
