/* engine_infer: silent nodes and roots. A PON port or splitter with no alarm of its own is
 * inferred failed when enough of the monitored ONUs below it failed within the correlation
 * window (the deepest such node explains them); then the failed set is cut on the topology
 * and its top roots (failed nodes with a parent still in service) are marked. */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "correlator/engine_impl.h"

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
    for (size_t i = 0; i < e->ninferred; i++) {
        e->mark[e->inferred_nodes[i]] = e->stamp;
        out[n++] = e->inferred_nodes[i];
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

struct cand {
    uint32_t node, pre, end, bad;
    bool ok;
};

static int cmp_cand(const void *a, const void *b)
{
    uint32_t x = ((const struct cand *)a)->pre, y = ((const struct cand *)b)->pre;
    return x < y ? -1 : x > y;
}

/* Inference with hysteresis: once inferred, a node stays failed while any of its ONUs is
 * down, so a partial recovery shrinks the outage instead of splitting it into ONUs. When a
 * deeper candidate explains the same failures, the deeper one is chosen. Candidates are
 * sorted in dominator preorder, so the ones below a candidate follow it contiguously. */
void engine_infer(struct corr_engine *e)
{
    size_t n = infer_candidates(e, e->scratch);
    e->ninferred = 0;
    if (!n)
        return;
    struct cand *c = xmalloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        uint32_t mon, x = e->scratch[i];
        int64_t first;
        const struct topology_node *tn = topology_node(e->topo, x);
        c[i] = (struct cand){.node = x, .pre = tn->pre, .end = tn->end};
        infer_count(e, x, &mon, &c[i].bad, &first);
        bool q = mon >= e->p.infer_min && mon > 0 &&
                 (double)c[i].bad >= e->p.infer_fraction * (double)mon;
        c[i].ok = e->nodes[x].inferred ? c[i].bad > 0 : q;
        if (c[i].ok && !e->nodes[x].inferred)
            engine_x_mut(e, x)->infer_ms = first;
    }
    qsort(c, n, sizeof *c, cmp_cand);
    for (size_t i = 0; i < n; i++) {
        if (!c[i].ok || e->nodes[c[i].node].inferred)
            continue;
        for (size_t j = i + 1; j < n && c[j].pre < c[i].end; j++)
            if (c[j].ok && c[j].bad == c[i].bad) {
                c[i].ok = false;
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        e->nodes[c[i].node].inferred = c[i].ok;
        if (c[i].ok)
            e->inferred_nodes[e->ninferred++] = c[i].node;
    }
    free(c);
}

/* Cost: the failed set and what it cuts off, never the whole topology: only the previous
 * cut's flags are reset. */
void engine_find_roots(struct corr_engine *e)
{
    for (size_t i = 0; i < e->cut.nnodes; i++)
        e->nodes[e->cut.nodes[i]].top = e->nodes[e->cut.nodes[i]].cut = false;
    size_t nf = 0;
    uint32_t *f = e->scratch;
    for (size_t i = 0; i < e->nfailed; i++)
        f[nf++] = e->failed[i];
    for (size_t i = 0; i < e->ninferred; i++)
        if (e->nodes[e->inferred_nodes[i]].failed_pos == TOPOLOGY_NONE)
            f[nf++] = e->inferred_nodes[i];
    topology_cut_deinit(&e->cut);
    topology_cut(e->topo, f, nf, &e->cut);
    for (size_t i = 0; i < e->cut.nnodes; i++)
        e->nodes[e->cut.nodes[i]].cut = true;
    e->ntops = 0;
    for (size_t i = 0; i < nf; i++) {
        const struct topology_node *n = topology_node(e->topo, f[i]);
        bool top = n->nparents == 0;
        for (uint32_t j = 0; !top && j < n->nparents; j++)
            top = !e->nodes[n->parents[j]].cut;
        e->nodes[f[i]].top = top;
        if (top)
            e->tops[e->ntops++] = f[i];
    }
}
