/* farol maintenance add|cancel|list. add and cancel check what they can locally (times, rule,
 * nodes against the current topology in Redis) so that a planner sees mistakes at once, then
 * publish a seq-0 request for the correlator and wait until the bus holds it. */
#include "daemon/cmd_maint.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/bus.h"
#include "core/event_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "correlator/maint.h"
#include "correlator/maint_store.h"
#include "correlator/topology_store.h"

#define FLUSH_DEFAULT_MS 10000

struct mopts {
    const char *config, *nodes, *start, *end, *description, *id, *recurrence;
};

static void help(FILE *f)
{
    fprintf(f,
            "usage: farol maintenance add --config FARCONF --nodes NODE[,NODE...] --start T\n"
            "                             --end T --description TEXT [--id ID]\n"
            "                             [--recurrence RULE]\n"
            "       farol maintenance cancel --config FARCONF ID\n"
            "       farol maintenance list --config FARCONF\n\n"
            "add: plan a window on topology nodes; alarms in its scope (the nodes and what they\n"
            "cut off) are planned while it runs. T is RFC 3339 (2026-11-25T03:00:00-03:00) or\n"
            "relative to now (+2h, +1d12h, +90m, now). RULE: daily, weekly, optionally with\n"
            ";count=N, or FREQ=DAILY|WEEKLY[;INTERVAL=N][;COUNT=N]. Without --id the window is\n"
            "named from its start and nodes. The request goes to the correlator over the bus.\n"
            "cancel: cancel a scheduled or running window. list: windows in Redis.\n"
            "Rules and events: docs/maintenance.md. Exit status: 0 done, 1 invalid request,\n"
            "2 usage, Redis or bus error.\n");
}

static int parse(int argc, char **argv, struct mopts *o)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"nodes", required_argument, NULL, 'n'},
                                          {"start", required_argument, NULL, 's'},
                                          {"end", required_argument, NULL, 'e'},
                                          {"description", required_argument, NULL, 'd'},
                                          {"id", required_argument, NULL, 'i'},
                                          {"recurrence", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char **slot[128] = {
        ['c'] = &o->config,      ['n'] = &o->nodes, ['s'] = &o->start,     ['e'] = &o->end,
        ['d'] = &o->description, ['i'] = &o->id,    ['r'] = &o->recurrence};
    memset(o, 0, sizeof *o);
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:n:s:e:d:i:r:h", longs, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return 1;
        }
        if (c < 0 || c >= 128 || !slot[c]) {
            help(stderr);
            return -EINVAL;
        }
        *slot[c] = optarg;
    }
    if (!o->config) {
        fprintf(stderr, "farol: --config FARCONF is required (it names Redis and the bus)\n");
        return -EINVAL;
    }
    return 0;
}

/* "now", "+2h", "+1d12h30m15s", or RFC 3339. */
static int parse_when(const char *s, int64_t now_ms, int64_t *out)
{
    if (!strcmp(s, "now"))
        return *out = now_ms, 0;
    if (*s != '+')
        return event_parse_time(s, out);
    int64_t total = 0;
    const char *p = s + 1;
    do {
        char *end;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        long long n = strtoll(p, &end, 10);
        int64_t unit = *end == 's'   ? 1000
                       : *end == 'm' ? 60000
                       : *end == 'h' ? 3600000
                       : *end == 'd' ? 86400000
                                     : 0;
        if (!unit || n > 3650LL * 86400000 / unit) /* ten years at most */
            return -EINVAL;
        total += n * unit;
        p = end + 1;
    } while (*p);
    return *out = now_ms + total, 0;
}

static int load_config(const char *path, struct config *cfg)
{
    struct config_diag diag;
    config_diag_init(&diag);
    int rc = config_load(path, cfg, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.msgs[i]);
    config_diag_deinit(&diag);
    if (rc < 0)
        return rc;
    log_setup(LOG_LEVEL_WARN, cfg->log.format);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static struct store_sync *redis(const struct config *cfg)
{
    char err[512];
    struct store_sync *ss = store_sync_connect(&cfg->redis, err, sizeof err);
    if (!ss)
        fprintf(stderr, "farol: %s\n", err);
    return ss;
}

/* Every node must exist in the current topology. Returns 0, 1 (unknown) or 2 (Redis). */
static int check_nodes(struct store_sync *ss, const struct id_list *nodes)
{
    char v[64], err[512];
    int rc = topology_store_current(ss, v, sizeof v, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "farol: %s\n", err);
        return rc == -ENOENT ? 1 : 2;
    }
    int bad = 0;
    for (size_t i = 0; i < nodes->n; i++) {
        struct topology_store_node n;
        rc = topology_store_node_get(ss, v, nodes->ids[i], &n, err, sizeof err);
        if (rc == -ENOENT) {
            fprintf(stderr, "farol: unknown node '%s' (topology version %s)\n", nodes->ids[i], v);
            bad = 1;
        } else if (rc < 0) {
            fprintf(stderr, "farol: %s\n", err);
            return 2;
        } else {
            topology_store_node_deinit(&n);
        }
    }
    return bad;
}

