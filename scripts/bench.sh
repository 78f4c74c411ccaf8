#!/usr/bin/env bash
# Runs the load benchmark of roster (bench/load, see docs/PERFORMANCE.md):
# builds roster-broker, roster-agent and roster-bench in build/ (or $ROSTER_BENCH_BUILD_DIR),
# raises the open-file limit for the connections scenario, runs the
# scenarios, prints a table and writes JSON under bench/results/.
#
#   scripts/bench.sh            full mode: the figures the targets are about
#   scripts/bench.sh --quick    scaled down, under 2 minutes
#   scripts/bench.sh --smoke    seconds: checks every scenario runs end to end
#
# Any other argument goes to roster-bench, e.g. --scenario ingest --strict.
# Exits non-zero when a scenario fails to run (never on a missed target,
# unless --strict is given in full mode).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${ROSTER_BENCH_BUILD_DIR:-$root/build}"
jobs="$(nproc 2>/dev/null || echo 2)"

mode=full
args=()
for arg in "$@"; do
  case "$arg" in
    --smoke) mode=smoke ;;
    --quick) mode=quick ;;
    --full) mode=full ;;
    *) args+=("$arg") ;;
  esac
done

# Configure only a new build directory, or one without the benchmarks:
# the build step re-runs CMake by itself when a CMakeLists.txt changed.
configure_args=(-DROSTER_BUILD_BENCH=ON)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  configure_args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  cmake -S "$root" -B "$build_dir" "${configure_args[@]}" >/dev/null
elif ! grep -q '^ROSTER_BUILD_BENCH:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
  cmake -S "$root" -B "$build_dir" "${configure_args[@]}" >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" --target roster-broker roster-agent roster-bench >/dev/null

# 10k connections need ~10k descriptors in the broker and ~20k here.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

limit=()
if [ "$mode" = smoke ]; then
  limit=(timeout --kill-after=10 120)
fi
exec "${limit[@]}" "$build_dir/bin/roster-bench" --mode "$mode" \
  --broker "$build_dir/bin/roster-broker" --results-dir "$root/bench/results" "${args[@]}"
