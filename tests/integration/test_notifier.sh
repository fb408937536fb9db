#!/usr/bin/env bash
# The notifier stage against real peers (private redis-server, Kafka mock, Kannel with
# fakesmsc): outage events from the bus reach the affected subscribers' phones in their
# languages after the notify delay; a blip shorter than the delay tells no one; restorations
# follow only for those told; a redelivered event sends nothing twice; an ETA change reaches
# those told; an inbound STOP opts a number out; quiet hours defer a usage message in Redis;
# a short-notice maintenance window sends one notice; Kannel's delivery reports update each
# message's record; the NOC webhook gets one summary per outage event.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
start_redis
start_mock -b 1 -t farol.alarms:1 -t farol.outages:2 -t farol.deadletter:1 -t farol.maintenance:1 \
    -t farol.usage:1 -t farol.thresholds:1
read -r LPORT <<<"$(kannel_free_ports 1)"
export KANNEL_MO_URL="http://127.0.0.1:$LPORT/kannel/mo"
export KANNEL_SMSBOX_EXTRA=$'http-request-retry = 30\nhttp-queue-delay = 1'
start_kannel
kannel_http_sink noc
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

cat >"$WORK/topo.yaml" <<'YAML'
nodes:
  - {id: olt-1, kind: olt, area: centro}
  - {id: pon-1, kind: pon, parents: [olt-1]}
  - {id: onu-1, kind: onu, parents: [pon-1]}
subscribers:
  - {id: s1, node: onu-1, name: Maria, phones: ["+5511900000001"], locale: pt-BR}
  - {id: s2, node: onu-1, name: Pablo, phones: ["+5411900000002"], locale: es}
  - {id: s3, node: onu-1, name: Ann, phones: ["+4420700000003"], locale: en}
  - {id: s4, node: onu-1, name: Blip, phones: ["+5511900000004"], locale: en}
  - {id: s5, node: onu-1, name: Stop, phones: ["+5511900000005"], locale: pt-BR}
  - {id: s6, node: onu-1, name: Night, phones: ["+5511900000006"], locale: en, timezone: UTC, quiet_hours: "00:00-23:59"}
YAML
cat >"$WORK/farol.yaml" <<YAML
log: {level: debug}
redis: {address: "unix:$REDIS_SOCK"}
bus:
  transport: kafka
  kafka:
    brokers: "$BROKERS"
    properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500, reconnect.backoff.max.ms: 200, auto.commit.interval.ms: 200}
notifier:
  listen: "127.0.0.1:$LPORT"
  notify_delay: 2s
  noc_url: "$SINK_URL/noc"
  noc_format: alertmanager
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: $KANNEL_PASS, dlr_url: "http://127.0.0.1:$LPORT/kannel/dlr", rate: 50, burst: 10}
YAML
C=(--config "$WORK/farol.yaml")
"$FAROL" topology import "$WORK/topo.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
publish() { echo "$1" | "$FAROL" bus publish "${C[@]}" - >/dev/null 2>&1 || fail "publish: $1"; }
outage() { # outage ID SEQ PHASE ADDED_JSON RESTORED_JSON [EXTRA]
    local now; now=$(date -u +%s)
    publish "{\"v\":1,\"type\":\"outage\",\"ts\":\"$(iso "$now")\",\"data\":{\"id\":\"$1\",\"seq\":$2,\"phase\":\"$3\",\"status\":\"confirmed\",\"cause\":\"fiber-cut\",\"root\":\"pon-1\",\"area\":\"Centro\",\"started_at\":\"$(iso "$now")\",\"alarms\":[],\"affected\":{},\"affected_subscribers\":1,\"subscribers_added\":$4,\"subscribers_restored\":$5${6:-}}}"
}
sms_to() { kannel_sms_received "^[^ ]+ \\+?$1 "; }
record() { rcli GET "farol:notif:$1" | jq -r .status; }
start_bg "$WORK/n1.log" "$FAROL" run "${C[@]}" --role notifier
N=$LAST_PID
wait_for_log "$WORK/n1.log" "daemon: ready"