/* Publish ev and wait until the transport holds it. Returns 0 or 2. */
static int publish(const struct config *cfg, const struct event *ev)
{
    if (cfg->bus.transport == BUS_INPROC) {
        fprintf(stderr, "farol: bus.transport is inproc: requests need the shared bus (kafka) "
                        "that the correlator consumes\n");
        return 2;
    }
    char err[512];
    struct loop *loop = loop_new();
    struct bus *bus = bus_new(loop, &cfg->bus, err, sizeof err);
    int rc = bus ? bus_publish_event(bus, ev) : -EIO;
    if (!bus)
        fprintf(stderr, "farol: %s\n", err);
    else if (rc < 0)
        fprintf(stderr, "farol: publish failed: %s\n", strerror(-rc));
    int64_t wait = cfg->bus.flush_timeout_ms > 0 ? cfg->bus.flush_timeout_ms : FLUSH_DEFAULT_MS;
    int64_t deadline = loop_now_ms(loop) + wait;
    while (rc == 0 && bus_pending(bus) > 0 && loop_now_ms(loop) < deadline)
        loop_run_once(loop, 1);
    if (rc == 0 && bus_pending(bus) > 0) {
        fprintf(stderr, "farol: the bus did not acknowledge the request in %lld ms\n",
                (long long)wait);
        rc = -ETIMEDOUT;
    }
    bus_free(bus);
    loop_free(loop);
    return rc < 0 ? 2 : 0;
}

static void split_nodes(const char *s, struct id_list *out)
{
    char *copy = xstrdup(s), *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            p[--n] = '\0';
        if (n)
            id_list_add(out, p);
    }
    free(copy);
}

/* Everything that needs neither Redis nor the bus. Returns 0, or 1/2 after printing why. */
static int check_request(const struct mopts *o, struct maintenance *w, int64_t now_ms)
{
    if (!o->nodes || !o->start || !o->end || !o->description) {
        fprintf(stderr, "farol: add needs --nodes, --start, --end and --description\n");
        return 2;
    }
    split_nodes(o->nodes, &w->nodes);
    char err[256];
    struct maint_recur r;
    const char *bad =
        !w->nodes.n                                      ? "--nodes: no node given"
        : parse_when(o->start, now_ms, &w->start_ms) < 0 ? "--start: not a time"
        : parse_when(o->end, now_ms, &w->end_ms) < 0     ? "--end: not a time"
        : w->end_ms <= w->start_ms                       ? "--end must be after --start"
        : w->end_ms <= now_ms                            ? "--end is in the past"
        : strlen(o->description) > EVENT_MAX_TEXT        ? "--description: too long"
        : o->id && !maint_id_valid(o->id) ? "--id: use 1-128 letters, digits, '.', '_', '-'"
        : o->recurrence &&
                maint_recur_parse(o->recurrence, w->start_ms, w->end_ms, &r, err, sizeof err) < 0
            ? err
            : NULL;
    if (bad) {
        fprintf(stderr, "farol: %s\n", bad);
        return 1;
    }
    char id[160];
    maint_window_id(&w->nodes, w->start_ms, id, sizeof id);
    w->id = xstrdup(o->id ? o->id : id);
    w->description = xstrdup(o->description);
    w->recurrence = xstrdup(o->recurrence);
    return 0;
}

