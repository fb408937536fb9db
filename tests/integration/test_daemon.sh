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
cat >"$WORK/good.yaml" <<YAML
log:
  level: info
redis:
  address: unix:$REDIS_SOCK
daemon:
  drain_timeout: 5s
YAML
printf 'log:\n  level: loud\nredis:\n  adress: x\n' >"$WORK/bad.yaml"

"$FAROL" check-config "$WORK/good.yaml" | grep -q ": ok" || fail "good config rejected"
set +e
"$FAROL" check-config "$WORK/bad.yaml" 2>"$WORK/errs"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "check-config on a bad file exited $rc, not 1"
grep -q "^$WORK/bad.yaml:2:10: " "$WORK/errs" || fail "no error at 2:10 for the bad level: $(cat "$WORK/errs")"
grep -q "^$WORK/bad.yaml:4:3: " "$WORK/errs" || fail "no error at 4:3 for the unknown key: $(cat "$WORK/errs")"

# One role per process needs Kafka: the daemon must refuse, not silently run alone.
set +e
"$FAROL" run --config "$WORK/good.yaml" --role correlator 2>"$WORK/role.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "needs bus.transport: kafka" "$WORK/role.err" || fail "role without kafka"

cp "$WORK/good.yaml" "$WORK/live.yaml"
"$FAROL" run --config "$WORK/live.yaml" >"$WORK/daemon.log" 2>&1 &
pid=$!
track $pid
wait_for_log "$WORK/daemon.log" "daemon: ready .*role=all transport=inproc"
wait_for_log "$WORK/daemon.log" "store: connected"

cp "$WORK/bad.yaml" "$WORK/live.yaml"
kill -HUP $pid
wait_for_log "$WORK/daemon.log" "reload rejected"
wait_for_log "$WORK/daemon.log" "live.yaml:2:10: "
kill -0 $pid || fail "daemon died on a bad reload"

sed 's/level: info/level: debug/' "$WORK/good.yaml" >"$WORK/live.yaml"
kill -HUP $pid
wait_for_log "$WORK/daemon.log" "configuration reloaded"

kill -TERM $pid
wait_for_log "$WORK/daemon.log" "draining"
set +e
wait $pid
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "daemon exited $rc after SIGTERM: $(tail "$WORK/daemon.log")"
grep -q "daemon: stopped" "$WORK/daemon.log" || fail "no clean stop"
echo "daemon: ok"
