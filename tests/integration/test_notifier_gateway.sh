#!/usr/bin/env bash
# Gateway down for a minute: Kannel's smsbox (the sendsms endpoint) is stopped while outage,
# maintenance and data-cap messages are queued. Nothing is lost or dead-lettered meanwhile (the
# channel pauses with backoff and probes one message at a time); when the gateway is back every
# message goes out exactly once, outages before maintenance before usage, and never faster than
# the channel's rate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
DOWN=${NOTIFIER_GATEWAY_DOWN:-60}
K=30 # messages of each kind
RATE=10
start_redis
start_farol_mock
read -r LPORT <<<"$(kannel_free_ports 1)"
export KANNEL_SMSBOX_EXTRA=$'http-request-retry = 60\nhttp-queue-delay = 1'
start_kannel
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
python3 - "$K" >"$WORK/topo.yaml" <<'PY'
import sys
k = int(sys.argv[1])
print("nodes:\n  - {id: olt-1, kind: olt}\n  - {id: pon-1, kind: pon, parents: [olt-1]}")
print("subscribers:")
for kind in range(3):
    for i in range(k):
        print("  - {id: s%d-%d, node: pon-1, phones: [\"+55119%d%07d\"], locale: en}" % (kind, i, kind, i))
PY
cat >"$WORK/farol.yaml" <<YAML
log: {level: info}
redis: {address: "unix:$REDIS_SOCK"}
$(bus_yaml)
notifier:
  listen: "127.0.0.1:$LPORT"
  notify_delay: 0s
  retry_min: 500ms
  retry_max: 8s
  max_attempts: 3
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: $KANNEL_PASS, dlr_url: "http://127.0.0.1:$LPORT/kannel/dlr", rate: $RATE, burst: 1, timeout: 2s}
YAML
C=(--config "$WORK/farol.yaml")
"$FAROL" topology import "$WORK/topo.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
start_bg "$WORK/n.log" "$FAROL" run "${C[@]}" --role notifier
wait_for_log "$WORK/n.log" "daemon: ready"

kill -TERM "$SMSBOX_PID"
wait "$SMSBOX_PID" 2>/dev/null || true
await "sendsms gone" 10 bash -c '! curl -s -o /dev/null --max-time 1 "$KANNEL_SENDSMS_URL"'
# usage first, then maintenance, then outages: the order of arrival must not matter
python3 - "$K" >"$WORK/events.jsonl" <<'PY'
import json, sys, time
k, now = int(sys.argv[1]), time.time()
iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
for i in range(k):
    print(json.dumps({"v": 1, "type": "threshold", "ts": iso(now), "data": {
        "subscriber": "s2-%d" % i, "cycle": "2026-11", "percent": 80, "used_octets": 8 * 10**10,
        "cap_octets": 10**11, "crossed_at": iso(now)}}))
print(json.dumps({"v": 1, "type": "maintenance", "ts": iso(now), "data": {
    "id": "mw-1", "seq": 1, "phase": "scheduled", "nodes": ["pon-1"], "starts_at": iso(now + 3600),
    "ends_at": iso(now + 7200), "description": "Card swap", "affected_subscribers": k,
    "subscribers": ["s1-%d" % i for i in range(k)]}}))
print(json.dumps({"v": 1, "type": "outage", "ts": iso(now), "data": {
    "id": "o-1", "seq": 1, "phase": "opened", "status": "confirmed", "cause": "fiber-cut",
    "root": "pon-1", "started_at": iso(now), "alarms": [], "affected": {}, "affected_subscribers": k,
    "subscribers_added": ["s0-%d" % i for i in range(k)], "subscribers_restored": []}}))
PY
"$FAROL" bus publish "${C[@]}" "$WORK/events.jsonl" >/dev/null 2>&1 || fail "publish"
queued() { echo $(($(rcli ZCARD farol:notif:q:0) + $(rcli ZCARD farol:notif:q:1) + $(rcli ZCARD farol:notif:q:2))); }
await "all $((3 * K)) messages queued" 20 bash -c "[ \$(( \$(redis-cli -s $REDIS_SOCK ZCARD farol:notif:q:0) + \$(redis-cli -s $REDIS_SOCK ZCARD farol:notif:q:1) + \$(redis-cli -s $REDIS_SOCK ZCARD farol:notif:q:2) )) = $((3 * K)) ]"
wait_for_log "$WORK/n.log" "channel sms: .*paused" 20
# the outage lasts DOWN seconds: this sleep is the scenario, not a synchronisation
sleep "$DOWN"
[ "$(queued)" = $((3 * K)) ] || fail "messages left the queue while the gateway was down: $(queued)"
[ "$(rcli LLEN farol:notif:dead)" = 0 ] || fail "dead letters: $(rcli LRANGE farol:notif:dead 0 3)"
probes=$(grep -c "channel sms: .*paused" "$WORK/n.log" || true)
echo "gateway down ${DOWN}s: $probes pauses (backoff), $(queued) messages waiting, no dead letters"

start_bg "$KANNEL_DIR/smsbox2.err" smsbox -v 2 "$KANNEL_DIR/kannel.conf"
await "smsbox back" 20 kannel_smsbox_online
t0=$(date +%s.%N)
await "every message delivered" 60 kannel_has_sms '.' $((3 * K))
t1=$(date +%s.%N)
kannel_sms_lines >"$WORK/sms.txt"
[ "$(wc -l <"$WORK/sms.txt")" = $((3 * K)) ] || fail "$(wc -l <"$WORK/sms.txt") messages, want $((3 * K))"
[ "$(awk '{ print $2 }' "$WORK/sms.txt" | sort -u | wc -l)" = $((3 * K)) ] || fail "a number got two messages"
# priority: every outage message, then every maintenance notice, then every usage message
order=$(awk '{ if ($0 ~ /aware of a service outage/) c = "o"; else if ($0 ~ /Planned maintenance/) c = "m"; else if ($0 ~ /You have used/) c = "u"; else c = "?"; printf "%s", c }' "$WORK/sms.txt" | tr -s 'omu?')
[ "$order" = "omu" ] || fail "delivery order by kind: $order (want omu): $(head -5 "$WORK/sms.txt")"
# rate: never more than RATE + burst in any second of Kannel's request log
max=$(grep "send-SMS request added" "$KANNEL_DIR/smsbox-access.log" | awk '{ print $2 }' | uniq -c | sort -rn | head -1 | awk '{ print $1 }')
((max <= RATE + 1)) || fail "$max requests in one second, above $RATE/s (+1 burst)"
span=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "after the gateway came back: $((3 * K)) messages in ${span}s (rate $RATE/s), at most $max in one second, order $order"
echo "ok: notifier gateway"
