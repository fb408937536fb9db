#!/usr/bin/env bash
# The correlator stage against real peers (private redis-server, Kafka mock, kcat): alarms from
# the bus become outage events with their subscribers; kill -9 then a restart continues the
# same outage (no duplicate opened, seq goes on); Redis holds the state; a new topology
# version is picked up while running; an alarm before any binding is kept and bound later;
# a planner's window makes an outage planned and survives a restart; usage samples cross the
# cap's thresholds once each, even when redelivered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
S="$FAROL_SRCDIR/tests/scenarios/merge/topology.yaml"
start_redis
start_mock -b 1 -t farol.alarms:2 -t farol.outages:2 -t farol.deadletter:1 -t farol.maintenance:1 \
    -t farol.usage:1 -t farol.thresholds:1
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
sed 's/{id: sub-01, node: onu-1,/{id: sub-01, node: onu-1, cap: 1MB, cycle_day: 1,/' "$S" >"$WORK/topo1.yaml"
grep -q 'cap: 1MB' "$WORK/topo1.yaml" || fail "test topology edit"
"$FAROL" topology import "$WORK/topo1.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
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
# the OLT is back but onu-3 stays dark: after settle the same outage moves to onu-3 (its drop
# fiber) and restores the 9 others; sub-03 is never told "restored" then "down" again
await "re-rooted at onu-3" 15 bash -c '[ $(count ".root==\"onu-3\"") -ge 1 ]'
[ "$(count '.root=="olt-1" and .phase=="opened"')" = 1 ] || fail "opened twice: $(outages)"
[ "$(count '.phase=="opened"')" = 1 ] || fail "a second outage opened: $(outages)"
up=$(outages | jq -c 'select(.root=="onu-3")')
[ "$(echo "$up" | jq -r .id)" = "$id" ] || fail "another outage: $up"
[ "$(echo "$up" | jq -r '.subscribers_restored | length')" = 9 ] || fail "restored: $up"
[ "$(echo "$up" | jq -r '.subscribers_restored | index("sub-03")')" = null ] || fail "sub-03 restored: $up"
seqs=$(outages | jq -r "select(.id==\"$id\") | .seq" | tr '\n' ' ')
[ "$seqs" = "1 2 " ] || fail "seq did not continue across the restart: $seqs"
alarm onu-3/los clear olt-1 onu:0/1/1:3 onu-los
await "resolved" 15 bash -c '[ $(count ".phase==\"resolved\"") -ge 1 ]'
res=$(outages | jq -c 'select(.phase=="resolved")')
[ "$(echo "$res" | jq -r .id)" = "$id" ] || fail "resolved another outage: $res"
[ "$(echo "$res" | jq -r '.subscribers_restored[]')" = sub-03 ] || fail "last restoration: $res"
[ "$(rcli SISMEMBER farol:outages:active "$id")" = 0 ] || fail "still active"
[ "$(rcli HGET "farol:outage:$id" status)" = closed ] || fail "status not closed"
[ "$(rcli EXISTS farol:outage:root:olt-1)" = 0 ] || fail "root key left"

# a planner's window on pon-2: scheduled with its 5 subscribers; kill -9 before it starts; the
# restarted correlator starts it, and pon-2's ONUs going dark inside it are a planned outage
start=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%S.000Z); end=$(date -u -d '+40 seconds' +%Y-%m-%dT%H:%M:%S.000Z)
printf '{"v":1,"type":"maintenance","ts":"%s","data":{"id":"mw-1","seq":0,"phase":"scheduled","nodes":["pon-2"],"starts_at":"%s","ends_at":"%s","description":"splice"}}\n' \
    "$start" "$start" "$end" | "$FAROL" bus publish "${C[@]}" - 2>/dev/null
windows() { kcat -C -b "$BROKERS" -t farol.maintenance -o beginning -e -q 2>/dev/null | jq -c '.data | select(.seq > 0)'; }
export -f windows
await "window scheduled" 10 bash -c '[ "$(windows | jq -r "select(.phase==\"scheduled\") | .affected_subscribers")" = 5 ]'
[ "$(rcli HGET farol:maint:mw-1 phase)" = scheduled ] || fail "window not saved: $(rcli HGETALL farol:maint:mw-1)"
kill -KILL "$CORR"; wait "$CORR" 2>/dev/null || true
run_correlator "$WORK/run3.log"
await "window started" 15 bash -c '[ "$(windows | jq -r "select(.phase==\"started\") | .id")" = mw-1 ]'
for i in 6 7 8 9 10; do alarm "onu-$i/los" raise olt-1 "onu:0/1/2:$i" onu-los; done
await "planned outage" 15 bash -c '[ $(count ".root==\"pon-2\" and .cause==\"planned\"") -ge 1 ]'
[ "$(outages | jq -r 'select(.root=="pon-2") | .maintenance_id' | sort -u)" = mw-1 ] || fail "no maintenance_id"
for i in 6 7 8 9 10; do alarm "onu-$i/los" clear olt-1 "onu:0/1/2:$i" onu-los; done
await "planned outage resolved" 15 bash -c '[ $(count ".root==\"pon-2\" and .phase==\"resolved\"") -ge 1 ]'
CORR_LOG="$WORK/run3.log"

# usage: sub-01 has a 1 MB cap; 850 kB then 200 kB cross 80 % then 100 %; a redelivered
# sample changes nothing
usage() { printf '{"v":1,"type":"usage","ts":"%s","data":{"subscriber":"sub-01","observed_at":"%s","rx_octets":%d,"tx_octets":0,"interval_ms":300000}}\n' "$1" "$1" "$2"; }
{ usage 2026-11-23T21:00:00.000Z 850000; usage 2026-11-23T21:05:00.000Z 200000; usage 2026-11-23T21:05:00.000Z 200000; } |
    "$FAROL" bus publish "${C[@]}" - 2>/dev/null
thresholds() { kcat -C -b "$BROKERS" -t farol.thresholds -o beginning -e -q 2>/dev/null | jq -c .data; }
export -f thresholds
await "two thresholds" 15 bash -c '[ $(thresholds | wc -l) -ge 2 ]'
[ "$(thresholds | jq -r .percent | tr '\n' ' ')" = "80 100 " ] || fail "thresholds: $(thresholds)"
[ "$(thresholds | jq -r .subscriber | sort -u)" = sub-01 ] || fail "threshold subscriber"
[ "$(rcli HGET farol:usage:2026-11:sub-01 rx_octets)" = 1050000 ] || fail "usage total: $(rcli HGETALL farol:usage:2026-11:sub-01)"

# a new topology version is picked up without a restart
sed 's/sub-10, node: onu-10/sub-10, node: onu-9/' "$WORK/topo1.yaml" >"$WORK/topo2.yaml"
"$FAROL" topology import "$WORK/topo2.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import 2"
wait_for_log "$CORR_LOG" "topology version 2 replaces 1"
kill -TERM "$CORR"; wait "$CORR" || fail "SIGTERM exit"
echo "correlator: ok"
