#!/usr/bin/env bash
# The notifier stage against real peers (private redis-server, Kafka mock, Kannel with
# fakesmsc): outage events from the bus reach the affected subscribers' phones in their
# languages after the notify delay; a blip shorter than the delay tells no one; restorations
# follow only for those told; a redelivered event sends nothing twice; an ETA change reaches
# those told; an inbound STOP opts a number out (of restorations too); quiet hours defer a
# usage message in Redis; a short-notice maintenance window sends one notice; Kannel's delivery reports update each
# message's record; the NOC webhook gets one summary per outage event; WhatsApp (a local server
# speaking the Cloud API, which posts signed status webhooks back) falls back to SMS only for
# the message it never reported delivered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
start_redis
start_farol_mock
read -r LPORT <<<"$(kannel_free_ports 1)"
KKEY=kannel-shared-key # Kannel's calls carry it (notifier.kannel_key)
export KANNEL_MO_URL="http://127.0.0.1:$LPORT/kannel/mo?key=$KKEY"
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
  - {id: s7, node: onu-1, name: Tele, telegram: "123456", channels: [telegram], locale: en}
  - {id: s8, node: onu-1, name: Zap, phones: ["+5511900000008"], channels: [whatsapp, sms], locale: pt-BR}
  - {id: s9, node: onu-1, name: Lost, phones: ["+5511900000009"], channels: [whatsapp, sms], locale: pt-BR}
YAML
# the WhatsApp Cloud API, locally: answers sends like Graph does and reports "delivered" through
# farol's signed status webhook, except for numbers ending in 9 (never reported)
read -r WAPORT <<<"$(kannel_free_ports 1)"
cat >"$WORK/wa.py" <<'PY'
import hashlib, hmac, http.server, json, sys, threading, urllib.request
port, hook, secret, log = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4]
n = [0]
def report(wamid, to, ref):
    st = {"id": wamid, "status": "delivered", "timestamp": "1", "recipient_id": to}
    if ref is not None: # Graph echoes the sender's biz_opaque_callback_data in every status
        st["biz_opaque_callback_data"] = ref
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [st]}}]}]}).encode()
    sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    rq = urllib.request.Request(hook, data=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
    urllib.request.urlopen(rq, timeout=5).read()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        n[0] += 1
        wamid, to = "wamid.%d" % n[0], body["to"]
        with open(log, "a") as f:
            f.write("%s %s %s %s %s\n" % (self.path, self.headers.get("Authorization"), to, json.dumps(body["template"]), body.get("biz_opaque_callback_data")))
        out = json.dumps({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
        if not to.endswith("9"):
            threading.Timer(0.2, report, (wamid, to, body.get("biz_opaque_callback_data"))).start()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
start_bg "$WORK/wa.err" python3 "$WORK/wa.py" "$WAPORT" "http://127.0.0.1:$LPORT/hooks/whatsapp/webhook" wa-app-secret "$WORK/wa.log"
await "WhatsApp API up" 10 kannel_listening "$WAPORT"
cat >"$WORK/farol.yaml" <<YAML
log: {level: debug}
redis: {address: "unix:$REDIS_SOCK"}
$(bus_yaml)
notifier:
  listen: "127.0.0.1:$LPORT"
  kannel_key: $KKEY
  notify_delay: 2s
  sms_max_segments: 2
  noc_url: "$SINK_URL/noc"
  noc_format: alertmanager
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: $KANNEL_PASS, dlr_url: "http://127.0.0.1:$LPORT/kannel/dlr?key=$KKEY", rate: 50, burst: 10}
    - {name: wa, kind: whatsapp, url: "http://127.0.0.1:$WAPORT", password: wa-token, phone_number_id: "1055", template: farol_notice, app_secret: wa-app-secret, verify_token: wa-verify, fallback: sms, fallback_after: 3s, rate: 50, burst: 10}
YAML
C=(--config "$WORK/farol.yaml")
"$FAROL" topology import "$WORK/topo.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
publish() { echo "$1" | "$FAROL" bus publish "${C[@]}" - >/dev/null 2>&1 || fail "publish: $1"; }
outage_json() { # outage_json ID SEQ PHASE ADDED_JSON RESTORED_JSON [EXTRA]
    local now; now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) # milliseconds: the delay is checked
    echo "{\"v\":1,\"type\":\"outage\",\"ts\":\"$now\",\"data\":{\"id\":\"$1\",\"seq\":$2,\"phase\":\"$3\",\"status\":\"confirmed\",\"cause\":\"fiber-cut\",\"root\":\"pon-1\",\"area\":\"Centro\",\"started_at\":\"$now\",\"alarms\":[],\"affected\":{},\"affected_subscribers\":1,\"subscribers_added\":$4,\"subscribers_restored\":$5${6:-}}}"
}
outage() { publish "$(outage_json "$@")"; }
sms_to() { kannel_sms_received "^[^ ]+ \\+?$1 "; }
record() { rcli GET "farol:notif:$1" | jq -r .status; }
start_bg "$WORK/n1.log" "$FAROL" run "${C[@]}" --role notifier
N=$LAST_PID
wait_for_log "$WORK/n1.log" "daemon: ready"

# -- an outage reaches three subscribers in their languages, after the delay --
t0=$(date +%s%N)
outage o-1 1 opened '["s1","s2","s3"]' '[]'
await "three outage messages" 15 kannel_has_sms '^[^ ]+ \+?(5511900000001|5411900000002|4420700000003) ' 3
elapsed=$((($(date +%s%N) - t0) / 1000000))
((elapsed >= 1500)) || fail "sent after ${elapsed} ms, before the 2 s notify delay"
kannel_has_sms 'Olá, Maria\. Identificamos uma falha no serviço em Centro' || fail "pt-BR text: $(kannel_sms_lines)"
kannel_has_sms 'Hola Pablo\. Detectamos una falla' || fail "es text: $(kannel_sms_lines)"
kannel_has_sms 'Hi Ann\. We.re aware of a service outage in Centro' || fail "en text: $(kannel_sms_lines)"
await "delivery report recorded" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK GET farol:notif:s1:o-1:outage-opened | jq -r .status)\" = delivered ]"
await "NOC summary" 10 grep -q '/noc' "$SINK_LOG"

