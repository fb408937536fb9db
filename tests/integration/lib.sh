# lib.sh: shared by the bash integration tests (sourced after `set -euo pipefail`).
# Gives: WORK (temp dir, removed on exit), start_bg/track (processes killed on exit, pass or
# fail), await (poll a condition with a deadline), wait_for_log (block on a log line),
# start_redis (private redis-server on a unix socket; sets REDIS_SOCK), start_mock (a mock Kafka
# cluster; sets BROKERS), KPROPS (-X settings that make group joins fast against the mock).

: "${FAROL:?FAROL must point at the farol binary}"
: "${FAROL_BUILDDIR:?FAROL_BUILDDIR must be set}"
TOOLS="$FAROL_BUILDDIR/tests/tools"
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # a process that ignores TERM for 5 s is killed outright
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "${FAROL_KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# track PID: kill it when the test ends.
track() { PIDS+=("$1"); }

# start_bg LOGFILE CMD...: run CMD in the background, stderr to LOGFILE; pid in LAST_PID.
start_bg() {
    local log=$1
    shift
    "$@" 2>"$log" &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# await DESCRIPTION SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time runs out.
await() {
    local what=$1 secs=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            echo "FAIL: timed out after ${secs}s waiting for: $what" >&2
            return 1
        fi
        sleep 0.1
    done
}

lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }
has_lines() { (($(lines "$1") >= $2)); }
distinct_lines() { if [[ -f $1 ]]; then sort -u "$1" | wc -l; else echo 0; fi; }
has_distinct() { (($(distinct_lines "$1") >= $2)); }

# start_mock ARGS...: kafka_mock with ARGS; waits for its bootstrap file; sets BROKERS.
start_mock() {
    rm -f "$WORK/bootstrap"
    start_bg "$WORK/mock.log" "$TOOLS/kafka_mock" -o "$WORK/bootstrap" "$@"
    MOCK_PID=$LAST_PID
    await "mock cluster bootstrap file" 10 test -s "$WORK/bootstrap"
    BROKERS=$(cat "$WORK/bootstrap")
}

# start_farol_mock: the mock with every topic the stages use, as the notifier tests want it.
start_farol_mock() {
    start_mock -b 1 -t farol.alarms:1 -t farol.outages:2 -t farol.deadletter:1 -t farol.maintenance:1 \
        -t farol.usage:1 -t farol.thresholds:1 -t farol.notifications:1
}

# bus_yaml [PROPERTIES]: a config's bus section for the mock at $BROKERS, with consumer settings
# that rejoin a group in seconds (and PROPERTIES, "k: v, ..." more).
bus_yaml() {
    cat <<YAML
bus:
  transport: kafka
  kafka:
    brokers: "$BROKERS"
    properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500, reconnect.backoff.max.ms: 200, auto.commit.interval.ms: 200${1:+, $1}}
YAML
}

KPROPS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X reconnect.backoff.max.ms=200
        -X auto.commit.interval.ms=200)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# alarm_json ID DEVICE: one valid alarm event (the wire format of docs/events.md).
alarm_json() {
    printf '{"v":1,"type":"alarm","ts":"2026-11-23T21:00:00.000Z","data":{"id":"%s","action":"raise","device":"%s","kind":"unreachable","severity":"major","source":"icmp","observed_at":"2026-11-23T21:00:00.000Z"}}\n' "$1" "$2"
}

# wait_for_log FILE PATTERN [SECONDS]: block until a line of FILE matches PATTERN (grep -E),
# woken by tail -F (inotify) as lines arrive; fail after SECONDS (default 15).
wait_for_log() {
    local f=$1 pat=$2 t=${3:-15} fd tpid rc=0
    exec {fd}< <(exec timeout "$t" tail -n +1 -F "$f" 2>/dev/null)
    tpid=$!
    grep -E -q -m1 -- "$pat" <&"$fd" || rc=$?
    kill "$tpid" 2>/dev/null || true
    exec {fd}<&-
    [ "$rc" -eq 0 ] || fail "no line matching '$pat' in $f within ${t}s; it has:
$(tail -20 "$f" 2>/dev/null)"
}

# start_redis: a private redis-server on a unix socket; sets REDIS_SOCK.
start_redis() {
    REDIS_SOCK="$WORK/redis.sock"
    redis-server --port 0 --unixsocket "$REDIS_SOCK" --save '' --appendonly no \
        --daemonize no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    track $!
    wait_for_log "$WORK/redis.log" "[Rr]eady to accept connections" 10
}
