# kannel.sh: a real Kannel (bearerbox + smsbox) with kannel-extras' fakesmsc as its SMSC, all on
# 127.0.0.1. Source it after lib.sh (processes go through track, so lib.sh's cleanup stops them).
#
# Two fake SMSC links are configured:
#   fake  the MT link: sendsms traffic goes out here to a long-running fakesmsc whose stderr is
#         FAKESMSC_LOG ("Got message N: <from to type data>" per message part).
#   mo    an inbound-only link (allowed-smsc-id keeps MT traffic off it) that kannel_send_mo
#         feeds with a one-shot fakesmsc: Kannel's fake SMSC serves one client at a time, so MO
#         cannot share the MT fakesmsc's connection, and a fakesmsc sends only its command-line
#         messages.
# Inbound messages go through an sms-service to $KANNEL_MO_URL (set it before start_kannel): a
# full get-url template if it contains '%', else a base URL to which
#   from=%p&to=%P&text=%a&smsc=%i&ts=%t&coding=%c&charset=%C
# is appended. mo-recode turns UCS-2 MO text into UTF-8 when it can. KANNEL_SMSBOX_EXTRA adds
# lines to the smsbox group (e.g. http-request-retry, so delivery reports to a receiver that
# was down are retried). KANNEL_IN, when set, is a command prefix that runs Kannel and the checks
# that reach it elsewhere (the demo: "ip netns exec NS", so Kannel shares farol's namespace).
#
# After start_kannel: KANNEL_SENDSMS_URL, KANNEL_USER, KANNEL_PASS, KANNEL_ADMIN_URL,
# KANNEL_ADMIN_PASS, KANNEL_STATUS_URL, FAKESMSC_LOG, FAKESMSC_PID, KANNEL_DIR (config, logs,
# access log), BEARERBOX_PID, SMSBOX_PID.

KANNEL_FAKESMSC=${KANNEL_FAKESMSC:-/usr/lib/kannel/test/fakesmsc}
KANNEL_IN=${KANNEL_IN:-}
KANNEL_USER=farol
KANNEL_PASS=kannel-secret
KANNEL_ADMIN_PASS=kannel-admin
KANNEL_LOG_LEVEL=${KANNEL_LOG_LEVEL:-1} # 0 debug .. 4 panic; debug is heavy under load
KANNEL_MO_TO=${KANNEL_MO_TO:-4040}      # the short code subscribers reply to

