#!/usr/bin/env bash
# One channel stopped must not stop the others. WhatsApp (a local server speaking the Cloud API)
# answers every send 429 with Retry-After: 120, so that channel pauses for two minutes; 40
# WhatsApp-only subscribers are ahead of 10 SMS subscribers in the queue (same due time, ids
# that sort first), and a round takes at most 8. The SMS messages must still all go at once
# (the rounds look past what waits for the paused channel), WhatsApp must hear nothing more
# than its first round while paused, and the dispatcher must not spin on the held messages
# (a few rounds a second against Redis, not thousands).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kannel.sh"
WA=40
SMS=10
start_redis
start_farol_mock
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
read -r WAPORT GWPORT <<<"$(kannel_free_ports 2)"
cat >"$WORK/gw.py" <<'PY'
import http.server, json, sys, urllib.parse
port, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        with open(log, "a") as f:
            f.write(body.replace("\n", " ") + "\n")
        if mode == "wa429":
            out = json.dumps({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429, "fbtrace_id": "x"}}).encode()
            self.send_response(429); self.send_header("Retry-After", "120")
        else:
            out = b"OK"
            self.send_response(200)
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 64 # a round's 8 connections at once, none left to SYN retries
S(("127.0.0.1", port), H).serve_forever()
PY
start_bg "$WORK/wa.err" python3 "$WORK/gw.py" "$WAPORT" wa429 "$WORK/wa.log"
start_bg "$WORK/gw.err" python3 "$WORK/gw.py" "$GWPORT" ok "$WORK/sms.log"
await "WhatsApp API up" 10 kannel_listening "$WAPORT"
await "SMS gateway up" 10 kannel_listening "$GWPORT"
python3 - "$WA" "$SMS" >"$WORK/topo.yaml" <<'PY'
import sys
wa, sms = int(sys.argv[1]), int(sys.argv[2])
print("nodes:\n  - {id: olt-1, kind: olt}\n  - {id: pon-1, kind: pon, parents: [olt-1]}")
print("subscribers:")
for i in range(wa):
    print("  - {id: a%02d, node: pon-1, phones: [\"+551190000%04d\"], channels: [whatsapp], locale: en}" % (i, i))
for i in range(sms):
    print("  - {id: b%02d, node: pon-1, phones: [\"+551191000%04d\"], locale: en}" % (i, i))
PY
cat >"$WORK/farol.yaml" <<YAML
log: {level: info}
redis: {address: "unix:$REDIS_SOCK"}
$(bus_yaml)
notifier:
  notify_delay: 0s
  batch: 8
  max_inflight: 8
  channels:
    - {name: wa, kind: whatsapp, url: "http://127.0.0.1:$WAPORT", password: wa-token, phone_number_id: "1055", template: farol_notice, rate: 100, burst: 100}
    - {name: sms, kind: http, url: "http://127.0.0.1:$GWPORT/send", body: "to={{to}}&text={{text}}", body_encoding: form, rate: 100, burst: 100}
YAML
C=(--config "$WORK/farol.yaml")
"$FAROL" topology import "$WORK/topo.yaml" "${C[@]}" >/dev/null 2>&1 || fail "import"
start_bg "$WORK/n.log" "$FAROL" run "${C[@]}" --role notifier
wait_for_log "$WORK/n.log" "daemon: ready"

ids=$(python3 -c "import json,sys; print(json.dumps(['a%02d' % i for i in range($WA)] + ['b%02d' % i for i in range($SMS)]))")
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
echo "{\"v\":1,\"type\":\"outage\",\"ts\":\"$now\",\"data\":{\"id\":\"o-1\",\"seq\":1,\"phase\":\"opened\",\"status\":\"confirmed\",\"cause\":\"fiber-cut\",\"root\":\"pon-1\",\"area\":\"Centro\",\"started_at\":\"$now\",\"alarms\":[],\"affected\":{},\"affected_subscribers\":$((WA + SMS)),\"subscribers_added\":$ids,\"subscribers_restored\":[]}}" |
    "$FAROL" bus publish "${C[@]}" - >/dev/null 2>&1 || fail "publish"

sms_count() { grep -c . "$WORK/sms.log" 2>/dev/null || echo 0; }
export -f sms_count
export WORK
await "the $SMS SMS behind the paused WhatsApp" 20 bash -c "[ \$(sms_count) -ge $SMS ]"
# every WhatsApp attempt so far has had its answer (the channel paused after each)
wa_answered() { [ "$(grep -c 'channel wa: .*paused' "$WORK/n.log")" = "$(grep -c . "$WORK/wa.log")" ]; }
export -f wa_answered
await "WhatsApp's answers" 10 wa_answered
wa_sent=$(grep -c . "$WORK/wa.log")
((wa_sent <= 8)) || fail "WhatsApp got $wa_sent requests while paused (one round is 8)"
# the held messages stay queued, not dead, and the rounds idle until the pause ends
[ "$(rcli ZCARD farol:notif:q:0)" = "$WA" ] || fail "queue 0 holds $(rcli ZCARD farol:notif:q:0), want the $WA WhatsApp messages"
[ "$(rcli LLEN farol:notif:dead)" = 0 ] || fail "dead letters: $(rcli LRANGE farol:notif:dead 0 -1)"
rounds() { rcli INFO commandstats | tr -d '\r' | awk -F'[:,=]' '$1 == "cmdstat_zrangebyscore" { print $3 }'; }
r0=$(rounds)
sleep 3 # a window to count rounds in, not a wait for an event
r1=$(rounds)
(((r1 - r0) / 4 <= 30)) || fail "$(((r1 - r0) / 4)) rounds in 3 s while everything left waits for WhatsApp"
[ "$(grep -c . "$WORK/wa.log")" = "$wa_sent" ] || fail "WhatsApp was sent to while paused"
[ "$(sms_count)" = "$SMS" ] || fail "SMS sent: $(sms_count), want $SMS"
echo "ok: notifier_channels ($wa_sent WhatsApp attempts, $(((r1 - r0) / 4)) rounds in 3 s while held)"
