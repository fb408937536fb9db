#!/usr/bin/env bash
# The trap and inform receiver (collector/snmp_trap.h) against net-snmp's own senders:
# snmptrap v1/v2c/v3 (authPriv SHA/AES with the device's engine id) and snmpinform v2c/v3
# (acknowledged: snmpinform exits 0 only then), over IPv4 and IPv6. The shipped profiles map
# linkDown/linkUp and the OLTs' ONU traps to the same (device, object, kind) as the polls.
# Garbage, a wrong community, an unknown source, an unknown v3 user and a wrong v3 password
# are counted per reason, raise nothing, and the receiver keeps working.
# tests/tools/trap_sink runs the receiver and prints REPORT and STATS lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export MIBS= SNMP_PERSISTENT_DIR="$WORK/snmp"

port=$((20000 + ($$ + 7) % 20000))
ENGINE=0x80001f8803aabbccddee01
{
    echo "log:"
    echo "  level: debug"
    grep -v '^#' "$FAROL_SRCDIR/config/profiles.yaml"
    cat <<YAML
  credentials:
    - {name: traps-v2c, version: 2c, community: trap-secret}
    - {name: traps-v3, version: 3, user: trapper, security_level: authPriv,
       auth_protocol: SHA, auth_password: auth-pass-1, priv_protocol: AES, priv_password: priv-pass-1}
  devices:
    - {name: sw-1, address: 127.0.0.1, icmp: false, profile: generic, credentials: traps-v2c,
       engine_id: "$ENGINE"}
    - {name: olt-hw-01, address: 127.0.0.2, icmp: false, profile: huawei-gpon, credentials: traps-v2c}
    - {name: olt-zte-01, address: 127.0.0.3, icmp: false, profile: zte-gpon, credentials: traps-v2c}
    - {name: core-v6, address: "::1", icmp: false, profile: generic, credentials: traps-v2c}
  traps:
    listen: "127.0.0.1:$port, [::1]:$port"
    credentials: "traps-v2c, traps-v3"
    log_interval: 0s
YAML
} >"$WORK/farol.yaml"
"$FAROL" check-config "$WORK/farol.yaml" >/dev/null

OUT="$WORK/sink.out"
"$TOOLS/trap_sink" "$WORK/farol.yaml" >"$OUT" 2>"$WORK/sink.log" &
SINK=$!
track "$SINK"
wait_for_log "$OUT" '^ready$' 10

to="127.0.0.1:$port"
ifindex=1.3.6.1.2.1.2.2.1.1
v2c() { snmptrap -v2c -c trap-secret "$@"; }
v3=(-u trapper -l authPriv -a SHA -A auth-pass-1 -x AES -X priv-pass-1)
reports() { grep -c '^REPORT' "$OUT" || true; }
stat_is() { tail -n1 < <(grep '^STATS' "$OUT") | grep -q " $1=$2\( \|$\)"; }
await_stat() { await "$1=$2 (last: $(grep '^STATS' "$OUT" | tail -n1))" 10 stat_is "$1" "$2"; }
expect() { wait_for_log "$OUT" "^REPORT $1 device=$2 object=$3 kind=$4 " 10; }

# linkDown then linkUp: raise then clear of if:7 on sw-1, like the links poll rule.
v2c "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.7 i 7
expect raise sw-1 if:7 link-down
snmptrap -v1 -c trap-secret "$to" 1.3.6.1.4.1.8072 127.0.0.1 3 0 '' $ifindex.7 i 7 # v1 linkUp
expect clear sw-1 if:7 link-down
[ "$(grep -c '^REPORT' "$OUT")" -eq 2 ] || fail "expected exactly two reports so far"

# Informs are acknowledged: snmpinform exits 0 only when the Response came back.
snmpinform -v2c -c trap-secret -t 2 -r 0 "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.9 i 9 ||
    fail "v2c inform not acknowledged"
expect raise sw-1 if:9 link-down
# v3 trap: authPriv SHA/AES, the receiver knows the sender's engine id from the config.
snmptrap -v3 -e "$ENGINE" "${v3[@]}" "$to" '' 1.3.6.1.6.3.1.1.5.4 $ifindex.9 i 9
expect clear sw-1 if:9 link-down
# v3 inform: the sender discovers the receiver's engine id first.
snmpinform -v3 "${v3[@]}" -t 2 -r 1 "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.11 i 11 ||
    fail "v3 inform not acknowledged"
expect raise sw-1 if:11 link-down
await_stat acked 2
# IPv6: the device at ::1.
snmptrap -v2c -c trap-secret "udp6:[::1]:$port" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.3 i 3
expect raise core-v6 if:3 link-down

# Vendor ONU traps, from the OLTs' own addresses, with the poll's row index.
hw=1.3.6.1.4.1.2011.6.128.1.1.2
v2c --clientaddr=127.0.0.2 "$to" '' $hw.0.14 $hw.46.1.15.4194312960.3 i 2
expect raise olt-hw-01 onu:4194312960.3 onu-los
v2c --clientaddr=127.0.0.2 "$to" '' $hw.0.16 $hw.46.1.15.4194312960.3 i 1
expect clear olt-hw-01 onu:4194312960.3 onu-los
expect clear olt-hw-01 onu:4194312960.3 onu-dying-gasp
expect clear olt-hw-01 onu:4194312960.3 onu-offline
zte=1.3.6.1.4.1.3902.1012.3.28.2
v2c --clientaddr=127.0.0.3 "$to" '' $zte.0.5 $zte.1.4.268501248.12 i 5
expect raise olt-zte-01 onu:268501248.12 onu-dying-gasp
good=$(reports)
await_stat traps 7

# Everything that must be dropped: counted per reason, nothing raised.
printf 'not snmp at all\x30\x82\xff' >"/dev/udp/127.0.0.1/$port"
await_stat malformed 1
snmptrap -v2c -c wrong-secret "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.5 i 5
await_stat bad_community 1
v2c --clientaddr=127.0.0.9 "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.5 i 5
await_stat unknown_source 1
snmptrap -v3 -e "$ENGINE" -u intruder -l authPriv -a SHA -A auth-pass-1 -x AES -X priv-pass-1 \
    "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.5 i 5
await_stat unknown_user 1
if snmpinform -v3 -u trapper -l authPriv -a SHA -A wrong-pass-1 -x AES -X priv-pass-1 -t 1 -r 0 \
    "$to" '' 1.3.6.1.6.3.1.1.5.3 $ifindex.5 i 5 2>/dev/null; then
    fail "an inform with a wrong v3 password was acknowledged"
fi
await_stat auth_failed 1
v2c "$to" '' 1.3.6.1.4.1.99999.0.1 $ifindex.5 i 5
await_stat unmapped 1
[ "$(reports)" -eq "$good" ] || fail "a dropped notification raised something: $(grep '^REPORT' "$OUT" | tail -n +$((good + 1)))"
grep -q "dropped from 127.0.0.9: unknown_source" "$WORK/sink.log" || fail "no drop log line"
! grep -q "trap-secret\|auth-pass-1\|priv-pass-1" "$WORK/sink.log" || fail "a secret reached the log"

# ...and the receiver still works.
v2c "$to" '' 1.3.6.1.6.3.1.1.5.4 $ifindex.11 i 11
expect clear sw-1 if:11 link-down

kill -TERM "$SINK"
wait "$SINK" || fail "trap_sink exited non-zero"
echo "traps: ok"
