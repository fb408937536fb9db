#!/usr/bin/env bash
# The collector end to end over SNMP: snmpsim serves a Huawei OLT, a ZTE OLT and a 48-port
# switch (tests/integration/data/snmprec/gen.sh); farol polls them with the shipped profiles
# and the correlator stage receives exactly the alarms the data implies, once each; a repaired
# fiber clears its ONUs; a frozen agent raises snmp-unresponsive without clearing anything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export MIBS= SNMP_PERSISTENT_DIR="$WORK/snmp"

recs="$WORK/recs"
"$FAROL_SRCDIR/tests/integration/data/snmprec/gen.sh" "$recs"
mkdir -p "$WORK/simcache"
chmod -R a+rwX "$WORK"
port=$((20000 + $$ % 20000))
# snmpsim refuses to run as root without dropping privileges.
start_bg "$WORK/snmpsim.log" snmpsimd --data-dir="$recs" --cache-dir="$WORK/simcache" \
    --agent-udpv4-endpoint=127.0.0.1:$port --process-user=nobody --process-group=nogroup
SIM=$LAST_PID
await "snmpsim to answer" 30 bash -c "snmpget -v2c -c switch48 -t 0.3 -r 0 127.0.0.1:$port 1.3.6.1.2.1.1.5.0 >/dev/null 2>&1"

# The operator's one-shot tool sees what the collector will see.
"$FAROL" snmp poll --config "$FAROL_SRCDIR/config/profiles.yaml" --profile huawei-gpon \
    -c huawei-olt 127.0.0.1:$port >"$WORK/poll.out"
grep -q "ok: snmp-unresponsive 0/1 onu-los 32/512 onu-dying-gasp 10/512 onu-offline 1/512 low-rx-power 1/512" \
    "$WORK/poll.out" || fail "farol snmp poll summary: $(tail -1 "$WORK/poll.out")"
grep -q "RAISE low-rx-power onu:4194315008.2 value=-28.90$" "$WORK/poll.out" || fail "poll lines"
if "$FAROL" snmp poll --config "$FAROL_SRCDIR/config/profiles.yaml" --profile generic \
    -c nobody -t 200 -r 0 127.0.0.1:$port >/dev/null 2>&1; then
    fail "a poll with a wrong community succeeded"
fi

start_redis
{
    cat <<YAML
log:
  level: debug
redis:
  address: unix:$REDIS_SOCK
YAML
    cat "$FAROL_SRCDIR/config/profiles.yaml" | grep -v '^#'
    cat <<YAML
  snmp:
    interval: 2s
    timeout: 300ms
    retries: 0
  credentials:
    - {name: hw, version: 2c, community: huawei-olt}
    - {name: zte, version: 2c, community: zte-olt}
    - {name: sw, version: 2c, community: switch48}
  traps:
    listen: "127.0.0.1:$((port + 1))"
    credentials: "sw"
  devices:
    # first: traps from 127.0.0.1 belong to the first device with that address
    - {name: sw-access-01, address: 127.0.0.1, snmp_port: $port, icmp: false, profile: generic, credentials: sw}
    - {name: olt-hw-01, address: 127.0.0.1, snmp_port: $port, icmp: false, profile: huawei-gpon, credentials: hw}
    - {name: olt-zte-01, address: 127.0.0.1, snmp_port: $port, icmp: false, profile: zte-gpon, credentials: zte}
YAML
} >"$WORK/farol.yaml"
"$FAROL" check-config "$WORK/farol.yaml" >/dev/null

