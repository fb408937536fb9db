/* farol replay: each event's ts is the clock. Alarms with the same ts are applied together and
 * correlated once (the daemon's batch); between instants the engine is ticked at every
 * deadline it reports, and after the last event until no timer is left, so hold-downs and
 * clear-holds elapse exactly as in the daemon. Output is deterministic: it depends only on the
 * files. */
#include "daemon/cmd_replay.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/event_json.h"
#include "core/xmalloc.h"
#include "correlator/engine.h"
#include "correlator/topology_load.h"

struct replay {
    const char **topo;
    size_t ntopo;
    const char *events;
    bool subscribers;
    int64_t clock;
    int failed; /* an event could not be encoded */
};

static void help(FILE *f)
{
    fprintf(f, "usage: farol replay --topology FILE... --events FILE.jsonl [--subscribers]\n\n"
               "Correlate alarm events (one JSON event per line, docs/events.md) over a topology\n"
               "read from YAML/CSV files (docs/topology.md), using each event's ts as the clock,\n"
               "and print the outage events as JSON lines. Timers run on after the last event\n"
               "until every hold-down and clear-hold has elapsed. Maintenance requests (seq 0)\n"
               "plan windows; the windows' lifecycle events are printed too. Without\n"
               "--subscribers the subscriber id lists are left out (counts stay). Other event\n"
               "types are skipped.\n"
               "Exit status: 0 done, 1 invalid topology or events, 2 usage error.\n");
}

static int parse(int argc, char **argv, struct replay *r)
{
    static const struct option longs[] = {{"topology", required_argument, NULL, 't'},
                                          {"events", required_argument, NULL, 'e'},
                                          {"subscribers", no_argument, NULL, 's'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "t:e:sh", longs, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return 0;
        } else if (c == 't') {
            r->topo = xrealloc(r->topo, (r->ntopo + 1) * sizeof *r->topo);
            r->topo[r->ntopo++] = optarg;
        } else if (c == 'e') {
            r->events = optarg;
        } else if (c == 's') {
            r->subscribers = true;
        } else {
            help(stderr);
            return 2;
        }
    }
    for (; optind < argc; optind++) { /* --topology a.yaml b.csv */
        r->topo = xrealloc(r->topo, (r->ntopo + 1) * sizeof *r->topo);
        r->topo[r->ntopo++] = argv[optind];
    }
    if (!r->ntopo || !r->events) {
        fprintf(stderr, "farol replay: --topology and --events are required\n");
        help(stderr);
        return 2;
    }
    return -1;
}

static void print_event(void *arg, const struct event *ev)
{
    struct replay *r = arg;
    struct event copy = *ev; /* shallow: only the lists are hidden, nothing is freed */
    if (!r->subscribers && ev->type == EVENT_OUTAGE) {
        copy.u.outage.subscribers_added = (struct id_list){0};
        copy.u.outage.subscribers_restored = (struct id_list){0};
    } else if (!r->subscribers) {
        copy.u.maintenance.subscribers = (struct id_list){0};
    }
    char *out = NULL, err[256];
    if (event_encode(&copy, &out, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "farol replay: cannot encode a %s event: %s\n", event_type_name(ev->type),
                err);
        r->failed = 1;
        return;
    }
    printf("%s\n", out);
    free(out);
}

/* Run every timer that falls due up to and including until. A deadline that a tick at that
 * very time does not consume would loop forever: stop instead (an engine bug, reported). */
static void advance(struct corr_engine *e, struct replay *r, int64_t until)
{
    int64_t last = INT64_MIN;
    for (int64_t d; (d = corr_engine_next_deadline(e)) <= until; last = d) {
        if (d == last) {
            fprintf(stderr, "farol replay: timer at %lld does not advance\n", (long long)d);
            r->failed = 1;
            return;
        }
        r->clock = d > r->clock ? d : r->clock;
        corr_engine_tick(e, r->clock);
    }
}

static int feed(struct corr_engine *e, struct replay *r, FILE *f)
{
    char *line = NULL, err[256];
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        struct event ev;
        if (event_decode(line, (size_t)len, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "%s:%zu: %s\n", r->events, lineno, err);
            rc = 1;
            continue;
        }
        bool request = ev.type == EVENT_MAINTENANCE && ev.u.maintenance.seq == 0;
        if ((ev.type == EVENT_ALARM || request) && ev.ts_ms > r->clock) {
            /* alarms of one instant are correlated together, as the daemon's batch does */
            if (corr_engine_dirty(e))
                corr_engine_tick(e, r->clock);
            advance(e, r, ev.ts_ms);
            r->clock = ev.ts_ms; /* never backwards: a late event is applied now */
        }
        if (ev.type == EVENT_ALARM)
            corr_engine_apply(e, &ev.u.alarm, r->clock);
        else if (request && corr_engine_window(e, &ev.u.maintenance, r->clock, err, sizeof err))
            fprintf(stderr, "%s:%zu: maintenance request refused: %s\n", r->events, lineno, err);
        event_deinit(&ev);
    }
    free(line);
    return rc;
}

static int run(struct replay *r, struct topology *t)
{
    FILE *f = fopen(r->events, "r");
    if (!f) {
        fprintf(stderr, "farol replay: %s: cannot open\n", r->events);
        return 1;
    }
    struct corr_params p;
    corr_params_default(&p);
    struct corr_sink sink = {print_event, r};
    struct corr_engine *e = corr_engine_new(t, &p, &sink);
    r->clock = INT64_MIN;
    int rc = feed(e, r, f);
    fclose(f);
    if (corr_engine_dirty(e))
        corr_engine_tick(e, r->clock);
    advance(e, r, INT64_MAX - 1);
    struct corr_engine_stats st;
    corr_engine_stats(e, &st);
    fprintf(stderr,
            "farol replay: %llu alarms, %llu duplicates, %llu unbound, %llu ignored, "
            "%u outages still open\n",
            (unsigned long long)st.alarms, (unsigned long long)st.duplicates,
            (unsigned long long)st.unbound, (unsigned long long)st.ignored, st.outages);
    corr_engine_free(e);
    return rc ? rc : r->failed;
}

int cmd_replay(int argc, char **argv)
{
    struct replay r = {0};
    int rc = parse(argc, argv, &r);
    if (rc >= 0) {
        free(r.topo);
        return rc;
    }
    struct topology_errs errs = {0};
    struct topology *t = topology_load_files(r.topo, r.ntopo, NULL, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    topology_errs_deinit(&errs);
    rc = t ? run(&r, t) : 1;
    topology_free(t);
    free(r.topo);
    return rc;
}