# -- a blip: opened then restored within the delay tells no one --
publish "$(outage_json o-2 1 opened '["s4"]' '[]')
$(outage_json o-2 2 resolved '[]' '["s4"]')"
# -- redelivery of o-1's opened: nothing twice; an ETA change reaches those told --
outage o-1 1 opened '["s1","s2","s3"]' '[]'
eta=$(($(date -u +%s) + 7200))
long="The crew found a second break further down the street and is splicing both; the cabinet also needs a new power supply, which is on its way from the depot. We will update this notice as soon as the repair is tested end to end, and thank you for your patience tonight."
outage o-1 2 updated '[]' '[]' ",\"eta\":\"$(iso "$eta")\",\"public_message\":\"$long\""
await "three ETA updates" 15 kannel_has_sms '(Atualização sobre a falha|Novedades sobre la falla|Outage update)' 3
# the operator's long message makes each update 4-6 parts: cut to sms_max_segments (2)
updates=$(kannel_sms_lines | grep -E '(Atualização sobre a falha|Novedades sobre la falla|Outage update)')
grep -qvE ' [12]/2 ' <<<"$updates" && fail "an update longer than 2 parts: $updates"
[ "$(grep -cE '(\.\.\.|…)$' <<<"$updates")" = 3 ] || fail "updates not cut with an ellipsis: $updates"
outage o-1 3 resolved '[]' '["s1","s2","s3"]'
await "three restorations" 15 kannel_has_sms '(foi restabelecido|ya fue restablecido|is back)' 3
# the NOC heard of o-1 three times: opened, the ETA, resolved (not the redelivered opened)
await "NOC summaries of o-1" 10 bash -c "[ \$(grep -c '\"o-1\"' '$SINK_LOG') -ge 3 ]"
[ "$(grep -c '"o-1"' "$SINK_LOG")" = 3 ] || fail "NOC summaries of o-1: $(grep -c '"o-1"' "$SINK_LOG")"
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
# told of an outage, then STOP (BAJA): its restoration is not sent either
outage o-6 1 opened '["s2"]' '[]'
await "s2 told of o-6" 15 bash -c "s=\$(redis-cli -s $REDIS_SOCK GET farol:notif:s2:o-6:outage-opened | jq -r .status); [ \"\$s\" = sent ] || [ \"\$s\" = delivered ]"
kannel_send_mo "+5411900000002" "BAJA"
await "s2's opt-out stored" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK EXISTS farol:optout:+5411900000002)\" = 1 ]"
outage o-6 2 resolved '[]' '["s2"]'
await "s2's restoration opted out" 15 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK GET farol:notif:s2:o-6:restored | jq -r .status)\" = opted-out ]"
[ "$(sms_to 5411900000002)" = 4 ] || fail "s2 after STOP: $(kannel_sms_lines | grep 5411900000002)"

# -- quiet hours: a usage message waits in Redis --
publish "{\"v\":1,\"type\":\"threshold\",\"ts\":\"$(iso "$(date +%s)")\",\"data\":{\"subscriber\":\"s6\",\"cycle\":\"2026-11\",\"percent\":80,\"used_octets\":80000000000,\"cap_octets\":100000000000,\"crossed_at\":\"$(iso "$(date +%s)")\"}}"
await "usage deferred" 15 bash -c "s=\$(redis-cli -s $REDIS_SOCK ZSCORE farol:notif:q:2 s6:2026-11#80:usage-threshold); [ -n \"\$s\" ] && [ \"\${s%.*}\" -gt $(($(date +%s) * 1000 + 30000)) ]"
[ "$(sms_to 5511900000006)" = 0 ] || fail "quiet hours ignored"

