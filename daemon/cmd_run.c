/* farol run: the daemon. Wires loop, store, bus and the stages of one role, then handles
 * SIGTERM/SIGINT (drain: stop sources, let the bus empty, flush, exit) and SIGHUP (reload the
 * configuration; a bad file keeps the running one). */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/bus.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "daemon/commands.h"
#include "daemon/stages.h"

/* How often a drain checks whether the bus has emptied. */
#define DRAIN_CHECK_MS 20

struct daemon {
    const char *path;
    enum stage_role role;
    struct config cfg;
    struct loop *loop;
    struct store *store;
    struct bus *bus;
    struct stages *stages;
    struct loop_signal *sig[3];
    struct loop_timer *drain;
    int64_t drain_deadline;
    int draining;
    int status;
};

static void help(FILE *f)
{
    fprintf(f, "usage: farol run --config FILE [--role all|collector|correlator|notifier]\n\n"
               "Run the daemon. With --role all (the default) every stage runs in this process\n"
               "over the in-process bus; one role per process needs bus.transport: kafka.\n"
               "SIGTERM/SIGINT drain in-flight work and exit; SIGHUP reloads FILE.\n");
}

static void drain_check(void *arg)
{
    struct daemon *d = arg;
    size_t left = bus_pending(d->bus) + stages_pending(d->stages);
    if (left && loop_now_ms(d->loop) < d->drain_deadline)
        return;
    if (left) {
        log_warn("daemon", "drain timed out with %zu messages in flight", left);
        d->status = 1;
    }
    loop_stop(d->loop);
}

static void on_stop(void *arg, int signum)
{
    struct daemon *d = arg;
    if (d->draining) {
        log_warn("daemon", "second %s: stopping now", strsignal(signum));
        loop_stop(d->loop);
        return;
    }
    d->draining = 1;
    log_info("daemon", "%s: draining (up to %lld ms)", strsignal(signum),
             (long long)d->cfg.daemon.drain_timeout_ms);
    if (d->stages)
        stages_stop_sources(d->stages);
    d->drain_deadline = loop_now_ms(d->loop) + d->cfg.daemon.drain_timeout_ms;
    loop_timer_start(d->drain, 0, DRAIN_CHECK_MS);
}

/* Settings that live in connections are read once; say so instead of half-applying them. */
static void warn_restart_needed(const struct config *old, const struct config *new)
{
    const char *oa = old->redis.address ? old->redis.address : "";
    const char *na = new->redis.address ? new->redis.address : "";
    if (strcmp(oa, na) != 0 || old->redis.db != new->redis.db)
        log_warn("daemon", "reload: redis connection changes take effect on restart");
    if (old->bus.transport != new->bus.transport)
        log_warn("daemon", "reload: bus transport changes take effect on restart");
}

static void on_reload(void *arg, int signum)
{
    struct daemon *d = arg;
    (void)signum;
    struct config next;
    struct config_diag diag;
    config_diag_init(&diag);
    if (config_load(d->path, &next, &diag) < 0) {
        log_error("daemon", "reload rejected, keeping the running configuration:");
        for (size_t i = 0; i < diag.n; i++)
            log_error("config", "%s", diag.msgs[i]);
        config_diag_deinit(&diag);
        return;
    }
    config_diag_deinit(&diag);
    warn_restart_needed(&d->cfg, &next);
    config_deinit(&d->cfg);
    d->cfg = next;
    log_setup(d->cfg.log.level, d->cfg.log.format);
    log_info("daemon", "configuration reloaded from %s", d->path);
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:r:h", opts, NULL)) != -1) {
        if (c == 'c') {
            d->path = optarg;
        } else if (c == 'r') {
            if (stages_role_parse(optarg, &d->role) < 0) {
                fprintf(stderr, "farol run: unknown role '%s'\n", optarg);
                return 2;
            }
        } else if (c == 'h') {
            help(stdout);
            return 0;
        } else {
            help(stderr);
            return 2;
        }
    }
    if (!d->path || optind != argc) {
        help(stderr);
        return 2;
    }
    return -1;
}

