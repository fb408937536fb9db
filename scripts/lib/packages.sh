# packages.sh: install the Debian packages a script needs, skipping those already present.
# Sourced by scripts/demo and scripts/test; safe to source twice.

FAROL_BUILD_PACKAGES="meson ninja-build pkg-config gcc clang libclang-rt-14-dev libev-dev
 libjansson-dev libyaml-dev libhiredis-dev librdkafka-dev libcurl4-openssl-dev libsnmp-dev check
 libmicrohttpd-dev"
FAROL_PEER_PACKAGES="redis-server kcat jq snmp snmpd snmpsim fping nftables iproute2
 kannel kannel-extras curl python3 openssl"
FAROL_LINT_PACKAGES="clang-format cppcheck"

# need_packages PKG...: apt-get install the missing ones (as root, or through sudo).
need_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
