#!/usr/bin/env bash
# The roster demo: one broker, three agents and a `rosterctl watch` on this
# machine (loopback, ephemeral ports). Then, step by step:
#   1. node-a leaves (SIGTERM): alive -> left -> forgotten;
#   2. node-b crashes (SIGKILL): alive -> suspect -> dead -> forgotten;
#   3. the operator removes node-c (`rosterctl remove`): its agent exits with
#      status 3 and the node stays gone;
#   4. node-d joins.
# The watcher's lines are prefixed with "watch |". Each step waits for its
# condition with a deadline (rosterctl --json) and the demo exits non-zero
# if one does not happen. Everything it started is stopped on exit.
#
#   scripts/demo.sh --secure
# runs the same demo with CURVE on every endpoint: it generates key pairs
# with `rosterctl keygen` into its temporary directory (the broker's, one
# per agent bound to its node id, one for the controller), starts the
# broker with --curve-secret and its key directories, and gives every
# agent and rosterctl its keys; it also shows that an agent whose key the
# broker does not know is refused (auth_failed) and never joins.
#
# On a fresh machine it first installs the dependencies (scripts/setup.sh)
# and builds (scripts/build.sh) when the binaries are missing or older than
# the sources. Environment:
#   ROSTER_BUILD_DIR   build directory to use (default: build/)
#   ROSTER_DEMO_BUILD  auto (default): build when missing or stale;
#                      never: use the binaries as they are
#   ROSTER_DEMO_KEEP=1 keep the logs directory (broker, agents, watcher)
set -euo pipefail

secure=0
for arg in "$@"; do
  case "$arg" in
    --secure) secure=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "usage: scripts/demo.sh [--secure]" >&2
      exit 2
      ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${ROSTER_BUILD_DIR:-$root/build}"
bin="$build_dir/bin"

# ---------------------------------------------------------------------------
# Build when needed.

binaries_stale() {
  local b
  for b in roster-broker roster-agent rosterctl; do
    [ -x "$bin/$b" ] || return 0
  done
  # Any source newer than the oldest binary means a rebuild.
  local oldest="$bin/roster-broker"
  for b in roster-agent rosterctl; do
    if [ "$bin/$b" -ot "$oldest" ]; then oldest="$bin/$b"; fi
  done
  [ -n "$(find "$root/common" "$root/broker" "$root/agent" "$root/ctl" "$root/curve" \
            "$root/curve_client" "$root/subscriber" "$root/CMakeLists.txt" \
            -newer "$oldest" \( -name '*.cc' -o -name '*.h' -o -name 'CMakeLists.txt' \) \
            -print -quit 2>/dev/null)" ]
}

if [ "${ROSTER_DEMO_BUILD:-auto}" != never ] && binaries_stale; then
  echo "demo: binaries missing or stale: installing dependencies and building (first run only)"
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh" "$build_dir"
fi

# ---------------------------------------------------------------------------
# Process bookkeeping: everything started is stopped on exit.

work="$(mktemp -d "${TMPDIR:-/tmp}/roster-demo.XXXXXX")"
pids=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Newest first: agents leave while the broker still runs.
  local pid i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  # Give them a moment to leave cleanly, then make sure.
  local deadline=$((SECONDS + 3))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "demo: FAILED (status $status). Broker log:" >&2
    sed 's/^/  broker | /' "$work/broker.log" >&2 || true
  fi
  if [ "${ROSTER_DEMO_KEEP:-0}" = 1 ]; then
    echo "demo: logs kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "demo: $*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds,
# failing the demo if SECONDS pass first.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$(($(now_ms) + seconds * 1000))
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for: $what"
    sleep 0.1
  done
}

ctl() { "$bin/rosterctl" --timeout 2s "$@"; }

# Prints a node's state from `rosterctl node --json`, "absent" when the
# broker does not know it, "error" when the broker did not answer.
node_state() {
  local out err
  err="$work/ctl.err"
  if out="$(ctl --json node "$1" 2>"$err")"; then
    sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' <<<"$out"
  elif grep -q unknown_node "$err"; then
    echo absent
  else
    echo error
  fi
}

node_is() { [ "$(node_state "$1")" = "$2" ]; }

