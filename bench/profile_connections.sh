#!/usr/bin/env bash
# What one agent connection costs the broker (docs/PERFORMANCE.md,
# "Per-connection cost"). Starts roster-broker, opens N agent connections
# (one node each, joined, heartbeating at 1 Hz) from `roster-bench swarm`
# processes, and reports the broker's RSS per connection (RssAnon of
# /proc/PID/status, peak minus idle baseline) and the kernel's socket
# memory per connection (`ss -tm`: receive + send queue + forward-alloc of
# the accepted connections, which RSS does not include). With --heaptrack
# the broker runs under heaptrack and the heap at its peak is broken down
# by allocation site (heaptrack_print), per connection.
#
#   bench/profile_connections.sh [--connections N] [--hold SECONDS] [--heaptrack]
#                                [--build-dir DIR] [--no-build] [--keep]
#
# Defaults: 10000 connections held for 15 s, build/ (ROSTER_BENCH_BUILD_DIR).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${ROSTER_BENCH_BUILD_DIR:-$root/build}"
connections=10000
hold=15
use_heaptrack=0
build=1
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections="$2"; shift ;;
    --hold) hold="$2"; shift ;;
    --heaptrack) use_heaptrack=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--connections N] [--hold S] [--heaptrack] [--build-dir DIR] [--no-build] [--keep]" >&2
       exit 2 ;;
  esac
  shift
done

if [ "$build" = 1 ]; then
  cmake -S "$root" -B "$build_dir" -DROSTER_BUILD_BENCH=ON >/dev/null
  cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" \
    --target roster-broker roster-bench >/dev/null
