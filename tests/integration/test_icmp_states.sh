#!/usr/bin/env bash
# The prober's DOWN/UP hysteresis against a real device namespace: link down -> exactly one
# "down" after N=3 lost rounds (each with one retry), link up -> exactly one "up" after M=2
# answered rounds; a loopback target next to it never changes; nothing flaps.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/icmp_netns.sh"

OUT=$WORK/watch.out
start_bg "$WORK/watch.err" ip netns exec "$CORE" "$TOOLS/icmp_watch" -i 100 -t 60 -r 1 -d 3 -u 2 \
    127.0.0.1 "$DEV_IP" >"$OUT"
WATCH=$LAST_PID

# stat NAME: the prober's counter NAME, fresh (asks for a dump with SIGUSR1 and waits for it).
dumps() { grep -c '^stats:' "$WORK/watch.err" || true; }
last_stat() { grep '^stats:' "$WORK/watch.err" | tail -1 | sed -nE "s/.* $1=([0-9]+).*/\1/p"; }
more_dumps_than() { (($(dumps) > $1)); }
stat() {
    local before
    before=$(dumps)
    kill -USR1 "$WATCH"
    await "stats dump" 5 more_dumps_than "$before"
    last_stat "$1"
}
# stat_ge NAME MIN: asks for a dump; true when the latest one shows NAME >= MIN (for await).
stat_ge() {
    kill -USR1 "$WATCH"
    local v
    v=$(last_stat "$1")
    ((${v:-0} >= $2))
}
count() { grep -c -- "$1" "$OUT" || true; }
field() { grep -- "$1" "$OUT" | sed -nE "s/.* $2=([0-9]+).*/\1/p"; }

wait_for_log "$OUT" "^127\.0\.0\.1 unknown->up " 10
wait_for_log "$OUT" "^$DEV_IP unknown->up " 10

ip -n "$DEV" link set eth0 down
wait_for_log "$OUT" "^$DEV_IP up->down " 10
# Exactly N rounds were lost, each after 1 + retries probes.
[ "$(field "up->down" lost_rounds)" -eq 3 ] || fail "down after $(field "up->down" lost_rounds) lost rounds, not 3: $(cat "$OUT")"
[ $(($(field "up->down" xmt) - $(field "up->down" rcv))) -eq 6 ] || fail "3 lost rounds should be 6 lost probes: $(cat "$OUT")"
# Stay down a while (at least 6 more lost probes), then the link comes back.
t0=$(stat timeouts)
await "more lost rounds while down" 10 stat_ge timeouts $((t0 + 6))
ip -n "$DEV" link set eth0 up
wait_for_log "$OUT" "^$DEV_IP down->up " 10
# Exactly M answered rounds brought it up.
up_rcv=$(field "down->up" rcv)
down_rcv=$(field "up->down" rcv)
[ $((up_rcv - down_rcv)) -eq 2 ] || fail "up after $((up_rcv - down_rcv)) answered rounds, not 2: $(cat "$OUT")"

# A few more answered rounds, then stop: one line per transition, nothing else.
r0=$(stat received)
await "answered rounds after recovery" 10 stat_ge received $((r0 + 10))
kill -TERM "$WATCH"
wait "$WATCH" || true
[ "$(count "^$DEV_IP up->down ")" -eq 1 ] || fail "down lines: $(cat "$OUT")"
[ "$(count "^$DEV_IP down->up ")" -eq 1 ] || fail "up lines: $(cat "$OUT")"
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "flapping or stray transitions: $(cat "$OUT")"
grep -q "^stats: .* malformed=0" "$WORK/watch.err" || fail "malformed packets: $(tail -1 "$WORK/watch.err")"
echo "ok: icmp states"
