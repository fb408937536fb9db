#!/usr/bin/env bash
# farol's Kannel channel (notifier/channel_kannel.c) against a real Kannel with a fake SMSC:
# a Portuguese text goes out as UCS-2 and arrives intact, a GSM one as text; its delivery
# reports come back to the dlr-url farol sets, carrying farol's message id, and read as
# accepted then delivered; with the SMSC away the channel says queued and the message is
# delivered when it returns; wrong credentials are a permanent failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
kannel_http_sink sink
export KANNEL_MO_URL="$SINK_URL/mo"
start_kannel
send() { "$TOOLS/kannel_send" "$KANNEL_SENDSMS_URL" "$KANNEL_USER" "$KANNEL_PASS" "$@"; }

out=$(send +5511900000001 "sub-1|o-7|opened" "Olá! Falha na fibra da sua rua; previsão 22h." "$SINK_URL/dlr") ||
    fail "send: $out"
[[ $out == "sent 202" ]] || fail "expected 'sent 202', got '$out'"
await "UCS-2 text at fakesmsc" 10 kannel_has_sms '^4040 \+5511900000001 ucs-2 1/1 Olá! Falha na fibra da sua rua; previsão 22h\.$'
# two reports, 8 (SMSC accepted) and 1 (delivered); smsbox makes the two callbacks on separate
# connections, so they may arrive in either order
await "two delivery reports" 10 bash -c "[ \$(grep -cE '^/dlr\\?' '$SINK_LOG') -ge 2 ]"
mapfile -t dlrs < <(grep -E '^/dlr\?' "$SINK_LOG" | sed 's|^/dlr?||')
((${#dlrs[@]} == 2)) || fail "expected 2 delivery reports, got: ${dlrs[*]}"
got=$(for d in "${dlrs[@]}"; do "$TOOLS/kannel_send" --dlr "$d"; done | sort | paste -sd,)
[[ $got == "sub-1|o-7|opened accepted,sub-1|o-7|opened delivered" ]] || fail "delivery reports: $got (${dlrs[*]})"

out=$(send 5511900000002 m2 "Service restored. Thank you!") || fail "send GSM: $out"
await "GSM text at fakesmsc" 10 kannel_has_sms '^4040 5511900000002 text 1/1 Service restored\. Thank you!$'

kannel_stop_smsc
out=$(send 5511900000003 m3 "while away") || fail "send queued: $out"
[[ $out == "queued 202" ]] || fail "expected 'queued 202', got '$out'"
kannel_start_smsc
await "queued message delivered" 10 kannel_has_sms '^4040 5511900000003 text 1/1 while away$'

rc=0
out=$("$TOOLS/kannel_send" "$KANNEL_SENDSMS_URL" "$KANNEL_USER" wrong-password 5511900000004 m4 x) || rc=$?
((rc == 1)) || fail "wrong password accepted: $out"
[[ $out == failed\ 403* ]] || fail "expected a permanent failure, got '$out'"
[[ $out != *wrong-password* ]] || fail "password in the error: $out"
echo "ok: kannel channel"
