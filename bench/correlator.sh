#!/usr/bin/env bash
# bench/correlator.sh [SUBSCRIBERS]: the correlator storm of issue #4. The synthetic ISP of
# bench/topology.sh (default 1,000,000 subscribers) is imported into a private redis-server;
# `farol run --role correlator` runs against it and a 3-broker Kafka mock; then a storm of
# ALARMS ONU alarms (default 100,000) is published in DURATION seconds (default 10), evenly
# paced, by bench/bench_storm_publish:
#   - a city-wide power cut: onu-dying-gasp on every ONU of 90% of the storm's PON ports,
#     taken from area-0 upwards (2,813 PONs at the defaults);
#   - a fiber cut: onu-los on every ONU of the other 10%, taken from area-3 downwards (312).
# ORDER=pon (default) sends each PON's 32 ONUs back to back, PONs one after another (the power
# goes out street by street over 10 s; the fiber cut's PONs are spread among them);
# ORDER=random shuffles all alarms over the 10 s (every PON fills up slowly: its first ONUs
# then outlive hold_down as single-ONU outages before the PON is inferred and absorbs them).
#
# Measures:
#   load:   a first correlator run at log level info: start to "topology ... reloaded" (Redis
#           read + engine build), its peak RSS and CPU;
#   storm:  a second run at log level warn (info journals every alarm): ready when a probe
#           alarm lands in Redis; alarms/s achieved; the time from the last alarm sent to the
#           last outage event on farol.outages (message timestamps = when the correlator
#           produced them; same clock); outage counts, causes and root kinds; the correlator's
#           CPU over the storm, its RSS at ready and its peak (VmHWM);
#   peer:   kcat consuming the same alarms from the same mock (the raw transport ceiling);
#           the ratio correlator/kcat in messages per CPU-second is the cost of correlation.
# hold_down is a deliberate delay: an outage is published only once its root stayed failed
# for hold_down, so the last outage event comes at least hold_down after the last alarm. The
# settle time is reported as measured (nothing subtracted), with hold_down stated beside it.
# Env: ALARMS, DURATION, ORDER, HOLD_DOWN (2s), BATCH (100ms), BUILD (build dir);
# KAFKA_EXTRA="k: v, ..." replaces the extra librdkafka properties of the correlator's bus
# (default "fetch.wait.max.ms: 10": librdkafka's mock broker holds a fetch that finds no data
# for the whole fetch.wait.max.ms, 500 ms by default, even when data arrives meanwhile; a real
# broker answers as soon as data is there. Without it ~0.4 s of mock latency is measured);
# PERF=FILE records the correlator with `perf record` (PERF_ARGS, default: 199 Hz, DWARF call
# graphs) from ready to final, and prints the top of `perf report`;
# STORM_OUT=FILE keeps the summary; KEEP=DIR keeps the raw files (outage events with their
# message times, per-outage lags, CPU/RSS samples, logs).
set -euo pipefail
cd "$(dirname "$0")/.."
SUBS=${1:-1000000}
ALARMS=${ALARMS:-100000}
DURATION=${DURATION:-10}
ORDER=${ORDER:-pon}
HOLD_DOWN=${HOLD_DOWN:-2s}
CLEAR_HOLD=1s
BATCH=${BATCH:-100ms}
BUILD=${BUILD:-build}
KAFKA_EXTRA=${KAFKA_EXTRA-fetch.wait.max.ms: 10}
((ALARMS <= SUBS)) || ALARMS=$SUBS
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" -j2 daemon/farol tests/tools/kafka_mock bench/bench_storm_publish >/dev/null
export FAROL=$PWD/$BUILD/daemon/farol FAROL_BUILDDIR=$PWD/$BUILD FAROL_SRCDIR=$PWD
. tests/integration/lib.sh
now() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
to_ms() { awk -v d="$1" 'BEGIN { n = d + 0; if (d ~ /ms$/) print n; else if (d ~ /m$/) print n * 60000; else print n * 1000 }'; }

. bench/lib/isp.sh

