#!/usr/bin/env bash
# bench/topology.sh [SUBSCRIBERS]: the synthetic ISP of issue #4 (default 1,000,000 subscribers:
# 16 routers, 200 switches (even ones dual-homed to two routers), 2,000 OLTs, 32,000 PON ports, one ONU
# per subscriber, 32 per PON; smaller runs scale everything but the routers) imported into a
# private redis-server. Measures:
#   generate: writing the four CSV files (awk);
#   import:   `farol topology import` wall time and peak RSS (validation + Redis write);
#   memory:   Redis used_memory after the import (INFO memory);
#   reimport: a second import (new version written, swapped, old one deleted);
#   impact:   `farol impact NODE --repeat 1000` at a router, an OLT and a PON port: latency of
#             the query itself (node record + one page of up to 100 subscribers), not start-up.
# Issue target: the impact of a PON port under 1 ms. BUILD=dir picks the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBS=${1:-1000000}
BUILD=${BUILD:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" daemon/farol >/dev/null
export FAROL=$PWD/$BUILD/daemon/farol FAROL_BUILDDIR=$PWD/$BUILD FAROL_SRCDIR=$PWD
. tests/integration/lib.sh
start_redis
printf 'redis:\n  address: unix:%s\n  command_timeout: 60s\n' "$REDIS_SOCK" >"$WORK/farol.yaml"

. bench/lib/isp.sh
t0=$(date +%s.%N); isp_gen; t1=$(date +%s.%N)
printf 'generate: %d subscribers, %s node lines in %.1f s\n' "$SUBS" \
    "$(($(wc -l <"$WORK/nodes.csv") - 1))" "$(echo "$t1 - $t0" | bc)"

import() {
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$FAROL" topology import "$WORK/nodes.csv" \
        "$WORK/subscribers.csv" "$WORK/bindings.csv" --config "$WORK/farol.yaml" \
        >"$WORK/import.out" 2>"$WORK/import.err" || { cat "$WORK/import.err"; exit 1; }
    read -r secs kb <"$WORK/time"
    printf '%s: %s s, peak RSS %d MB (%s)\n' "$1" "$secs" $((kb / 1024)) "$(cat "$WORK/import.out")"
}
import import
mem() { redis-cli -s "$REDIS_SOCK" INFO memory | tr -d '\r' | awk -F: -v k="$1" '$1 == k { print $2 }'; }
printf 'redis: used_memory %s (%s keys)\n' "$(mem used_memory_human)" "$(redis-cli -s "$REDIS_SOCK" DBSIZE)"
import reimport
printf 'redis after reimport: used_memory %s (%s keys)\n' "$(mem used_memory_human)" \
    "$(redis-cli -s "$REDIS_SOCK" DBSIZE)"

for node in rt-3 olt-7 pon-123; do
    "$FAROL" impact "$node" --repeat 1000 --limit 100 --config "$WORK/farol.yaml" \
        >"$WORK/impact.out" 2>"$WORK/impact.err"
    printf 'impact %-8s %-40s %s\n' "$node" "$(grep '^subscribers cut off' "$WORK/impact.out")" \
        "$(cat "$WORK/impact.err")"
done
