/* trap_sink: run the collector's trap receiver (collector/snmp_trap.h) from a farol config and
 * print, on stdout (flushed), "ready" once listening, one line per alarm report
 *   "REPORT raise|clear device=D object=O kind=K severity=S source=snmp-trap"
 * and a "STATS packets=.. traps=.. informs=.. acked=.. reports=.. handshakes=.. <drop>=.."
 * line whenever a counter changed; for tests that await them. SIGTERM or SIGINT exits 0.
 * usage: trap_sink CONFIG */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "collector/snmp_trap.h"
#include "config/config.h"
#include "core/event.h"
#include "core/log.h"
#include "core/loop.h"

static struct loop *loop;
static struct snmp_trap *rx;
static struct snmp_trap_stats last;

static void on_alarm(void *arg, const struct alarm_report *r)
{
    (void)arg;
    printf("REPORT %s device=%s object=%s kind=%s severity=%s source=%s\n",
           r->active ? "raise" : "clear", r->device, r->object, r->kind,
           alarm_severity_name(r->severity), r->source == SRC_SNMP_TRAP ? "snmp-trap" : "other");
    fflush(stdout);
}

static void print_stats(void *arg)
{
    struct snmp_trap_stats s;
    (void)arg;
    snmp_trap_stats(rx, &s);
    if (!memcmp(&s, &last, sizeof s))
        return;
    last = s;
    printf("STATS packets=%llu traps=%llu informs=%llu acked=%llu reports=%llu handshakes=%llu",
           (unsigned long long)s.packets, (unsigned long long)s.traps,
           (unsigned long long)s.informs, (unsigned long long)s.acked,
           (unsigned long long)s.reports, (unsigned long long)s.handshakes);
    for (int i = 0; i < SNMP_TRAP_DROP_N; i++)
        printf(" %s=%llu", snmp_trap_drop_name((enum snmp_trap_drop)i),
               (unsigned long long)s.dropped[i]);
    printf("\n");
    fflush(stdout);
}

static void stop(void *arg, int signum)
{
    (void)arg, (void)signum;
    loop_stop(loop);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: trap_sink CONFIG\n");
        return 2;
    }
    struct config cfg;
    struct config_diag d;
    config_diag_init(&d);
    if (config_load(argv[1], &cfg, &d) < 0) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s\n", d.msgs[i]);
        return 2;
    }
    config_diag_deinit(&d);
    log_setup(cfg.log.level, cfg.log.format);
    loop = loop_new();
    struct profile_sink sink = {.alarm = on_alarm};
    char err[256];
    rx = snmp_trap_new(loop, &cfg.collector, &sink, err, sizeof err);
    if (!rx) {
        fprintf(stderr, "trap_sink: %s\n", *err ? err : "no collector.traps section");
        return 1;
    }
    struct loop_signal *s1 = loop_signal_new(loop, SIGTERM, stop, NULL);
    struct loop_signal *s2 = loop_signal_new(loop, SIGINT, stop, NULL);
    /* a change of counters shows within 20 ms: tests await lines, this bounds their latency */
    struct loop_timer *tick = loop_timer_new(loop, print_stats, NULL);
    loop_timer_start(tick, 20, 20);
    printf("ready\n");
    fflush(stdout);
    loop_run(loop);
    print_stats(NULL);
    loop_timer_free(tick);
    loop_signal_free(s1);
    loop_signal_free(s2);
    snmp_trap_free(rx);
    loop_free(loop);
    config_deinit(&cfg);
    return 0;
}
