# lib.sh: shared helpers for integration tests written in bash. Source it after `set -euo pipefail`.
# Every process a test starts is registered and killed on exit, pass or fail.

TMP=$(mktemp -d /tmp/farol-it.XXXXXX)
_pids=()
_cleanup() {
    local p
    for p in "${_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap _cleanup EXIT

# track PID: kill it when the test ends.
track() { _pids+=("$1"); }

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_for_log FILE PATTERN [SECONDS]: block until a line of FILE matches PATTERN (grep -E),
# woken by tail -F as lines arrive; fail after SECONDS (default 15).
wait_for_log() {
    local f=$1 pat=$2 t=${3:-15}
    set +o pipefail
    timeout "$t" tail -n +1 -F "$f" 2>/dev/null | grep -E -q -m1 -- "$pat"
    local rc=${PIPESTATUS[1]}
    set -o pipefail
    [ "$rc" -eq 0 ] || fail "no line matching '$pat' in $f within ${t}s; it has:
$(tail -20 "$f")"
}

# start_redis: a private redis-server on a unix socket; sets REDIS_SOCK.
start_redis() {
    REDIS_SOCK="$TMP/redis.sock"
    redis-server --port 0 --unixsocket "$REDIS_SOCK" --save '' --appendonly no \
        --daemonize no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
    track $!
    wait_for_log "$TMP/redis.log" "Ready to accept connections" 10
}
