#!/usr/bin/env bash
# Exactly once across a crash: an outage of 10,000 subscribers goes out through a real Kannel
# (fakesmsc); the notifier is killed with SIGKILL in the middle of the burst and restarted.
# Every subscriber's phone gets the message exactly once: sends the dead process had claimed
# are resolved by Kannel's (retried) delivery reports or, with none within the grace, sent by
# the new process; nothing is sent twice. A second notifier instance (its own listener, same
# Redis and consumer group) works the same queue beside the restarted one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
N=${NOTIFIER_CRASH_N:-10000}
start_redis
start_farol_mock
read -r LPORT LPORT2 <<<"$(kannel_free_ports 2)"
# Kannel retries delivery reports the dead notifier could not take
export KANNEL_SMSBOX_EXTRA=$'http-request-retry = 60\nhttp-queue-delay = 1'
start_kannel
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

python3 - "$N" >"$WORK/topo.yaml" <<'PY'
import sys
n = int(sys.argv[1])
print("nodes:\n  - {id: olt-1, kind: olt}\n  - {id: pon-1, kind: pon, parents: [olt-1]}")
print("subscribers:")
for i in range(n):
    print("  - {id: s%d, node: pon-1, phones: [\"+55119%08d\"], locale: en}" % (i, i))
PY
cat >"$WORK/farol.yaml" <<YAML
log: {level: info}
redis: {address: "unix:$REDIS_SOCK"}
$(bus_yaml)
notifier:
  listen: "127.0.0.1:$LPORT"
  notify_delay: 0s
  inflight_grace: 5s
  max_inflight: 64
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: $KANNEL_PASS, dlr_url: "http://127.0.0.1:$LPORT/kannel/dlr", rate: 1000, burst: 50}
YAML
C=(--config "$WORK/farol.yaml")
"$FAROL" topology import "$WORK/topo.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
# the outage, its subscribers in events of 2,000 (as the correlator chunks them)
python3 - "$N" >"$WORK/events.jsonl" <<'PY'
import json, sys, time
n, ts = int(sys.argv[1]), time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
for seq, lo in enumerate(range(0, n, 2000), 1):
    print(json.dumps({"v": 1, "type": "outage", "ts": ts, "data": {
        "id": "o-big", "seq": seq, "phase": "opened" if seq == 1 else "updated",
        "status": "confirmed", "cause": "fiber-cut", "root": "pon-1", "started_at": ts,
        "alarms": [], "affected": {}, "affected_subscribers": n,
        "subscribers_added": ["s%d" % i for i in range(lo, min(n, lo + 2000))],
        "subscribers_restored": []}}))
PY
delivered() { grep -c "Got message" "$FAKESMSC_LOG" || true; }
start_bg "$WORK/n1.log" "$FAROL" run "${C[@]}" --role notifier
P1=$LAST_PID
wait_for_log "$WORK/n1.log" "daemon: ready"
"$FAROL" bus publish "${C[@]}" "$WORK/events.jsonl" >/dev/null 2>&1 || fail "publish"
await "a third of the burst out" 60 bash -c "(( \$(grep -c 'Got message' $FAKESMSC_LOG || true) >= $N / 3 ))"
kill -KILL "$P1"
wait "$P1" 2>/dev/null || true
at_kill=$(delivered)
sending=$(rcli --scan --pattern 'farol:notif:s*' | head -2000 | xargs -r redis-cli -s "$REDIS_SOCK" MGET | grep -c '"sending"' || true)
echo "killed with $at_kill delivered, $sending claims in flight among the first 2,000 records"
((at_kill < N)) || fail "the burst was over before the kill ($at_kill)"

start_bg "$WORK/n2.log" "$FAROL" run "${C[@]}" --role notifier
wait_for_log "$WORK/n2.log" "daemon: ready"
sed "s/$LPORT/$LPORT2/g" "$WORK/farol.yaml" >"$WORK/farol2.yaml"
start_bg "$WORK/n3.log" "$FAROL" run --config "$WORK/farol2.yaml" --role notifier
wait_for_log "$WORK/n3.log" "daemon: ready"
# on failure, say what became of the subscribers who got nothing
missing() {
    kannel_sms_lines | awk '{ print $2 }' | sort -u >"$WORK/got.txt"
    for ((i = 0; i < N; i++)); do printf '+55119%08d s%d\n' "$i" "$i"; done | sort >"$WORK/all.txt"
    join -v 1 "$WORK/all.txt" "$WORK/got.txt" | head -5 | while read -r _ s; do
        echo "$s: record $(rcli GET "farol:notif:$s:o-big:outage-opened"), queued at $(rcli ZSCORE farol:notif:q:0 "$s:o-big:outage-opened"), marker $(rcli HGET farol:notif:down "$s")"
    done
}
all_out() { (($(grep -c 'Got message' "$FAKESMSC_LOG" || true) >= N)); }
await "every message out" 120 all_out || true
all_out || fail "$(delivered) of $N out; $(missing)"
# done means: nothing queued and no claim left in flight
settled() {
    [ "$(rcli ZCARD farol:notif:q:0)" = 0 ] || return 1
    ! rcli --scan --pattern 'farol:notif:s*:o-big:outage-opened' | xargs -r -n 1000 redis-cli -s "$REDIS_SOCK" MGET | grep -q '"sending"'
}
await "queue empty and every claim settled" 60 settled
total=$(delivered)
dups=$(kannel_sms_lines | awk '{ print $2 }' | sort | uniq -d | wc -l)
distinct=$(kannel_sms_lines | awk '{ print $2 }' | sort -u | wc -l)
sent_by() { grep -c "send-SMS request added" "$KANNEL_DIR/smsbox-access.log" || true; }
echo "delivered $total messages to $distinct numbers ($dups numbers twice); takeovers: $(cat "$WORK/n2.log" "$WORK/n3.log" | grep -c 'took over' || true); sendsms requests $(sent_by)"
[ "$distinct" = "$N" ] || fail "$distinct of $N numbers reached"
[ "$dups" = 0 ] || fail "$dups numbers got the message twice"
[ "$total" = "$N" ] || fail "$total messages for $N subscribers"
echo "ok: notifier crash"