fi
broker_bin="$build_dir/bin/roster-broker"
bench_bin="$build_dir/bin/roster-bench"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d "${TMPDIR:-/tmp}/roster-conn-XXXXXX")"
launcher_pid=""
pid=""
swarm_pids=()
cleanup() {
  for p in "${swarm_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # The broker itself: under heaptrack, the launcher is heaptrack's script.
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$launcher_pid" ]; then kill "$launcher_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then echo "work directory: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

broker_cmd=("$broker_bin" --agents 'tcp://127.0.0.1:*' --publish 'tcp://127.0.0.1:*'
  --admin 'tcp://127.0.0.1:*' --log-level warn --max-lease 10m --ready-file "$work/ready")
if [ "$use_heaptrack" = 1 ]; then
  broker_cmd=(heaptrack -o "$work/heaptrack.broker" "${broker_cmd[@]}")
fi
"${broker_cmd[@]}" >"$work/broker.log" 2>&1 &
launcher_pid=$!
for _ in $(seq 1 300); do
  [ -f "$work/ready" ] && break
  sleep 0.1
done
if [ ! -f "$work/ready" ]; then
  echo "broker did not start:" >&2
  cat "$work/broker.log" >&2
  exit 1
fi
endpoint="$(sed -n 's/^agents=//p' "$work/ready")"
pid="$(sed -n 's/^pid=//p' "$work/ready")"
port="${endpoint##*:}"
sleep 1
base_anon="$(status_kib "$pid" RssAnon)"
base_rss="$(status_kib "$pid" VmRSS)"

per_swarm=5000
inc="$(date +%s%3N)"
first=0
while [ "$first" -lt "$connections" ]; do
  count=$(( connections - first < per_swarm ? connections - first : per_swarm ))
  "$bench_bin" swarm --endpoint "$endpoint" --first "$first" --count "$count" --inc "$inc" \
    --duration-ms "$((hold * 1000))" --output "$work/swarm-$first.json" \
    >"$work/swarm-$first.log" 2>&1 &
  swarm_pids+=($!)
  first=$(( first + count ))
done

# Sample while the swarms hold their connections; the kernel's socket
# memory is the reading with the most connections established.
peak_anon=0
peak_rss=0
kernel_bytes=0
established=0
while :; do
  running=0
  for p in "${swarm_pids[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
  [ "$running" = 1 ] || break
  anon="$(status_kib "$pid" RssAnon)"
  if [ "$anon" -gt "$peak_anon" ]; then
    peak_anon="$anon"
    peak_rss="$(status_kib "$pid" VmRSS)"
  fi
  read -r sockets bytes < <(ss -tmnH state established "( sport = :$port )" 2>/dev/null |
    awk '/skmem/ { n++; match($0, /skmem:\([^)]*\)/); s = substr($0, RSTART + 7, RLENGTH - 8);
                   split(s, f, ","); for (i in f) { k = f[i]; sub(/[0-9]+$/, "", k); v = f[i];
                   sub(/^[a-z]+/, "", v); if (k == "r" || k == "w" || k == "f") b += v } }
         END { print n + 0, b + 0 }')
  if [ "$sockets" -ge "$established" ]; then
    established="$sockets"
    kernel_bytes="$bytes"
  fi
  sleep 0.5
done
joined=0
for f in "$work"/swarm-*.json; do
  j="$(grep -o '"joined": *[0-9]*' "$f" | grep -o '[0-9]*$' || echo 0)"
  joined=$(( joined + j ))
done

echo "connections joined:          $joined of $connections"
echo "broker RSS idle -> peak:     $((base_rss / 1024)) -> $((peak_rss / 1024)) MiB"
awk -v a="$base_anon" -v b="$peak_anon" -v n="$connections" \
  'BEGIN { printf "anonymous RSS per connection: %.1f KiB\n", (b - a) / n }'
if [ "$established" -gt 0 ]; then
  awk -v k="$kernel_bytes" -v n="$established" \
    'BEGIN { printf "kernel socket memory per connection (ss -tm, %d sockets): %.1f KiB (not in RSS)\n", n, k / n / 1024 }'
fi

# SIGTERM to the broker: it exits cleanly and heaptrack finishes its file.
kill "$pid" 2>/dev/null || true
wait "$launcher_pid" 2>/dev/null || true
launcher_pid=""
pid=""
if [ "$use_heaptrack" = 1 ]; then
  data="$(find "$work" -maxdepth 1 -name 'heaptrack.broker*' | head -1)"
  if [ -z "$data" ]; then
    echo "no heaptrack data in $work" >&2
    exit 1
  fi
  heaptrack_print -f "$data" --print-peaks 1 --print-allocators 0 --print-temporary 0 \
    --peak-limit 12 --sub-peak-limit 2 >"$work/heaptrack.txt" 2>/dev/null || true
  peak_line="$(grep -m1 '^peak heap memory consumption' "$work/heaptrack.txt" || true)"
  echo "heaptrack: $peak_line"
  echo "largest peak consumers (bytes live at the heap peak; libzmq has no symbols, so bare addresses):"
  # Each "PEAK CONSUMERS" entry is "<size> peak memory consumed over <n> calls from"
  # followed by its allocation site.
  awk -v n="$connections" '
    /peak memory consumed over/ { size = $1; getline; site = $0; sub(/^ +/, "", site);
      printf "  %10s  %s\n", size, substr(site, 1, 110) }' "$work/heaptrack.txt" | head -12
  # libzmq ships without symbols: its sites are bare addresses, so the
  # allocation sizes made about once per connection say more.
  heaptrack_print -f "$data" --print-peaks 0 --print-allocators 0 --print-temporary 0 \
    -H "$work/sizes.txt" >/dev/null 2>&1 || true
  echo "allocation sizes made about once (or twice) per connection over the run:"
  awk -v n="$connections" '$2 >= 0.9 * n && $2 <= 2.1 * n && $1 >= 512 {
      printf "  %6d B x %6d = %5.2f per connection\n", $1, $2, $2 / n }' "$work/sizes.txt" |
    sort -k1 -n -r
  echo "(full report: heaptrack_print -f $data; run with --keep to keep it)"
fi
