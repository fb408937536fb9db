#!/usr/bin/env bash
# A correlator stopped with SIGTERM in the middle of a stream commits what it handled and a
# restart continues after it: every alarm is handled exactly once across the two runs.
# A garbage message in the stream is dead-lettered and does not block its partition.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=${N:-20000}
start_redis
start_mock -b 1 -t farol.alarms:4 -t farol.deadletter:1
cat >"$WORK/farol.yaml" <<YAML
redis:
  address: unix:$REDIS_SOCK
bus:
  transport: kafka
  kafka:
    brokers: "$BROKERS"
    properties:
      session.timeout.ms: 6000
      heartbeat.interval.ms: 500
      reconnect.backoff.max.ms: 200
YAML
for i in $(seq 1 $N); do alarm_json "a$i" "dev$((i % 17))"; done >"$WORK/alarms.jsonl"

run_correlator() { # run_correlator LOG: start a correlator role; pid in CORR
    start_bg "$1" "$FAROL" run --config "$WORK/farol.yaml" --role correlator
    CORR=$LAST_PID
    wait_for_log "$1" "daemon: ready"
}
handled() { grep -ho 'alarm raise id=a[0-9]*' "$WORK"/run*.log 2>/dev/null | wc -l; }

run_correlator "$WORK/run1.log"
printf 'dev3\t{"v":1,"type":"alarm"\n' | kcat -P -b "$BROKERS" -t farol.alarms -K $'\t'
"$FAROL" bus publish --config "$WORK/farol.yaml" "$WORK/alarms.jsonl" 2>/dev/null
await "the first run to be mid-stream" 30 bash -c "[ \$(grep -c 'alarm raise' '$WORK/run1.log') -ge 1 ]"
kill -TERM "$CORR"
wait "$CORR" || fail "correlator exited non-zero after SIGTERM"
first=$(grep -c 'alarm raise' "$WORK/run1.log")
grep -q "daemon: stopped" "$WORK/run1.log" || fail "no clean stop"
[ "$first" -lt "$N" ] || fail "the first run finished all $N before SIGTERM: not a mid-stream stop"

run_correlator "$WORK/run2.log"
await "all $N alarms handled" 60 bash -c "[ \$(grep -ho 'alarm raise id=a[0-9]*' '$WORK'/run*.log | wc -l) -ge $N ]"
kill -TERM "$CORR"
wait "$CORR" || true

total=$(handled)
distinct=$(grep -ho 'alarm raise id=a[0-9]*' "$WORK"/run*.log | sort -u | wc -l)
echo "first run handled $first, both runs $total, distinct $distinct of $N"
[ "$distinct" -eq "$N" ] || fail "lost $((N - distinct)) alarms"
[ "$total" -eq "$N" ] || fail "$((total - N)) alarms handled twice after a graceful stop"
dead=$(kcat -C -b "$BROKERS" -t farol.deadletter -e -q 2>/dev/null)
[ "$(echo "$dead" | jq -r .key)" = dev3 ] || fail "garbage not dead-lettered: $dead"
echo "$dead" | jq -r .reason | grep -q "^json:" || fail "dead letter without a reason: $dead"
echo "daemon drain: ok"
