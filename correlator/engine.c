/* engine: life cycle, steps and timers. Alarms only change node state (engine_alarm.c); a
 * step then infers silent nodes, cuts the failed set and runs the outage lifecycle. The daemon
 * applies a burst of alarms and steps once (corr_engine_apply + corr_engine_tick), so a storm
 * costs one step per batch, not one per alarm; replay steps after every alarm. */
#include "correlator/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "correlator/engine_impl.h"
#include "correlator/maint.h"

void corr_params_default(struct corr_params *p)
{
    *p = (struct corr_params){.hold_down_ms = 60000,
                              .clear_hold_ms = 30000,
                              .window_ms = 120000,
                              .infer_fraction = 0.8,
                              .infer_min = 4,
                              .flap_count = 4,
                              .flap_window_ms = 600000,
                              .settle_ms = 60000,
                              .prune_ms = 86400000,
                              .maint_prestart_ms = MAINT_PRESTART_DEFAULT_MS};
}

const struct eng_node_x engine_no_x;

struct eng_node_x *engine_x_mut(struct corr_engine *e, uint32_t n)
{
    struct eng_node *s = &e->nodes[n];
    if (!s->x) /* the flip ring is sized once: flap_count does not change */
        s->x = xcalloc(1, sizeof *s->x + (e->p.flap_count + 1) * sizeof s->x->flips[0]);
    return s->x;
}

struct rank_key {
    const char *id;
    uint32_t idx;
};

static int cmp_rank_key(const void *a, const void *b)
{
    return strcmp(((const struct rank_key *)a)->id, ((const struct rank_key *)b)->id);
}

/* Ranks by id once, so that every later ordering of subscribers compares integers. */
static uint32_t *rank_subs(const struct topology *t)
{
    size_t n = topology_sub_count(t);
    struct rank_key *k = xmalloc((n ? n : 1) * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct rank_key){topology_sub(t, (uint32_t)i)->id, (uint32_t)i};
    if (n)
        qsort(k, n, sizeof *k, cmp_rank_key);
    uint32_t *rank = xmalloc((n ? n : 1) * sizeof *rank);
    for (size_t i = 0; i < n; i++)
        rank[k[i].idx] = (uint32_t)i;
    free(k);
    return rank;
}

struct corr_engine *corr_engine_new(struct topology *topo, const struct corr_params *p,
                                    const struct corr_sink *sink)
{
    struct corr_engine *e = xcalloc(1, sizeof *e);
    e->topo = topo;
    e->p = *p;
    if (sink)
        e->sink = *sink;
    e->rank = rank_subs(topo); /* first: its sort keys are gone before the big arrays come */
    e->nnodes = topology_node_count(topo);
    size_t n = e->nnodes ? e->nnodes : 1;
    e->nodes = xcalloc(n, sizeof *e->nodes);
    e->failed = xcalloc(n, sizeof *e->failed);
    e->held = xcalloc(n, sizeof *e->held);
    e->unknown = xcalloc(n, sizeof *e->unknown);
    e->mark = xcalloc(n, sizeof *e->mark);
    e->scratch = xcalloc(n, sizeof *e->scratch);
    e->tops = xcalloc(n, sizeof *e->tops);
    e->by_root = xcalloc(n, sizeof *e->by_root);
    e->inferred_nodes = xcalloc(n, sizeof *e->inferred_nodes);
    for (size_t i = 0; i < e->nnodes; i++)
        e->nodes[i].failed_pos = TOPOLOGY_NONE;
    for (size_t i = 0; i < topology_binding_count(topo); i++)
        e->nodes[topology_binding(topo, (uint32_t)i)->node].monitored = true;
    e->alarms = strmap_new_borrowed(); /* keyed by each alarm's own id */
    e->unbound = strmap_new();
    e->used_ids = strmap_new();
    struct maint_sink ms = {e->sink.emit, e->sink.arg};
    e->maint = maint_new(topo, p->maint_prestart_ms, &ms);
    return e;
}

static void alarm_free(void *v)
{
    struct eng_alarm *a = v;
    free(a->id);
    free(a);
}

void corr_engine_free(struct corr_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->noutages; i++)
        engine_outage_free(e->outages[i]);
    free(e->outages);
    strmap_free(e->alarms, alarm_free);
    strmap_free(e->unbound, free);
    strmap_free(e->used_ids, NULL);
    maint_free(e->maint);
    for (size_t i = 0; i < e->nnodes; i++)
        free(e->nodes[i].x);
    free(e->nodes);
    free(e->failed);
    free(e->held);
    free(e->unknown);
    free(e->mark);
    free(e->scratch);
    free(e->tops);
    free(e->by_root);
    free(e->inferred_nodes);
    topology_cut_deinit(&e->cut);
    free(e->rank);
    free(e);
}

/* A step after alarms (or a released hold, a window starting or ending) recomputes the cut
 * and every outage; a step that only lets time pass runs just the outages whose timer is due. */