LOG="$WORK/farol.log"
start_bg "$LOG" "$FAROL" run --config "$WORK/farol.yaml"
FAROL_PID=$LAST_PID
polls() { grep -c "SNMP poll done device=$1 status=$2" "$LOG" || true; }
raised() { grep "correlator: alarm raise" "$LOG" | grep -c "device=$1 .*kind=$2\$" || true; }
cleared() { grep "correlator: alarm clear" "$LOG" | grep -c "device=$1 .*kind=$2\$" || true; }
await "two good polls of each device" 30 bash -c "
    for d in olt-hw-01 olt-zte-01 sw-access-01; do
        [ \$(grep -c \"SNMP poll done device=\$d status=ok\" '$LOG') -ge 2 ] || exit 1
    done"
# Let the last poll's alarms cross the bus to the correlator.
await "alarms at the correlator" 10 bash -c "[ \$(grep -c 'correlator: alarm raise' '$LOG') -ge 86 ]"

check() { # check DEVICE KIND RAISED [CLEARED]
    local r c
    r=$(raised "$1" "$2")
    c=$(cleared "$1" "$2")
    [ "$r" -eq "$3" ] || fail "$1 $2: $r raised, expected $3"
    [ "$c" -eq "${4:-0}" ] || fail "$1 $2: $c cleared, expected ${4:-0}"
}
check olt-hw-01 onu-los 32         # the fiber cut on PON 3, once each over two polls
check olt-hw-01 onu-dying-gasp 10  # the power cut on PON 7
check olt-hw-01 onu-offline 1      # ONU 5 on PON 9, down after a reset
check olt-hw-01 low-rx-power 1     # ONU 2 on PON 11 at -28.90 dBm
check olt-zte-01 onu-los 32
check olt-zte-01 onu-dying-gasp 8
check olt-zte-01 onu-offline 1
check sw-access-01 link-down 1     # port 5; port 6 is shut down on purpose
grep "kind=low-rx-power" "$LOG" | grep -q "object=onu:4194315008.2 " || fail "low power object"

# A trap and the poll agree on (device, object, kind): linkDown for port 5, which the polls
# already hold down, is the same alarm (no second raise); linkDown for port 9 raises, and the
# next poll, which sees port 9 up, clears it. Informs return only once acknowledged.
inform() { snmpinform -v2c -c switch48 -t 2 -r 1 127.0.0.1:$((port + 1)) '' 1.3.6.1.6.3.1.1.5.3 \
    1.3.6.1.2.1.2.2.1.1.$1 i $1 1.3.6.1.2.1.2.2.1.8.$1 i 2 >/dev/null; }
inform 5 || fail "linkDown inform not acknowledged"
inform 9 || fail "linkDown inform not acknowledged"
await "trap raise if:9" 10 bash -c "grep 'correlator: alarm raise' '$LOG' | grep -q 'device=sw-access-01 object=if:9 kind=link-down\$'"
await "poll clear if:9" 15 bash -c "grep 'correlator: alarm clear' '$LOG' | grep -q 'device=sw-access-01 object=if:9 kind=link-down\$'"
[ "$(grep 'correlator: alarm raise' "$LOG" | grep -c 'device=sw-access-01 object=if:5 kind=link-down$')" -eq 1 ] ||
    fail "the linkDown trap for port 5 raised a second alarm"

# The fiber on Huawei PON 3 is repaired: its 32 ONUs come back.
awk '{ print }' "$recs/huawei-olt.snmprec" |
    sed -E 's/^(1\.3\.6\.1\.4\.1\.2011\.6\.128\.1\.1\.2\.46\.1\.15\.4194312960\.[0-9]+)\|2\|2$/\1|2|1/' \
        >"$WORK/hw.new"
mv "$WORK/hw.new" "$recs/huawei-olt.snmprec"
chmod a+r "$recs/huawei-olt.snmprec"
await "PON 3 restored" 30 bash -c "[ \$(grep 'correlator: alarm clear' '$LOG' | grep -c 'device=olt-hw-01 .*kind=onu-los\$') -ge 32 ]"
check olt-hw-01 onu-los 32 32

# Traffic on switch port 7: the next usage sample carries exactly the counters' growth.
sed -i -E 's/^(1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.6\.7)\|70\|([0-9]+)$/echo "\1|70|$((\2 + 5000000))"/e;
           s/^(1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.10\.7)\|70\|([0-9]+)$/echo "\1|70|$((\2 + 700000))"/e' \
    "$recs/switch48.snmprec"
await "usage of port 7" 30 grep -q "correlator: usage device=sw-access-01 object=if:7 rx=5000000 tx=700000" "$LOG"
grep -q "correlator: usage device=sw-access-01 object=if:8 rx=0 tx=0" "$LOG" || fail "idle port usage"

# A hung agent (still pinging, not answering SNMP): unresponsive, and nothing else clears.
before=$(grep -c "correlator: alarm clear" "$LOG")
kill -STOP "$SIM"
await "snmp-unresponsive" 30 bash -c "[ \$(grep 'correlator: alarm raise' '$LOG' | grep -c 'kind=snmp-unresponsive\$') -ge 3 ]"
[ "$(grep -c "correlator: alarm clear" "$LOG")" -eq "$before" ] || fail "a failed poll cleared alarms"
kill -CONT "$SIM"
await "recovery" 30 bash -c "[ \$(grep 'correlator: alarm clear' '$LOG' | grep -c 'kind=snmp-unresponsive\$') -ge 3 ]"

kill -TERM "$FAROL_PID"
wait "$FAROL_PID" || fail "farol exited non-zero"
echo "collector snmp: ok"
