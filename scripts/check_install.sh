#!/usr/bin/env bash
# Installs the build in $1 (default build/) to a temporary prefix and checks
# what a user of the installed package gets: the binaries run (--version),
# examples/controller configures with find_package(roster) and builds
# against the installed roster::subscriber, and compiles with pkg-config
# (roster.pc). The controller then runs for a second against ipc://
# endpoints in the temporary directory (no broker: it must start, poll and
# exit 0). Never touches the build tree's headers or libraries.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$(realpath "${1:-$root/build}")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
for program in roster-broker roster-agent rosterctl; do
  "$prefix/bin/$program" --version
done

cmake -S "$root/examples/controller" -B "$tmp/controller" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/controller" >/dev/null
"$tmp/controller/controller" "ipc://$tmp/state" "ipc://$tmp/admin" 1

pc_dir="$(find "$prefix" -name roster.pc -printf '%h\n' | head -n 1)"
export PKG_CONFIG_PATH="$pc_dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
c++ -std=c++17 -o "$tmp/controller-pc" "$root/examples/controller/main.cc" \
  $(pkg-config --cflags --libs roster)
"$tmp/controller-pc" "ipc://$tmp/state" "ipc://$tmp/admin" 1
echo "check_install.sh: installed package OK (pkg-config roster $(pkg-config --modversion roster))"
