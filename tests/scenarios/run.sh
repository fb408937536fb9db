#!/usr/bin/env bash
# Scenario tests: for each tests/scenarios/NAME/ run `farol replay` over its topology.yaml and
# events.jsonl and diff the outage events with expected.jsonl (README says what it proves).
# Also checks that output is the same on a second run and that, without --subscribers, no id
# list is printed. Usage: run.sh [NAME...]; FAROL points at the binary.
set -euo pipefail
: "${FAROL:?FAROL must point at the farol binary}"
DIR=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for d in "$DIR"/*/; do names+=("$(basename "$d")"); done
fi
fail=0
for name in "${names[@]}"; do
    s="$DIR/$name"
    out="$WORK/$name.jsonl"
    if ! "$FAROL" replay --topology "$s/topology.yaml" --events "$s/events.jsonl" \
        --subscribers >"$out" 2>"$WORK/$name.err"; then
        echo "FAIL $name: farol replay failed:"; cat "$WORK/$name.err"; fail=1; continue
    fi
    if ! diff -u "$s/expected.jsonl" "$out"; then
        echo "FAIL $name: output differs from expected.jsonl ($(cat "$s/README"))"; fail=1; continue
    fi
    "$FAROL" replay --topology "$s/topology.yaml" --events "$s/events.jsonl" --subscribers \
        >"$out.2" 2>/dev/null
    if ! cmp -s "$out" "$out.2"; then
        echo "FAIL $name: two runs differ"; fail=1; continue
    fi
    "$FAROL" replay --topology "$s/topology.yaml" --events "$s/events.jsonl" >"$out.3" 2>/dev/null
    if grep -q '"subscribers_\(added\|restored\)"' "$out.3" ||
        [ "$(wc -l <"$out.3")" != "$(wc -l <"$out")" ]; then
        echo "FAIL $name: without --subscribers the id lists must be left out"; fail=1; continue
    fi
    echo "ok   $name"
done
exit $fail
