#!/usr/bin/env bash
# Configures and builds roster into build/ (or the directory given as $1).
# Extra arguments after the directory are passed to cmake at configure time.
# A development build: warnings are errors (ROSTER_WERROR=ON; pass
# -DROSTER_WERROR=OFF to override).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${1:-$root/build}"
shift || true
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROSTER_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
