/* engine_outage: the outage lifecycle over the roots that engine.c found: suspected ->
 * confirmed (opened) -> updated (grew, shrank, merged) -> resolved, and the events that carry
 * it. Everything is ordered by ids so that a replay prints the same bytes every time. */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "correlator/engine_impl.h"
#include "correlator/maint.h"

/* What an outage covers right now. */
struct snap {
    uint32_t *nodes, *subs;
    size_t nnodes, nsubs;
    uint32_t count[TOPOLOGY_KINDS];
    int cause;
};

struct delta {
    const uint32_t *add, *rest;
    size_t nadd, nrest;
};

void engine_outage_free(struct eng_outage *o)
{
    if (!o)
        return;
    free(o->id);
    free(o->subs);
    free(o->maint_id);
    free(o->group_area);
    free(o->extra);
    free(o);
}

static const struct topology *T(const struct corr_engine *e)
{
    return e->topo;
}

struct ranked {
    uint32_t rank, idx;
};

static int cmp_ranked(const void *a, const void *b)
{
    uint32_t x = ((const struct ranked *)a)->rank, y = ((const struct ranked *)b)->rank;
    return x < y ? -1 : x > y;
}

/* Subscribers by id rank, so that events and their diffs do not depend on load order. */
void engine_sort_subs(const struct corr_engine *e, uint32_t *v, size_t n)
{
    if (n < 2)
        return;
    struct ranked *k = xmalloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct ranked){e->rank[v[i]], v[i]};
    qsort(k, n, sizeof *k, cmp_ranked);
    for (size_t i = 0; i < n; i++)
        v[i] = k[i].idx;
    free(k);
}

/* Can the BFS of outage o enter node c? */
static bool enterable(const struct corr_engine *e, const struct eng_outage *o, uint32_t c)
{
    const struct eng_node *s = &e->nodes[c];
    if (!s->cut || e->mark[c] == e->stamp || (s->top && c != o->root))
        return false;
    /* under an inferred root, a monitored node that does not complain is in service */
    if (e->nodes[o->root].inferred && !e->nodes[o->root].nactive && s->monitored &&
        !engine_is_failed(e, c))
        return false;
    return true;
}

static int cause_of_alarms(const struct eng_node *s)
{
    static const struct {
        const char *kind;
        int cause;
    } pri[] = {{"unreachable", CAUSE_DEVICE_DOWN},
               {"link-down", CAUSE_LINK_DOWN},
               {"onu-los", CAUSE_FIBER_CUT}, /* one ONU: its drop fiber */
               {"onu-dying-gasp", CAUSE_POWER_OUTAGE}};
    for (size_t i = 0; i < sizeof pri / sizeof pri[0]; i++)
        for (const struct eng_alarm *a = s->active; a; a = a->next)
            if (!strcmp(a->kind, pri[i].kind))
                return pri[i].cause;
    return CAUSE_UNKNOWN;
}

/* An inferred root's cause is what most of its failed members say. */
static int cause_inferred(const struct corr_engine *e, const struct snap *sn)
{
    size_t n = 0, los = 0, gasp = 0;
    for (size_t i = 0; i < sn->nnodes; i++)
        for (const struct eng_alarm *a = e->nodes[sn->nodes[i]].active; a; a = a->next) {
            n++;
            los += !strcmp(a->kind, "onu-los");
            gasp += !strcmp(a->kind, "onu-dying-gasp");
        }
    if (gasp * 2 > n)
        return CAUSE_POWER_OUTAGE;
    if (los * 2 > n)
        return CAUSE_FIBER_CUT;
    return CAUSE_UNKNOWN;
}

/* Members: the root and what is cut off below it, not entering other top roots. Leaves the
 * members marked with the current stamp. */
/* Members: the seeds (the root, or the failed nodes still below a recovered root) and what is
 * cut off below them, not entering other top roots. Leaves the members marked with the
 * current stamp. */
