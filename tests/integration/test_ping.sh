#!/usr/bin/env bash
# farol ping: output format and exit codes against the loopback (127.0.0.1, 127.0.0.2, ::1), and
# against a device in a network namespace that drops all or ~30% of probes (nftables), with raw
# and with unprivileged datagram ICMP sockets.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/icmp_netns.sh"

summary_re='^[0-9a-f.:]+ +: xmt/rcv/%loss = [0-9]+/[0-9]+/[0-9]+%(, min/avg/max = [0-9]+\.[0-9]{2}/[0-9]+\.[0-9]{2}/[0-9]+\.[0-9]{2})?$'

# --- loopback: all answer ---
"$FAROL" ping -c 3 -i 50 127.0.0.1 127.0.0.2 ::1 >"$WORK/lo.out" || fail "loopback ping failed: $(cat "$WORK/lo.out")"
[ "$(grep -cE '^[0-9a-f.:]+ +: \[[0-2]\], 64 bytes, [0-9]+\.[0-9]{2} ms \([0-9.]+ avg, 0% loss\)$' "$WORK/lo.out")" -eq 9 ] ||
    fail "expected 9 reply lines: $(cat "$WORK/lo.out")"
for t in 127.0.0.1 127.0.0.2 ::1; do
    grep -E "$summary_re" "$WORK/lo.out" | grep -qE "^$t +: xmt/rcv/%loss = 3/3/0%, min/avg/max" ||
        fail "no 3/3/0% summary for $t: $(cat "$WORK/lo.out")"
done
grep -qx "3 targets: 3 alive, 0 unreachable" "$WORK/lo.out" || fail "totals line"

# quiet: summaries only
"$FAROL" ping -q -c 2 -i 20 127.0.0.1 >"$WORK/q.out"
[ "$(wc -l <"$WORK/q.out")" -eq 2 ] && grep -qE "$summary_re" "$WORK/q.out" || fail "-q output: $(cat "$WORK/q.out")"

# alive mode (no -c), from a file with comments and blank lines
printf '# loopback\n127.0.0.1\n\n::1  # v6\n' >"$WORK/targets"
"$FAROL" ping -f "$WORK/targets" >"$WORK/alive.out"
diff <(printf '127.0.0.1 is alive\n::1 is alive\n') "$WORK/alive.out" || fail "alive mode output"

# --- usage and setup errors: exit 2, naming the culprit ---
expect_usage() { # expect_usage PATTERN ARGS...
    local pat=$1 rc=0
    shift
    "$FAROL" ping "$@" >/dev/null 2>"$WORK/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "farol ping $* exited $rc, not 2"
    grep -q -- "$pat" "$WORK/err" || fail "farol ping $*: no '$pat' in: $(cat "$WORK/err")"
}
expect_usage "'gateway.example' is not a numeric" 127.0.0.1 gateway.example
printf '127.0.0.1\n\n10.99.0.300\n' >"$WORK/bad"
expect_usage "$WORK/bad:3: '10.99.0.300' is not a numeric" -f "$WORK/bad"
expect_usage "bad value for -c" -c 0 127.0.0.1
expect_usage "one of the two" -f "$WORK/targets" 127.0.0.1
expect_usage "usage: farol ping"
"$FAROL" ping --help | grep -q "usage: farol ping" || fail "--help"

# --- a device in a namespace ---
in_core "$FAROL" ping -c 2 -i 50 -t 300 127.0.0.1 "$DEV_IP" >"$WORK/ns.out" ||
    fail "device unreachable before any chaos: $(cat "$WORK/ns.out")"

chaos drop
rc=0
in_core "$FAROL" ping -c 3 -i 50 -t 200 127.0.0.1 "$DEV_IP" >"$WORK/drop.out" || rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc with a blackholed target, not 1"
grep -qE "^$DEV_IP +: xmt/rcv/%loss = 3/0/100%$" "$WORK/drop.out" || fail "drop summary: $(cat "$WORK/drop.out")"
[ "$(grep -c "^$DEV_IP .*timed out" "$WORK/drop.out")" -eq 3 ] || fail "timed out lines"
grep -qE "^127.0.0.1 +: xmt/rcv/%loss = 3/3/0%" "$WORK/drop.out" || fail "loopback next to a dead target"
grep -qx "2 targets: 1 alive, 1 unreachable" "$WORK/drop.out" || fail "totals with a dead target"
rc=0
in_core "$FAROL" ping -t 100 -r 1 "$DEV_IP" >"$WORK/dead.out" || rc=$?
[ "$rc" -eq 1 ] && grep -qx "$DEV_IP is unreachable" "$WORK/dead.out" || fail "alive mode on a dead target"
chaos_clear

chaos numgen random mod 100 '<' 30 drop
rc=0
in_core "$FAROL" ping -q -c 50 -i 10 -t 100 "$DEV_IP" >"$WORK/loss.out" || rc=$?
loss=$(sed -nE "s|^$DEV_IP +: xmt/rcv/%loss = 50/[0-9]+/([0-9]+)%.*|\1|p" "$WORK/loss.out")
[ -n "$loss" ] || fail "no loss summary: $(cat "$WORK/loss.out")"
((loss >= 10 && loss <= 55)) || fail "loss $loss% with a 30% drop rule"
[ "$rc" -eq 0 ] || fail "a lossy but answering target must exit 0 (exit $rc)"
chaos_clear

# --- unprivileged datagram sockets (the kernel rewrites identifiers; tokens still match) ---
in_core sysctl -q -w net.ipv4.ping_group_range="0 0"
in_core "$FAROL" ping --socket dgram -c 3 -i 20 127.0.0.1 "$DEV_IP" ::1 >"$WORK/dgram.out" ||
    fail "datagram sockets: $(cat "$WORK/dgram.out")"
[ "$(grep -c "xmt/rcv/%loss = 3/3/0%" "$WORK/dgram.out")" -eq 3 ] || fail "dgram: $(cat "$WORK/dgram.out")"
echo "ok: farol ping"
