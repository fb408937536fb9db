#!/usr/bin/env bash
# Interop with a stock Kafka client (kcat) through a mock cluster, both ways:
#   kcat -> farol.alarms -> `farol bus consume`: payloads arrive byte-identical, per-key order kept;
#   `farol bus publish` -> kcat: the key is the device, one partition per device, bad input
#   lines reported as FILE:LINE and skipped; also --config and bad -X properties.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_mock -b 3 -t farol.alarms:4 -t farol.outages:2
echo "mock at $BROKERS"

# ---- kcat produces, farol consumes ----
N=60
: >"$WORK/sent.txt"
for i in $(seq 1 $N); do
    dev="olt-$((i % 7))"
    printf '%s\t%s\n' "$dev" "$(alarm_json "k-$i" "$dev")" >>"$WORK/sent.txt"
done
kcat -P -b "$BROKERS" -t farol.alarms -K $'\t' -l "$WORK/sent.txt"
cut -f2 "$WORK/sent.txt" >"$WORK/sent_payloads.txt"

"$FAROL" bus consume --brokers "$BROKERS" "${KPROPS[@]}" --topic alarms --group rt \
    --count $N --timeout 30s >"$WORK/got.txt" 2>"$WORK/consume.log" ||
    { cat "$WORK/consume.log" >&2; fail "farol bus consume did not get $N messages"; }
[[ $(lines "$WORK/got.txt") -eq $N ]] || fail "consume printed $(lines "$WORK/got.txt") lines, want $N"
diff <(sort "$WORK/sent_payloads.txt") <(sort "$WORK/got.txt") ||
    fail "consumed payloads differ from what kcat produced"
# order within a key (= within a partition) is the production order
for d in $(seq 0 6); do
    diff <(grep "\"device\":\"olt-$d\"" "$WORK/sent_payloads.txt") \
         <(grep "\"device\":\"olt-$d\"" "$WORK/got.txt") ||
        fail "order of device olt-$d not preserved"
done
echo "ok: kcat -> farol bus consume ($N messages, byte-identical, per-device order)"

# the same group again: everything was committed, nothing is redelivered
set +e
"$FAROL" bus consume --brokers "$BROKERS" "${KPROPS[@]}" --topic farol.alarms --group rt \
    --count 1 --timeout 8s >"$WORK/again.txt" 2>"$WORK/again.log"
rc=$?
set -e
[[ $rc -eq 1 && $(lines "$WORK/again.txt") -eq 0 ]] ||
    fail "group rt got $(lines "$WORK/again.txt") message(s) again after committing (rc $rc)"
echo "ok: offsets committed on exit"

# ---- farol publishes, kcat consumes ----
{
    for i in $(seq 1 30); do alarm_json "p-$i" "cpe-$((i % 5))"; done
    echo '{"v":1,"type":"alarm"'                 # line 31: truncated JSON
    echo '{"v":1,"type":"nonsense","data":{}}'   # line 32: unknown type
    alarm_json "p-31" "cpe-9"
} >"$WORK/events.jsonl"
set +e
"$FAROL" bus publish --brokers "$BROKERS" "${KPROPS[@]}" "$WORK/events.jsonl" \
    2>"$WORK/publish.log"
rc=$?
set -e
cat "$WORK/publish.log"
[[ $rc -eq 1 ]] || fail "publish with bad lines exited $rc, want 1"
grep -q "^$WORK/events.jsonl:31: " "$WORK/publish.log" || fail "line 31 not reported"
grep -q "^$WORK/events.jsonl:32: " "$WORK/publish.log" || fail "line 32 not reported"
grep -q "published 31, bad 2" "$WORK/publish.log" || fail "wrong publish summary"

kcat -C -b "$BROKERS" -t farol.alarms -e -q -f '%k %p %s\n' | grep '"id":"p-' >"$WORK/kcat.txt"
[[ $(lines "$WORK/kcat.txt") -eq 31 ]] || fail "kcat read $(lines "$WORK/kcat.txt") published events, want 31"
while read -r key part payload; do
    dev=$(jq -r .data.device <<<"$payload")
    [[ $key == "$dev" ]] || fail "key $key is not the device $dev"
done <"$WORK/kcat.txt"
# one partition per device
[[ $(awk '{print $1, $2}' "$WORK/kcat.txt" | sort -u | wc -l) -eq \
   $(awk '{print $1}' "$WORK/kcat.txt" | sort -u | wc -l) ]] || fail "a device spans partitions"
diff <(grep -v '^{"v":1,"type":"alarm"$' "$WORK/events.jsonl" | grep -v nonsense | sort) \
     <(cut -d' ' -f3- "$WORK/kcat.txt" | sort) || fail "published payloads differ"
echo "ok: farol bus publish -> kcat (key = device, bad lines reported)"

# ---- --config, --topic override, and a bad property ----
cat >"$WORK/farol.yaml" <<YAML
bus:
  transport: kafka
  kafka:
    brokers: "$BROKERS"
    group_prefix: cfgtest
    properties:
      session.timeout.ms: "6000"
      heartbeat.interval.ms: "500"
YAML
alarm_json "c-1" "olt-cfg" | "$FAROL" bus publish --config "$WORK/farol.yaml" --topic outages - \
    2>"$WORK/cfgpub.log" || { cat "$WORK/cfgpub.log" >&2; fail "publish with --config"; }
"$FAROL" bus consume --config "$WORK/farol.yaml" --topic outages --group g --count 1 \
    --timeout 30s >"$WORK/cfg.txt" 2>"$WORK/cfgcon.log" ||
    { cat "$WORK/cfgcon.log" >&2; fail "consume with --config"; }
grep -q '"id":"c-1"' "$WORK/cfg.txt" || fail "--config round trip lost the event"
echo "ok: --config and --topic"

set +e
"$FAROL" bus consume --brokers "$BROKERS" -X no.such.property=1 --topic alarms --group x \
    --count 1 --timeout 1s 2>"$WORK/badprop.log"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "unknown property: exit $rc, want 2"
grep -q "no.such.property" "$WORK/badprop.log" || fail "unknown property not named"
echo "ok: unknown librdkafka property refused"
echo "PASS"
