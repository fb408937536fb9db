#!/usr/bin/env bash
# test_snmp_engine.sh: the collector's SNMP engine (through `farol snmp` and
# tests/tools/snmp_engine_check) against real snmpd agents: get, walks compared with
# snmpbulkwalk/snmpwalk, v1/v2c/v3 (SHA/AES, SHA-256/AES-256, SHA-512/AES-256), error reports,
# a frozen agent, per-device concurrency/rate/queue limits, 50 dead v3 agents not stalling the
# loop, and 1,000 devices at once (one snmpd in a private network namespace).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v snmpd >/dev/null || { echo "SKIP: snmpd not installed (apt-get install snmpd snmp)"; exit 77; }
export MIBS=
export SNMP_PERSISTENT_DIR=$WORK/cli
CHECK=$TOOLS/snmp_engine_check
DATA=$FAROL_SRCDIR/tests/integration/data/snmp
NS=farol-snmp-$$
trap 'cleanup; ip netns del "$NS" 2>/dev/null || true' EXIT

# A fresh address and port per run, so parallel or leftover agents never answer for ours.
ADDR=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
PORT=$((20000 + RANDOM % 20000))
T=$ADDR:$PORT
UPTIME=1.3.6.1.2.1.1.3.0
SYSNAME=1.3.6.1.2.1.1.5.0

agent_up() { snmpget -v2c -c public -t 0.2 -r 0 "$1" $UPTIME >/dev/null 2>&1; }

start_snmpd() { # start_snmpd NAME ADDRESS...: an snmpd with the test config, awaited
    local name=$1
    shift
    mkdir -p "$WORK/$name"
    SNMP_PERSISTENT_DIR=$WORK/$name start_bg "$WORK/$name.err" snmpd -f -Lf "$WORK/$name.log" \
        -C -c "$DATA/snmpd.conf" "$@"
    SNMPD_PID=$LAST_PID
}

norm() { # join wrapped lines, blank out values that move between two walks
    awk '/^\./ { if (l != "") print l; l = $0; next } { l = l " " $0 } END { if (l != "") print l }' |
        sed -E 's/= (Counter32|Counter64|Timeticks): .*/= \1/; s/[[:space:]]+$//'
}

start_snmpd agent "udp:$T"
AGENT=$SNMPD_PID
await "snmpd on $T" 10 agent_up "$T"

echo "== get sysUpTime and sysName"
out=$("$FAROL" snmp get "$T" $UPTIME)
[[ $out == "$T .1.3.6.1.2.1.1.3.0 = Timeticks: ("* ]] || fail "sysUpTime: $out"
out=$("$FAROL" snmp get "$T" $SYSNAME)
[ "$out" = "$T .1.3.6.1.2.1.1.5.0 = STRING: \"farol-test-agent\"" ] || fail "sysName: $out"

compare_walk() { # compare_walk LABEL OID FAROL_ARGS -- NETSNMP_CMD...
    local label=$1 oid=$2
    shift 2
    local fargs=()
    while [ "$1" != "--" ]; do fargs+=("$1"); shift; done
    shift
    "$FAROL" snmp walk "${fargs[@]}" "$T" "$oid" | sed "s/^$T //" | norm >"$WORK/farol.$label"
    "$@" -On "$T" "$oid" | norm >"$WORK/netsnmp.$label"
    [ -s "$WORK/farol.$label" ] || fail "$label: farol walked nothing"
    diff "$WORK/netsnmp.$label" "$WORK/farol.$label" >&2 || fail "$label: walk differs from net-snmp"
    echo "   $label: $(wc -l <"$WORK/farol.$label") varbinds identical"
}

echo "== walks match net-snmp's tools"
compare_walk system-v2c 1.3.6.1.2.1.1 -- snmpbulkwalk -v2c -c public
compare_walk iftable-v2c 1.3.6.1.2.1.2.2 --max-repetitions 7 -- snmpbulkwalk -v2c -c public
compare_walk system-v1 1.3.6.1.2.1.1 -v 1 -- snmpwalk -v1 -c public
compare_walk iftable-v1 1.3.6.1.2.1.2.2 -v 1 -- snmpwalk -v1 -c public
compare_walk v3-sha-aes 1.3.6.1.2.1.1 -v 3 -u usha -l authPriv -a SHA -A authpass1 -x AES \
    -X privpass1 -- snmpbulkwalk -v3 -u usha -l authPriv -a SHA -A authpass1 -x AES -X privpass1
compare_walk v3-sha256-aes256 1.3.6.1.2.1.2.2 -v 3 -u usha256 -a SHA-256 -A authpass2 \
    -x AES-256 -X privpass2 -- snmpbulkwalk -v3 -u usha256 -l authPriv -a SHA-256 -A authpass2 \
    -x AES-256 -X privpass2