static int load_config(struct daemon *d)
{
    struct config_diag diag;
    config_diag_init(&diag);
    int rc = config_load(d->path, &d->cfg, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.msgs[i]);
    config_diag_deinit(&diag);
    if (rc < 0)
        return 2;
    if (d->role != ROLE_ALL && d->cfg.bus.transport == BUS_INPROC) {
        fprintf(stderr,
                "farol run: --role %s needs bus.transport: kafka (the in-process bus "
                "does not leave this process)\n",
                stages_role_name(d->role));
        config_deinit(&d->cfg);
        return 2;
    }
    return -1;
}

static int start(struct daemon *d)
{
    char err[512];
    d->loop = loop_new();
    d->store = store_new(d->loop, &d->cfg.redis);
    d->bus = bus_new(d->loop, &d->cfg.bus, err, sizeof err);
    if (!d->bus) {
        log_error("daemon", "bus: %s", err);
        return 2;
    }
    /* before the stages: a correlator loading a large topology takes seconds, and a SIGTERM
     * meanwhile must wait for the loop (then drain), not kill the process */
    d->sig[0] = loop_signal_new(d->loop, SIGTERM, on_stop, d);
    d->sig[1] = loop_signal_new(d->loop, SIGINT, on_stop, d);
    d->sig[2] = loop_signal_new(d->loop, SIGHUP, on_reload, d);
    d->drain = loop_timer_new(d->loop, drain_check, d);
    d->stages = stages_new(d->role, d->loop, d->bus, d->store, &d->cfg, err, sizeof err);
    if (!d->stages) {
        log_error("daemon", "%s", err);
        return 2;
    }
    return 0;
}

/* What passed through the bus, for the operator reading the last lines of the log. */
static void log_bus_stats(struct bus *bus)
{
    struct bus_stats st;
    char v[6][24];
    bus_get_stats(bus, &st);
    uint64_t n[6] = {st.published, st.handled,      st.retried,
                     st.malformed, st.deadlettered, st.publish_refused};
    for (int i = 0; i < 6; i++)
        snprintf(v[i], sizeof v[i], "%llu", (unsigned long long)n[i]);
    log_kv(LOG_LEVEL_INFO, "daemon",
           (const char *const[]){"published", v[0], "handled", v[1], "retried", v[2], "malformed",
                                 v[3], "deadlettered", v[4], "refused", v[5], NULL},
           "bus totals");
}

static void finish(struct daemon *d)
{
    if (d->bus)
        log_bus_stats(d->bus);
    loop_timer_free(d->drain);
    for (int i = 0; i < 3; i++)
        loop_signal_free(d->sig[i]);
    stages_free(d->stages);
    bus_free(d->bus); /* flushes what is still unacknowledged */
    store_free(d->store);
    if (d->loop)
        loop_free(d->loop);
    config_deinit(&d->cfg);
    log_info("daemon", "stopped");
}

int cmd_run(int argc, char **argv)
{
    struct daemon d = {.role = ROLE_ALL};
    int rc = parse_args(&d, argc, argv);
    if (rc >= 0)
        return rc;
    rc = load_config(&d);
    if (rc >= 0)
        return rc;
    log_setup(d.cfg.log.level, d.cfg.log.format);
    signal(SIGPIPE, SIG_IGN);
    rc = start(&d);
    if (rc == 0) {
        char pid[24];
        snprintf(pid, sizeof pid, "%ld", (long)getpid());
        log_kv(LOG_LEVEL_INFO, "daemon",
               (const char *const[]){"role", stages_role_name(d.role), "transport",
                                     d.cfg.bus.transport == BUS_KAFKA ? "kafka" : "inproc", "pid",
                                     pid, NULL},
               "ready");
        loop_run(d.loop);
        rc = d.status;
    }
    finish(&d);
    return rc;
}
