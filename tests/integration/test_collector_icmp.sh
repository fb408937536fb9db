#!/usr/bin/env bash
# The collector end to end over ICMP, in network namespaces this test creates: a device whose
# link goes down, or whose firewall drops everything, raises "unreachable" once and clears it
# once it answers again; a collector restarted while the device is down remembers the alarm
# (Redis) and clears it when the device is back, without raising it again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/icmp_netns.sh"
trap 'rc=$?; [ $rc -eq 0 ] || cat "$WORK/farol.log" >&2 || true; netlab_cleanup; cleanup' EXIT

start_redis
cat >"$WORK/farol.yaml" <<YAML
log:
  level: info
redis:
  address: unix:$REDIS_SOCK
collector:
  icmp:
    interval: 200ms
    timeout: 100ms
    retries: 0
    down_after: 2
    up_after: 2
  devices:
    - {name: olt-sp-01, address: $DEV_IP}
    - {name: gw, address: 10.99.0.1}
YAML
LOG="$WORK/farol.log"
start_farol() {
    ip netns exec "$CORE" "$FAROL" run --config "$WORK/farol.yaml" >>"$LOG" 2>&1 &
    FAROL_PID=$!
    track $FAROL_PID
    wait_for_log "$LOG" "daemon: ready" 10
}
count() { grep "correlator: alarm $1 " "$LOG" | grep -c "device=$2 .*kind=unreachable\$" || true; }
await_count() { # await_count raise|clear DEVICE N
    await "$2: $3 x $1" 15 bash -c "[ \$(grep 'correlator: alarm $1 ' '$LOG' | grep -c 'device=$2 .*kind=unreachable\$') -ge $3 ]"
}

start_farol
ip -n "$DEV" link set eth0 down
await_count raise olt-sp-01 1
ip -n "$DEV" link set eth0 up
await_count clear olt-sp-01 1

chaos drop
await_count raise olt-sp-01 2
chaos_clear
await_count clear olt-sp-01 2

# Down while farol is away: the restarted collector must clear the remembered alarm.
ip -n "$DEV" link set eth0 down
await_count raise olt-sp-01 3
kill -TERM $FAROL_PID
wait $FAROL_PID || fail "farol exited non-zero"
ip -n "$DEV" link set eth0 up
start_farol
await_count clear olt-sp-01 3

[ "$(count raise olt-sp-01)" -eq 3 ] || fail "raised $(count raise olt-sp-01) times, expected 3"
[ "$(count clear olt-sp-01)" -eq 3 ] || fail "cleared $(count clear olt-sp-01) times, expected 3"
[ "$(count raise gw)" -eq 0 ] || fail "the gateway never went down"
kill -TERM $FAROL_PID
wait $FAROL_PID || fail "farol exited non-zero"
echo "collector icmp: ok"
