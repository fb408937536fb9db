# netlab.sh: a simulated access network in network namespaces that the caller creates and
# removes (sourced by scripts/demo). A "core" namespace holds farol and its services; each
# device is a namespace joined to the core by a veth pair, 10.99.N.1 (core) <-> 10.99.N.2
# (device). Addresses exist only inside these namespaces.
# Gives: netlab_init PREFIX, netlab_device NAME N (sets DEVICE_IP), in_core CMD...,
# in_device NAME CMD..., netlab_cleanup.

NETLAB_PREFIX=
NETLAB_DEVICES=()

netlab_init() {
    NETLAB_PREFIX=$1
    netlab_cleanup
    ip netns add "$NETLAB_PREFIX-core"
    ip -n "$NETLAB_PREFIX-core" link set lo up
}

netlab_device() { # netlab_device NAME N
    local ns="$NETLAB_PREFIX-$1" core="$NETLAB_PREFIX-core"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$core" link add "d$2" type veth peer name eth0 netns "$ns"
    ip -n "$core" addr add "10.99.$2.1/24" dev "d$2"
    ip -n "$ns" addr add "10.99.$2.2/24" dev eth0
    ip -n "$core" link set "d$2" up
    ip -n "$ns" link set eth0 up
    NETLAB_DEVICES+=("$1")
    DEVICE_IP="10.99.$2.2"
}

in_core() { ip netns exec "$NETLAB_PREFIX-core" "$@"; }
in_device() { local d=$1; shift; ip netns exec "$NETLAB_PREFIX-$d" "$@"; }

# Remove every namespace with our prefix (also those a crashed earlier run left behind).
netlab_cleanup() {
    [ -n "$NETLAB_PREFIX" ] || return 0
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep "^$NETLAB_PREFIX-" || true); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}