static void snapshot_from(struct corr_engine *e, const struct eng_outage *o, const uint32_t *seeds,
                          size_t nseeds, struct snap *sn)
{
    memset(sn, 0, sizeof *sn);
    size_t cap = nseeds + 64; /* grown as the walk goes: outages are small next to the net */
    sn->nodes = xmalloc(cap * sizeof *sn->nodes);
    e->stamp++;
    for (size_t i = 0; i < nseeds; i++) {
        sn->nodes[sn->nnodes++] = seeds[i];
        e->mark[seeds[i]] = e->stamp;
    }
    size_t nsubs = 0;
    for (size_t k = 0; k < sn->nnodes; k++) {
        const struct topology_node *n = topology_node(T(e), sn->nodes[k]);
        sn->count[n->kind]++;
        nsubs += n->nsubs;
        if (sn->nnodes + n->nchildren > cap) {
            cap = (sn->nnodes + n->nchildren) * 2;
            sn->nodes = xrealloc(sn->nodes, cap * sizeof *sn->nodes);
        }
        for (uint32_t j = 0; j < n->nchildren; j++)
            if (enterable(e, o, n->children[j])) {
                e->mark[n->children[j]] = e->stamp;
                sn->nodes[sn->nnodes++] = n->children[j];
            }
    }
    sn->subs = xmalloc((nsubs ? nsubs : 1) * sizeof *sn->subs);
    for (size_t k = 0; k < sn->nnodes; k++) {
        const struct topology_node *n = topology_node(T(e), sn->nodes[k]);
        for (uint32_t j = 0; j < n->nsubs; j++)
            sn->subs[sn->nsubs++] = n->subs[j];
    }
    engine_sort_subs(e, sn->subs, sn->nsubs);
    const struct eng_node *r = &e->nodes[o->root];
    if (r->nactive)
        sn->cause = cause_of_alarms(r);
    else if (engine_x(r)->held_until || nseeds != 1 || seeds[0] != o->root)
        sn->cause = o->cause; /* flapping and up, or children of a recovered root */
    else
        sn->cause = cause_inferred(e, sn);
    if (o->group_area)
        sn->cause = CAUSE_POWER_OUTAGE;
}

static void snapshot(struct corr_engine *e, const struct eng_outage *o, struct snap *sn)
{
    if (!o->nextra) {
        snapshot_from(e, o, &o->root, 1, sn);
        return;
    }
    uint32_t *seeds = xmalloc((o->nextra + 1) * sizeof *seeds);
    snapshot_from(e, o, seeds, engine_group_seeds(o, seeds), sn);
    free(seeds);
}

