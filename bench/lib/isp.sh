# bench/lib/isp.sh: the synthetic ISP of issue #4, shared by bench/topology.sh and
# bench/correlator.sh. isp_gen: the four CSV files for $SUBS subscribers into $WORK (16 routers,
# a switch per 10 OLTs (even ones dual-homed), an OLT per 16 PON ports, 32 ONUs per PON, one
# subscriber per ONU).
isp_gen() {
    awk -v subs="$SUBS" -v dir="$WORK" 'BEGIN {
        pons = int((subs + 31) / 32); olts = int((pons + 15) / 16); sws = int((olts + 9) / 10)
        n = dir "/nodes.csv"; s = dir "/subscribers.csv"; b = dir "/bindings.csv"
        print "id,kind,area,parents" > n
        print "id,node,name,phones,channels,locale,timezone,plan,cap,cycle_day" > s
        print "device,object,node" > b
        for (r = 0; r < 16; r++) printf "rt-%d,router,area-%d,\n", r, r % 4 > n
        for (w = 0; w < sws; w++) # odd switches single-homed: a router then cuts some off
            if (w % 2) printf "sw-%d,switch,area-%d,rt-%d\n", w, w % 4, w % 16 > n
            else printf "sw-%d,switch,area-%d,rt-%d|rt-%d\n", w, w % 4, w % 16, (w + 1) % 16 > n
        for (o = 0; o < olts; o++) {
            printf "olt-%d,olt,,sw-%d\n", o, int(o / 10) > n
            printf "olt-%d,,olt-%d\n", o, o > b
        }
        for (p = 0; p < pons; p++) printf "pon-%d,pon,,olt-%d\n", p, int(p / 16) > n
        for (u = 0; u < subs; u++) {
            p = int(u / 32); o = int(p / 16)
            printf "onu-%d,onu,,pon-%d\n", u, p > n
            printf "olt-%d,onu:0/%d/%d:%d,onu-%d\n", o, int((p % 16) / 8), p % 8, u % 32, u > b
            printf "sub-%d,onu-%d,Subscriber %d,+55119%08d,whatsapp|sms,pt-BR,America/Sao_Paulo,fibra-300,500GB,%d\n",
                u, u, u, u, u % 28 + 1 > s
        }
    }'
}