# -- a window starting in an hour: one notice now (the 48 h and 2 h ones have passed) --
st=$(($(date -u +%s) + 3600))
publish "{\"v\":1,\"type\":\"maintenance\",\"ts\":\"$(iso "$(date +%s)")\",\"data\":{\"id\":\"mw-1\",\"seq\":1,\"phase\":\"scheduled\",\"nodes\":[\"pon-1\"],\"starts_at\":\"$(iso $st)\",\"ends_at\":\"$(iso $((st + 3600)))\",\"description\":\"Troca de placa\",\"affected_subscribers\":1,\"subscribers\":[\"s1\"]}}"
await "maintenance notice" 15 kannel_has_sms 'Manutenção programada .*Troca de placa'
[ "$(kannel_sms_received 'Manutenção programada')" = 1 ] || fail "notices: $(kannel_sms_lines)"
# -- WhatsApp first; SMS only for the message WhatsApp never reported delivered --
outage o-5 1 opened '["s8","s9"]' '[]'
await "two WhatsApp sends" 15 bash -c "[ \$(grep -c . $WORK/wa.log 2>/dev/null || echo 0) -ge 2 ]"
grep -q '^/v21.0/1055/messages Bearer wa-token 5511900000008 .*"name": "farol_notice".*"code": "pt_BR"' "$WORK/wa.log" || fail "WhatsApp request: $(cat "$WORK/wa.log")"
grep -q ' 5511900000008 .* s8:o-5:outage-opened$' "$WORK/wa.log" || fail "farol's id not in biz_opaque_callback_data: $(cat "$WORK/wa.log")"
await "s8 delivered on WhatsApp" 10 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK GET farol:notif:s8:o-5:outage-opened | jq -r .status)\" = delivered ]"
await "s9's fallback SMS" 20 kannel_has_sms '^[^ ]+ \+?5511900000009 .*Identificamos uma falha'
[ "$(record 's9:o-5#fb:outage-opened')" = sent ] || [ "$(record 's9:o-5#fb:outage-opened')" = delivered ] || fail "fallback record: $(rcli GET 'farol:notif:s9:o-5#fb:outage-opened')"
await "s8's fallback dropped" 15 bash -c "[ -z \"\$(redis-cli -s $REDIS_SOCK ZSCORE farol:notif:q:0 's8:o-5#fb:outage-opened')\" ]"
[ "$(sms_to 5511900000008)" = 0 ] || fail "s8 got an SMS although WhatsApp delivered"
[ -z "$(rcli GET 's8:o-5#fb:outage-opened')" ] || fail "s8's fallback was claimed"
# a usage message's fallback is the same message: its figures come along
publish "{\"v\":1,\"type\":\"threshold\",\"ts\":\"$(iso "$(date +%s)")\",\"data\":{\"subscriber\":\"s9\",\"cycle\":\"2026-11\",\"percent\":90,\"used_octets\":90000000000,\"cap_octets\":100000000000,\"crossed_at\":\"$(iso "$(date +%s)")\"}}"
await "s9's usage fallback SMS" 20 kannel_has_sms '^[^ ]+ \+?5511900000009 .*usou 90% da sua franquia'
kannel_sms_lines | grep -E '^[^ ]+ \+?5511900000009 .*usou 90%' | grep -q ' de .*[0-9]' || fail "usage fallback without its figures: $(kannel_sms_lines | grep 5511900000009)"

# -- nobody to send it with: a dead letter with the reason, nothing else --
outage o-4 1 opened '["s7"]' '[]'
await "dead letter" 15 bash -c "[ \"\$(redis-cli -s $REDIS_SOCK LLEN farol:notif:dead)\" = 1 ]"
dead=$(rcli LINDEX farol:notif:dead 0)
[ "$(echo "$dead" | jq -r .id)" = "s7:o-4:outage-opened" ] || fail "dead letter: $dead"
echo "$dead" | jq -r .reason | grep -q "no configured channel" || fail "dead letter reason: $dead"
[ "$(record s7:o-4:outage-opened)" = dead ] || fail "record of the dead letter"
[ "$(grep -c "dead letter" "$WORK/n1.log")" = 1 ] || fail "dead letters: $(grep 'dead letter' "$WORK/n1.log")"

# -- every outcome is also a notification result on the bus (audit) --
results() { kcat -C -b "$BROKERS" -t farol.notifications -o beginning -e -q 2>/dev/null | jq -r '.data | "\(.id) \(.status) \(.channel // "-")"'; }
export -f results
export BROKERS
await "audit of the dead letter" 15 bash -c 'results | grep -q "^s7:o-4:outage-opened dead"'
res=$(results)
grep -q '^s1:o-1:outage-opened sent sms$' <<<"$res" || fail "no result for s1: $res"
grep -q '^s5:o-3:outage-opened opted-out' <<<"$res" || fail "no opt-out result: $res"
grep -q '^s8:o-5:outage-opened sent wa$' <<<"$res" || fail "no WhatsApp result: $res"
[ "$(grep -c '^s1:o-1:outage-opened ' <<<"$res")" = 1 ] || fail "s1's outage message reported twice: $res"
# secrets stay out of the log (debug level included)
! grep -qE "$KKEY|wa-token|wa-app-secret" "$WORK/n1.log" || fail "a secret reached the log: $(grep -E "$KKEY|wa-token|wa-app-secret" "$WORK/n1.log" | head -2)"
echo "ok: notifier"
