#!/usr/bin/env bash
# bench/icmp.sh [ROUND_TARGETS] [SUSTAINED_TARGETS] [SUSTAINED_SECONDS]: farol's ICMP prober vs
# fping, side by side in one run, loopback targets only (all of 127.0.0.0/8 answers on lo).
#   round:     one round over 10,000 targets (127.0.x.y):
#              `farol ping -c1 -q -f FILE` vs `fping -q -c1 -i0 -f FILE`: wall and CPU seconds,
#              and both must find the same number of targets alive.
#   sustained: 50,000 targets every 10 s for a minute: `farol ping -c 6 -i 10000 -q -f FILE`
#              (probes spread over the interval): CPU %, probes sent and lost.
# Issue target: at least as fast as fping at half its CPU. Needs root (raw sockets).
# BUILD=dir picks the build directory (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUND=${1:-10000}
SUSTAINED=${2:-50000}
SECONDS_SUSTAINED=${3:-60}
BUILD=${BUILD:-build}
. scripts/lib/packages.sh
need_packages $FAROL_BUILD_PACKAGES fping time
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" daemon/farol >/dev/null
export FAROL=$PWD/$BUILD/daemon/farol FAROL_BUILDDIR=$PWD/$BUILD
. tests/integration/lib.sh

targets() { # targets N: N distinct loopback addresses, 250 per /24
    awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
        printf "127.%d.%d.%d\n", int(i / 62500), int(i / 250) % 250, i % 250 + 1 }'
}
targets "$ROUND" >"$WORK/round.txt"
targets "$SUSTAINED" >"$WORK/sustained.txt"

measure() { # measure LABEL OUTFILE CMD...: "LABEL wall user sys" into $WORK/results
    local label=$1 out=$2
    shift 2
    /usr/bin/time -f "$label %e %U %S" -o "$WORK/$label.time" "$@" >"$out" 2>&1 || true
    cat "$WORK/$label.time" >>"$WORK/results"
}
: >"$WORK/results"
for run in 1 2 3; do # alternate, best of three each: the machine is shared
    measure "farol$run" "$WORK/farol.out" "$FAROL" ping -c1 -q -f "$WORK/round.txt"
    measure "fping$run" "$WORK/fping.out" fping -q -c1 -i0 -f "$WORK/round.txt"
done
alive_farol=$(grep -c 'xmt/rcv/%loss = 1/1/0%' "$WORK/farol.out" || true)
alive_fping=$(grep -c 'xmt/rcv/%loss = 1/1/0%' "$WORK/fping.out" || true)
[ "$alive_farol" -eq "$alive_fping" ] || fail "alive: farol $alive_farol, fping $alive_fping"

echo "sustained: $SUSTAINED targets every 10 s for ${SECONDS_SUSTAINED}s ..." >&2
rounds=$((SECONDS_SUSTAINED / 10))
measure sustained "$WORK/sustained.out" "$FAROL" ping -c "$rounds" -i 10000 -t 1000 -q \
    -f "$WORK/sustained.txt"
read -r sent rcvd < <(awk -F'[ =/]+' '/xmt\/rcv/ { for (i = 1; i < NF; i++) if ($i == "xmt") {
    s += $(i + 3); r += $(i + 4) } } END { print s + 0, r + 0 }' "$WORK/sustained.out")

awk -v n="$ROUND" -v alive="$alive_farol" -v sn="$SUSTAINED" -v sent="$sent" -v rcvd="$rcvd" '
{ t = $1; sub(/[0-9]+$/, "", t); cpu = $3 + $4
  if (t == "sustained") { swall = $2; scpu = cpu; next }
  if (!(t in wall) || $2 < wall[t]) wall[t] = $2
  if (!(t in best) || cpu < best[t]) best[t] = cpu }
END {
    printf "one round, %d loopback targets (%d alive for both), best of 3:\n", n, alive
    printf "%-6s %8s %8s\n", "tool", "wall s", "cpu s"
    printf "%-6s %8.2f %8.2f\n", "farol", wall["farol"], best["farol"]
    printf "%-6s %8.2f %8.2f\n", "fping", wall["fping"], best["fping"]
    printf "ratio farol/fping: wall %.2fx, cpu %.2fx (target: wall <= 1.00x, cpu <= 0.50x)\n",
        wall["farol"] / wall["fping"], best["farol"] / best["fping"]
    printf "sustained, %d targets every 10 s: %.1f s wall, %.2f cpu s, %.1f%% CPU, %d probes sent, %d lost (%.3f%%)\n",
        sn, swall, scpu, 100 * scpu / swall, sent, sent - rcvd, sent ? 100 * (sent - rcvd) / sent : 0
}' "$WORK/results"