compare_walk v3-sha512-aes256 1.3.6.1.2.1.1 -v 3 -u usha512 -a SHA-512 -A authpass3 \
    -x AES-256 -X privpass3 -- snmpbulkwalk -v3 -u usha512 -l authPriv -a SHA-512 -A authpass3 \
    -x AES-256 -X privpass3

expect_error() { # expect_error PATTERN FAROL_SNMP_ARGS...: exit status 1 and PATTERN on stderr
    local pat=$1 rc=0
    shift
    "$FAROL" snmp "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq 1 ] || fail "farol snmp $*: exit $rc, expected 1 ($(cat "$WORK/err"))"
    grep -q -- "$pat" "$WORK/err" || fail "farol snmp $*: wanted '$pat', got: $(cat "$WORK/err")"
    echo "   $(cat "$WORK/err")"
}

echo "== errors are reported clearly"
expect_error "error: timeout" get -c wrong -t 200 -r 1 "$T" $UPTIME
expect_error "authentication failure" get -v 3 -u usha -a SHA -A wrongpass1 -x AES -X privpass1 \
    "$T" $SYSNAME
expect_error "unknown user name" get -v 3 -u nobody -a SHA -A authpass1 -x AES -X privpass1 "$T" \
    $SYSNAME
expect_error "unsupported security level" get -v 3 -u uauth -a SHA -A authpass4 -x AES \
    -X privpass4 "$T" $SYSNAME
expect_error "noSuchName" get -v 1 "$T" 1.3.6.1.2.1.1.99.0

echo "== per-device limits"
"$CHECK" inflight "$T" 200 4 || fail "max_in_flight not respected"
"$CHECK" rate "$T" 21 100 || fail "max_rate not respected"
"$CHECK" queue "$T" 5 || fail "queue limit not enforced"

echo "== frozen agent: timeout within timeout*(retries+1), then recovery"
kill -STOP "$AGENT"
res=$("$CHECK" get "$T" 300 2)
kill -CONT "$AGENT"
echo "   frozen: $res"
ms=${res##*elapsed_ms=}
[[ $res == status=-110* ]] || fail "frozen agent: $res"
((ms >= 900 && ms < 1400)) || fail "frozen agent: gave up after $ms ms, expected ~900"
res=$("$CHECK" get "$T" 1000 1)
echo "   thawed: $res"
[[ $res == status=0* ]] || fail "no recovery after SIGCONT: $res"

echo "== 50 dead v3 agents do not stall the loop"
"$CHECK" dead-v3 $((PORT + 1)) 50 400 || fail "dead v3 agents stalled the loop"

echo "== 1,000 devices at once (private network namespace)"
if ! ip netns add "$NS" 2>/dev/null; then
    echo "   SKIP: cannot create a network namespace here"
else
    ip -n "$NS" link set lo up
    mkdir -p "$WORK/nsagent"
    SNMP_PERSISTENT_DIR=$WORK/nsagent start_bg "$WORK/nsagent.err" ip netns exec "$NS" \
        snmpd -f -Lf "$WORK/nsagent.log" -C -c "$DATA/snmpd.conf" udp:1161
    await "snmpd in $NS" 10 ip netns exec "$NS" snmpget -v2c -c public -t 0.2 -r 0 127.0.0.1:1161 \
        $UPTIME
    for i in $(seq 0 999); do echo "127.1.$((i / 250)).$((i % 250 + 1)):1161"; done >"$WORK/targets"
    ip netns exec "$NS" "$FAROL" snmp get -q -t 2000 -r 2 -f "$WORK/targets" $SYSNAME \
        2>"$WORK/many" || fail "1,000 devices: $(tail -5 "$WORK/many")"
    grep -q "^1000 targets, 0 failed, 1000 varbinds" "$WORK/many" || fail "$(cat "$WORK/many")"
    ip netns exec "$NS" "$FAROL" snmp walk -t 2000 -r 2 -f "$WORK/targets" 1.3.6.1.2.1.1 \
        >"$WORK/walks" 2>"$WORK/many" || fail "1,000 walks: $(tail -5 "$WORK/many")"
    per=$(grep -c '^127.1.0.1:1161 ' "$WORK/walks")
    total=$(wc -l <"$WORK/walks")
    devices=$(cut -d' ' -f1 "$WORK/walks" | sort -u | wc -l)
    [ "$devices" -eq 1000 ] && [ "$total" -eq $((per * 1000)) ] ||
        fail "1,000 walks: $devices devices, $total varbinds, $per for the first"
    echo "   1000 gets and 1000 walks ($total varbinds) answered"
fi
echo "PASS"
