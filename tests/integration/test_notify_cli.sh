#!/usr/bin/env bash
# farol notify test against a real Kannel with a fake SMSC: a Portuguese outage template is
# rendered with sample values and arrives intact (UCS-2); a plain text goes as GSM; the
# gateway's answer is printed and decides the exit status (0 sent, 1 refused, 2 usage or
# configuration), and the password is never printed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
kannel_http_sink sink
export KANNEL_MO_URL="$SINK_URL/mo"
start_kannel
conf() { # conf PASSWORD
    cat <<YAML
notifier:
  templates: $FAROL_SRCDIR/notifier/templates/default.yaml
  channels:
    - {name: sms, kind: kannel, url: "$KANNEL_SENDSMS_URL", username: $KANNEL_USER, password: "$1", from: "4040"}
YAML
}
conf "$KANNEL_PASS" >"$WORK/farol.yaml"
conf wrong-password >"$WORK/wrong.yaml"
cat >>"$WORK/farol.yaml" <<YAML
    - name: gw
      kind: http
      url: "$SINK_URL/api/sms?ref={{id}}"
      headers: {X-Api-Key: k123}
      body: '{"to": "{{to}}", "text": "{{text}}"}'
      body_encoding: json
YAML

"$FAROL" notify test --config "$WORK/farol.yaml" --channel sms --to +5511900000001 \
    --template outage-opened --locale pt-BR --tz America/Sao_Paulo >"$WORK/out" 2>&1 ||
    fail "notify test: $(cat "$WORK/out")"
grep -q '^answer: sent, HTTP 202$' "$WORK/out" || fail "answer: $(cat "$WORK/out")"
grep -q '^text: UCS-2' "$WORK/out" || fail "encoding: $(cat "$WORK/out")"
await "the outage message at fakesmsc" 10 kannel_has_sms '^4040 \+5511900000001 ucs-2 .*Maria'
text=$(kannel_sms_lines | grep '+5511900000001' | cut -d' ' -f5-)
grep -q "$text" "$WORK/out" || fail "sent text differs from the printed one: $text"

"$FAROL" notify test --config "$WORK/farol.yaml" --channel sms --to +5511900000002 \
    --text "Service restored. Thank you!" >"$WORK/out" 2>&1 || fail "text: $(cat "$WORK/out")"
grep -q '^text: GSM-7, 28 characters, 1 SMS part' "$WORK/out" || fail "gsm: $(cat "$WORK/out")"
await "the GSM text at fakesmsc" 10 kannel_has_sms '^4040 \+5511900000002 text 1/1 Service restored\. Thank you!$'

# a generic HTTP gateway described by templates: the JSON body carries the escaped text
"$FAROL" notify test --config "$WORK/farol.yaml" --channel gw --to +5511900000005 \
    --text 'Olá "Maria"' >"$WORK/out" 2>&1 || fail "http channel: $(cat "$WORK/out")"
grep -q '^channel gw (http)' "$WORK/out" || fail "kind: $(cat "$WORK/out")"
wait_for_log "$SINK_LOG" '^/api/sms\?ref=notify-test body=' 10
grep -qF '/api/sms?ref=notify-test body={"to": "+5511900000005", "text": "Olá \"Maria\""}' "$SINK_LOG" ||
    fail "gateway request: $(cat "$SINK_LOG")"

rc=0; "$FAROL" notify test --config "$WORK/wrong.yaml" --channel sms --to +5511900000003 \
    --text x >"$WORK/out" 2>&1 || rc=$?
((rc == 1)) || fail "refused send exit $rc: $(cat "$WORK/out")"
grep -q '^answer: failed, HTTP 403' "$WORK/out" || fail "refusal: $(cat "$WORK/out")"
! grep -q wrong-password "$WORK/out" || fail "password printed"

rc=0; "$FAROL" notify test --config "$WORK/farol.yaml" --channel whatsapp --to +5511900000004 \
    --text x >"$WORK/out" 2>&1 || rc=$?
((rc == 2)) && grep -q "no channel 'whatsapp'" "$WORK/out" || fail "unknown channel: $rc $(cat "$WORK/out")"
rc=0; "$FAROL" notify test --config "$WORK/farol.yaml" --channel sms --to +5511900000004 \
    --template outage-exploded >"$WORK/out" 2>&1 || rc=$?
((rc == 2)) && grep -q "unknown message type 'outage-exploded'" "$WORK/out" || fail "bad type: $rc"
rc=0; "$FAROL" notify test --config "$WORK/farol.yaml" --to +5511900000004 --text x \
    >"$WORK/out" 2>&1 || rc=$?
((rc == 2)) || fail "missing --channel accepted"
(($(kannel_sms_received ' \+5511900000004 ') == 0)) || fail "a refused command sent something"
echo "ok: farol notify test"
