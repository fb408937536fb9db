#!/usr/bin/env bash
# The Kannel lab harness (kannel.sh) against a real bearerbox + smsbox + fakesmsc, driven with
# curl only, so the notifier's Kannel channel can rely on these facts:
# - GSM text keeps GSM characters (à é ü ñ) but Kannel replaces the rest (ã, õ, á, ê) with '?'
#   unless the text is sent as UCS-2 (coding=2, charset=UTF-8), which arrives intact;
# - 161+ GSM characters, or 71+ UCS-2 ones, arrive as two concatenated parts (UDH);
# - dlr-mask=31 with a dlr-url calls back twice, type 8 (SMSC ack) and 1 (delivered), usually
#   in that order but on separate connections, so not always;
# - with the SMSC away, sendsms answers "3: Queued for later delivery" and the message (with
#   its delivery reports) goes out when the SMSC comes back;
# - a subscriber's "STOP" reaches KANNEL_MO_URL with sender, short code and text, and UCS-2
#   replies reach it as UTF-8.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"

kannel_http_sink sink
export KANNEL_MO_URL="$SINK_URL/mo"
start_kannel

# sendsms ARGS...: a GET sendsms with our credentials; prints "BODY HTTPCODE".
sendsms() {
    curl -sS -G --max-time 5 -w ' %{http_code}' "$KANNEL_SENDSMS_URL" \
        --data-urlencode "username=$KANNEL_USER" --data-urlencode "password=$KANNEL_PASS" \
        --data-urlencode "from=4040" "$@"
}
expect_answer() {
    local want=$1 got
    shift
    got=$(sendsms "$@")
    [[ $got == "$want" ]] || fail "sendsms $*: expected '$want', got '$got'"
}
ACCEPTED="0: Accepted for delivery 202"
QUEUED="3: Queued for later delivery 202"
sink_has() { grep -qE -- "$1" "$SINK_LOG"; }
dlr_url() { echo "$SINK_URL/dlr?id=$1&type=%d&to=%p&smsc=%i"; }

# -- GSM 7-bit text: GSM characters pass, the others become '?' --
expect_answer "$ACCEPTED" --data-urlencode "to=+5511900000001" \
    --data-urlencode "text=Manutenção à noite: é rápido"
await "GSM text at fakesmsc" 10 kannel_has_sms '^4040 \+5511900000001 text 1/1 '
line=$(kannel_sms_lines | grep -E '^4040 \+5511900000001 ')
[[ $line == "4040 +5511900000001 text 1/1 ManutenÇ?o à noite: é r?pido" ]] ||
    fail "GSM text arrived as: $line"

# -- UCS-2: Portuguese arrives intact; 72 characters take two parts --
PT="Olá! Manutenção às 22h."
expect_answer "$ACCEPTED" --data-urlencode "to=5511900000002" --data-urlencode "coding=2" \
    --data-urlencode "charset=UTF-8" --data-urlencode "text=$PT"
await "UCS-2 text at fakesmsc" 10 kannel_has_sms "^4040 5511900000002 ucs-2 1/1 $PT\$"
PT2="Olá! Manutenção programada às 22h; previsão de retorno: 2h. Não responda."
expect_answer "$ACCEPTED" --data-urlencode "to=5511900000012" --data-urlencode "coding=2" \
    --data-urlencode "charset=UTF-8" --data-urlencode "text=$PT2"
await "UCS-2 two parts at fakesmsc" 10 kannel_has_sms "^4040 5511900000012 ucs-2 2/2 $PT2\$"

# -- concatenation: 200 GSM characters are two parts with a concatenation UDH --
expect_answer "$ACCEPTED" --data-urlencode "to=5511900000003" \
    --data-urlencode "text=$(printf 'a%.0s' $(seq 200))"
await "two parts at fakesmsc" 10 kannel_has_sms "^4040 5511900000003 text 2/2 a{200}\$"

# -- delivery reports: 8 (SMSC ack) then 1 (delivered) --
expect_answer "$ACCEPTED" --data-urlencode "to=5511900000004" --data-urlencode "text=dlr test" \
    --data-urlencode "dlr-mask=31" --data-urlencode "dlr-url=$(dlr_url m4)"
await "two delivery reports for m4" 10 bash -c "[ \$(grep -cE '^/dlr\\?id=m4&' '$SINK_LOG') -ge 2 ]"
grep -E '^/dlr\?id=m4&' "$SINK_LOG" >"$WORK/m4.dlr"
# usually 8 then 1, but smsbox makes each callback on its own connection: either order
[[ $(cut -d'&' -f2 "$WORK/m4.dlr" | sort | tr '\n' ' ') == "type=1 type=8 " ]] ||
    fail "expected DLRs 8 and 1, got: $(cat "$WORK/m4.dlr")"
grep -q '&to=5511900000004&smsc=fake$' "$WORK/m4.dlr" || fail "DLR lacks to/smsc: $(cat "$WORK/m4.dlr")"

# -- SMSC away: queued, delivered on reconnect --
kannel_stop_smsc
expect_answer "$QUEUED" --data-urlencode "to=5511900000005" --data-urlencode "text=while away" \
    --data-urlencode "dlr-mask=31" --data-urlencode "dlr-url=$(dlr_url q5)"
kannel_start_smsc
await "queued message delivered after reconnect" 10 \
    kannel_has_sms '^4040 5511900000005 text 1/1 while away$'
wait_for_log "$SINK_LOG" '^/dlr\?id=q5&type=1&' 10
(($(kannel_sms_received ' 5511900000005 ') == 1)) || fail "queued message delivered twice"
expect_answer "$ACCEPTED" --data-urlencode "to=5511900000006" --data-urlencode "text=back"
await "message after reconnect" 10 kannel_has_sms '^4040 5511900000006 text 1/1 back$'

# -- MO: STOP and a UCS-2 reply reach KANNEL_MO_URL --
kannel_send_mo 5511988887777 STOP
wait_for_log "$SINK_LOG" '^/mo\?from=5511988887777&to=4040&text=STOP&smsc=mo&' 10
kannel_send_mo +5511988886666 "Não quero mais"
wait_for_log "$SINK_LOG" '^/mo\?from=%2B5511988886666&to=4040&text=N%C3%A3o(\+|%20)quero' 10
grep -E '^/mo\?from=%2B5511988886666' "$SINK_LOG" | grep -q 'charset=UTF-8' ||
    fail "UCS-2 MO not recoded to UTF-8: $(grep '^/mo' "$SINK_LOG")"
# the MO answer is not sent back as an SMS
(($(kannel_sms_received ' 5511988887777 ') == 0)) || fail "MO reply was sent to the subscriber"

# nothing fakesmsc got is unaccounted for
total=$(kannel_sms_lines | wc -l)
((total == 7)) || fail "fakesmsc got $total messages, expected 7: $(kannel_sms_lines)"
echo "ok: kannel lab"