static void step(struct corr_engine *e, int64_t now_ms)
{
    bool changed = e->dirty || maint_next_deadline(e->maint) <= now_ms;
    maint_tick(e->maint, now_ms); /* windows start and end before outages look at them */
    changed |= engine_release_held(e, now_ms);
    e->dirty = false;
    if (changed) {
        engine_infer(e);
        engine_find_roots(e);
    }
    engine_outages_step(e, changed, now_ms);
    e->now_ms = now_ms;
    e->st.outages = (uint32_t)e->noutages;
}

void corr_engine_alarm(struct corr_engine *e, const struct alarm *a, int64_t now_ms)
{
    if (corr_engine_apply(e, a, now_ms))
        step(e, now_ms);
}

void corr_engine_tick(struct corr_engine *e, int64_t now_ms)
{
    step(e, now_ms);
}

int corr_engine_window(struct corr_engine *e, const struct maintenance *req, int64_t now_ms,
                       char *err, size_t errsz)
{
    maint_tick(e->maint, now_ms);
    int rc = maint_request(e->maint, req, now_ms, err, errsz);
    if (rc == 0)
        step(e, now_ms);
    return rc;
}

struct maint_set *corr_engine_maint(struct corr_engine *e)
{
    return e->maint;
}

bool corr_engine_dirty(const struct corr_engine *e)
{
    return e->dirty;
}

/* Deadlines already passed are not reported again: a recovered root with failures left
 * below it after settle changes only when an alarm arrives. */
int64_t engine_outage_deadline(const struct corr_engine *e, const struct eng_outage *o)
{
    if (!o->confirmed) /* a frozen suspect waits for its subtree's deadline instead */
        return o->created_ms + e->p.hold_down_ms > e->now_ms ? o->created_ms + e->p.hold_down_ms
                                                             : INT64_MAX;
    if (o->clearing_since < 0)
        return INT64_MAX;
    int64_t d = o->clearing_since + e->p.clear_hold_ms;
    int64_t s = o->clearing_since + e->p.settle_ms;
    int64_t t = INT64_MAX;
    if (d > e->now_ms)
        t = d;
    if (s > e->now_ms && s < t)
        t = s;
    return t;
}

int64_t corr_engine_next_deadline(const struct corr_engine *e)
{
    int64_t t = engine_node_deadline(e), m = maint_next_deadline(e->maint);
    t = m < t ? m : t;
    for (size_t i = 0; i < e->noutages; i++) {
        int64_t d = engine_outage_deadline(e, e->outages[i]);
        t = d < t ? d : t;
    }
    return t;
}

void corr_engine_stats(const struct corr_engine *e, struct corr_engine_stats *out)
{
    *out = e->st;
}

uint64_t corr_engine_unbound(const struct corr_engine *e, const char *device)
{
    const uint64_t *c = strmap_get(e->unbound, device);
    return c ? *c : 0;
}

static void restore_counts(struct eng_outage *o, const struct outage *last)
{
    for (size_t i = 0; i < last->n_affected; i++) {
        enum topology_kind k;
        const char *label;
        if (topology_kind_parse(last->affected[i].kind, &k, &label) == 0)
            o->count[k] = last->affected[i].count;
    }
}

int corr_engine_restore(struct corr_engine *e, const struct outage *last, const char *const *subs,
                        size_t nsubs)
{
    uint32_t root = topology_find_node(e->topo, last->root);
    if (root == TOPOLOGY_NONE) {
        log_warn("correlator", "outage %s: root %s is no longer in the topology; dropped", last->id,
                 last->root);
        return -ENOENT;
    }
    struct eng_outage *o = xcalloc(1, sizeof *o);
    *o =
        (struct eng_outage){.id = xstrdup(last->id),
                            .root = root,
                            .seq = last->seq,
                            .confirmed = true,
                            .flapping = last->flapping,
                            .created_ms = last->started_ms,
                            .started_ms = last->started_ms,
                            .confirmed_ms = last->confirmed_ms,
                            .clearing_since = -1,
                            .cause = (int)last->cause,
                            .maint_id = last->maintenance_id ? xstrdup(last->maintenance_id) : NULL,
                            .overrun_sent = last->cause == CAUSE_OVERRUN};
    o->subs = xmalloc((nsubs ? nsubs : 1) * sizeof *o->subs);
    for (size_t i = 0; i < nsubs; i++) {
        uint32_t s = topology_find_sub(e->topo, subs[i]);
        if (s != TOPOLOGY_NONE)
            o->subs[o->nsubs++] = s;
    }
    engine_sort_subs(e, o->subs, o->nsubs);
    restore_counts(o, last);
    if (last->cause == CAUSE_POWER_OUTAGE && last->area) /* later roots rejoin the group */
        o->group_area = xstrdup(last->area);
    strmap_put(e->used_ids, o->id, (void *)1);
    engine_outage_insert(e, o);
    e->by_root[root] = o;
    e->dirty = true; /* compare it with the reloaded alarms at the next tick */
    e->st.outages = (uint32_t)e->noutages;
    return 0;
}
