#!/usr/bin/env bash
# bench/notifier.sh [--quick]: the notifier benchmark of issue #5. The synthetic ISP of
# bench/lib/isp.sh (SUBS subscribers, default 100,000, E.164 phones) is imported into a private
# redis-server; each part runs its own `farol run --role notifier` against it and a fresh Kafka
# mock, sending through a channel of kind http to bench/bench_http_sink (farol's own embedded
# HTTP server, core/httpd.c, on 127.0.0.1; it answers 200 "OK" and timestamps every request).
# Outage events are published with `farol bus publish`, SUBS ids split into events of at most
# 2,000 subscribers_added (EVENT_MAX_IDS); the notifier's queues are emptied between parts.
#
#   throughput: N messages (default SUBS) with notify_delay 0, rate 100000/s, burst 100000,
#               max_inflight INFLIGHT (default 256): msg/s at the sink from its first request to
#               its last; the notifier's CPU and peak RSS (VmHWM), Redis's CPU, the connections
#               farol held to the sink; then wrk against the same sink URL with the same request
#               (form POST) at -c INFLIGHT, and at -c equal to the connections farol used; then
#               bench_http_floor, farol's HTTP client alone (libcurl multi on the loop, no Redis,
#               no templates, no bus) sending N of that request at -c INFLIGHT: the ceiling of
#               any notifier built on libcurl here.
#               Targets: >= 10,000 msg/s and >= 0.5x wrk. Then the CPU each party spent a
#               message (notifier, Redis, Kafka mock, the sink under farol and under wrk,
#               libcurl alone) and the budget 0.5x wrk would need on this machine: what the sink
#               and libcurl alone take of its cores and of one notifier loop, and what is left a
#               message for everything else.
#   rate:       RATE (default 200) msg/s with burst BURST (default 1), RATE x (SECS + 5) messages
#               queued (>= 12,000 at the defaults): over SECS s (60; 10 with --quick) from the
#               first request, the most requests in any sliding 1 s window (must be <= RATE +
#               BURST) and the average (within 2 % of RATE); the notifier's CPU meanwhile.
#   fan-out:    one outage with SUBS subscribers, notify_delay 1h (nothing becomes due): time
#               from starting `farol bus publish` until ZCARD farol:notif:q:0 reaches SUBS, the
#               notifier's peak RSS and Redis's memory growth.
# Every notifier is ready (consumer group joined) before its events are published: a probe
# outage of cause "planned" (which queues nothing) must reach Redis first.
# NOTIFIERS=K runs the throughput part with K notifier instances side by side (one consumer
# group, one set of Redis queues: the claims keep every message to one send); CPU is their sum,
# RSS the largest, max_inflight is per instance.
# Env: SUBS, N, INFLIGHT, NOTIFIERS (1), RATE, BURST, SECS, WRK_SECS (10), BUILD (build-bench: release);
# PERF=FILE records the throughput part's notifier with `perf record` and prints the top of
# `perf report`; KEEP=DIR keeps the raw files (sink arrival times, logs, events).
# Needs wrk (apt-get install -y wrk, done here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
SUBS=${SUBS:-100000}
N=${N:-$SUBS}
INFLIGHT=${INFLIGHT:-256}
NOTIFIERS=${NOTIFIERS:-1}
RATE=${RATE:-200}
BURST=${BURST:-1}
SECS=${SECS:-$((QUICK ? 10 : 60))}
WRK_SECS=${WRK_SECS:-10}
BUILD=${BUILD:-build-bench}
((N <= SUBS)) || N=$SUBS
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release >/dev/null
ninja -C "$BUILD" -j2 daemon/farol tests/tools/kafka_mock bench/bench_http_sink bench/bench_http_floor >/dev/null
export FAROL=$PWD/$BUILD/daemon/farol FAROL_BUILDDIR=$PWD/$BUILD FAROL_SRCDIR=$PWD
. tests/integration/lib.sh
. bench/lib/isp.sh
now() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
cpu_s() { awk -v a="$1" -v b="$2" -v k="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / k }'; }
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

# -- peers: Redis with the topology, the sink --
start_redis
REDIS_PID=${PIDS[-1]}
printf 'redis:\n  address: unix:%s\n  command_timeout: 60s\n' "$REDIS_SOCK" >"$WORK/import.yaml"
t0=$(now)
isp_gen
"$FAROL" topology import "$WORK/nodes.csv" "$WORK/subscribers.csv" "$WORK/bindings.csv" \
    --config "$WORK/import.yaml" >"$WORK/import.out" 2>"$WORK/import.err" ||
    fail "import: $(cat "$WORK/import.err")"
rm -f "$WORK"/*.csv
IMPORT_MS=$(($(now) - t0))
start_bg "$WORK/sink.log" "$FAROL_BUILDDIR/bench/bench_http_sink" --port-file "$WORK/sink.port"
SINK_PID=$LAST_PID
await "the sink's port" 10 test -s "$WORK/sink.port"
SPORT=$(cat "$WORK/sink.port")
SINK="http://127.0.0.1:$SPORT"
sink_stats() { curl -sf "$SINK/_sink/stats"; }
sink_count() { sink_stats | cut -d' ' -f1; }
has_sent() { (($(sink_count) >= $1)); }
BODY='to={{to}}&text={{text}}&id={{id}}'

# -- one notifier per part, on a fresh mock and empty notifier queues --
notifier_conf() { # DELAY RATE BURST
    cat <<YAML
log: {level: info}
redis: {address: "unix:$REDIS_SOCK", command_timeout: 60s}
$(bus_yaml "fetch.wait.max.ms: 10")
notifier:
  notify_delay: $1
  max_inflight: $INFLIGHT
  channels:
    - {name: gw, kind: http, url: "$SINK/sms", body: "$BODY", body_encoding: form, rate: $2, burst: $3}
YAML
}
outage_line() { # ID SEQ PHASE CAUSE IDS_JSON
    local t; t=$(iso "$(date -u +%s)")
    printf '{"v":1,"type":"outage","ts":"%s","data":{"id":"%s","seq":%d,"phase":"%s","status":"confirmed","cause":"%s","root":"pon-0","area":"Centro","started_at":"%s","alarms":[],"affected":{},"affected_subscribers":%d,"subscribers_added":%s,"subscribers_restored":[]}}\n' \
        "$t" "$1" "$2" "$3" "$4" "$t" "$SUBS" "$5"
}
events() { # ID COUNT: one outage adding sub-0 .. sub-(COUNT-1), 2,000 ids an event
    local id=$1 count=$2 seq=0 from ids
    for ((from = 0; from < count; from += 2000)); do
        seq=$((seq + 1))
        ids=$(awk -v a="$from" -v b="$count" 'BEGIN { e = a + 2000 < b ? a + 2000 : b
            for (i = a; i < e; i++) printf "%s\"sub-%d\"", (i > a ? "," : "["), i; print "]" }')
        outage_line "$id" "$seq" "$([ $seq = 1 ] && echo opened || echo updated)" fiber-cut "$ids"
    done
}
publish() { "$FAROL" bus publish --config "$CONF" - >/dev/null 2>"$WORK/publish.err" || fail "publish: $(cat "$WORK/publish.err")"; }
start_part() { # NAME DELAY RATE BURST [INSTANCES]: mock, config, notifiers (NPID, NPIDS), joined
    [ -z "${MOCK_PID:-}" ] || { kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true; }
    rcli --scan --pattern 'farol:notif:*' | xargs -r -n 1000 redis-cli -s "$REDIS_SOCK" UNLINK >/dev/null
    start_farol_mock
    CONF=$WORK/$1.yaml
    notifier_conf "$2" "$3" "$4" >"$CONF"
    NPIDS=()
    local i log
    for ((i = 0; i < ${5:-1}; i++)); do
        log=$WORK/$1.log
        ((i == 0)) || log=$WORK/$1.$i.log
        start_bg "$log" "$FAROL" run --config "$CONF" --role notifier
        NPIDS+=("$LAST_PID")
        wait_for_log "$log" "daemon: ready" 30
    done
    NPID=${NPIDS[0]}
    if ((${5:-1} > 1)); then # every instance has its partitions (the group has rebalanced)
        for log in "$WORK/$1".*.log; do
            await "$(basename "$log") in the group" 30 grep -q 'partitions assigned' "$log"
        done
    fi
    outage_line "probe-$1" 1 opened planned '[]' | publish
    await "the $1 notifier to join the bus" 30 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK HEXISTS farol:notif:ctx:probe-$1 kind)\" = 1 ]"
}
stop_part() { # LOG: stop the notifiers; their warnings and errors, counted, go to the report
    local p
    kill -TERM "${NPIDS[@]}"
    for p in "${NPIDS[@]}"; do wait "$p" || fail "notifier: exit status $?"; done
    grep -hE ' (warn|error) ' "${1%.log}"*.log | cut -d' ' -f2- | sort | uniq -c | sort -rn | head -3 |
        sed "s|^|$(basename "$1" .log) notifier warning: |" >>"$WORK/warnings" || true
}
cpu_all() { local p t=0; for p in "${NPIDS[@]}"; do t=$((t + $(cpu_ticks "$p"))); done; echo "$t"; }
hwm_max() { local p m=0 v; for p in "${NPIDS[@]}"; do v=$(status_kb "$p" VmHWM); ((v > m)) && m=$v; done; echo "$m"; }
await_sent() { # COUNT SECONDS: the sink has COUNT requests, the notifier still running
    local deadline=$((SECONDS + $2))
    until has_sent "$1"; do
        kill -0 "$NPID" 2>/dev/null || fail "notifier died: $(tail -5 "$WORK"/*.log)"
        ((SECONDS < deadline)) || fail "the sink has $(sink_count) of $1 messages after $2 s"
        sleep 0.2
    done
}
conns() { ss -Htn state established "( dport = :$SPORT )" | wc -l; }

# -- throughput --
events o-tp "$N" >"$WORK/tp.events"
start_part tp 0s 100000 100000 "$NOTIFIERS"
curl -sf -X POST "$SINK/_sink/reset" >/dev/null
C0=$(cpu_all) R0=$(cpu_ticks "$REDIS_PID") S0=$(cpu_ticks "$SINK_PID") K0=$(cpu_ticks "$MOCK_PID")
(while :; do conns; sleep 0.5; done) >"$WORK/conns" 2>/dev/null &
track $!
CONNS_PID=$!
if [ -n "${PERF:-}" ]; then
    perf record ${PERF_ARGS:--F 499 -g} -p "$NPID" -o "$PERF" >/dev/null 2>"$WORK/perf.err" &
    PERF_PID=$!
    track $PERF_PID
fi
rcli CONFIG RESETSTAT >/dev/null
TP_PUB=$(now)
publish <"$WORK/tp.events"
await_sent "$N" 300
TP_DONE=$(now)
C1=$(cpu_all) R1=$(cpu_ticks "$REDIS_PID") S1=$(cpu_ticks "$SINK_PID") K1=$(cpu_ticks "$MOCK_PID")
TP_HWM=$(hwm_max)
kill "$CONNS_PID"
rcli INFO commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_/ { sub("cmdstat_", "", $1); print $3, $1, $5 }' |
    sort -rn >"$WORK/tp.cmdstats"
if [ -n "${PERF:-}" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
read -r TP_N TP_FIRST TP_LAST < <(sink_stats)
TP_CONNS=$(sort -n "$WORK/conns" | tail -1)
stop_part "$WORK/tp.log"

# -- wrk against the same sink and request --
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "to=%2B5511900012345&text=Ol%C3%A1%2C%20Subscriber%2012345.%20Identificamos%20uma%20falha%20no%20servi%C3%A7o%20em%20Centro.%20J%C3%A1%20estamos%20trabalhando%20para%20resolver.&id=sub-12345%3Ao-tp%3Aoutage-opened"
LUA
run_wrk() { # CONNECTIONS: requests/s
    curl -sf -X POST "$SINK/_sink/reset" >/dev/null
    wrk -t2 -c"$1" -d"${WRK_SECS}s" -s "$WORK/post.lua" "$SINK/sms" >"$WORK/wrk.$1" 2>&1
    awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$WORK/wrk.$1"
}
W0=$(cpu_ticks "$SINK_PID")
WRK_HI=$(run_wrk "$INFLIGHT")
W1=$(cpu_ticks "$SINK_PID") # the sink's CPU a request: sink_count is what it answered
WRK_SINK_N=$(sink_count)
WRK_LO=$(run_wrk "$TP_CONNS")
# -- libcurl alone (bench_http_floor: the notifier's HTTP client, nothing else) --
curl -sf -X POST "$SINK/_sink/reset" >/dev/null
FLOOR_BODY=$(awk -F'"' '/^wrk.body/ { print $2 }' "$WORK/post.lua")
read -r _ FLOOR_OK _ FLOOR_RATE FLOOR_CPU < <("$FAROL_BUILDDIR/bench/bench_http_floor" --url "$SINK/sms" \
    --body "$FLOOR_BODY" -n "$N" -c "$INFLIGHT") || fail "bench_http_floor"
((FLOOR_OK == N)) || fail "bench_http_floor: $FLOOR_OK of $N answered 200"

# -- rate --
RN=$((RATE * (SECS + 5)))
events o-rate "$RN" >"$WORK/rate.events"
start_part rate 0s "$RATE" "$BURST"
curl -sf -X POST "$SINK/_sink/reset" >/dev/null
publish <"$WORK/rate.events"
await "the first rate-limited message" 60 has_sent 1
C2=$(cpu_ticks "$NPID")
sleep $((SECS + 1))
C3=$(cpu_ticks "$NPID") RATE_HWM=$(status_kb "$NPID" VmHWM)
curl -sf "$SINK/_sink/times" >"$WORK/rate.times"
stop_part "$WORK/rate.log"
awk -v secs="$SECS" -v rate="$RATE" -v burst="$BURST" '
    NR == 1 { t0 = $1 } $1 < t0 + secs * 1e6 { t[n++] = $1; b[int(($1 - t0) / 1e6)]++ }
    END {
        for (i = j = 0; i < n; i++) { while (j < n && t[j] < t[i] + 1e6) j++; if (j - i > mx) mx = j - i }
        bmin = b[0]; bmax = b[0]; for (s = 0; s < secs; s++) { if (b[s] < bmin) bmin = b[s]; if (b[s] > bmax) bmax = b[s] }
        avg = n / secs
        printf "%d %d %.2f %.2f %d %d\n", n, mx, avg, 100 * (avg - rate) / rate, bmin, bmax
    }' "$WORK/rate.times" >"$WORK/rate.stats"
read -r RATE_N RATE_MAX RATE_AVG RATE_ERR RATE_BMIN RATE_BMAX <"$WORK/rate.stats"

# -- fan-out --
events o-fan "$SUBS" >"$WORK/fan.events"
start_part fan 1h 100000 100000
M0=$(rcli INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
RSS0=$(status_kb "$NPID" VmRSS) F0=$(cpu_ticks "$NPID")
FAN_PUB=$(now)
publish <"$WORK/fan.events" &
PUB_PID=$!
q0() { (($(rcli ZCARD farol:notif:q:0) >= SUBS)); }
deadline=$((SECONDS + 300))
until q0; do
    ((SECONDS < deadline)) || fail "farol:notif:q:0 holds $(rcli ZCARD farol:notif:q:0) of $SUBS"
    sleep 0.05
done
FAN_DONE=$(now)
wait "$PUB_PID" || fail "fan-out publish"
F1=$(cpu_ticks "$NPID") FAN_HWM=$(status_kb "$NPID" VmHWM)
M1=$(rcli INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
stop_part "$WORK/fan.log"

awk -v n="$TP_N" -v f="$TP_FIRST" -v l="$TP_LAST" -v p="$TP_PUB" -v w="$WRK_HI" -v wl="$WRK_LO" \
    -v c="$(cpu_s "$C0" "$C1")" -v r="$(cpu_s "$R0" "$R1")" -v hwm="$TP_HWM" -v inf="$INFLIGHT" \
    -v conns="$TP_CONNS" -v done="$TP_DONE" -v dir="$WORK" -v fr="$FLOOR_RATE" -v fc="$FLOOR_CPU" -v inst="$NOTIFIERS" \
    -v sk="$(cpu_s "$S0" "$S1")" -v mk="$(cpu_s "$K0" "$K1")" -v ws="$(cpu_s "$W0" "$W1")" -v wn="$WRK_SINK_N" -v cores="$(nproc)" 'BEGIN { fl = (l - f) / 1e6; rate = (n - 1) / fl
    printf "throughput: %d messages in %.2f s from the first request to the last = %.0f msg/s (first request %.2f s after publishing began; all sent %.2f s after it)\n", n, fl, rate, (f / 1000 - p) / 1000, (done - p) / 1000
    printf "notifier (%d instance%s): CPU %.2f s (%.0f%% of one core over the run, %.0f msg per CPU-second), peak RSS (VmHWM) %d MB; Redis CPU %.2f s; connections to the sink: %d (max_inflight %d)\n", inst, (inst > 1 ? "s" : ""), c, 100 * c / ((done - p) / 1000), n / c, hwm / 1024, r, conns, inf
    while ((getline line < (dir "/tp.cmdstats")) > 0) { split(line, a, " "); cmds += a[1]; us += a[3]
        if (a[2] == "zrangebyscore") rounds = a[1] / 4; if (k++ < 6) top = top sprintf("%s %s %s", k > 1 ? "," : "", a[2], a[1]) }
    printf "Redis meanwhile: %d commands (%.1f per message, %.2f s inside Redis); %d dispatch rounds (ZRANGEBYSCORE / 4), %.1f messages per round; most called:%s\n", cmds, cmds / n, us / 1e6, rounds, n / rounds, top
    printf "peer wrk -t2, same sink and request: %d req/s at -c %d, %d req/s at -c %d\n", w, inf, wl, conns
    printf "libcurl alone (bench_http_floor: farol'"'"'s HTTP client and nothing else, -c %d): %d req/s, %.2f CPU-s for %d = %.2fx wrk; farol reaches %.2fx of it\n", inf, fr, fc, n, fr / w, rate / fr
    printf "ratio farol/wrk: %.2fx at -c %d (target >= 0.5x), %.2fx at -c %d; target >= 10,000 msg/s: %s\n", rate / w, inf, rate / wl, conns, (rate >= 10000 ? "met" : "missed")
    # CPU a message, in microseconds: who pays what, and what 0.5x wrk would cost on this machine
    us_sink = 1e6 * ws / wn; us_curl = 1e6 * fc / n; us_n = 1e6 * c / n; us_r = 1e6 * r / n; us_k = 1e6 * mk / n
    printf "CPU a message (us): notifier %.1f (libcurl alone %.1f of it at best), Redis %.1f, Kafka mock %.1f, sink %.1f under farol (%.1f under wrk); wrk meanwhile kept the sink at %.0f%% of a core\n", us_n, us_curl, us_r, us_k, 1e6 * sk / n, us_sink, 100 * ws / (wn / w)
    half = w / 2; need = half * (us_sink + us_curl) / 1e6; own = us_n - us_curl + us_r + us_k
    printf "budget at 0.5x wrk (%.0f msg/s) on %d cores: the sink and libcurl alone take %.2f cores, leaving %s a message for everything else; farol'"'"'s own share now is %.1f us (notifier beyond libcurl %.1f, Redis %.1f, Kafka mock %.1f): %.2f cores in all\n", half, cores, need, (need < cores ? sprintf("%.1f us", (cores - need) * 1e6 / half) : "nothing"), own, us_n - us_curl, us_r, us_k, need + half * own / 1e6
    loop = half * us_curl / 1e6
    printf "one notifier loop at %.0f msg/s: libcurl alone takes %.2f of its one core, leaving %s a message for the notifier'"'"'s own work (%.1f us now)\n", half, loop, (loop < 1 ? sprintf("%.1f us", (1 - loop) * 1e6 / half) : "nothing"), us_n - us_curl
}' >"$WORK/report"
awk -v n="$RATE_N" -v mx="$RATE_MAX" -v avg="$RATE_AVG" -v err="$RATE_ERR" -v rate="$RATE" \
    -v burst="$BURST" -v secs="$SECS" -v q="$RN" -v bmin="$RATE_BMIN" -v bmax="$RATE_BMAX" \
    -v c="$(cpu_s "$C2" "$C3")" -v hwm="$RATE_HWM" 'BEGIN {
    printf "rate: %d/s, burst %d, %d queued: %d sent in the first %d s = %.2f/s (%+.2f%%; target within 2%%); whole seconds %d..%d; most in any sliding 1 s window %d (limit %d): %s\n", rate, burst, q, n, secs, avg, err, bmin, bmax, mx, rate + burst, (mx <= rate + burst && (err < 0 ? -err : err) <= 2) ? "met" : "MISSED"
    printf "rate-limited notifier: CPU %.2f s over %d s (%.0f%% of one core), peak RSS %d MB\n", c, secs + 1, 100 * c / (secs + 1), hwm / 1024 }' >>"$WORK/report"
awk -v s="$SUBS" -v p="$FAN_PUB" -v d="$FAN_DONE" -v hwm="$FAN_HWM" -v rss="$RSS0" \
    -v c="$(cpu_s "$F0" "$F1")" -v m0="$M0" -v m1="$M1" 'BEGIN {
    printf "fan-out: one outage, %d subscribers in %d events: all %d messages scheduled in farol:notif:q:0 %.2f s after publishing began (%.0f msg/s); notifier CPU %.2f s, RSS %d MB at ready, peak (VmHWM) %d MB; Redis used_memory +%.1f MB\n", s, (s + 1999) / 2000, s, (d - p) / 1000, s / ((d - p) / 1000), c, rss / 1024, hwm / 1024, (m1 - m0) / 1048576 }' >>"$WORK/report"
{
    echo "== notifier: $SUBS subscribers (imported in $(secs "$IMPORT_MS") s), $(date -u +%F), load average before: $LOADAVG, build $BUILD"
    cat "$WORK/report"
    cat "$WORK/warnings" 2>/dev/null || true
} | tee "${NOTIFIER_OUT:-/dev/null}"
[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP"; cp "$WORK"/{*.log,rate.times,wrk.*,*.yaml,tp.cmdstats} "$KEEP"/; }
if [ -n "${PERF:-}" ]; then
    echo "== perf: where the throughput notifier's CPU went (self)"
    perf report -i "$PERF" --stdio --no-children --percent-limit 1.5 -g none 2>/dev/null | grep -E '^ +[0-9]' | head -30
fi
