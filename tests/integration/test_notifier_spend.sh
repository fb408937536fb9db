#!/usr/bin/env bash
# The daily spend cap holds across notifier instances and restarts: a Kannel channel costing
# 0.05 a message with daily_cap 0.25 sends exactly 5 of 12 outage messages although two
# notifiers share the queue; the other 7 stay queued (not dead). A restart with the same cap
# sends nothing more; a restart with the cap raised to 0.40 sends exactly 3 more, because the
# day's spend (0.25) is in Redis, not in the process.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
N=12
start_redis
start_farol_mock
read -r P1 P2 <<<"$(kannel_free_ports 2)"
start_kannel
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
{
    echo "nodes:"
    echo "  - {id: olt-1, kind: olt}"
    echo "  - {id: pon-1, kind: pon, parents: [olt-1]}"
    echo "subscribers:"
    for ((i = 0; i < N; i++)); do printf '  - {id: s%d, node: pon-1, phones: ["+55119%08d"]}\n' "$i" "$i"; done
} >"$WORK/topo.yaml"
conf() { # PORT CAP
    cat <<YAML
log: {level: info}
redis: {address: "unix:$REDIS_SOCK", command_timeout: 2s}
$(bus_yaml)
notifier:
  listen: "127.0.0.1:$1"
  notify_delay: 0s
  batch: 4
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: $KANNEL_PASS, dlr_url: "http://127.0.0.1:$1/kannel/dlr", rate: 50, burst: 2, cost: 0.05, daily_cap: $2}
YAML
}
conf "$P1" 0.25 >"$WORK/a.yaml"
conf "$P2" 0.25 >"$WORK/b.yaml"
"$FAROL" topology import "$WORK/topo.yaml" --config "$WORK/a.yaml" >/dev/null 2>&1 || fail "import"
count() { grep -c "Got message" "$FAKESMSC_LOG" || true; }
used_up() { grep -q "spend cap (0.25) is used up" "$1"; }
start_bg "$WORK/a.log" "$FAROL" run --config "$WORK/a.yaml" --role notifier
A=$LAST_PID
start_bg "$WORK/b.log" "$FAROL" run --config "$WORK/b.yaml" --role notifier
B=$LAST_PID
wait_for_log "$WORK/a.log" "daemon: ready"
wait_for_log "$WORK/b.log" "daemon: ready"
ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
ids=$(seq 0 $((N - 1)) | sed 's/^/"s/; s/$/"/' | paste -sd,)
echo "{\"v\":1,\"type\":\"outage\",\"ts\":\"$ts\",\"data\":{\"id\":\"o-s\",\"seq\":1,\"phase\":\"opened\",\"status\":\"confirmed\",\"cause\":\"fiber-cut\",\"root\":\"pon-1\",\"started_at\":\"$ts\",\"alarms\":[],\"affected\":{},\"affected_subscribers\":$N,\"subscribers_added\":[$ids],\"subscribers_restored\":[]}}" |
    "$FAROL" bus publish --config "$WORK/a.yaml" - >/dev/null 2>&1 || fail "publish"

# -- two instances, one cap: each finds the day's spend used up, and 5 went out in all --
await "both notifiers to find the cap used up" 30 bash -c "grep -q 'is used up' $WORK/a.log && grep -q 'is used up' $WORK/b.log"
await "the 5 messages the cap pays for at the SMSC" 30 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= 5 ))"
await "every claim settled" 30 bash -c "! redis-cli -s $REDIS_SOCK --scan --pattern 'farol:notif:s*:o-s:outage-opened' | xargs -r redis-cli -s $REDIS_SOCK MGET | grep -q sending"
[ "$(count)" = 5 ] || fail "$(count) messages sent under a cap that pays for 5"
[ "$(rcli ZCARD farol:notif:q:0)" = $((N - 5)) ] || fail "$(rcli ZCARD farol:notif:q:0) queued, expected $((N - 5))"
[ "$(rcli LLEN farol:notif:dead)" = 0 ] || fail "capped messages went to the dead letters"
day=$(date -u +%F)
spent=$(rcli GET "farol:notif:spend:sms:$day")
awk -v s="$spent" 'BEGIN { exit !(s > 0.2499 && s < 0.2501) }' || fail "today's spend in Redis is '$spent', expected 0.25"
echo "two notifiers, daily_cap 0.25 at 0.05 a message: 5 of $N sent, $((N - 5)) queued, spend $spent"

# -- a restart with the same cap sends nothing more --
kill -TERM "$A" "$B"
wait "$A" || fail "notifier a: exit status $?"
wait "$B" || fail "notifier b: exit status $?"
start_bg "$WORK/c.log" "$FAROL" run --config "$WORK/a.yaml" --role notifier
C=$LAST_PID
await "the restarted notifier to find the cap used up" 30 used_up "$WORK/c.log"
[ "$(count)" = 5 ] || fail "the restart sent $(($(count) - 5)) more under a used-up cap"
kill -TERM "$C"
wait "$C" || fail "notifier c: exit status $?"
echo "restart, same cap: nothing more sent"

# -- the cap raised to 0.40: exactly 3 more, on top of the 0.25 already spent --
conf "$P1" 0.40 >"$WORK/d.yaml"
start_bg "$WORK/d.log" "$FAROL" run --config "$WORK/d.yaml" --role notifier
await "the raised cap to be used up" 30 grep -q "spend cap (0.4) is used up" "$WORK/d.log"
await "3 more at the SMSC" 30 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= 8 ))"
await "every claim settled" 30 bash -c "! redis-cli -s $REDIS_SOCK --scan --pattern 'farol:notif:s*:o-s:outage-opened' | xargs -r redis-cli -s $REDIS_SOCK MGET | grep -q sending"
[ "$(count)" = 8 ] || fail "$(count) messages in all, expected 8 under a cap raised to 0.40"
[ "$(rcli ZCARD farol:notif:q:0)" = $((N - 8)) ] || fail "$(rcli ZCARD farol:notif:q:0) queued, expected $((N - 8))"
[ "$(kannel_sms_lines | awk '{ print $2 }' | sort -u | wc -l)" = 8 ] || fail "a number got two"
echo "restart, cap raised to 0.40: 3 more sent (8 in all, each number once), $((N - 8)) still queued"
echo "ok: notifier spend"
