#!/usr/bin/env bash
# Installs dependencies, builds roster, and runs every test: first in the
# normal build (build/), then in the ASan+UBSan build (build-asan/); then a
# short run of every fuzz target (scripts/fuzz.sh, clang); then installs the
# normal build to a temporary prefix and builds examples/controller against
# that (scripts/check_install.sh); then a short smoke run of the benchmarks.
# Warnings are errors (scripts/build.sh). Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="$(nproc 2>/dev/null || echo 2)"

"$root/scripts/setup.sh"

echo "== build (RelWithDebInfo) =="
# Line tables only (-g1): full debug info doubles compile time on 2 cores.
"$root/scripts/build.sh" "$root/build" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
echo "== tests =="
(cd "$root/build" && ctest --output-on-failure -j "$jobs" --timeout 600)

echo "== build (ASan + UBSan) =="
# -O1 -g1, asserts on: the usual sanitizer setting, and it compiles in
# less than half the time of -O2 -g with ASan.
"$root/scripts/build.sh" "$root/build-asan" -DROSTER_SANITIZE=ON -DROSTER_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
echo "== tests under sanitizers =="
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$root/build-asan" && ctest --output-on-failure -j "$jobs" --timeout 900 -LE no_sanitizer)

echo "== fuzz smoke run (libFuzzer + ASan + UBSan, 10 s per target) =="
"$root/scripts/fuzz.sh" 10

echo "== install, then build the example controller against the installed package =="
# The normal build: a separate Release build would add a fifth of CI's time.
"$root/scripts/check_install.sh" "$root/build"

if [ -x "$root/scripts/bench.sh" ]; then
  echo "== benchmark smoke run =="
  "$root/scripts/bench.sh" --smoke
fi
echo "test.sh: all tests passed"
