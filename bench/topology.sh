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

gen() { # the four CSV files into $WORK
    awk -v subs="$SUBS" -v dir="$WORK" 'BEGIN {
        pons = int((subs + 31) / 32); olts = int((pons + 15) / 16); sws = int((olts + 9) / 10)
        n = dir "/nodes.csv"; s = dir "/subscribers.csv"; b = dir "/bindings.csv"
        print "id,kind,area,parents" > n
        print "id,node,name,phones,channels,locale,timezone,plan,cap,cycle_day" > s
        print "device,object,node" > b
        for (r = 0; r < 16; r++) printf "rt-%d,router,area-%d,\n", r, r % 4 > n
        for (w = 0; w < sws; w++) # odd switches single-homed: a router then cuts some off
            if (w % 2) printf "sw-%d,switch,area-%d,rt-%d\n", w, w % 4, w % 16 > n
            else printf "sw-%d,switch,area-%d,rt-%d|rt-%d\n", w, w % 4, w % 16, (w + 1) % 16 > n
        for (o = 0; o < olts; o++) {
            printf "olt-%d,olt,,sw-%d\n", o, int(o / 10) > n
            printf "olt-%d,,olt-%d\n", o, o > b
        }
        for (p = 0; p < pons; p++) printf "pon-%d,pon,,olt-%d\n", p, int(p / 16) > n
        for (u = 0; u < subs; u++) {
            p = int(u / 32); o = int(p / 16)
            printf "onu-%d,onu,,pon-%d\n", u, p > n
            printf "olt-%d,onu:0/%d/%d:%d,onu-%d\n", o, int((p % 16) / 8), p % 8, u % 32, u > b
            printf "sub-%d,onu-%d,Subscriber %d,+55119%08d,whatsapp|sms,pt-BR,America/Sao_Paulo,fibra-300,500GB,%d\n",
                u, u, u, u, u % 28 + 1 > s
        }
    }'
}
t0=$(date +%s.%N); gen; t1=$(date +%s.%N)
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
