/* engine_group: power outages grouped by area. Dying gasps are a power cut, and a power cut
 * follows the grid, not the fiber: PON ports and splitters of one area label that lose power
 * together are one outage (cause power-outage, area set), whatever OLT they hang from. The
 * first such root opens the group; later ones join it as extra roots, and leave it as they
 * recover. A node's area is its own label or the nearest one up its dominator chain. */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "correlator/engine_impl.h"

static const char *area_of(const struct corr_engine *e, uint32_t n)
{
    for (uint32_t x = n; x != TOPOLOGY_NONE; x = topology_node(e->topo, x)->idom)
        if (topology_node(e->topo, x)->area)
            return topology_node(e->topo, x)->area;
    return NULL;
}

static void count_kinds(const struct eng_node *s, size_t *n, size_t *gasp)
{
    for (const struct eng_alarm *a = s->active; a; a = a->next) {
        (*n)++;
        *gasp += !strcmp(a->kind, "onu-dying-gasp");
    }
}

/* A cluster of dying gasps: an inferred node whose failed ONUs mostly gasped. One ONU's gasp
 * is that home's power, never a group. */
static bool power_like(const struct corr_engine *e, uint32_t r)
{
    size_t n = 0, gasp = 0;
    if (e->nodes[r].nactive || !e->nodes[r].inferred)
        return false;
    struct topology_impact im;
    topology_impact(e->topo, r, &im);
    for (size_t i = 0; i < im.nnodes; i++)
        count_kinds(&e->nodes[im.nodes[i]], &n, &gasp);
    return n && gasp * 2 > n;
}

static const char *group_key(const struct corr_engine *e, uint32_t r)
{
    return power_like(e, r) ? area_of(e, r) : NULL;
}

bool engine_group_join(struct corr_engine *e, uint32_t root)
{
    const char *area = group_key(e, root);
    for (size_t i = 0; area && i < e->noutages; i++) {
        struct eng_outage *g = e->outages[i];
        if (g->dead || !g->group_area || strcmp(g->group_area, area) ||
            !engine_is_failed(e, g->root))
            continue;
        g->extra = xrealloc(g->extra, (g->nextra + 1) * sizeof *g->extra);
        g->extra[g->nextra++] = root;
        e->by_root[root] = g;
        return true;
    }
    return false;
}

void engine_group_mark(struct corr_engine *e, struct eng_outage *o)
{
    const char *area = group_key(e, o->root);
    if (area)
        o->group_area = xstrdup(area);
}

/* Roots that recovered, or that something higher now covers, leave the group; when the
 * first root leaves, a remaining one takes its place. */
void engine_group_prune(struct corr_engine *e, struct eng_outage *o)
{
    size_t n = 0;
    for (size_t i = 0; i < o->nextra; i++) {
        uint32_t x = o->extra[i];
        if (engine_is_failed(e, x) && e->nodes[x].top)
            o->extra[n++] = x;
        else if (e->by_root[x] == o)
            e->by_root[x] = NULL;
    }
    o->nextra = n;
    if (o->nextra && !engine_is_failed(e, o->root)) {
        if (e->by_root[o->root] == o)
            e->by_root[o->root] = NULL;
        o->root = o->extra[--o->nextra];
    }
}

size_t engine_group_seeds(const struct eng_outage *o, uint32_t *out)
{
    out[0] = o->root;
    for (size_t i = 0; i < o->nextra; i++)
        out[i + 1] = o->extra[i];
    return o->nextra + 1;
}
