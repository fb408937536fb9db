#!/usr/bin/env bash
# The idempotent producer through broker trouble: a broker goes down while `farol bus publish`
# sends 2,000 events and comes back later; Produce requests also get NOT_LEADER errors.
# Publish must wait for every acknowledgement, and the topic must then hold each event exactly
# once (no loss, no duplicates from retries).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FIFO="$WORK/control"
start_mock -b 3 -t farol.alarms:6 -c "$FIFO"
await "control fifo" 5 test -p "$FIFO"
mock() { echo "$*" >"$FIFO"; await "mock to run '$*'" 5 grep -q "ok $*" "$WORK/mock.log"; }

N=2000
for i in $(seq 1 $N); do alarm_json "f-$i" "olt-$((i % 50))"; done >"$WORK/events.jsonl"

mock leader farol.alarms 0 2   # make sure the broker that goes down leads a partition
mock down 2
mock reqerr 0 6 5   # the next five Produce requests: NOT_LEADER_FOR_PARTITION
start_bg "$WORK/publish.log" "$FAROL" bus publish --brokers "$BROKERS" "${KPROPS[@]}" \
    -X message.timeout.ms=60000 --timeout 60s "$WORK/events.jsonl"
PUB=$LAST_PID
# the partitions led by broker 2 cannot take anything while it is down: publish must still wait
sleep 2   # observation window: publish must not finish while a leader is down
kill -0 "$PUB" 2>/dev/null || { cat "$WORK/publish.log" >&2; fail "publish returned while a broker was down"; }
mock up 2
wait "$PUB" || { cat "$WORK/publish.log" >&2; fail "publish failed after the broker came back"; }
grep -q "published $N, bad 0" "$WORK/publish.log" || fail "unexpected publish summary"

kcat -C -b "$BROKERS" -t farol.alarms -e -q -f '%s\n' | jq -r .data.id | sort >"$WORK/ids.txt"
total=$(lines "$WORK/ids.txt")
distinct=$(distinct_lines "$WORK/ids.txt")
echo "topic holds $total events, $distinct distinct"
((distinct == N)) || fail "$((N - distinct)) event(s) lost"
((total == N)) || fail "$((total - N)) duplicate(s) despite the idempotent producer"
echo "PASS"
