/* engine: alarms to node state, inference, and the failed set's roots. Each alarm or tick
 * recomputes the cut from the whole failed set, which is small next to the topology; the
 * outage lifecycle then runs over the roots (engine_outage.c). */
#include "correlator/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "correlator/engine_impl.h"

static const char *const down_kinds[] = {"unreachable", "link-down", "onu-los", "onu-dying-gasp",
                                         "onu-offline"};

void corr_params_default(struct corr_params *p)
{
    *p = (struct corr_params){.hold_down_ms = 60000,
                              .clear_hold_ms = 30000,
                              .window_ms = 120000,
                              .infer_fraction = 0.8,
                              .infer_min = 4};
}

struct corr_engine *corr_engine_new(struct topology *topo, const struct corr_params *p,
                                    const struct corr_sink *sink)
{
    struct corr_engine *e = xcalloc(1, sizeof *e);
    e->topo = topo;
    e->p = *p;
    if (sink)
        e->sink = *sink;
    e->nnodes = topology_node_count(topo);
    e->nodes = xcalloc(e->nnodes ? e->nnodes : 1, sizeof *e->nodes);
    e->failed = xcalloc(e->nnodes ? e->nnodes : 1, sizeof *e->failed);
    e->mark = xcalloc(e->nnodes ? e->nnodes : 1, sizeof *e->mark);
    for (size_t i = 0; i < e->nnodes; i++)
        e->nodes[i].failed_pos = TOPOLOGY_NONE;
    for (size_t i = 0; i < topology_binding_count(topo); i++)
        e->nodes[topology_binding(topo, (uint32_t)i)->node].monitored = true;
    e->alarms = strmap_new();
    e->unbound = strmap_new();
    e->used_ids = strmap_new();
    return e;
}

static void alarm_free(void *v)
{
    struct eng_alarm *a = v;
    free(a->id);
    free(a->kind);
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
    free(e->nodes);
    free(e->failed);
    free(e->mark);
    free(e);
}

static bool is_down_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof down_kinds / sizeof down_kinds[0]; i++)
        if (!strcmp(kind, down_kinds[i]))
            return true;
    return false;
}

int64_t engine_fail_ms(const struct corr_engine *e, uint32_t n)
{
    const struct eng_node *s = &e->nodes[n];
    int64_t t = s->inferred ? s->infer_ms : INT64_MAX;
    for (const struct eng_alarm *a = s->active; a; a = a->next)
        if (a->observed_ms < t)
            t = a->observed_ms;
    return t;
}

bool engine_is_failed(const struct corr_engine *e, uint32_t n)
{
    return e->nodes[n].nactive > 0 || e->nodes[n].inferred;
}

static void failed_add(struct corr_engine *e, uint32_t n)
{
    e->nodes[n].failed_pos = (uint32_t)e->nfailed;
    e->failed[e->nfailed++] = n;
}

static void failed_del(struct corr_engine *e, uint32_t n)
{
    uint32_t pos = e->nodes[n].failed_pos, last = e->failed[--e->nfailed];
    e->failed[pos] = last;
    e->nodes[last].failed_pos = pos;
    e->nodes[n].failed_pos = TOPOLOGY_NONE;
}

static void node_raise(struct corr_engine *e, struct eng_alarm *a)
{
    struct eng_node *s = &e->nodes[a->node];
    a->next = s->active;
    s->active = a;
    if (s->nactive++ == 0)
        failed_add(e, a->node);
}

static void node_clear(struct corr_engine *e, struct eng_alarm *a)
{
    struct eng_node *s = &e->nodes[a->node];
    for (struct eng_alarm **pp = &s->active; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    a->next = NULL;
    if (--s->nactive == 0)
        failed_del(e, a->node);
}

static void count_unbound(struct corr_engine *e, const char *device, const char *object)
{
    uint64_t *c = strmap_get(e->unbound, device);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        strmap_put(e->unbound, device, c);
        log_warn("correlator",
                 "alarm for %s object '%s' matches no topology binding (further ones for this "
                 "device are only counted)",
                 device, object ? object : "");
    }
    (*c)++;
    e->st.unbound++;
}

