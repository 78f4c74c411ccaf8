#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: builds the libFuzzer targets (fuzz/) with
# clang-14, ASan and UBSan into build-fuzz/, writes their seed corpus and
# dictionary (roster_fuzz_seeds), then runs every target for SECONDS
# (default 60), two at a time (ROSTER_FUZZ_JOBS), and prints executions and
# coverage per target. Fails on any crash, hang, leak, UB or broken
# invariant; the input that did it is left in build-fuzz/fuzz/artifacts/.
# Inputs that found new coverage accumulate in build-fuzz/fuzz/corpus/<target>/.
#
# Environment: CC/CXX (default clang-14/clang++-14), ROSTER_FUZZ_BUILD (the
# build directory), ROSTER_FUZZ_JOBS (targets run at once, default 2),
# ROSTER_FUZZ_TARGETS (a space-separated subset, e.g. "delta beat").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
build="${ROSTER_FUZZ_BUILD:-$root/build-fuzz}"
jobs="${ROSTER_FUZZ_JOBS:-2}"
# Largest input per target: a request body is small (a join at every limit
# is under 11 KiB); snapshots, admin replies and sequences need more room.
declare -A max_len=(
  [agent_request]=12288 [admin_request]=512 [agent_reply]=4096 [admin_reply]=16384
  [snapshot]=16384 [snapshot_parts]=16384 [delta]=8192 [beat]=256 [state_stream]=16384 [broker_stream]=8192
)
targets=(${ROSTER_FUZZ_TARGETS:-agent_request admin_request broker_stream agent_reply admin_reply
  snapshot snapshot_parts delta beat state_stream})

echo "== fuzz: build (clang, ASan + UBSan + libFuzzer) =="
CC="${CC:-clang-14}" CXX="${CXX:-clang++-14}" cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DROSTER_FUZZ=ON -DROSTER_BUILD_TESTS=OFF -DROSTER_BUILD_BENCH=OFF -DROSTER_WERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzz

corpus="$build/fuzz/corpus"
artifacts="$build/fuzz/artifacts"
logs="$build/fuzz/logs"
mkdir -p "$corpus" "$artifacts" "$logs"
"$build/bin/roster_fuzz_seeds" "$corpus" >/dev/null

run_target() {
  local t="$1"
  mkdir -p "$corpus/$t"
  set +e
  nice "$build/bin/fuzz_$t" -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 \
    -dict="$corpus/roster.dict" -artifact_prefix="$artifacts/$t-" -print_final_stats=1 \
    "$corpus/$t" >"$logs/$t.log" 2>&1
  echo $? >"$logs/$t.rc"
}

echo "== fuzz: ${#targets[@]} targets, ${seconds} s each, $jobs at a time =="
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "fuzz.sh: unknown target $t" >&2; exit 2; }
  run_target "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait

failed=0
printf '%-14s %12s %8s %8s %s\n' target executions cov ft result
for t in "${targets[@]}"; do
  log="$logs/$t.log"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)"
  rc="$(cat "$logs/$t.rc")"
  result="ok"
  if [ "$rc" != 0 ]; then
    result="FAILED (exit $rc; $log)"
    failed=1
  fi
  printf '%-14s %12s %8s %8s %s\n' "$t" "${execs:-?}" "$(echo "$cov" | awk '{print $2}')" \
    "$(echo "$cov" | awk '{print $4}')" "$result"
done
if [ "$failed" != 0 ]; then
  for t in "${targets[@]}"; do
    if [ "$(cat "$logs/$t.rc")" != 0 ]; then
      echo "== $t =="
      grep -E 'invariant broken|ERROR|SUMMARY|runtime error|Test unit written' "$logs/$t.log" | head -20
    fi
  done
  echo "fuzz.sh: a target failed; reproduce with: $build/bin/fuzz_<target> <artifact>" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${#targets[@]} targets"
