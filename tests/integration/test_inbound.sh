#!/usr/bin/env bash
# farol's inbound routes (notifier/inbound.c) with a real Kannel, fakesmsc and redis-server:
# a subscriber's STOP (in any of the five languages) opts their number out in Redis and START
# opts it back in, other replies change nothing; a delivery report for a message farol sent
# through its Kannel channel turns the message's record to delivered; unknown and malformed
# reports are answered and counted, never fatal; a late report never moves a record back; a
# call without the shared key is refused and changes nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
start_redis
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
KEY=k3y-s3cr3t # the shared key every Kannel call must carry (dlr_url, MO get-url)
start_bg "$WORK/inbound.log" "$TOOLS/inbound_server" "unix:$REDIS_SOCK" "$WORK/port" "$KEY"
INBOUND=$LAST_PID
await "inbound server" 10 test -s "$WORK/port"
BASE="http://127.0.0.1:$(cat "$WORK/port")/kannel"
export KANNEL_MO_URL="$BASE/mo?key=$KEY"
start_kannel

kannel_send_mo 5511988887777 STOP
await "opt-out" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK EXISTS farol:optout:+5511988887777)\" = 1 ]"
kannel_send_mo +5511988886666 "Não quero mais"
kannel_send_mo +5511988885555 "  СТОП "
await "Russian opt-out" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK EXISTS farol:optout:+5511988885555)\" = 1 ]"
[ "$(rcli EXISTS farol:optout:+5511988886666)" = 0 ] || fail "a plain reply opted out"
kannel_send_mo 5511988887777 start
await "opt-in" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK EXISTS farol:optout:+5511988887777)\" = 0 ]"

rcli SET farol:notif:s1:o1:outage-opened '{"channel":"sms","status":"sending"}' EX 3600 >/dev/null
"$TOOLS/kannel_send" "$KANNEL_SENDSMS_URL" "$KANNEL_USER" "$KANNEL_PASS" +5511900000001 \
    "s1:o1:outage-opened" "Falha na fibra" "$BASE/dlr?key=$KEY" >/dev/null
# (jq -r and a comparison: jq -e would pass on a missing record, an empty input)
await "delivered" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK GET farol:notif:s1:o1:outage-opened | jq -r .status)\" = delivered ]"
(($(rcli TTL farol:notif:s1:o1:outage-opened) > 3500)) || fail "TTL lost"
# Kannel retries a report farol answered 503 (Redis away): a "buffered" (4) arriving after
# "delivered" is counted stale and changes nothing (so may be Kannel's own "accepted" when it
# comes after "delivered": one or two stale)
hexid=$(printf '%s' "s1:o1:outage-opened" | od -An -tx1 | tr -d ' \n')
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/dlr?key=$KEY&id=$hexid&type=4")
[ "$code" = 200 ] || fail "late DLR answered $code"
[ "$(rcli GET farol:notif:s1:o1:outage-opened | jq -r .status)" = delivered ] ||
    fail "a late buffered report moved the record back: $(rcli GET farol:notif:s1:o1:outage-opened)"

code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/dlr?key=$KEY&id=6e6f7065&type=1")
[ "$code" = 200 ] || fail "unknown DLR answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/dlr?key=$KEY&id=zz&type=1")
[ "$code" = 400 ] || fail "malformed DLR answered $code"
# without the key (or with another) nothing is read: a forged "failed", a forged START
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/dlr?id=$hexid&type=2")
[ "$code" = 403 ] || fail "a DLR without the key answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/mo?key=wrong&from=%2B5511988885555&text=START")
[ "$code" = 403 ] || fail "an MO with a wrong key answered $code"
[ "$(rcli EXISTS farol:optout:+5511988885555)" = 1 ] || fail "a forged START undid the СТОП above"
[ "$(rcli GET farol:notif:s1:o1:outage-opened | jq -r .status)" = delivered ] ||
    fail "a forged report changed the record"
grep -q "k3y-s3cr3t" "$WORK/inbound.log" && fail "the key reached the log"
kill -TERM "$INBOUND"; wait "$INBOUND" || true
grep -qE 'unknown=1 mo=4 opt_outs=2 opt_ins=1 errors=0 stale=[12] refused=2$' "$WORK/inbound.log" ||
    fail "counters: $(grep dlrs= "$WORK/inbound.log")"
echo "ok: inbound"
