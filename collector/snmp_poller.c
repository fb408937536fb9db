#include "collector/snmp_poller.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define MAX_COLUMNS 16

struct poll;

struct pcolumn {
    struct poll *pl;
    const char *oid_text; /* the profile's string */
    struct snmp_oid oid;
    struct profile_cell *cells;
    size_t n, cap;
};

struct pdev;

/* One poll in progress: one GET (uptime) and one walk per column. */
struct poll {
    struct pdev *d;
    struct pcolumn cols[MAX_COLUMNS];
    size_t n_cols;
    int pending;
    int status;
    char msg[256];
    bool has_uptime;
    uint32_t uptime;
    int64_t started_ms;
};

struct pdev {
    struct snmp_poller *p;
    char *name;
    struct snmp_device *dev;
    const struct profile *profile;
    struct profile_memory *mem;
    struct loop_timer *timer;
    struct poll *poll; /* NULL when idle */
    int closing;
};

struct snmp_poller {
    struct loop *loop;
    struct snmp_engine *engine;
    struct profile_sink sink;
    snmp_poll_done_fn done_fn;
    void *done_arg;
    struct pdev **devs;
    size_t n_devs;
    int stopped;
};

static void poll_free(struct poll *pl)
{
    for (size_t c = 0; c < pl->n_cols; c++) {
        for (size_t i = 0; i < pl->cols[c].n; i++)
            free((char *)pl->cols[c].cells[i].index);
        free(pl->cols[c].cells);
    }
    free(pl);
}

static void report_health(struct pdev *d, int ok, const char *msg, int64_t at_ms)
{
    struct alarm_report r = {.device = d->name,
                             .object = "",
                             .kind = "snmp-unresponsive",
                             .active = !ok,
                             .severity = SEV_MINOR,
                             .source = SRC_SNMP_POLL,
                             .observed_ms = at_ms,
                             .text = ok ? NULL : msg};
    d->p->sink.alarm(d->p->sink.arg, &r);
}

static void finish(struct poll *pl)
{
    struct pdev *d = pl->d;
    d->poll = NULL;
    if (d->closing) {
        poll_free(pl);
        return;
    }
    int64_t now = loop_wall_ms();
    report_health(d, pl->status == 0, pl->msg, now);
    if (pl->status == 0) {
        struct profile_column cols[MAX_COLUMNS];
        for (size_t c = 0; c < pl->n_cols; c++)
            cols[c] =
                (struct profile_column){pl->cols[c].oid_text, pl->cols[c].cells, pl->cols[c].n};
        struct profile_readings r = {.columns = cols,
                                     .n_columns = pl->n_cols,
                                     .has_uptime = pl->has_uptime,
                                     .uptime = pl->uptime,
                                     .at_ms = now};
        profile_evaluate(d->profile, d->name, &r, d->mem, &d->p->sink);
    } else {
        log_kv(LOG_LEVEL_WARN, "collector", (const char *const[]){"device", d->name, NULL},
               "SNMP poll failed: %s", pl->msg);
    }
    log_kv(LOG_LEVEL_DEBUG, "collector",
           (const char *const[]){"device", d->name, "status", pl->status ? "failed" : "ok", NULL},
           "SNMP poll done");
    if (d->p->done_fn)
        d->p->done_fn(d->p->done_arg, d->name, pl->status, pl->msg);
    poll_free(pl);
}

static void step_done(struct poll *pl, int status, const char *msg)
{
    if (status && !pl->status) {
        pl->status = status;
        snprintf(pl->msg, sizeof pl->msg, "%s", msg ? msg : strerror(-status));
    }
    if (--pl->pending == 0)
        finish(pl);
}

static void on_uptime(void *arg, int status, const char *msg, const struct snmp_varbind *vbs,
                      size_t n)
{
    struct poll *pl = arg;
    if (status == 0 && n == 1 && vbs[0].type == SNMP_VT_TIMETICKS) {
        pl->has_uptime = true;
        pl->uptime = (uint32_t)vbs[0].v.u;
    }
    step_done(pl, status, msg);
}

/* The row index is what follows the column's OID: "4194312448.17". */
static char *row_index(const struct snmp_oid *col, const struct snmp_oid *o)
{
    char buf[SNMP_OID_MAX * 11];
    size_t at = 0;
    buf[0] = '\0';
    for (uint32_t i = col->len; i < o->len && at < sizeof buf - 12; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, i > col->len ? ".%u" : "%u", o->sub[i]);
    return xstrdup(buf);
}

