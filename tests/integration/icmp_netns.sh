# icmp_netns.sh: sourced by the ICMP integration tests after lib.sh. Builds a two-namespace
# lab: CORE (where the prober runs: lo up, 10.99.0.1/24 on veth c0) and DEV (a device:
# 10.99.0.2/24 on eth0), both unique per run and always deleted on exit, pass or fail.
# Gives: CORE, DEV, DEV_IP, in_core CMD... (run CMD inside CORE), chaos RULE (nftables rule on
# DEV's input: "drop", "numgen random mod 100 < 30 drop"), chaos_clear.

CORE="farol-it-$$-core"
DEV="farol-it-$$-dev"
DEV_IP=10.99.0.2

netns_cleanup() {
    ip netns del "$DEV" 2>/dev/null || true
    ip netns del "$CORE" 2>/dev/null || true
}
trap 'netns_cleanup; cleanup' EXIT

netns_setup() {
    ip netns add "$CORE"
    ip netns add "$DEV"
    ip -n "$CORE" link set lo up
    ip -n "$DEV" link set lo up
    ip -n "$CORE" link add c0 type veth peer name eth0 netns "$DEV"
    ip -n "$CORE" addr add 10.99.0.1/24 dev c0
    ip -n "$DEV" addr add "$DEV_IP/24" dev eth0
    ip -n "$CORE" link set c0 up
    ip -n "$DEV" link set eth0 up
}

in_core() { ip netns exec "$CORE" "$@"; }

chaos() {
    ip netns exec "$DEV" nft add table inet chaos
    ip netns exec "$DEV" nft add chain inet chaos in '{ type filter hook input priority 0; }'
    ip netns exec "$DEV" nft add rule inet chaos in "$@"
}

chaos_clear() { ip netns exec "$DEV" nft delete table inet chaos; }

netns_setup