/* Returns true when the alarm changed node state. */
static bool apply_alarm(struct corr_engine *e, const struct alarm *al)
{
    e->st.alarms++;
    struct eng_alarm *a = strmap_get(e->alarms, al->id);
    if (a) {
        /* an id is one occurrence: a raise after its clear is a late duplicate */
        if (al->action == ALARM_RAISE || !a->active) {
            e->st.duplicates++;
            return false;
        }
        a->active = false;
        node_clear(e, a);
        return true;
    }
    uint32_t n = topology_bind_lookup(e->topo, al->device, al->object);
    if (n == TOPOLOGY_NONE) {
        count_unbound(e, al->device, al->object);
        return false;
    }
    if (!is_down_kind(al->kind)) {
        e->st.ignored++;
        return false;
    }
    if (al->action == ALARM_CLEAR) {
        e->st.duplicates++; /* a clear for a raise we never saw: nothing to undo */
        return false;
    }
    a = xcalloc(1, sizeof *a);
    *a = (struct eng_alarm){.id = xstrdup(al->id),
                            .kind = xstrdup(al->kind),
                            .node = n,
                            .observed_ms = al->observed_ms,
                            .active = true};
    strmap_put(e->alarms, al->id, a);
    node_raise(e, a);
    return true;
}

/* Monitored ONUs below x, how many failed (own alarm) within the window, and the earliest. */
static void infer_count(const struct corr_engine *e, uint32_t x, uint32_t *mon, uint32_t *bad,
                        int64_t *first)
{
    struct topology_impact im;
    topology_impact(e->topo, x, &im);
    int64_t latest = INT64_MIN;
    *mon = *bad = 0;
    *first = INT64_MAX;
    for (size_t i = 0; i < im.nnodes; i++) {
        uint32_t n = im.nodes[i];
        if (e->nodes[n].nactive && topology_node(e->topo, n)->kind == TOPOLOGY_ONU) {
            int64_t t = engine_fail_ms(e, n);
            latest = t > latest ? t : latest;
        }
    }
    for (size_t i = 0; i < im.nnodes; i++) {
        uint32_t n = im.nodes[i];
        if (topology_node(e->topo, n)->kind != TOPOLOGY_ONU || !e->nodes[n].monitored)
            continue;
        (*mon)++;
        int64_t t = e->nodes[n].nactive ? engine_fail_ms(e, n) : INT64_MIN;
        if (e->nodes[n].nactive && latest - t <= e->p.window_ms) {
            (*bad)++;
            *first = t < *first ? t : *first;
        }
    }
}

static bool inferable(const struct topology_node *n)
{
    return n->kind == TOPOLOGY_PON || n->kind == TOPOLOGY_SPLITTER;
}

static void cand_add(struct corr_engine *e, uint32_t *out, size_t *n, uint32_t p)
{
    if (e->mark[p] != e->stamp && inferable(topology_node(e->topo, p))) {
        e->mark[p] = e->stamp;
        out[(*n)++] = p;
    }
}

/* PON ports and splitters above failed ONUs, plus the ones inferred already. */
static size_t infer_candidates(struct corr_engine *e, uint32_t *out)
{
    size_t n = 0;
    e->stamp++;
    for (size_t i = 0; i < e->nnodes; i++)
        if (e->nodes[i].inferred) {
            e->mark[i] = e->stamp;
            out[n++] = (uint32_t)i;
        }
    for (size_t i = 0; i < e->nfailed; i++) {
        const struct topology_node *f = topology_node(e->topo, e->failed[i]);
        for (uint32_t j = 0; f->kind == TOPOLOGY_ONU && j < f->nparents; j++)
            cand_add(e, out, &n, f->parents[j]);
    }
    for (size_t k = 0; k < n; k++) { /* splitters chain up to their PON port */
        const struct topology_node *c = topology_node(e->topo, out[k]);
        for (uint32_t j = 0; j < c->nparents; j++)
            cand_add(e, out, &n, c->parents[j]);
    }
    return n;
}