static void on_cell(void *arg, const struct snmp_varbind *vb)
{
    struct pcolumn *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->cells = xrealloc(c->cells, c->cap * sizeof *c->cells);
    }
    struct profile_cell *cell = &c->cells[c->n++];
    *cell = (struct profile_cell){.index = row_index(&c->oid, &vb->oid)};
    if (vb->type == SNMP_VT_INTEGER) {
        cell->is_number = true;
        cell->i = vb->v.i;
        cell->u = (uint64_t)vb->v.i;
    } else if (vb->type == SNMP_VT_UNSIGNED || vb->type == SNMP_VT_COUNTER32 ||
               vb->type == SNMP_VT_COUNTER64 || vb->type == SNMP_VT_TIMETICKS) {
        cell->is_number = true;
        cell->u = vb->v.u;
        cell->i = (int64_t)vb->v.u;
    }
}

static void on_walk_done(void *arg, int status, const char *msg, size_t count)
{
    struct pcolumn *c = arg;
    (void)count;
    step_done(c->pl, status, msg);
}

static void start_poll(struct pdev *d)
{
    if (d->poll || d->closing)
        return;
    const char *cols[MAX_COLUMNS + 1];
    size_t n = profile_columns(d->profile, cols, MAX_COLUMNS + 1);
    struct poll *pl = xcalloc(1, sizeof *pl);
    pl->d = d;
    pl->started_ms = loop_now_ms(d->p->loop);
    pl->pending = 1; /* held until every request is issued, so none can finish the poll early */
    d->poll = pl;
    struct snmp_oid up;
    if (d->profile->uptime && snmp_oid_parse(d->profile->uptime, &up) == 0) {
        pl->pending++;
        if (snmp_get(d->dev, &up, 1, on_uptime, pl) < 0)
            step_done(pl, -ENOBUFS, "request queue full");
    }
    for (size_t i = 0; i < n; i++) {
        struct pcolumn *c = &pl->cols[pl->n_cols++];
        c->pl = pl;
        c->oid_text = cols[i];
        snmp_oid_parse(cols[i], &c->oid); /* validated at config load */
        pl->pending++;
        if (snmp_walk(d->dev, &c->oid, on_cell, on_walk_done, c) < 0)
            step_done(pl, -ENOBUFS, "request queue full");
    }
    step_done(pl, 0, NULL);
}

static void on_timer(void *arg)
{
    struct pdev *d = arg;
    if (!d->p->stopped)
        start_poll(d);
}

/* A stable phase per device spreads the polls of many devices over the interval. */
static int64_t phase(const char *name, int64_t interval_ms)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 16777619u;
    return interval_ms > 0 ? (int64_t)(h % (uint32_t)interval_ms) : 0;
}

struct snmp_poller *snmp_poller_new(struct loop *loop, struct snmp_engine *engine,
                                    const struct profile_sink *sink)
{
    struct snmp_poller *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->engine = engine;
    p->sink = *sink;
    return p;
}

void snmp_poller_on_done(struct snmp_poller *p, snmp_poll_done_fn fn, void *arg)
{
    p->done_fn = fn;
    p->done_arg = arg;
}

int snmp_poller_add(struct snmp_poller *p, const char *device, const struct snmp_device_cfg *cfg,
                    const struct profile *profile, int64_t interval_ms, char *err, size_t errsz)
{
    const char *cols[MAX_COLUMNS + 2];
    if (profile_columns(profile, cols, MAX_COLUMNS + 2) > MAX_COLUMNS) {
        snprintf(err, errsz, "profile %s reads more than %d columns", profile->name, MAX_COLUMNS);
        return -EINVAL;
    }
    struct snmp_device *dev = snmp_engine_add(p->engine, cfg, err, errsz);
    if (!dev)
        return -EINVAL;
    struct pdev *d = xcalloc(1, sizeof *d);
    *d = (struct pdev){.p = p,
                       .name = xstrdup(device),
                       .dev = dev,
                       .profile = profile,
                       .mem = profile_memory_new()};
    d->timer = loop_timer_new(p->loop, on_timer, d);
    if (interval_ms > 0)
        loop_timer_start(d->timer, phase(device, interval_ms), interval_ms);
    p->devs = xrealloc(p->devs, (p->n_devs + 1) * sizeof *p->devs);
    p->devs[p->n_devs++] = d;
    return 0;
}

void snmp_poller_poll_all(struct snmp_poller *p)
{
    for (size_t i = 0; i < p->n_devs; i++)
        start_poll(p->devs[i]);
}

size_t snmp_poller_busy(const struct snmp_poller *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_devs; i++)
        n += p->devs[i]->poll != NULL;
    return n;
}

void snmp_poller_stop(struct snmp_poller *p)
{
    p->stopped = 1;
    for (size_t i = 0; i < p->n_devs; i++)
        loop_timer_stop(p->devs[i]->timer);
}

void snmp_poller_free(struct snmp_poller *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_devs; i++) {
        struct pdev *d = p->devs[i];
        d->closing = 1;
        snmp_engine_remove(d->dev); /* cancelled requests finish the poll, unevaluated */
        if (d->poll)
            poll_free(d->poll);
        loop_timer_free(d->timer);
        profile_memory_free(d->mem);
        free(d->name);
        free(d);
    }
    free(p->devs);
    free(p);
}
