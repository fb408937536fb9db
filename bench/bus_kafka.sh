#!/usr/bin/env bash
# bench/bus_kafka.sh [N]: publishing N alarm events (default 200000) to Kafka, farol vs kcat,
# side by side against the same mock cluster in one run.
#   farol: `farol bus publish` (decodes and validates every event, keys it by device,
#          idempotent producer, acks=all, waits for every acknowledgement)
#   bus:   bench/bench_bus_publish: the same keyed payloads through bus_publish() without
#          decoding (the transport alone), to the usage topic
#   kcat:  `kcat -P` of the same lines with the same keys and the same producer settings
# Prints wall seconds, CPU seconds, messages/s, peak RSS, and farol/kcat ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
. scripts/lib/packages.sh
need_packages $FAROL_BUILD_PACKAGES $FAROL_PEER_PACKAGES time
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
export FAROL=$PWD/build/daemon/farol FAROL_BUILDDIR=$PWD/build
. tests/integration/lib.sh

# The mock keeps ~5 MB per partition: 24 partitions hold 200k events with room to spare.
start_mock -b 3 -t farol.alarms:24 -t farol.usage:24 -t bench.kcat:24
# Same content for both: one line per event, keyed by device (1,000 devices).
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
    d = "olt-" (i % 1000);
    printf "{\"v\":1,\"type\":\"alarm\",\"ts\":\"2026-11-23T21:00:00.000Z\",\"data\":{\"id\":\"%s/onu:%d/onu-los\",\"action\":\"raise\",\"device\":\"%s\",\"object\":\"onu:%d\",\"kind\":\"onu-los\",\"severity\":\"major\",\"source\":\"snmp-trap\",\"observed_at\":\"2026-11-23T21:00:00.000Z\"}}\n", d, i, d, i } }' >"$WORK/events.jsonl"
awk -F'"device":"' '{ split($2, a, "\""); print a[1] "\t" $0 }' "$WORK/events.jsonl" >"$WORK/keyed.tsv"
bytes=$(stat -c %s "$WORK/events.jsonl")

measure() { # measure LABEL CMD...: prints "LABEL wall user sys maxrss_kb"
    local label=$1
    shift
    /usr/bin/time -f "$label %e %U %S %M" -o "$WORK/$label.time" "$@" >/dev/null 2>"$WORK/$label.err" ||
        { cat "$WORK/$label.err"; fail "$label failed"; }
    cat "$WORK/$label.time"
}
PRODUCER=(-X enable.idempotence=true -X acks=all -X linger.ms=5)
measure farol "$FAROL" bus publish --brokers "$BROKERS" "${PRODUCER[@]}" --timeout 120s \
    "$WORK/events.jsonl" >"$WORK/results"
measure bus "$FAROL_BUILDDIR/bench/bench_bus_publish" --brokers "$BROKERS" "${PRODUCER[@]}" \
    usage "$WORK/keyed.tsv" >>"$WORK/results"
measure kcat kcat -P -b "$BROKERS" -t bench.kcat -K $'\t' "${PRODUCER[@]}" -l "$WORK/keyed.tsv" \
    >>"$WORK/results"

# Both topics must hold exactly N messages, or the figures mean nothing.
for t in farol.alarms farol.usage bench.kcat; do
    got=$(kcat -C -b "$BROKERS" -t $t -e -q -f '.\n' 2>/dev/null | wc -l)
    [ "$got" -eq "$N" ] || fail "$t holds $got messages, expected $N"
done

awk -v n="$N" -v bytes="$bytes" '
{ wall[$1] = $2; cpu[$1] = $3 + $4; rss[$1] = $5 }
END {
    printf "%d events, %.0f bytes each, 3-broker mock cluster, 24 partitions\n", n, bytes / n
    printf "%-6s %8s %8s %12s %10s\n", "tool", "wall s", "cpu s", "msgs/s", "peak RSS"
    split("farol bus kcat", order)
    for (i = 1; i <= 3; i++) { t = order[i]
        printf "%-6s %8.2f %8.2f %12.0f %8.1f MB\n", t, wall[t], cpu[t], n / wall[t], rss[t] / 1024 }
    split("farol bus", who)
    for (i = 1; i <= 2; i++)
        printf "ratio %s/kcat: throughput %.2fx, cpu %.2fx, memory %.2fx\n", who[i],
            wall["kcat"] / wall[who[i]], cpu[who[i]] / cpu["kcat"], rss[who[i]] / rss["kcat"]
}' "$WORK/results"
