#!/usr/bin/env bash
# The correlator stage against real peers (private redis-server, Kafka mock, kcat): alarms from
# the bus become outage events with their subscribers; kill -9 then a restart continues the
# same outage (no duplicate opened, seq goes on); Redis holds the state; a new topology
# version is picked up while running; an alarm before any binding is kept and bound later.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
S="$FAROL_SRCDIR/tests/scenarios/merge/topology.yaml"
start_redis
start_mock -b 1 -t farol.alarms:2 -t farol.outages:2 -t farol.deadletter:1
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
cat >"$WORK/farol.yaml" <<YAML
log: {level: debug}
redis: {address: "unix:$REDIS_SOCK"}
bus:
  transport: kafka
  kafka:
    brokers: "$BROKERS"
    properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500, reconnect.backoff.max.ms: 200, auto.commit.interval.ms: 200}
correlator: {hold_down: 1s, clear_hold: 1s, settle: 1s, batch: 20ms, topology_poll: 200ms}
YAML
C=(--config "$WORK/farol.yaml")
alarm() { # alarm ID ACTION DEVICE [OBJECT KIND]
    local now; now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
    printf '{"v":1,"type":"alarm","ts":"%s","data":{"id":"%s","action":"%s","device":"%s","object":"%s","kind":"%s","severity":"major","source":"icmp","observed_at":"%s"}}\n' \
        "$now" "$1" "$2" "$3" "${4:-}" "${5:-unreachable}" "$now" | "$FAROL" bus publish "${C[@]}" - 2>/dev/null
}
outages() { kcat -C -b "$BROKERS" -t farol.outages -o beginning -e -q 2>/dev/null | jq -c .data; }
count() { outages | jq -r "select($1) | .id" | wc -l; }
export BROKERS
export -f outages count
run_correlator() {
    start_bg "$1" "$FAROL" run "${C[@]}" --role correlator
    CORR=$LAST_PID
    wait_for_log "$1" "daemon: ready"
}

# an alarm before any topology: kept (unbound), bound when the topology arrives
run_correlator "$WORK/run1.log"
alarm olt-1/down raise olt-1
wait_for_log "$WORK/run1.log" "no topology binding|matches no topology binding"
[ "$(rcli HEXISTS farol:corr:alarms olt-1/down)" = 1 ] || fail "unbound alarm not kept in Redis"
"$FAROL" topology import "$S" "${C[@]}" >/dev/null 2>&1 || fail "import"
await "outage opened after the topology arrived" 15 bash -c '[ $(count ".phase==\"opened\"") -ge 1 ]'
open=$(outages | jq -c 'select(.phase=="opened")')
id=$(echo "$open" | jq -r .id)
[ "$(echo "$open" | jq -r .root)" = olt-1 ] || fail "root: $open"
[ "$(echo "$open" | jq -r .cause)" = device-down ] || fail "cause: $open"
[ "$(echo "$open" | jq -r '.subscribers_added | length')" = 10 ] || fail "subscribers: $open"
[ "$(rcli SISMEMBER farol:outages:active "$id")" = 1 ] || fail "not active in Redis"
[ "$(rcli SCARD "farol:outage:$id:subs")" = 10 ] || fail "subscriber set in Redis"
[ "$(rcli GET farol:outage:root:olt-1)" = "$id" ] || fail "root key"
await "outbox drained" 10 bash -c "[ \$(redis-cli -s $REDIS_SOCK LLEN farol:corr:outbox) = 0 ]"

# kill -9, restart: the same outage continues, nothing is opened twice
kill -KILL "$CORR"; wait "$CORR" 2>/dev/null || true
run_correlator "$WORK/run2.log"
grep -q "1 alarms and 1 outages reloaded" "$WORK/run2.log" || fail "state not reloaded: $(grep reloaded "$WORK/run2.log")"
alarm onu-3/los raise olt-1 onu:0/1/1:3 onu-los   # a consequence: no new outage
alarm olt-1/down clear olt-1
await "resolved" 15 bash -c '[ $(count ".phase==\"resolved\"") -ge 1 ]'
[ "$(count '.root=="olt-1" and .phase=="opened"')" = 1 ] || fail "opened twice: $(outages)"
res=$(outages | jq -c 'select(.phase=="resolved")')
[ "$(echo "$res" | jq -r .id)" = "$id" ] || fail "resolved another outage: $res"
seqs=$(outages | jq -r "select(.id==\"$id\") | .seq" | tr '\n' ' ')
[ "$seqs" = "1 2 " ] || fail "seq did not continue across the restart: $seqs"
[ "$(rcli SISMEMBER farol:outages:active "$id")" = 0 ] || fail "still active"
[ "$(rcli HGET "farol:outage:$id" status)" = closed ] || fail "status not closed"
[ "$(rcli EXISTS farol:outage:root:olt-1)" = 0 ] || fail "root key left"
# the ONU alarm left alone (still raised) becomes its own outage after settle
await "single-ONU outage" 15 bash -c '[ $(count ".root==\"onu-3\" and .phase==\"opened\"") -ge 1 ]'
[ "$(outages | jq -r 'select(.root=="onu-3") | .subscribers_added[]')" = sub-03 ] || fail "onu-3 subscribers"
[ "$(echo "$res" | jq -r '.subscribers_restored | index("sub-03")')" = null ] || fail "sub-03 restored while its ONU is down: $res"

# a new topology version is picked up without a restart
sed 's/sub-10, node: onu-10/sub-10, node: onu-9/' "$S" >"$WORK/topo2.yaml"
"$FAROL" topology import "$WORK/topo2.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import 2"
wait_for_log "$WORK/run2.log" "topology version 2 replaces 1"
kill -TERM "$CORR"; wait "$CORR" || fail "SIGTERM exit"
echo "correlator: ok"