/* Inference with hysteresis: once inferred, a node stays failed while any of its ONUs is
 * down, so a partial recovery shrinks the outage instead of splitting it into ONUs. When a
 * deeper candidate explains the same failures, the deeper one is chosen. */
static void infer(struct corr_engine *e)
{
    uint32_t *cand = xmalloc((e->nnodes ? e->nnodes : 1) * sizeof *cand);
    uint32_t *bad = xmalloc((e->nnodes ? e->nnodes : 1) * sizeof *bad);
    bool *ok = xcalloc(e->nnodes ? e->nnodes : 1, sizeof *ok);
    size_t n = infer_candidates(e, cand);
    for (size_t i = 0; i < n; i++) {
        uint32_t mon, x = cand[i];
        int64_t first;
        infer_count(e, x, &mon, &bad[i], &first);
        bool q =
            mon >= e->p.infer_min && mon > 0 && (double)bad[i] >= e->p.infer_fraction * (double)mon;
        ok[i] = e->nodes[x].inferred ? bad[i] > 0 : q;
        if (ok[i] && !e->nodes[x].inferred)
            e->nodes[x].infer_ms = first;
    }
    for (size_t i = 0; i < n; i++) {
        const struct topology_node *x = topology_node(e->topo, cand[i]);
        for (size_t j = 0; ok[i] && !e->nodes[cand[i]].inferred && j < n; j++) {
            const struct topology_node *y = topology_node(e->topo, cand[j]);
            if (j != i && ok[j] && y->pre > x->pre && y->pre < x->end && bad[j] == bad[i])
                ok[i] = false;
        }
    }
    for (size_t i = 0; i < n; i++)
        e->nodes[cand[i]].inferred = ok[i];
    free(cand);
    free(bad);
    free(ok);
}

/* Cut the failed set and mark the top roots: failed nodes with a parent still in service. */
static void find_roots(struct corr_engine *e)
{
    size_t nf = 0;
    uint32_t *f = xmalloc((e->nnodes ? e->nnodes : 1) * sizeof *f);
    for (size_t i = 0; i < e->nnodes; i++) {
        e->nodes[i].top = e->nodes[i].cut = false;
        if (engine_is_failed(e, (uint32_t)i))
            f[nf++] = (uint32_t)i;
    }
    struct topology_cut c;
    topology_cut(e->topo, f, nf, &c);
    for (size_t i = 0; i < c.nnodes; i++)
        e->nodes[c.nodes[i]].cut = true;
    for (size_t i = 0; i < nf; i++) {
        const struct topology_node *n = topology_node(e->topo, f[i]);
        bool top = n->nparents == 0;
        for (uint32_t j = 0; !top && j < n->nparents; j++)
            top = !e->nodes[n->parents[j]].cut;
        e->nodes[f[i]].top = top;
    }
    topology_cut_deinit(&c);
    free(f);
}

static void step(struct corr_engine *e, int64_t now_ms)
{
    infer(e);
    find_roots(e);
    engine_outages_step(e, now_ms);
    e->st.outages = (uint32_t)e->noutages;
}

void corr_engine_alarm(struct corr_engine *e, const struct alarm *a, int64_t now_ms)
{
    if (apply_alarm(e, a))
        step(e, now_ms);
}

void corr_engine_tick(struct corr_engine *e, int64_t now_ms)
{
    step(e, now_ms);
}

int64_t corr_engine_next_deadline(const struct corr_engine *e)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < e->noutages; i++) {
        const struct eng_outage *o = e->outages[i];
        int64_t d = !o->confirmed            ? o->created_ms + e->p.hold_down_ms
                    : o->clearing_since >= 0 ? o->clearing_since + e->p.clear_hold_ms
                                             : INT64_MAX;
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
