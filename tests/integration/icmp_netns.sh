# icmp_netns.sh: sourced by the ICMP integration tests after lib.sh. A two-namespace lab built
# with scripts/lib/netlab.sh: CORE (where the prober runs: lo up, 10.99.0.1/24 on d0) and DEV
# (a device: 10.99.0.2/24 on eth0), both unique per run and always deleted on exit, pass or
# fail. Gives: CORE, DEV, DEV_IP, in_core CMD..., chaos RULE (nftables rule on DEV's input:
# "drop", "numgen random mod 100 < 30 drop"), chaos_clear.

. "$FAROL_SRCDIR/scripts/lib/netlab.sh"
netlab_init "farol-it-$$"
trap 'netlab_cleanup; cleanup' EXIT
netlab_device dev 0
CORE="farol-it-$$-core"
DEV="farol-it-$$-dev"
DEV_IP=$DEVICE_IP

chaos() {
    ip netns exec "$DEV" nft add table inet chaos
    ip netns exec "$DEV" nft add chain inet chaos in '{ type filter hook input priority 0; }'
    ip netns exec "$DEV" nft add rule inet chaos in "$@"
}

chaos_clear() { ip netns exec "$DEV" nft delete table inet chaos; }
