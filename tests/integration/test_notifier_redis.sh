#!/usr/bin/env bash
# Redis briefly unavailable (stopped with SIGSTOP for a few seconds, then resumed) in the middle
# of a burst: no message is sent without its idempotency record (sending stops while Redis is
# away), and afterwards every subscriber has exactly one message and a record saying so.
# Then a graceful stop (SIGTERM) in the middle of a second burst: the drain waits for the sends
# in flight and writes their outcomes, so the next start takes nothing over and sends nothing
# twice.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
N=600
start_redis
start_farol_mock
read -r LPORT <<<"$(kannel_free_ports 1)"
export KANNEL_SMSBOX_EXTRA=$'http-request-retry = 60\nhttp-queue-delay = 1'
start_kannel
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
python3 - "$((2 * N))" >"$WORK/topo.yaml" <<'PY'
import sys
n = int(sys.argv[1])
print("nodes:\n  - {id: olt-1, kind: olt}\n  - {id: pon-1, kind: pon, parents: [olt-1]}")
print("subscribers:")
for i in range(n):
    print("  - {id: s%d, node: pon-1, phones: [\"+55119%08d\"], locale: es}" % (i, i))
PY
cat >"$WORK/farol.yaml" <<YAML
log: {level: info}
redis: {address: "unix:$REDIS_SOCK", command_timeout: 500ms}
$(bus_yaml)
notifier:
  listen: "127.0.0.1:$LPORT"
  notify_delay: 0s
  inflight_grace: 3s
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: $KANNEL_PASS, dlr_url: "http://127.0.0.1:$LPORT/kannel/dlr", rate: 100, burst: 5}
YAML
C=(--config "$WORK/farol.yaml")
"$FAROL" topology import "$WORK/topo.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
start_bg "$WORK/n.log" "$FAROL" run "${C[@]}" --role notifier
NPID=$LAST_PID
wait_for_log "$WORK/n.log" "daemon: ready"
ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
ids=$(seq 0 $((N - 1)) | sed 's/^/"s/; s/$/"/' | paste -sd,)
echo "{\"v\":1,\"type\":\"outage\",\"ts\":\"$ts\",\"data\":{\"id\":\"o-r\",\"seq\":1,\"phase\":\"opened\",\"status\":\"confirmed\",\"cause\":\"power-outage\",\"root\":\"pon-1\",\"started_at\":\"$ts\",\"alarms\":[],\"affected\":{},\"affected_subscribers\":$N,\"subscribers_added\":[$ids],\"subscribers_restored\":[]}}" |
    "$FAROL" bus publish "${C[@]}" - >/dev/null 2>&1 || fail "publish"
count() { grep -c "Got message" "$FAKESMSC_LOG" || true; }
await "a third out" 30 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= $N / 3 ))"
kill -STOP "$REDIS_PID"
wait_for_log "$WORK/n.log" "notifier: Redis" 10
# sends claimed before the stop may still land; after that, nothing (this sleep is an
# observation window, not a synchronisation)
sleep 1
before=$(count)
sleep 3
after=$(count)
kill -CONT "$REDIS_PID"
((after == before)) || fail "$((after - before)) messages sent while Redis was unavailable"
echo "Redis stopped: $before messages out, none in the 3 s that followed"
await "every message out" 60 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= $N ))"
settled() {
    [ "$(rcli ZCARD farol:notif:q:0)" = 0 ] || return 1
    ! rcli --scan --pattern 'farol:notif:s*:o-r:outage-opened' | xargs -r -n 500 redis-cli -s "$REDIS_SOCK" MGET | grep -q '"sending"'
}
await "queue empty, claims settled" 30 settled
[ "$(count)" = "$N" ] || fail "$(count) messages for $N subscribers"
[ "$(kannel_sms_lines | awk '{ print $2 }' | sort -u | wc -l)" = "$N" ] || fail "a number got two"
records=$(rcli --scan --pattern 'farol:notif:s*:o-r:outage-opened' | xargs -r -n 500 redis-cli -s "$REDIS_SOCK" MGET | grep -cE '"status":"(sent|accepted|delivered|queued)"' || true)
[ "$records" = "$N" ] || fail "$records records of a send for $N messages"

# -- SIGTERM mid-burst: the drain finishes what is in flight (other subscribers: the first
# burst's are still down, and nobody is told twice) --
ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
ids=$(seq "$N" $((2 * N - 1)) | sed 's/^/"s/; s/$/"/' | paste -sd,)
echo "{\"v\":1,\"type\":\"outage\",\"ts\":\"$ts\",\"data\":{\"id\":\"o-t\",\"seq\":1,\"phase\":\"opened\",\"status\":\"confirmed\",\"cause\":\"power-outage\",\"root\":\"pon-1\",\"started_at\":\"$ts\",\"alarms\":[],\"affected\":{},\"affected_subscribers\":$N,\"subscribers_added\":[$ids],\"subscribers_restored\":[]}}" |
    "$FAROL" bus publish "${C[@]}" - >/dev/null 2>&1 || fail "publish"
await "a third of the second burst out" 30 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= $N + $N / 3 ))"
kill -TERM "$NPID"
wait "$NPID" || fail "the notifier's drain failed: $(tail -5 "$WORK/n.log")"
grep -q "daemon: stopped" "$WORK/n.log" || fail "no clean stop"
left=$(rcli --scan --pattern 'farol:notif:s*:o-t:outage-opened' | xargs -r -n 500 redis-cli -s "$REDIS_SOCK" MGET | grep -c '"sending"' || true)
[ "$left" = 0 ] || fail "$left claims left in flight by a graceful stop"
start_bg "$WORK/n2.log" "$FAROL" run "${C[@]}" --role notifier
wait_for_log "$WORK/n2.log" "daemon: ready"
await "the second burst out" 60 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= 2 * $N ))"
await "queue empty" 30 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK ZCARD farol:notif:q:0)\" = 0 ]"
[ "$(count)" = $((2 * N)) ] || fail "$(count) messages for two bursts of $N"
! grep -q "took over" "$WORK/n2.log" || fail "the restart had to take over claims after a graceful stop"
echo "graceful stop mid-burst: 0 claims left in flight, $N more messages, each once"
echo "ok: notifier redis"
