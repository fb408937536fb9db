#!/usr/bin/env bash
# bench/snmp.sh [AGENTS] [PARALLEL]: walking the interfaces table of AGENTS devices (default
# 1000), farol vs snmpbulkwalk, side by side against the same agents in one run.
#   agents: one snmpd in a private network namespace (lo + 48 veth interfaces, so each ifTable
#           holds 49 rows, ~1,080 varbinds) listening on udp:1161; every 127.1.x.y is a device
#   farol:  `farol snmp walk -q` over all agents at once (GETBULK, max-repetitions 25, v2c)
#   netsnmp: `snmpbulkwalk -Cr25` per agent, PARALLEL at a time (default 32) through xargs -P
#   ceiling: varbinds per CPU-second of snmpd itself (its /proc CPU during each run): the rate at
#           which the agent saturates its core
# Prints varbinds/s, CPU s per 100k varbinds, varbinds per CPU-second, and the ratio to the
# agents' ceiling. Needs root (ip netns).
set -euo pipefail
cd "$(dirname "$0")/.."
AGENTS=${1:-1000}
PAR=${2:-32}
. scripts/lib/packages.sh
need_packages $FAROL_BUILD_PACKAGES snmp snmpd time iproute2
B=${FAROL_BENCH_BUILD:-build} # another build directory: FAROL_BENCH_BUILD=build-x
[ -f "$B/build.ninja" ] || meson setup "$B" >/dev/null
ninja -C "$B" >/dev/null
export FAROL=$PWD/$B/daemon/farol FAROL_BUILDDIR=$PWD/$B
. tests/integration/lib.sh
export MIBS= SNMP_PERSISTENT_DIR=$WORK/cli
NS=farol-bench-snmp-$$
trap 'cleanup; ip netns del "$NS" 2>/dev/null || true' EXIT

ip netns add "$NS"
ip -n "$NS" link set lo up
for i in $(seq 1 24); do # this kernel has veth but no dummy: 24 pairs are 48 ports
    ip -n "$NS" link add "porta$i" type veth peer name "portb$i"
    ip -n "$NS" link set "porta$i" up
    ip -n "$NS" link set "portb$i" up
done
mkdir -p "$WORK/agent"
SNMP_PERSISTENT_DIR=$WORK/agent start_bg "$WORK/agent.err" ip netns exec "$NS" snmpd -f \
    -Lf "$WORK/agent.log" -C -c tests/integration/data/snmp/snmpd.conf -p "$WORK/agent.pid" \
    udp:1161
in_ns() { ip netns exec "$NS" "$@"; }
agent_up() { in_ns snmpget -v2c -c public -t 0.2 -r 0 127.0.0.1:1161 1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; }
await "snmpd in the namespace" 10 agent_up
await "snmpd pid file" 5 test -s "$WORK/agent.pid"
AGENT_PID=$(cat "$WORK/agent.pid")
for i in $(seq 0 $((AGENTS - 1))); do
    echo "127.1.$((i / 250)).$((i % 250 + 1)):1161"
done >"$WORK/targets"
OID=1.3.6.1.2.1.2.2
# snmpd caches the interface table for a few seconds: warm it so both runs see the same agent
in_ns snmpbulkwalk -v2c -c public -Cr25 127.0.0.1:1161 $OID >/dev/null

agent_cpu() { awk '{ print $14 + $15 }' "/proc/$AGENT_PID/stat"; }
measure() { # measure LABEL VARBIND_COUNT_CMD -- CMD...: "LABEL wall cpu agent_cpu varbinds"
    local label=$1 a0 a1
    a0=$(agent_cpu)
    shift
    /usr/bin/time -f "%e %U %S" -o "$WORK/$label.time" "$@" >"$WORK/$label.out" \
        2>"$WORK/$label.err" || { tail -5 "$WORK/$label.err"; fail "$label failed"; }
    a1=$(agent_cpu)
    read -r wall user sys <"$WORK/$label.time"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v a=$((a1 - a0)) \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { print l, w, u + s, a / hz }' 
}

r1=$(measure farol ip netns exec "$NS" "$FAROL" snmp walk -q -t 5000 -r 2 --max-repetitions 25 \
    -f "$WORK/targets" $OID)
vb_farol=$(sed -n 's/.* \([0-9]*\) varbinds$/\1/p' "$WORK/farol.err")
grep -q " 0 failed" "$WORK/farol.err" || fail "farol: $(cat "$WORK/farol.err")"
r2=$(measure netsnmp ip netns exec "$NS" xargs -P "$PAR" -I{} snmpbulkwalk -v2c -c public -On -Cr25 -t 5 -r 2 \
    {} $OID <"$WORK/targets")
vb_netsnmp=$(grep -o ' = ' "$WORK/netsnmp.out" | wc -l) # lines of parallel walks may interleave

printf '%s %s\n%s %s\n' "$r1" "$vb_farol" "$r2" "$vb_netsnmp" | awk -v n="$AGENTS" -v p="$PAR" '
{ wall[$1] = $2; cpu[$1] = $3; acpu[$1] = $4; vb[$1] = $5 }
END {
    printf "%d agents (one snmpd, 49-row ifTable each), GETBULK max-repetitions 25, v2c\n", n
    printf "%-8s %9s %7s %7s %10s %9s %11s %11s %8s\n", "tool", "varbinds", "wall s", "cpu s",
        "vb/s", "cpu/100k", "vb/cpu-s", "agent cpu", "ceiling"
    split("farol netsnmp", order)
    for (i = 1; i <= 2; i++) { t = order[i]
        ceil = acpu[t] > 0 ? vb[t] / acpu[t] : 0
        printf "%-8s %9d %7.2f %7.2f %10.0f %9.3f %11.0f %9.2f s %8.0f\n", t, vb[t], wall[t],
            cpu[t], vb[t] / wall[t], cpu[t] * 100000 / vb[t], vb[t] / cpu[t], acpu[t], ceil
    }
    c = vb["farol"] / acpu["farol"]
    printf "agents ceiling (snmpd varbinds per CPU-second, farol run): %.0f vb/s\n", c
    rf = vb["farol"] / wall["farol"]
    rn = vb["netsnmp"] / wall["netsnmp"]
    printf "farol: %.2fx the agents ceiling, %.2fx snmpbulkwalk -P%d throughput, %.1fx less CPU\n",
        rf / c, rf / rn, p, (cpu["netsnmp"] / vb["netsnmp"]) / (cpu["farol"] / vb["farol"])
}'