# -- an outage reaches three subscribers in their languages, after the delay --
outage o-1 1 opened '["s1","s2","s3"]' '[]'
t0=$(date +%s%N)
await "three outage messages" 15 kannel_has_sms '^[^ ]+ \+?(5511900000001|5411900000002|4420700000003) ' 3
elapsed=$((($(date +%s%N) - t0) / 1000000))
((elapsed >= 1500)) || fail "sent after ${elapsed} ms, before the 2 s notify delay"
kannel_has_sms 'Olá, Maria\. Identificamos uma falha no serviço em Centro' || fail "pt-BR text: $(kannel_sms_lines)"
kannel_has_sms 'Hola Pablo\. Detectamos una falla' || fail "es text: $(kannel_sms_lines)"
kannel_has_sms 'Hi Ann\. We.re aware of a service outage in Centro' || fail "en text: $(kannel_sms_lines)"
await "delivery report recorded" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK GET farol:notif:s1:o-1:outage-opened | jq -r .status)\" = delivered ]"
await "NOC summary" 10 grep -q '/noc' "$SINK_LOG"

# -- a blip: opened then restored within the delay tells no one --
outage o-2 1 opened '["s4"]' '[]'
outage o-2 2 resolved '[]' '["s4"]'
# -- redelivery of o-1's opened: nothing twice; an ETA change reaches those told --
outage o-1 1 opened '["s1","s2","s3"]' '[]'
eta=$(($(date -u +%s) + 7200))
outage o-1 2 updated '[]' '[]' ",\"eta\":\"$(iso "$eta")\""
await "three ETA updates" 15 kannel_has_sms '(Atualização sobre a falha|Novedades sobre la falla|Outage update)' 3
outage o-1 3 resolved '[]' '["s1","s2","s3"]'
await "three restorations" 15 kannel_has_sms '(foi restabelecido|ya fue restablecido|is back)' 3
for n in 5511900000001 5411900000002 4420700000003; do
    [ "$(sms_to $n)" = 3 ] || fail "$n got $(sms_to $n) messages, want opened+updated+restored: $(kannel_sms_lines)"
done
[ "$(sms_to 5511900000004)" = 0 ] || fail "the blip was notified: $(kannel_sms_lines)"
[ -z "$(rcli GET farol:notif:s4:o-2:outage-opened)" ] || fail "blip has a record"

# -- STOP through Kannel's MO opts the number out --
kannel_send_mo "+5511900000005" "STOP"
await "opt-out stored" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK EXISTS farol:optout:+5511900000005)\" = 1 ]"
outage o-3 1 opened '["s5"]' '[]'
await "opted-out recorded" 15 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK GET farol:notif:s5:o-3:outage-opened | jq -r .status)\" = opted-out ]"
[ "$(sms_to 5511900000005)" = 0 ] || fail "an opted-out number got a message"

# -- quiet hours: a usage message waits in Redis --
publish "{\"v\":1,\"type\":\"threshold\",\"ts\":\"$(iso "$(date +%s)")\",\"data\":{\"subscriber\":\"s6\",\"cycle\":\"2026-11\",\"percent\":80,\"used_octets\":80000000000,\"cap_octets\":100000000000,\"crossed_at\":\"$(iso "$(date +%s)")\"}}"
await "usage deferred" 15 bash -c "s=\$(redis-cli -s $REDIS_SOCK ZSCORE farol:notif:q:2 s6:2026-11#80:usage-threshold); [ -n \"\$s\" ] && [ \"\${s%.*}\" -gt $(($(date +%s) * 1000 + 30000)) ]"
[ "$(sms_to 5511900000006)" = 0 ] || fail "quiet hours ignored"

# -- a window starting in an hour: one notice now (the 48 h and 2 h ones have passed) --
st=$(($(date -u +%s) + 3600))
publish "{\"v\":1,\"type\":\"maintenance\",\"ts\":\"$(iso "$(date +%s)")\",\"data\":{\"id\":\"mw-1\",\"seq\":1,\"phase\":\"scheduled\",\"nodes\":[\"pon-1\"],\"starts_at\":\"$(iso $st)\",\"ends_at\":\"$(iso $((st + 3600)))\",\"description\":\"Troca de placa\",\"affected_subscribers\":1,\"subscribers\":[\"s1\"]}}"
await "maintenance notice" 15 kannel_has_sms 'Manutenção programada .*Troca de placa'
[ "$(kannel_sms_received 'Manutenção programada')" = 1 ] || fail "notices: $(kannel_sms_lines)"
grep -q "dead letter" "$WORK/n1.log" && fail "dead letters: $(grep 'dead letter' "$WORK/n1.log")"
echo "ok: notifier"