# True when the watcher printed a line with both words (e.g. "node-a" "left").
watcher_saw() { grep -q -- "$1 .*-> $2" "$work/watch.log"; }

# Waits until `node` reaches `state` at the broker and the watcher showed it.
expect_state() {
  local node="$1" state="$2" seconds="$3"
  wait_for "$seconds" "$node $state at the broker" node_is "$node" "$state"
  wait_for 5 "the watcher to show $node -> $state" watcher_saw "$node" "$state"
}

# A forgotten node: absent at the broker, and a `removed` change watched.
expect_forgotten() {
  local node="$1" seconds="$2"
  wait_for "$seconds" "$node forgotten by the broker" node_is "$node" absent
  wait_for 5 "the watcher to show $node -> removed" watcher_saw "$node" removed
}

running() { kill -0 "$1" 2>/dev/null; }
not_running() { ! kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------
# Timers, kept short so the whole lifecycle fits in a few seconds. See
# docs/OPERATIONS.md for how to choose them in production.
lease=1s          # agents' lease; they heartbeat every lease/3
max_lease=2s      # also the broker's warm-up after a start
dead_after=2s     # suspect -> dead
forget_dead=3s    # dead -> forgotten
forget_left=3s    # left -> forgotten
beat=500ms        # roster.beat period (the watcher's staleness clock)

# ---------------------------------------------------------------------------
# --secure: CURVE keys for everyone (rosterctl keygen, CZMQ's certificate
# format). keys/NAME is a public certificate, keys/NAME_secret its secret
# one; the broker's directories hold copies of the public ones it admits.
broker_curve=()
agent_curve() { :; }
if [ "$secure" = 1 ]; then
  keys="$work/keys"
  mkdir -p "$keys/agents" "$keys/admin" "$keys/subscribers"
  keygen() { "$bin/rosterctl" keygen "$keys/$1" "${@:2}" >/dev/null; }
  keygen broker
  keygen controller
  cp "$keys/controller" "$keys/admin/controller"
  cp "$keys/controller" "$keys/subscribers/controller"
  for node in node-a node-b node-c node-d; do
    keygen "$node" --node "$node"
    cp "$keys/$node" "$keys/agents/$node"
  done
  # A key the broker does not know (not copied into keys/agents).
  keygen intruder --node 'node-*'
  say "--secure: CURVE keys generated with rosterctl keygen in $keys"
  echo "    broker      --curve-secret keys/broker_secret --agent-keys keys/agents" \
    "--admin-keys keys/admin --subscriber-keys keys/subscribers"
  echo "    node-X      --curve-secret keys/node-X_secret --broker-key keys/broker" \
    "(each key may claim only its own node id)"
  echo "    rosterctl   ROSTER_CURVE_SECRET=keys/controller_secret ROSTER_BROKER_KEY=keys/broker"
  broker_curve=(--curve-secret "$keys/broker_secret" --agent-keys "$keys/agents"
    --admin-keys "$keys/admin" --subscriber-keys "$keys/subscribers")
  agent_curve() { echo --curve-secret "$keys/$1_secret" --broker-key "$keys/broker"; }
  export ROSTER_CURVE_SECRET="$keys/controller_secret" ROSTER_BROKER_KEY="$keys/broker"
fi

say "starting roster-broker on loopback (ephemeral ports)"
"$bin/roster-broker" \
  --agents 'tcp://127.0.0.1:*' --publish 'tcp://127.0.0.1:*' --admin 'tcp://127.0.0.1:*' \
  --ready-file "$work/ready" --max-lease "$max_lease" --dead-after "$dead_after" \
  --forget-dead-after "$forget_dead" --forget-left-after "$forget_left" \
  --beat-interval "$beat" ${broker_curve[@]+"${broker_curve[@]}"} >"$work/broker.log" 2>&1 &
broker_pid=$!
pids+=("$broker_pid")
broker_ready() {
  running "$broker_pid" || fail "roster-broker exited: $(cat "$work/broker.log")"
  [ -s "$work/ready" ]
}
wait_for 10 "the broker's ready file" broker_ready
ready_value() { sed -n "s/^$1=//p" "$work/ready"; }
agents_ep="$(ready_value agents)"
export ROSTER_ADMIN ROSTER_STATE
ROSTER_ADMIN="$(ready_value admin)"
ROSTER_STATE="$(ready_value publish)"
echo "    agents  $agents_ep   (roster-agent --broker)"
echo "    publish $ROSTER_STATE   (controllers subscribe here)"
echo "    admin   $ROSTER_ADMIN   (rosterctl; ROSTER_ADMIN/ROSTER_STATE are set)"
echo "    timers  lease $lease, dead-after $dead_after, forget-dead-after $forget_dead," \
  "forget-left-after $forget_left"

say "starting rosterctl watch (its lines are prefixed with 'watch |')"
: >"$work/watch.log"
"$bin/rosterctl" watch --beat-interval "$beat" \
  > >(tee -a "$work/watch.log" | sed -u 's/^/    watch | /') 2>&1 &
watch_pid=$!
pids+=("$watch_pid")
wait_for 10 "the watcher's first snapshot" grep -q resync "$work/watch.log"

declare -A agent_pid
start_agent() {
  local node="$1" port="$2" key="${3:-$1}"
  # shellcheck disable=SC2046 # agent_curve's words are the flags
  "$bin/roster-agent" --broker "$agents_ep" --node-id "$node" --addr "127.0.0.1:$port" \
    --label role=demo --lease "$lease" $(agent_curve "$key") >"$work/$node.log" 2>&1 &
  agent_pid[$node]=$!
  pids+=("$!")
}

say "starting three agents: node-a, node-b, node-c (lease $lease)"
start_agent node-a 9001
start_agent node-b 9002
start_agent node-c 9003
for node in node-a node-b node-c; do expect_state "$node" alive 10; done
ctl members | sed 's/^/    /'

say "step 1: node-a leaves gracefully (SIGTERM): left now, forgotten after $forget_left"
kill -TERM "${agent_pid[node-a]}"
wait_for 5 "node-a's agent to exit" not_running "${agent_pid[node-a]}"
status=0
wait "${agent_pid[node-a]}" || status=$?
[ "$status" -eq 0 ] || fail "node-a's agent exited with status $status, expected 0"
echo "    node-a's agent exited with status 0"
expect_state node-a left 5
expect_forgotten node-a 10

say "step 2: node-b crashes (SIGKILL): suspect after its lease, dead after $dead_after," \
  "forgotten after $forget_dead"
kill -KILL "${agent_pid[node-b]}"
wait "${agent_pid[node-b]}" 2>/dev/null || true
expect_state node-b suspect 5
expect_state node-b dead 10
expect_forgotten node-b 10

say "step 3: the operator removes node-c (rosterctl remove node-c)"
ctl remove node-c | sed 's/^/    /'
wait_for 10 "node-c's agent to exit" not_running "${agent_pid[node-c]}"
status=0
wait "${agent_pid[node-c]}" || status=$?
[ "$status" -eq 3 ] || fail "node-c's agent exited with status $status, expected 3 (removed)"
echo "    node-c's agent exited with status 3 (removed by the operator):"
grep -i removed "$work/node-c.log" | tail -n 1 | sed 's/^/      /'
wait_for 5 "the watcher to show node-c -> removed" watcher_saw node-c removed
# It stays gone: two leases later the broker still does not know it.
sleep 2
node_is node-c absent || fail "node-c came back after its removal: $(node_state node-c)"
echo "    node-c is still gone two leases later"

say "step 4: node-d joins"
start_agent node-d 9004
expect_state node-d alive 10
ctl members | sed 's/^/    /'

if [ "$secure" = 1 ]; then
  say "--secure: an agent with a key the broker does not know is refused"
  start_agent node-e 9005 intruder
  wait_for 10 "node-e's agent to report the refused key" \
    grep -q "auth_failed.*refused this client's key" "$work/node-e.log"
  grep "auth_failed" "$work/node-e.log" | head -n 1 | sed 's/^/      /'
  node_is node-e absent || fail "node-e joined with a key the broker does not know"
  echo "    node-e never joined"
  kill -TERM "${agent_pid[node-e]}"
  wait_for 5 "node-e's agent to exit" not_running "${agent_pid[node-e]}"
fi

say "stopping everything"
kill -TERM "${agent_pid[node-d]}"
wait_for 5 "node-d's agent to exit" not_running "${agent_pid[node-d]}"
expect_state node-d left 5
echo
echo "demo: all steps happened as expected"
