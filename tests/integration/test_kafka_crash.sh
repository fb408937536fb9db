#!/usr/bin/env bash
# At-least-once across a crash: a consumer is killed with SIGKILL in the middle of a 2,000
# message stream and restarted in the same group; the union of what it handled must cover every
# message (duplicates are allowed and reported), and within each run every device's messages
# are handled in production order, although the consumer throttles itself with BUS_RETRY.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_mock -b 3 -t farol.alarms:4
N=2000
seq -f '%05g' 1 $N | awk '{ printf "dev%d\t%s dev%d\n", $1 % 13, $1, $1 % 13 }' >"$WORK/input.tsv"
kcat -P -b "$BROKERS" -t farol.alarms -K $'\t' -l "$WORK/input.tsv"
cut -f2 "$WORK/input.tsv" | sort >"$WORK/expected.txt"

OUT="$WORK/handled.txt"
consumer() {
    start_bg "$WORK/consumer$1.log" "$TOOLS/kafka_bus_consumer" -b "$BROKERS" -t alarms \
        -g crash -o "$OUT" -r 100 "${KPROPS[@]}"
}

consumer 1
await "first consumer to handle 400 messages" 40 has_lines "$OUT" 400
kill -KILL "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true
KILLED_AT=$(lines "$OUT")
echo "killed the first consumer after $KILLED_AT handled messages"
((KILLED_AT < N)) || fail "the first consumer finished before it could be killed"

consumer 2
await "the restarted consumer to cover all $N messages" 90 has_distinct "$OUT" $N
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "second consumer exited with an error"
grep 'kafka_bus_consumer:' "$WORK/consumer2.log" || true

missing=$(comm -23 "$WORK/expected.txt" <(sort -u "$OUT") | wc -l)
unexpected=$(comm -13 "$WORK/expected.txt" <(sort -u "$OUT") | wc -l)
total=$(lines "$OUT")
echo "handled $total lines: $((total - N)) duplicate(s), $missing missing, $unexpected unexpected"
((missing == 0)) || fail "$missing message(s) lost"
((unexpected == 0)) || fail "$unexpected message(s) that were never produced"

retried=$(sed -n 's/.*retried=\([0-9]*\).*/\1/p' "$WORK/consumer2.log")
((${retried:-0} > 0)) || fail "the throttled consumer never answered BUS_RETRY"

# per device, each run handles messages in increasing order (retries do not reorder)
check_order() {
    awk '{ if ($2 in last && $1 <= last[$2]) { print "out of order: " $0; bad = 1 } last[$2] = $1 }
         END { exit bad }'
}
head -n "$KILLED_AT" "$OUT" | check_order || fail "first run handled a device out of order"
tail -n +"$((KILLED_AT + 1))" "$OUT" | check_order || fail "second run handled a device out of order"
echo "PASS"