storm_plan() { # DEVICE<TAB>OBJECT<TAB>KIND lines in sending order, to $WORK/storm.tsv
    awk -v subs="$SUBS" -v alarms="$ALARMS" -v order="$ORDER" 'BEGIN {
        full = int(subs / 32); k = 0  # full PONs only, listed area by area (a PON inherits
        for (a = 0; a < 4; a++)       # its switch area: PON p is under sw-int(p/160))
            for (p = 0; p < full; p++) if (int(p / 160) % 4 == a) list[k++] = p
        total = int(alarms / 32); nf = int(total / 10); np = total - nf
        for (g = 0; g < total; g++) { # fiber PONs spread evenly among the power-cut ones
            fiber = int((g + 1) * nf / total) > int(g * nf / total)
            if (fiber) { p = list[full - 1 - fi++]; kind = "onu-los" }
            else { p = list[pi++]; kind = "onu-dying-gasp" }
            for (u = p * 32; u < p * 32 + 32; u++)
                line[m++] = sprintf("olt-%d\tonu:0/%d/%d:%d\t%s", int(p / 16), int((p % 16) / 8), p % 8, u % 32, kind)
        }
        if (order == "random") { srand(42); for (i = m - 1; i > 0; i--) { j = int(rand() * (i + 1)); t = line[i]; line[i] = line[j]; line[j] = t } }
        for (i = 0; i < m; i++) print line[i]
        printf "%d %d %d\n", m, np, nf > "/dev/stderr"
    }' >"$WORK/storm.tsv" 2>"$WORK/storm.counts"
    read -r ALARMS NPOWER NFIBER <"$WORK/storm.counts"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
# -- topology: generate and import (bench/topology.sh measures these) --
start_redis
printf 'redis:\n  address: unix:%s\n  command_timeout: 60s\n' "$REDIS_SOCK" >"$WORK/import.yaml"
t0=$(now)
isp_gen
"$FAROL" topology import "$WORK/nodes.csv" "$WORK/subscribers.csv" "$WORK/bindings.csv" \
    --config "$WORK/import.yaml" >"$WORK/import.out" 2>"$WORK/import.err" ||
    fail "import: $(cat "$WORK/import.err")"