static void snap_deinit(struct snap *sn)
{
    free(sn->nodes);
    free(sn->subs);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fill_alarms(const struct corr_engine *e, const struct snap *sn, struct id_list *l)
{
    for (size_t i = 0; sn && i < sn->nnodes && l->n < EVENT_MAX_IDS; i++)
        for (const struct eng_alarm *a = e->nodes[sn->nodes[i]].active; a && l->n < EVENT_MAX_IDS;
             a = a->next)
            id_list_add(l, a->id);
    if (l->n) /* qsort on a NULL array is undefined even for zero elements */
        qsort(l->ids, l->n, sizeof *l->ids, cmp_str);
}

static void fill_affected(struct outage *out, const uint32_t *count, size_t nsubs)
{
    out->affected = xcalloc(TOPOLOGY_KINDS + 1, sizeof *out->affected);
    for (int k = 0; k < TOPOLOGY_KINDS; k++)
        if (count[k]) {
            out->affected[out->n_affected].kind = xstrdup(topology_kind_name(k));
            out->affected[out->n_affected++].count = count[k];
        }
    if (nsubs) {
        out->affected[out->n_affected].kind = xstrdup("subscriber");
        out->affected[out->n_affected++].count = (uint32_t)nsubs;
    }
    out->affected_subscribers = (uint32_t)nsubs;
}

static void add_ids(const struct corr_engine *e, struct id_list *l, const uint32_t *v, size_t n,
                    size_t chunk)
{
    for (size_t i = chunk * EVENT_MAX_IDS; i < n && i < (chunk + 1) * EVENT_MAX_IDS; i++)
        id_list_add(l, topology_sub(T(e), v[i])->id);
}

/* Publish one change, split in chunks of EVENT_MAX_IDS ids; opened goes first and resolved
 * last, the chunks between are updates. */
static void emit(struct corr_engine *e, struct eng_outage *o, enum outage_phase phase,
                 const struct snap *sn, const struct delta *d, const char *merged_into,
                 int64_t now_ms)
{
    size_t chunks = 1;
    while (chunks * EVENT_MAX_IDS < d->nadd || chunks * EVENT_MAX_IDS < d->nrest)
        chunks++;
    static const uint32_t none[TOPOLOGY_KINDS];
    for (size_t c = 0; c < chunks; c++) {
        struct event ev;
        event_init(&ev, EVENT_OUTAGE);
        ev.ts_ms = now_ms;
        struct outage *out = &ev.u.outage;
        out->id = xstrdup(o->id);
        out->seq = ++o->seq;
        out->phase = phase == OUTAGE_OPENED && c == 0              ? OUTAGE_OPENED
                     : phase == OUTAGE_RESOLVED && c == chunks - 1 ? OUTAGE_RESOLVED
                                                                   : OUTAGE_UPDATED;
        out->status = out->phase == OUTAGE_RESOLVED ? OUTAGE_CLOSED : OUTAGE_CONFIRMED;
        out->cause = (enum outage_cause)o->cause;
        const struct topology_node *root = topology_node(T(e), o->root);
        out->root = xstrdup(root->id);
        out->area = o->group_area ? xstrdup(o->group_area)
                    : root->area  ? xstrdup(root->area)
                                  : NULL;
        out->started_ms = o->started_ms;
        out->confirmed_ms = o->confirmed_ms;
        out->resolved_ms = out->phase == OUTAGE_RESOLVED ? now_ms : 0;
        fill_alarms(e, sn, &out->alarms);
        fill_affected(out, sn ? sn->count : none, sn ? sn->nsubs : 0);
        add_ids(e, &out->subscribers_added, d->add, d->nadd, c);
        add_ids(e, &out->subscribers_restored, d->rest, d->nrest, c);
        if (merged_into && c == chunks - 1)
            out->merged_into = xstrdup(merged_into);
        out->flapping = o->flapping;
        out->maintenance_id = o->maint_id ? xstrdup(o->maint_id) : NULL;
        if (e->sink.emit)
            e->sink.emit(e->sink.arg, &ev);
        event_deinit(&ev);
    }
}

/* Sorted set difference a \ b into out; returns its size. */
static size_t diff(const struct corr_engine *e, const uint32_t *a, size_t na, const uint32_t *b,
                   size_t nb, uint32_t *out)
{
    size_t i = 0, j = 0, n = 0;
    while (i < na) {
        int c = j < nb ? (e->rank[a[i]] > e->rank[b[j]]) - (e->rank[a[i]] < e->rank[b[j]]) : -1;
        if (c < 0)
            out[n++] = a[i++];
        else if (c > 0)
            j++;
        else
            i++, j++;
    }
    return n;
}

static void publish(struct eng_outage *o, const struct snap *sn)
{
    free(o->subs);
    o->nsubs = sn->nsubs;
    o->subs = xmalloc((sn->nsubs ? sn->nsubs : 1) * sizeof *o->subs);
    if (sn->nsubs)
        memcpy(o->subs, sn->subs, sn->nsubs * sizeof *o->subs);
    memcpy(o->count, sn->count, sizeof o->count);
}

/* A confirmed outage: publish what changed since the last event. */
static void update(struct corr_engine *e, struct eng_outage *o, struct snap *sn, int64_t now_ms)
{
    uint32_t *add = xmalloc((sn->nsubs + 1) * sizeof *add);
    uint32_t *rest = xmalloc((o->nsubs + 1) * sizeof *rest);
    struct delta d = {add, rest, diff(e, sn->subs, sn->nsubs, o->subs, o->nsubs, add),
                      diff(e, o->subs, o->nsubs, sn->subs, sn->nsubs, rest)};
    bool flapping = e->nodes[o->root].flapping;
    if (d.nadd || d.nrest || sn->cause != o->cause || flapping != o->flapping ||
        memcmp(sn->count, o->count, sizeof o->count)) {
        o->cause = sn->cause;
        o->flapping = flapping;
        emit(e, o, OUTAGE_UPDATED, sn, &d, NULL, now_ms);
        publish(o, sn);
    }
    free(add);
    free(rest);
}

/* Hold-down passed: open, then absorb the outages whose roots are now our members. */
static void confirm(struct corr_engine *e, struct eng_outage *o, struct snap *sn, int64_t now_ms)
{
    o->confirmed = true;
    o->confirmed_ms = now_ms;
    strmap_put(e->used_ids, o->id, (void *)1); /* published: never reuse */
    o->cause = sn->cause;
    o->flapping = e->nodes[o->root].flapping;
    struct delta d = {sn->subs, NULL, sn->nsubs, 0};
    emit(e, o, OUTAGE_OPENED, sn, &d, NULL, now_ms);
    publish(o, sn);
    uint32_t stamp = e->stamp; /* still marks sn's members */
    for (size_t i = 0; i < e->noutages; i++) {
        struct eng_outage *q = e->outages[i];
        if (q == o || q->dead || e->mark[q->root] != stamp)
            continue;
        if (q->confirmed) {
            struct delta none = {NULL, NULL, 0, 0};
            struct snap qs;
            snapshot(e, q, &qs);
            emit(e, q, OUTAGE_UPDATED, &qs, &none, o->id, now_ms);
            snap_deinit(&qs);
        }
        q->dead = true;
    }
}

static void resolve(struct corr_engine *e, struct eng_outage *o, int64_t now_ms)
{
    struct delta d = {NULL, o->subs, 0, o->nsubs};
    emit(e, o, OUTAGE_RESOLVED, NULL, &d, NULL, now_ms);
    o->dead = true;
}

/* Inside an active window the outage is planned; when the window ends with the root still
 * failed it is an overrun (the window is told once, which publishes its overrun event). */
static void planned(struct corr_engine *e, struct eng_outage *o, struct snap *sn, int64_t now_ms)
{
    const char *w = maint_scope(e->maint, o->root, now_ms);
    if (w) {
        if (!o->maint_id || strcmp(o->maint_id, w)) {
            free(o->maint_id);
            o->maint_id = xstrdup(w);
            o->overrun_sent = false;
        }
        sn->cause = CAUSE_PLANNED;
        return;
    }
    if (!o->maint_id)
        return;
    sn->cause = CAUSE_OVERRUN;
    if (!o->overrun_sent) {
        o->overrun_sent = true;
        maint_overrun(e->maint, o->maint_id, now_ms);
    }
}

static struct eng_outage *find_root(const struct corr_engine *e, uint32_t root);

/* Top roots strictly below o's root (in its dominator range), into out. */
static size_t tops_below(const struct corr_engine *e, const struct eng_outage *o, uint32_t *out)
{
    const struct topology_node *r = topology_node(T(e), o->root);
    size_t n = 0;
    for (size_t i = 0; i < e->ntops; i++) {
        const struct topology_node *x = topology_node(T(e), e->tops[i]);
        if (e->tops[i] != o->root && x->pre >= r->pre && x->pre < r->end)
            out[n++] = e->tops[i];
    }
    return n;
}

/* The root recovered. With nothing failed below it, it resolves after clear_hold. Otherwise
 * the children's outcomes are held for settle; then the outage moves to the one failed node
 * left below (re-rooted: its subscribers are never told "restored" and then "down" again),
 * or, with several, shrinks to them. Returns true when o was re-rooted and must run again. */
static bool recovered(struct corr_engine *e, struct eng_outage *o, int64_t now_ms)
{
    if (o->clearing_since < 0)
        o->clearing_since = now_ms;
    size_t nt = tops_below(e, o, e->scratch);
    if (nt == 0) {
        if (now_ms - o->clearing_since >= e->p.clear_hold_ms)
            resolve(e, o, now_ms);
        return false;
    }
    if (now_ms - o->clearing_since < e->p.settle_ms)
        return false;
    struct eng_outage *q = nt == 1 ? find_root(e, e->scratch[0]) : NULL;
    if (q && !q->confirmed)
        q->dead = true; /* a suspect below: this outage speaks for it */
    if (nt == 1 && (!q || !q->confirmed)) {
        o->root = e->scratch[0];
        e->by_root[o->root] = o;
        o->clearing_since = -1;
        return true;
    }
    struct snap sn;
    snapshot_from(e, o, e->scratch, nt, &sn);
    update(e, o, &sn, now_ms);
    snap_deinit(&sn);
    return false;
}

static void run_one(struct corr_engine *e, struct eng_outage *o, int64_t now_ms)
{
    if (o->nextra)
        engine_group_prune(e, o);
    if (engine_in_unknown(e, o->root, now_ms))
        return; /* stale alarms below an unresponsive device: wait until it answers */
    if (!engine_is_failed(e, o->root)) {
        if (!o->confirmed) { /* a blip: never published */
            o->dead = true;
            return;
        }
        if (!recovered(e, o, now_ms))
            return;
    }
    if (!o->confirmed && !e->nodes[o->root].top) {
        o->dead = true; /* something higher failed meanwhile: it will speak for this */
        return;
    }
    o->clearing_since = -1;
    struct snap sn;
    snapshot(e, o, &sn);
    planned(e, o, &sn, now_ms);
    if (o->confirmed)
        update(e, o, &sn, now_ms);
    else if (now_ms - o->created_ms >= e->p.hold_down_ms)
        confirm(e, o, &sn, now_ms);
    snap_deinit(&sn);
}

static struct eng_outage *find_root(const struct corr_engine *e, uint32_t root)
{
    struct eng_outage *o = e->by_root[root];
    return o && !o->dead ? o : NULL; /* the root's own outage, or its power group */
}

void engine_outage_insert(struct corr_engine *e, struct eng_outage *o)
{
    e->outages = xrealloc(e->outages, (e->noutages + 1) * sizeof *e->outages);
    size_t i = e->noutages++;
    for (; i > 0 && strcmp(e->outages[i - 1]->id, o->id) > 0; i--)
        e->outages[i] = e->outages[i - 1];
    e->outages[i] = o;
}

/* Ids come from the data ("o-ROOT-FIRSTFAILMS"); when that id was already published (the
 * root's outage was merged away and the root is on top again) the clock time is used, then a
 * suffix. */
static void create(struct corr_engine *e, uint32_t root, int64_t now_ms)
{
    if (engine_group_join(e, root))
        return;
    const char *rid = topology_node(T(e), root)->id;
    int64_t started = engine_fail_ms(e, root);
    char *id = xasprintf("o-%s-%lld", rid, (long long)started);
    for (int k = 1; strmap_get(e->used_ids, id); k++) {
        free(id);
        id = k == 1 ? xasprintf("o-%s-%lld", rid, (long long)now_ms)
                    : xasprintf("o-%s-%lld-%d", rid, (long long)now_ms, k);
    }
    struct eng_outage *o = xcalloc(1, sizeof *o);
    *o = (struct eng_outage){
        .id = id, .root = root, .created_ms = now_ms, .started_ms = started, .clearing_since = -1};
    engine_outage_insert(e, o);
    e->by_root[root] = o;
    engine_group_mark(e, o);
}

/* A recovered root's outage still speaks for what failed below it (recovered()): no new
 * outage opens there meanwhile. clearing[] holds those outages' roots. */
static bool settling(const struct corr_engine *e, uint32_t n, const uint32_t *clearing, size_t nc)
{
    const struct topology_node *x = topology_node(T(e), n);
    for (size_t i = 0; i < nc; i++) {
        const struct topology_node *r = topology_node(T(e), clearing[i]);
        if (clearing[i] != n && x->pre >= r->pre && x->pre < r->end)
            return true;
    }
    return false;
}

static void create_new(struct corr_engine *e, int64_t now_ms)
{
    size_t nc = 0;
    uint32_t *clearing = xmalloc((e->noutages + 1) * sizeof *clearing);
    for (size_t i = 0; i < e->noutages; i++) {
        const struct eng_outage *o = e->outages[i];
        if (!o->dead && o->confirmed && (o->clearing_since >= 0 || !engine_is_failed(e, o->root)))
            clearing[nc++] = o->root;
    }
    for (size_t i = 0; i < e->ntops; i++)
        if (!find_root(e, e->tops[i]) && !settling(e, e->tops[i], clearing, nc))
            create(e, e->tops[i], now_ms);
    free(clearing);
}

void engine_outages_step(struct corr_engine *e, bool changed, int64_t now_ms)
{
    if (changed)
        create_new(e, now_ms);
    for (size_t i = 0; i < e->noutages; i++) {
        struct eng_outage *o = e->outages[i];
        /* with no state change since the last step, only a due timer can move an outage */
        if (!o->dead && (changed || engine_outage_deadline(e, o) <= now_ms))
            run_one(e, o, now_ms);
    }
    size_t n = 0;
    for (size_t i = 0; i < e->noutages; i++) {
        struct eng_outage *o = e->outages[i];
        if (o->dead) {
            if (e->by_root[o->root] == o)
                e->by_root[o->root] = NULL;
            for (size_t k = 0; k < o->nextra; k++)
                if (e->by_root[o->extra[k]] == o)
                    e->by_root[o->extra[k]] = NULL;
            engine_outage_free(o);
        } else {
            e->outages[n++] = o;
        }
    }
    e->noutages = n;
}
