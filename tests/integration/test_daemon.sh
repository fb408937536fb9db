#!/usr/bin/env bash
# The daemon's promises: help for every command, check-config exit codes, SIGHUP reload that
# keeps the running configuration when the new file is bad, SIGTERM drain and clean exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for cmd in run check-config bus; do
    "$FAROL" "$cmd" --help | grep -q "usage: farol $cmd" || fail "farol $cmd --help"
done
"$FAROL" --help | grep -q "check-config" || fail "farol --help lists commands"
if "$FAROL" no-such-command 2>/dev/null; then fail "unknown command accepted"; fi

start_redis
cat >"$TMP/good.yaml" <<YAML
log:
  level: info
redis:
  address: unix:$REDIS_SOCK
daemon:
  drain_timeout: 5s
YAML
printf 'log:\n  level: loud\nredis:\n  adress: x\n' >"$TMP/bad.yaml"

"$FAROL" check-config "$TMP/good.yaml" | grep -q ": ok" || fail "good config rejected"
set +e
"$FAROL" check-config "$TMP/bad.yaml" 2>"$TMP/errs"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "check-config on a bad file exited $rc, not 1"
grep -q "^$TMP/bad.yaml:2:10: " "$TMP/errs" || fail "no error at 2:10 for the bad level: $(cat "$TMP/errs")"
grep -q "^$TMP/bad.yaml:4:3: " "$TMP/errs" || fail "no error at 4:3 for the unknown key: $(cat "$TMP/errs")"

# One role per process needs Kafka: the daemon must refuse, not silently run alone.
set +e
"$FAROL" run --config "$TMP/good.yaml" --role correlator 2>"$TMP/role.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "needs bus.transport: kafka" "$TMP/role.err" || fail "role without kafka"

cp "$TMP/good.yaml" "$TMP/live.yaml"
"$FAROL" run --config "$TMP/live.yaml" >"$TMP/daemon.log" 2>&1 &
pid=$!
track $pid
wait_for_log "$TMP/daemon.log" "daemon: ready .*role=all transport=inproc"
wait_for_log "$TMP/daemon.log" "store: connected"

cp "$TMP/bad.yaml" "$TMP/live.yaml"
kill -HUP $pid
wait_for_log "$TMP/daemon.log" "reload rejected"
wait_for_log "$TMP/daemon.log" "live.yaml:2:10: "
kill -0 $pid || fail "daemon died on a bad reload"

sed 's/level: info/level: debug/' "$TMP/good.yaml" >"$TMP/live.yaml"
kill -HUP $pid
wait_for_log "$TMP/daemon.log" "configuration reloaded"

kill -TERM $pid
wait_for_log "$TMP/daemon.log" "draining"
set +e
wait $pid
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "daemon exited $rc after SIGTERM: $(tail "$TMP/daemon.log")"
grep -q "daemon: stopped" "$TMP/daemon.log" || fail "no clean stop"
echo "daemon: ok"