rm -f "$WORK"/*.csv
echo "topology: $SUBS subscribers generated and imported in $(secs $(($(now) - t0))) s"
storm_plan
RATE=$((ALARMS / DURATION))

start_mock -b 3 -t farol.alarms:24 -t farol.outages:12 -t farol.usage:3 -t farol.deadletter:1
conf() { # conf LEVEL: the correlator's configuration
    cat <<YAML
log: {level: $1}
redis: {address: "unix:$REDIS_SOCK", command_timeout: 60s}
bus:
  transport: kafka
  kafka:
    brokers: "$BROKERS"
    properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500, reconnect.backoff.max.ms: 200, auto.commit.interval.ms: 200${KAFKA_EXTRA:+, $KAFKA_EXTRA}}
correlator: {hold_down: $HOLD_DOWN, clear_hold: $CLEAR_HOLD, settle: 1s, batch: $BATCH}
YAML
}
conf info >"$WORK/info.yaml"
conf warn >"$WORK/warn.yaml"

# -- load: start to topology loaded, at info level (the only line that says so) --
t0=$(now)
start_bg "$WORK/load.log" "$FAROL" run --config "$WORK/info.yaml" --role correlator
LOAD_PID=$LAST_PID
wait_for_log "$WORK/load.log" "topology .* reloaded" 600
LOAD_MS=$(($(now) - t0))
wait_for_log "$WORK/load.log" "daemon: ready" 600 # TERM is handled from here on
DREADY_MS=$(($(now) - t0))
LOAD_CPU=$(cpu_ticks "$LOAD_PID") LOAD_HWM=$(status_kb "$LOAD_PID" VmHWM)
kill -TERM "$LOAD_PID"
wait "$LOAD_PID" || fail "load run: exit status $?"
grep -o 'topology [^;]*' "$WORK/load.log" | head -1 >"$WORK/load.what"

# -- storm run, at warn level --
t0=$(now)
start_bg "$WORK/corr.log" "$FAROL" run --config "$WORK/warn.yaml" --role correlator
CORR=$LAST_PID
probe() { # probe ACTION: an unbound ONU alarm; raises are persisted before they are applied
    local ts; ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
    printf '{"v":1,"type":"alarm","ts":"%s","data":{"id":"storm-probe","action":"%s","device":"olt-0","object":"onu:9/9/9:99","kind":"onu-los","severity":"major","source":"snmp-trap","observed_at":"%s"}}\n' \
        "$ts" "$1" "$ts" | "$FAROL" bus publish --config "$WORK/warn.yaml" - 2>/dev/null
}
probe raise
await "the correlator to consume the probe alarm" 600 \
    bash -c "[ \"\$(redis-cli -s $REDIS_SOCK HEXISTS farol:corr:alarms storm-probe)\" = 1 ]"
READY_MS=$(($(now) - t0))
probe clear
await "the probe's clear" 30 \
    bash -c "[ \"\$(redis-cli -s $REDIS_SOCK HEXISTS farol:corr:alarms storm-probe)\" = 0 ]"
READY_RSS=$(status_kb "$CORR" VmRSS) READY_CPU=$(cpu_ticks "$CORR")
TCK=$(getconf CLK_TCK)
(while kill -0 "$CORR" 2>/dev/null; do # time, CPU ticks, RSS kB, alarms in Redis every 0.2 s
    echo "$(now) $(cpu_ticks "$CORR" 2>/dev/null) $(status_kb "$CORR" VmRSS 2>/dev/null) $(rcli HLEN farol:corr:alarms)"
    sleep 0.2
done) >"$WORK/samples" 2>/dev/null &
track $!
if [ -n "${PERF:-}" ]; then
    perf record ${PERF_ARGS:--F 199 --call-graph dwarf,16384} -p "$CORR" -o "$PERF" >/dev/null 2>"$WORK/perf.err" &
    PERF_PID=$!
    track $PERF_PID
fi
kcat -C -b "$BROKERS" -t farol.outages -o beginning -u -q -f '%T %s\n' >"$WORK/outages" \
    2>"$WORK/kcat.err" &
track $!

/usr/bin/time -f '%e %U %S %M' -o "$WORK/pub.time" "$FAROL_BUILDDIR/bench/bench_storm_publish" \
    --brokers "$BROKERS" --rate "$RATE" --tag "storm$$" "$WORK/storm.tsv" >"$WORK/pub.out" \
    2>"$WORK/pub.err" || fail "publisher: $(cat "$WORK/pub.err" "$WORK/pub.out")"
pub() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/pub.out"; }
LAST_MS=$(pub last_ms) FIRST_MS=$(pub first_ms)
[ "$(pub acked)" = "$ALARMS" ] || fail "publisher: $(cat "$WORK/pub.out")"

# Final when no outage event came for hold_down + clear_hold + 3 s.
QUIET=$(($(to_ms "$HOLD_DOWN") + $(to_ms "$CLEAR_HOLD") + 3000))
seen=-1 changed=$(now)
while :; do
    n=$(lines "$WORK/outages")
    ((n != seen)) && seen=$n changed=$(now)
    (($(now) - changed >= QUIET)) && break
    (($(now) - LAST_MS < 600000)) || fail "outage events still coming 10 minutes after the storm"
    sleep 0.2
done
END_CPU=$(cpu_ticks "$CORR") HWM=$(status_kb "$CORR" VmHWM) END_RSS=$(status_kb "$CORR" VmRSS)
KEPT=$(rcli HLEN farol:corr:alarms)
if [ -n "${PERF:-}" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
kill -TERM "$CORR"
wait "$CORR" || fail "correlator: exit status $?"
grep -E ' (warn|error) ' "$WORK/corr.log" | grep -v "onu:9/9/9:99" | cut -d' ' -f2- | sort | uniq -c | sort -rn | head -5 >"$WORK/warnings" || true
[ "$KEPT" = "$ALARMS" ] || fail "Redis holds $KEPT active alarms, expected $ALARMS"

# -- peer: kcat reads the same alarms from the same mock --
/usr/bin/time -f '%e %U %S %M' -o "$WORK/kcat.time" kcat -C -b "$BROKERS" -t farol.alarms \
    -o beginning -e -q -f '%s\n' >"$WORK/kcat.out" 2>/dev/null
KCAT_N=$(lines "$WORK/kcat.out")
read -r KCAT_WALL KCAT_U KCAT_S KCAT_KB <"$WORK/kcat.time"

# -- outages: the last event of each id; counts by phase, cause and root kind --
cut -d' ' -f2- "$WORK/outages" | jq -c '.data' >"$WORK/outages.json"
LAST_OUT=$(awk 'NR == 1 || $1 > m { m = $1 } END { printf "%.0f\n", m }' "$WORK/outages")
FIRST_OUT=$(awk 'NR == 1 || $1 < m { m = $1 } END { printf "%.0f\n", m }' "$WORK/outages")
jq -rs '
  (map(select(.phase == "opened")) | length) as $opened
  | (group_by(.id) | map(max_by(.seq))) as $last
  | ($last | map(select(.merged_into == null and .status != "closed"))) as $live
  | "events \(length): opened \($opened), updated \(map(select(.phase == "updated")) | length), resolved \(map(select(.phase == "resolved")) | length), merged away \($last | map(select(.merged_into != null)) | length)",
    "open at the end \($live | length): " + ($live | group_by(.cause) | map("\(.[0].cause) \(length)") | join(", ")),
    "roots: " + ($live | group_by(.root | sub("-[0-9]+$"; "")) | map("\(.[0].root | sub("-[0-9]+$"; "")) \(length)") | join(", ")),
    "subscribers affected at the end \($live | map(.affected_subscribers) | add // 0), status " + ($live | group_by(.status) | map("\(.[0].status) \(length)") | join(", "))
' "$WORK/outages.json" >"$WORK/outage.summary"

# Where the time after hold_down goes, per opened outage: confirmed_at - started_at - hold_down
# (the engine's lag: alarm queued, batch, tick) and message time - confirmed_at (Redis write +
# producer); percentiles over all outages and over the last 10% opened.
awk '{ t = $1; sub(/^[^ ]* /, ""); print t "\t" $0 }' "$WORK/outages" |
    jq -rR --argjson h "$(to_ms "$HOLD_DOWN")" '
      def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);
      split("\t") | (.[0] | tonumber) as $t | (.[1] | fromjson | .data)
      | select(.phase == "opened")
      | "\(.started_at | ms) \((.confirmed_at | ms) - (.started_at | ms) - $h) \($t - (.confirmed_at | ms))"' |
    sort -n >"$WORK/lags"
pcts() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "p50 %d, p90 %d, max %d ms", v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.9) + 1], v[NR] }'; }
lag_line() { # lag_line COLUMN LABEL
    local n; n=$(lines "$WORK/lags")
    echo "$2: $(cut -d' ' -f"$1" "$WORK/lags" | pcts); last 10% opened: $(tail -n $(((n + 9) / 10)) "$WORK/lags" | cut -d' ' -f"$1" | pcts)"
}

# CPU while the storm lasted (the correlator's share of one core) and after it
awk -v f="$FIRST_MS" -v l="$LAST_MS" -v e="$LAST_OUT" '
    { t[NR] = $1; c[NR] = $2 }
    function at(x,  i) { for (i = 1; i <= NR; i++) if (t[i] >= x) return c[i]; return c[NR] }
    END { printf "%d %d %d\n", at(f), at(l), at(e) }' "$WORK/samples" >"$WORK/cpu.marks"
read -r C_FIRST C_LAST C_END <"$WORK/cpu.marks"
read -r PUB_WALL PUB_U PUB_S PUB_KB <"$WORK/pub.time"
STORM_CPU_S=$(awk -v a="$READY_CPU" -v b="$END_CPU" -v k="$TCK" 'BEGIN { printf "%.2f", (b - a) / k }')

{
echo "== correlator storm: $SUBS subscribers, $ALARMS alarms in ${DURATION} s ($ORDER order), $(date -u +%F), load average before: $LOADAVG"
echo "config: hold_down $HOLD_DOWN (deliberate), clear_hold $CLEAR_HOLD, batch $BATCH; mock 3 brokers, farol.alarms 24 partitions; consumer: ${KAFKA_EXTRA:-librdkafka defaults}"
echo "storm: $NPOWER PONs power cut (onu-dying-gasp), $NFIBER PONs fiber cut (onu-los), 32 ONUs each"
echo "load: $(cat "$WORK/load.what"): $(secs "$LOAD_MS") s to loaded ($(secs "$DREADY_MS") s to \"daemon: ready\"), CPU $(awk -v c="$LOAD_CPU" -v k="$TCK" 'BEGIN { printf "%.2f", c / k }') s, peak RSS $((LOAD_HWM / 1024)) MB"
echo "ready (load + consumer group join, storm run): $(secs "$READY_MS") s, RSS $((READY_RSS / 1024)) MB"
awk -v n="$ALARMS" -v f="$FIRST_MS" -v l="$LAST_MS" -v a="$(pub last_ack_ms)" 'BEGIN {
    printf "alarms: %d sent in %.2f s = %.0f alarms/s achieved (last acked %d ms after sent)\n", n, (l - f) / 1000, n / ((l - f) / 1000), a - l }'
awk -v l="$LAST_MS" -v e="$LAST_OUT" -v f="$FIRST_MS" -v fo="$FIRST_OUT" -v h="$(to_ms "$HOLD_DOWN")" 'BEGIN {
    printf "settle: last outage event %.2f s after the last alarm (hold_down %.2f s of it is deliberate; the rest %.2f s); first outage event %.2f s after the first alarm\n", (e - l) / 1000, h / 1000, (e - l - h) / 1000, (fo - f) / 1000 }'
cat "$WORK/outage.summary"
lag_line 2 "confirm lag beyond hold_down"
lag_line 3 "confirm to message"
awk -v a="$C_FIRST" -v b="$C_LAST" -v c="$C_END" -v f="$FIRST_MS" -v l="$LAST_MS" -v e="$LAST_OUT" -v k="$TCK" 'BEGIN {
    printf "correlator CPU: %.2f s during the storm (%.0f%% of one core), %.2f s from the last alarm to the last event\n", (b - a) / k, 100 * (b - a) / k / ((l - f) / 1000), (c - b) / k }'
echo "correlator CPU from ready to final: $STORM_CPU_S s = $(awk -v n="$ALARMS" -v c="$STORM_CPU_S" 'BEGIN { printf "%.0f", n / c }') alarms per CPU-second; RSS at the end $((END_RSS / 1024)) MB, peak (VmHWM) $((HWM / 1024)) MB"
echo "publisher: CPU $(awk -v u="$PUB_U" -v s="$PUB_S" 'BEGIN { printf "%.2f", u + s }') s, peak RSS $((PUB_KB / 1024)) MB"
awk -v n="$KCAT_N" -v w="$KCAT_WALL" -v u="$KCAT_U" -v s="$KCAT_S" -v kb="$KCAT_KB" -v a="$ALARMS" -v cc="$STORM_CPU_S" 'BEGIN {
    printf "peer kcat -C of the same %d alarm messages: %.2f s wall, %.2f s CPU = %.0f msgs/s, %.0f msgs per CPU-second, peak RSS %d MB\n", n, w, u + s, n / w, n / (u + s), kb / 1024
    printf "ratio correlator/kcat: %.2fx the CPU per message (%.3f vs %.3f ms)\n", (cc / a) / ((u + s) / n), 1000 * cc / a, 1000 * (u + s) / n }'
echo "targets: settle <= 2 s after the last alarm; peak RSS < 500 MB"
if [ -s "$WORK/warnings" ]; then echo "correlator warnings:"; cat "$WORK/warnings"; fi
} | tee "${STORM_OUT:-/dev/null}"
[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP"; cp "$WORK"/{outages,lags,samples,pub.out,corr.log,load.log} "$KEEP"/; }
if [ -n "${PERF:-}" ]; then
    echo "== perf: where the correlator's CPU went (self, then children)"
    perf report -i "$PERF" --stdio --no-children --percent-limit 2 -g none 2>/dev/null | grep -E '^ +[0-9]' | head -25
    perf report -i "$PERF" --stdio --children --percent-limit 5 -g none 2>/dev/null | grep -E '^ +[0-9]' | head -30
fi
