#!/usr/bin/env bash
# gen.sh OUTDIR: write .snmprec files (snmpsim's format, OID|tag|value in OID order) for the
# simulated access network:
#   switch48.snmprec    48-port access switch: port 5 down (admin up), port 6 shut down
#   router.snmprec      4-port router, all up
#   huawei-olt.snmprec  16 PON ports x 32 ONUs: PON 3 all LOS (a fiber cut), PON 7 ONUs 1-10
#                       dying-gasp (a power cut), PON 9 ONU 5 down after a reset, PON 11 ONU 2
#                       online with -28.90 dBm (low optical power)
#   zte-olt.snmprec     16 PON ports x 32 ONUs: PON 2 all LOS, PON 5 ONUs 1-8 dying-gasp,
#                       PON 8 ONU 3 offline
# Indexes above 2^31 are printed with %.0f: mawk clamps %d to 2147483647.
# Tags: 2 Integer, 4 OctetString, 67 TimeTicks, 70 Counter64.
set -euo pipefail
out=${1:?usage: gen.sh OUTDIR}
mkdir -p "$out"

system() { # system NAME DESCR UPTIME
    printf '1.3.6.1.2.1.1.1.0|4|%s\n1.3.6.1.2.1.1.3.0|67|%s\n1.3.6.1.2.1.1.5.0|4|%s\n' "$2" "$3" "$1"
}

# interfaces N DOWN SHUT: ifTable columns (descr, admin, oper) and ifXTable HC counters.
interfaces() {
    awk -v n="$1" -v down="$2" -v shut="$3" 'BEGIN {
        for (i = 1; i <= n; i++) printf "1.3.6.1.2.1.2.2.1.1.%d|2|%d\n", i, i
        for (i = 1; i <= n; i++) printf "1.3.6.1.2.1.2.2.1.2.%d|4|port%d\n", i, i
        for (i = 1; i <= n; i++) printf "1.3.6.1.2.1.2.2.1.7.%d|2|%d\n", i, i == shut ? 2 : 1
        for (i = 1; i <= n; i++) printf "1.3.6.1.2.1.2.2.1.8.%d|2|%d\n", i, (i == shut || i == down) ? 2 : 1
        for (i = 1; i <= n; i++) printf "1.3.6.1.2.1.31.1.1.1.6.%d|70|%d\n", i, i * 1000003
        for (i = 1; i <= n; i++) printf "1.3.6.1.2.1.31.1.1.1.10.%d|70|%d\n", i, i * 500009
    }'
}

{ system sw-access-01 "access switch, 48 ports" 8640000; interfaces 48 5 6; } >"$out/switch48.snmprec"
{ system rt-core-01 "core router" 25920000; interfaces 4 0 0; } >"$out/router.snmprec"

# Huawei: GPON port 0/1/p has ifIndex 4194304000 + 1*8192 + p*256; rows are ifIndex.ontId.
{
    system olt-hw-01 "Huawei MA5800 GPON OLT" 12960000
    awk 'function state(p, o) {
            if (p == 3) return "2 2"                 # status, cause: LOSi (fiber cut)
            if (p == 7 && o >= 1 && o <= 10) return "2 13"  # dying-gasp
            if (p == 9 && o == 5) return "2 9"       # down after a reset
            return "1 0" }
        BEGIN {
            base = "1.3.6.1.4.1.2011.6.128.1.1.2"
            for (col = 15; col <= 24; col += 9)
                for (p = 0; p < 16; p++) for (o = 0; o < 32; o++) {
                    split(state(p, o), s, " ")
                    printf "%s.46.1.%d.%.0f.%d|2|%d\n", base, col, 4194304000 + 8192 + p * 256, o,
                        col == 15 ? s[1] : s[2]
                }
            for (p = 0; p < 16; p++) for (o = 0; o < 32; o++) {
                split(state(p, o), s, " ")
                rx = s[1] != 1 ? 2147483647 : (p == 11 && o == 2) ? -2890 : -1900 - (p * 32 + o) % 400
                printf "%s.51.1.6.%.0f.%d|2|%d\n", base, 4194304000 + 8192 + p * 256, o, rx
            }
        }'
} >"$out/huawei-olt.snmprec"

# ZTE: phase state per ifIndex.onuId, GPON port p has ifIndex 268501248 + p*256.
{
    system olt-zte-01 "ZTE C320 GPON OLT" 4320000
    awk 'BEGIN {
        for (p = 0; p < 16; p++) for (o = 1; o <= 32; o++) {
            st = 4
            if (p == 2) st = 2
            if (p == 5 && o <= 8) st = 5
            if (p == 8 && o == 3) st = 7
            printf "1.3.6.1.4.1.3902.1012.3.28.2.1.4.%.0f.%d|2|%d\n", 268501248 + p * 256, o, st
        }
    }'
} >"$out/zte-olt.snmprec"