# kannel_free_ports N: N distinct TCP ports nobody listens on, below the ephemeral range.
kannel_free_ports() {
    local n=$1 used p out=()
    used=" $($KANNEL_IN ss -Htln | awk '{ sub(/.*:/, "", $4); printf "%s ", $4 }') "
    while ((${#out[@]} < n)); do
        p=$((20000 + RANDOM % 12000))
        [[ $used == *" $p "* || " ${out[*]} " == *" $p "* ]] && continue
        out+=("$p")
    done
    echo "${out[@]}"
}

kannel_listening() { $KANNEL_IN ss -Htln "sport = :$1" | grep -q .; }

# kannel_status: bearerbox's plain-text status page.
kannel_status() { $KANNEL_IN curl -s --max-time 2 "$KANNEL_STATUS_URL"; }

# kannel_link_online ID: the SMSC link ID currently has a connected fakesmsc.
kannel_link_online() { kannel_status | grep -Eq "^ +$1\[$1\] .*\(online"; }
kannel_link_offline() { kannel_status | grep -Eq "^ +$1\[$1\] .*\((re-)?connecting"; }
kannel_smsbox_online() { kannel_status | grep -Eq "^ +smsbox:.*\(on-line"; }
kannel_sendsms_answers() {
    local code
    code=$($KANNEL_IN curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$KANNEL_SENDSMS_URL") || true
    [[ $code != 000 ]]
}

kannel_mo_url() {
    local url=${KANNEL_MO_URL:-}
    [[ -z $url || $url == *%* ]] && { echo "$url"; return; }
    local sep='?'
    [[ $url == *\?* ]] && sep='&'
    echo "${url}${sep}from=%p&to=%P&text=%a&smsc=%i&ts=%t&coding=%c&charset=%C"
}

kannel_write_conf() {
    local d=$KANNEL_DIR mo_url
    mo_url=$(kannel_mo_url)
    cat >"$d/kannel.conf" <<EOF
group = core
admin-port = $KANNEL_ADMIN_PORT
admin-interface = 127.0.0.1
admin-password = "$KANNEL_ADMIN_PASS"
admin-allow-ip = "127.0.0.1"
smsbox-port = $KANNEL_BOX_PORT
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$d/bearerbox.log"
log-level = $KANNEL_LOG_LEVEL
access-log = "$d/access.log"
dlr-storage = internal

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $KANNEL_BOX_PORT
sendsms-port = $KANNEL_SENDSMS_PORT
sendsms-interface = 127.0.0.1
log-file = "$d/smsbox.log"
log-level = $KANNEL_LOG_LEVEL
access-log = "$d/smsbox-access.log"
mo-recode = true
${KANNEL_SMSBOX_EXTRA:-}

group = sendsms-user
username = "$KANNEL_USER"
password = "$KANNEL_PASS"
user-allow-ip = "127.0.0.1"
default-sender = "$KANNEL_MO_TO"
max-messages = 10
concatenation = true

group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = $KANNEL_SMSC_PORT
connect-allow-ip = "127.0.0.1"

group = smsc
smsc = fake
smsc-id = mo
allowed-smsc-id = mo
host = 127.0.0.1
port = $KANNEL_MO_PORT
connect-allow-ip = "127.0.0.1"

group = sms-service
keyword = default
catch-all = true
max-messages = 0
EOF
    # max-messages = 0: the URL's answer is not sent back to the subscriber as an SMS
    if [[ -n $mo_url ]]; then
        echo "get-url = \"$mo_url\"" >>"$d/kannel.conf"
    else
        echo 'text = "ignored"' >>"$d/kannel.conf"
    fi
}

# start_kannel: bearerbox, smsbox and the MT fakesmsc, ready to accept sendsms ("0: Accepted").
start_kannel() {
    KANNEL_DIR="$WORK/kannel"
    mkdir -p "$KANNEL_DIR"
    read -r KANNEL_ADMIN_PORT KANNEL_BOX_PORT KANNEL_SENDSMS_PORT KANNEL_SMSC_PORT KANNEL_MO_PORT \
        <<<"$(kannel_free_ports 5)"
    KANNEL_ADMIN_URL="http://127.0.0.1:$KANNEL_ADMIN_PORT"
    KANNEL_STATUS_URL="$KANNEL_ADMIN_URL/status.txt?password=$KANNEL_ADMIN_PASS"
    KANNEL_SENDSMS_URL="http://127.0.0.1:$KANNEL_SENDSMS_PORT/cgi-bin/sendsms"
    FAKESMSC_LOG="$KANNEL_DIR/fakesmsc.log"
    : >"$FAKESMSC_LOG"
    export KANNEL_SENDSMS_URL KANNEL_USER KANNEL_PASS KANNEL_ADMIN_URL KANNEL_ADMIN_PASS \
        KANNEL_STATUS_URL FAKESMSC_LOG KANNEL_DIR
    kannel_write_conf

    start_bg "$KANNEL_DIR/bearerbox.err" $KANNEL_IN bearerbox -v 2 "$KANNEL_DIR/kannel.conf"
    export BEARERBOX_PID=$LAST_PID
    # fakesmsc gives up at once when nobody listens, so the links must be up first
    await "bearerbox fake SMSC listeners" 10 \
        eval "kannel_listening $KANNEL_SMSC_PORT && kannel_listening $KANNEL_MO_PORT"
    start_bg "$KANNEL_DIR/smsbox.err" $KANNEL_IN smsbox -v 2 "$KANNEL_DIR/kannel.conf"
    export SMSBOX_PID=$LAST_PID
    kannel_start_smsc
    await "smsbox connected to bearerbox" 10 kannel_smsbox_online
    await "sendsms port answering" 10 kannel_sendsms_answers
}

# kannel_start_smsc: (re)start the MT fakesmsc, appending to FAKESMSC_LOG; returns once the
# link is online (messages queued while it was away are then delivered).
kannel_start_smsc() {
    # -m 0: send no MO of its own; -i 1 only paces the (absent) MO generator
    $KANNEL_IN "$KANNEL_FAKESMSC" -H 127.0.0.1 -r "$KANNEL_SMSC_PORT" -i 1 -m 0 "x y text unused" \
        >/dev/null 2>>"$FAKESMSC_LOG" &
    FAKESMSC_PID=$!
    track "$FAKESMSC_PID"
    export FAKESMSC_PID
    await "fake SMSC link online" 10 kannel_link_online fake
}

# kannel_stop_smsc: kill the MT fakesmsc; returns once bearerbox has noticed, so the next
# sendsms answers "3: Queued for later delivery" instead of writing into a dead socket.
kannel_stop_smsc() {
    kill -TERM "$FAKESMSC_PID" 2>/dev/null || true
    wait "$FAKESMSC_PID" 2>/dev/null || true
    await "fake SMSC link offline" 10 kannel_link_offline fake
}

# kannel_sms_lines: every message fakesmsc received, concatenated parts joined, one per line in
# arrival order of its first part: "FROM TO TYPE K/N TEXT", TEXT decoded to UTF-8, K of N parts
# seen (1/1 for a single-part message). TYPE is text (GSM 7-bit, as Kannel wrote it), ucs-2,
# data (8-bit, url-decoded) or udh (a UDH other than concatenation). fakesmsc labels every
# concatenated part "data" whatever its coding, so a joined text counts as ucs-2 when its bytes
# hold a NUL or a control character, or are not UTF-8 (true of any real UCS-2 text with a space,
# Latin, Cyrillic or Arabic letters).
kannel_sms_lines() {
    python3 - "$FAKESMSC_LOG" <<'PY'
import re, sys, urllib.parse

def dec(s):
    return urllib.parse.unquote_to_bytes(s.replace("+", "%20"))

def concat_info(udh):
    i = 1
    while i + 1 < len(udh):
        iei, n = udh[i], udh[i + 1]
        d = udh[i + 2:i + 2 + n]
        if iei == 0 and n == 3:
            return d[0], d[1], d[2]
        if iei == 8 and n == 4:
            return (d[0] << 8) | d[1], d[2], d[3]
        i += 2 + n
    return None

def guess(b):
    try:
        t = b.decode("utf-8")
        if not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", t):
            return "text", t
    except UnicodeDecodeError:
        pass
    return "ucs-2", b.decode("utf-16-be", errors="replace")

msgs, open_parts = [], {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"Got message \d+: <(.*)>$", line.rstrip("\n"))
    if not m:
        continue
    f = m.group(1).split(" ", 3)
    if len(f) < 4:
        continue
    src, dst, typ, rest = f
    if typ != "udh":
        if typ in ("ucs-2", "ucs2"):
            rest = dec(rest).decode("utf-16-be", errors="replace")
        elif typ == "data":
            rest = dec(rest).decode("utf-8", errors="replace")
        msgs.append([src, dst, typ, {1: rest}, 1])
        continue
    udh, _, data = (rest.split(" ", 2) + ["", ""])[:3]
    info = concat_info(dec(udh))
    if info is None or info[1] < 1:
        msgs.append([src, dst, "udh", {1: dec(data).decode("utf-8", errors="replace")}, 1])
        continue
    ref, total, seq = info
    key = (src, dst, ref, total)
    cur = open_parts.get(key)
    if cur is None or seq in cur[3]:
        cur = [src, dst, None, {}, total]
        msgs.append(cur)
        open_parts[key] = cur
    cur[3][seq] = dec(data)
for src, dst, typ, parts, total in msgs:
    if typ is None:
        typ, text = guess(b"".join(parts[k] for k in sorted(parts)))
    else:
        text = parts[1]
    print(src, dst, typ, "%d/%d" % (len(parts), total), text.replace("\n", "\\n"))
PY
}

# kannel_sms_received PATTERN: how many received messages match PATTERN (grep -E) in
# kannel_sms_lines form, e.g. '^4040 5511999 ucs-2 1/1 Olá'.
kannel_sms_received() {
    local n
    n=$(kannel_sms_lines | grep -cE -- "$1") || true
    echo "${n:-0}"
}

# kannel_has_sms PATTERN [N]: at least N (default 1) received messages match; for await.
kannel_has_sms() { (($(kannel_sms_received "$1") >= ${2:-1})); }

kannel_mo_count() {
    local n
    n=$(grep -c 'Receive SMS \[SMSC:mo\]' "$KANNEL_DIR/access.log" 2>/dev/null) || true
    echo "${n:-0}"
}
kannel_mo_count_above() { (($(kannel_mo_count) > $1)); }

# kannel_send_mo FROM TEXT [TO]: a subscriber's inbound message (TO defaults to KANNEL_MO_TO),
# injected by a one-shot fakesmsc on the mo link; returns once bearerbox has received it
# (smsbox then calls KANNEL_MO_URL). Plain ASCII goes as GSM text, anything else as UCS-2.
kannel_send_mo() {
    local from=$1 text=$2 to=${3:-$KANNEL_MO_TO} body before pid
    if LC_ALL=C grep -q '^[ -~]*$' <<<"$text"; then
        body="text $text"
    else
        body="ucs2 $(printf '%s' "$text" | iconv -f UTF-8 -t UTF-16BE | od -An -v -tx1 |
            tr -d ' \n' | sed 's/../%&/g')"
    fi
    before=$(kannel_mo_count)
    $KANNEL_IN "$KANNEL_FAKESMSC" -H 127.0.0.1 -r "$KANNEL_MO_PORT" -i 0 -m 1 "$from $to $body" \
        >/dev/null 2>>"$KANNEL_DIR/fakesmsc-mo.log" &
    pid=$!
    track "$pid"
    await "MO from fakesmsc received by bearerbox" 10 kannel_mo_count_above "$before"
    # it would hold the link's only connection forever: free it for the next injection
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    await "mo link released" 10 kannel_link_offline mo
}

# kannel_http_sink NAME: a tiny HTTP server on 127.0.0.1 (large listen backlog: Kannel's DLR
# callbacks must not be dropped) answering 200 to everything and appending each request's path
# (plus ' body=<body>' for POST) to $WORK/NAME.log. Sets SINK_URL and SINK_LOG.
kannel_http_sink() {
    local name=$1 port
    SINK_LOG="$WORK/$name.log"
    : >"$SINK_LOG"
    port=$(kannel_free_ports 1)
    start_bg "$WORK/$name.err" python3 -c '
import http.server, socketserver, sys
out = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        out.write(self.path + "\n")
        self.reply()
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace").replace("\n", "\\n")
        out.write(self.path + " body=" + body + "\n")
        self.reply()
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    request_queue_size = 4096
    daemon_threads = True
    allow_reuse_address = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$port" "$SINK_LOG"
    export SINK_URL="http://127.0.0.1:$port" SINK_LOG
    await "http sink $name listening" 10 kannel_listening "$port"
}
