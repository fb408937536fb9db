#!/bin/bash
# farol topology import/show and farol impact against a private redis-server: a valid import
# becomes current, a broken one is rejected whole (every error listed) and changes nothing.
set -euo pipefail
source "$FAROL_SRCDIR/tests/integration/lib.sh"
D="$FAROL_SRCDIR/tests/unit/data/topology"
start_redis
printf 'redis:\n  address: unix:%s\n' "$REDIS_SOCK" >"$WORK/farol.yaml"
C=(--config "$WORK/farol.yaml")
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

"$FAROL" topology --help | grep -q 'topology import FILE' || fail "topology --help"
"$FAROL" impact --help | grep -q 'impact NODE' || fail "impact --help"

"$FAROL" topology import "$D/good.yaml" "${C[@]}" >"$WORK/out" 2>"$WORK/err" || fail "import: $(cat "$WORK/err")"
grep -q 'topology version 1 is current' "$WORK/out" || fail "no version line: $(cat "$WORK/out")"
grep -q 'subscribers 3/3 written' "$WORK/err" || fail "no progress on stderr"
[ "$(rcli GET farol:topo:current)" = 1 ] || fail "current is not 1"

# CSV: four files, one per record type; replaces version 1, whose keys are deleted
"$FAROL" topology import "$D/nodes.csv" "$D/links.csv" "$D/subscribers.csv" "$D/bindings.csv" \
    "${C[@]}" >"$WORK/out" 2>"$WORK/err" || fail "csv import: $(cat "$WORK/err")"
[ "$(rcli GET farol:topo:current)" = 2 ] || fail "current is not 2"
[ "$(rcli EXISTS farol:topo:1:node:sw-1)" = 0 ] || fail "version 1 not deleted"

# broken files: every problem listed, exit 1, nothing written, version 2 stays
before=$(rcli DBSIZE)
rc=0
"$FAROL" topology import "$D/bad.yaml" "$D/bad_subscribers.csv" "${C[@]}" 2>"$WORK/err" || rc=$?
[ "$rc" = 1 ] || fail "bad import exit $rc"
grep -q 'bad.yaml:3: node .s1.: unknown parent .r9.' "$WORK/err" || fail "unknown parent missing"
grep -q 'bad.yaml:6: parent cycle' "$WORK/err" || fail "cycle missing"
grep -q 'bad_subscribers.csv:3: subscriber .u1.: duplicate id' "$WORK/err" || fail "dup missing"
grep -q 'nothing imported, the running topology stays' "$WORK/err" || fail "no summary"
if grep -q '5511987654321' "$WORK/err"; then fail "phone number printed in full"; fi
[ "$(rcli GET farol:topo:current)" = 2 ] || fail "bad import changed the pointer"
[ "$(rcli DBSIZE)" = "$before" ] || fail "bad import wrote keys"

# --check validates without Redis
"$FAROL" topology import "$D/good.yaml" --check >/dev/null 2>&1 || fail "--check"

"$FAROL" topology show sw-1 "${C[@]}" >"$WORK/show"
grep -q '^kind: switch' "$WORK/show" || fail "show: $(cat "$WORK/show")"
grep -q 'parents: \["core-1","core-2"\]' "$WORK/show" || fail "show parents"
grep -q 'if it fails: 2 subscribers; nodes: switch 1, olt 1, pon 1, onu 2' "$WORK/show" ||
    fail "show impact: $(cat "$WORK/show")"

"$FAROL" impact olt-2 "${C[@]}" >"$WORK/imp"
grep -qx 'subscribers cut off: 1' "$WORK/imp" || fail "impact olt-2: $(cat "$WORK/imp")"
grep -qx 'sub-3' "$WORK/imp" || fail "impact olt-2 list"
"$FAROL" impact sw-1 --limit 1 "${C[@]}" >"$WORK/imp"
grep -q '(subscribers 1-1 of 2; --offset 1 for more)' "$WORK/imp" || fail "paging: $(cat "$WORK/imp")"
"$FAROL" impact core-1 "${C[@]}" >"$WORK/imp"   # sw-1 and olt-2 keep core-2
grep -qx 'subscribers cut off: 0' "$WORK/imp" || fail "redundancy: $(cat "$WORK/imp")"
rc=0
"$FAROL" impact nope "${C[@]}" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "unknown node exit $rc"
echo "ok"