static int cmd_add(const struct mopts *o, const struct config *cfg)
{
    struct event ev;
    event_init(&ev, EVENT_MAINTENANCE);
    ev.ts_ms = loop_wall_ms();
    struct maintenance *w = &ev.u.maintenance;
    w->phase = MAINT_SCHEDULED; /* seq 0: a request */
    int rc = check_request(o, w, ev.ts_ms);
    struct store_sync *ss = rc ? NULL : redis(cfg);
    if (!rc && !ss)
        rc = 2;
    if (!rc)
        rc = check_nodes(ss, &w->nodes);
    store_sync_free(ss);
    if (!rc)
        rc = publish(cfg, &ev);
    if (!rc) {
        char s[EVENT_TIME_BUFSZ], e[EVENT_TIME_BUFSZ];
        event_format_time(w->start_ms, s, sizeof s);
        event_format_time(w->end_ms, e, sizeof e);
        printf("maintenance window %s requested: %s .. %s, %zu node%s%s%s\n", w->id, s, e,
               w->nodes.n, w->nodes.n == 1 ? "" : "s", w->recurrence ? ", " : "",
               w->recurrence ? w->recurrence : "");
    }
    event_deinit(&ev);
    return rc;
}

static int cmd_cancel(const char *id, const struct config *cfg)
{
    if (!maint_id_valid(id)) {
        fprintf(stderr, "farol: '%s' is not a window id\n", id);
        return 1;
    }
    struct store_sync *ss = redis(cfg);
    if (!ss)
        return 2;
    char key[512];
    store_sync_key(ss, key, sizeof key, "maint:%s", id);
    redisReply *r = store_sync_command(ss, "EXISTS %s", key);
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) /* maybe not persisted yet */
        fprintf(stderr, "farol: warning: window %s is not in Redis; cancelling anyway\n", id);
    if (r)
        freeReplyObject(r);
    store_sync_free(ss);
    struct event ev;
    event_init(&ev, EVENT_MAINTENANCE);
    ev.ts_ms = loop_wall_ms();
    ev.u.maintenance.id = xstrdup(id);
    ev.u.maintenance.phase = MAINT_CANCELLED;
    int rc = publish(cfg, &ev);
    if (!rc)
        printf("cancellation of maintenance window %s requested\n", id);
    event_deinit(&ev);
    return rc;
}

static int print_window(void *arg, const struct maintenance *w)
{
    size_t *n = arg;
    char s[EVENT_TIME_BUFSZ], e[EVENT_TIME_BUFSZ];
    event_format_time(w->start_ms, s, sizeof s);
    event_format_time(w->end_ms, e, sizeof e);
    if ((*n)++ == 0)
        printf("%-28s %-9s %-24s %-24s %8s  %-20s %s\n", "ID", "PHASE", "START", "END", "SUBS",
               "RECURRENCE", "NODES / DESCRIPTION");
    printf("%-28s %-9s %-24s %-24s %8u  %-20s ", w->id, maint_phase_name(w->phase), s, e,
           w->affected_subscribers, w->recurrence ? w->recurrence : "-");
    for (size_t i = 0; i < w->nodes.n && i < 8; i++)
        printf("%s%s", i ? "," : "", w->nodes.ids[i]);
    printf("%s / %s\n", w->nodes.n > 8 ? ",..." : "", w->description ? w->description : "");
    return 0;
}

static int cmd_list(const struct config *cfg)
{
    struct store_sync *ss = redis(cfg);
    if (!ss)
        return 2;
    char err[512];
    size_t n = 0;
    int rc = maint_store_load(ss, print_window, &n, err, sizeof err);
    store_sync_free(ss);
    if (rc < 0) {
        fprintf(stderr, "farol: %s\n", err);
        return 2;
    }
    if (n == 0)
        printf("no scheduled or running maintenance windows\n");
    return 0;
}

int cmd_maintenance(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help(stdout);
        return 0;
    }
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "add") && strcmp(sub, "cancel") && strcmp(sub, "list")) {
        help(stderr);
        return 2;
    }
    struct mopts o;
    int rc = parse(argc - 1, argv + 1, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    int positional = argc - 1 - optind;
    if (positional != (!strcmp(sub, "cancel") ? 1 : 0)) {
        help(stderr);
        return 2;
    }
    struct config cfg;
    if (load_config(o.config, &cfg) < 0)
        return 2;
    rc = !strcmp(sub, "add")      ? cmd_add(&o, &cfg)
         : !strcmp(sub, "cancel") ? cmd_cancel(argv[1 + optind], &cfg)
                                  : cmd_list(&cfg);
    config_deinit(&cfg);
    return rc;
}
