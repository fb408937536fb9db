/* topology: the model's life cycle, reference checks, the dominator-tree indexes and the
 * queries the correlator runs on every alarm (impact, cut). Records: topology_record.c. */
#include "correlator/topology.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "core/xmalloc.h"
#include "correlator/topology_impl.h"

void topology_err(struct topology_errs *e, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->msgs = xrealloc(e->msgs, e->cap * sizeof(char *));
    }
    e->msgs[e->n++] =
        line > 0 ? xasprintf("%s:%d: %s", file, line, msg) : xasprintf("%s: %s", file, msg);
    free(msg);
}

void topology_errs_deinit(struct topology_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    memset(e, 0, sizeof *e);
}

struct topology *topology_new(void)
{
    struct topology *t = xcalloc(1, sizeof *t);
    t->interned = strmap_new_borrowed();
    return t;
}

const char *topology_file(struct topology *t, const char *path)
{
    for (size_t i = 0; i < t->nfiles; i++)
        if (!strcmp(t->files[i], path))
            return t->files[i];
    t->files = xrealloc(t->files, (t->nfiles + 1) * sizeof(char *));
    return t->files[t->nfiles++] = xstrdup(path);
}

/* What only loading needs: unresolved references and record positions. */
static void free_loading(struct topology *t)
{
    topology_arena_free(&t->scratch);
    free(t->parents.v), free(t->sub_refs.v), free(t->bind_refs.v), free(t->links);
    free(t->node_pos), free(t->sub_pos);
    memset(&t->parents, 0, sizeof t->parents);
    memset(&t->sub_refs, 0, sizeof t->sub_refs);
    memset(&t->bind_refs, 0, sizeof t->bind_refs);
    t->links = NULL, t->nlinks = t->caplinks = 0;
    t->node_pos = t->sub_pos = NULL;
}

void topology_free(struct topology *t)
{
    if (!t)
        return;
    free_loading(t);
    for (size_t i = 0; i < t->nfiles; i++)
        free(t->files[i]);
    topology_index_free(t);
    strmap_free(t->interned, NULL);
    topology_arena_free(&t->strs);
    free(t->nodes), free(t->subs), free(t->binds), free(t->files);
    free(t->parent_pool), free(t->child_pool), free(t->norder), free(t->sorder);
    free(t->mark), free(t->cnt);
    free(t);
}

static int add_parent(struct topology *t, uint32_t child, uint32_t p, const char *pid,
                      const char *file, int line, struct topology_errs *errs)
{
    struct topology_node *n = &t->nodes[child];
    if (p == TOPOLOGY_NONE) {
        topology_err(errs, file, line, "node '%s': unknown parent '%s'", n->id, pid);
        return -1;
    }
    for (uint32_t i = 0; i < n->nparents; i++)
        if (n->parents[i] == p) {
            topology_err(errs, file, line, "node '%s': parent '%s' listed twice", n->id,
                         t->nodes[p].id);
            return -1;
        }
    if (p == child) {
        topology_err(errs, file, line, "node '%s' is its own parent", n->id);
        return -1;
    }
    n->parents[n->nparents++] = p;
    return 0;
}

/* Each node's parents[] becomes a slice of one pool, sized by an upper bound (every reference,
 * valid or not); references are checked in record order, then links, as they were written. */
static int resolve_parents(struct topology *t, struct topology_errs *errs)
{
    uint32_t *lchild = xmalloc((t->nlinks + 1) * sizeof(uint32_t));
    size_t total = t->parents.n;
    for (size_t i = 0; i < t->parents.n; i++)
        t->nodes[t->parents.v[i].from].nparents++;
    for (size_t i = 0; i < t->nlinks; i++)
        if ((lchild[i] = topology_find_node(t, t->links[i].child)) != TOPOLOGY_NONE)
            t->nodes[lchild[i]].nparents++, total++;
    t->parent_pool = xmalloc((total + 1) * sizeof(uint32_t));
    for (size_t i = 0, at = 0; i < t->nnodes; i++) {
        t->nodes[i].parents = t->parent_pool + at;
        at += t->nodes[i].nparents, t->nodes[i].nparents = 0;
    }
    int rc = 0;
    for (size_t i = 0; i < t->parents.n; i++) {
        const struct topology_ref *r = &t->parents.v[i];
        uint32_t p = r->id ? topology_find_node(t, r->id) : r->to;
        rc |= add_parent(t, r->from, p, r->id, t->files[r->file], r->line, errs);
    }
    for (size_t i = 0; i < t->nlinks; i++) {
        const struct topology_link *l = &t->links[i];
        const char *file = t->files[l->file];
        if (lchild[i] == TOPOLOGY_NONE) {
            topology_err(errs, file, l->line, "link: unknown child '%s'", l->child);
            rc = -1;
        } else {
            rc |= add_parent(t, lchild[i], topology_find_node(t, l->parent), l->parent, file,
                             l->line, errs);
        }
    }
    free(lchild);
    return rc ? -EINVAL : 0;
}

/* Subscribers' and bindings' nodes that were not defined yet when the record came. */
static int resolve_refs(struct topology *t, struct topology_errs *errs)
{
    int rc = 0;
    for (size_t i = 0; i < t->sub_refs.n; i++) {
        const struct topology_ref *r = &t->sub_refs.v[i];
        struct topology_sub *s = &t->subs[r->from];
        s->node = topology_find_node(t, r->id);
        if (s->node == TOPOLOGY_NONE) {
            topology_err(errs, t->files[r->file], r->line, "subscriber '%s': unknown node '%s'",
                         s->id, r->id);
            rc = -EINVAL;
        }
    }
    for (size_t i = 0; i < t->bind_refs.n; i++) {
        const struct topology_ref *r = &t->bind_refs.v[i];
        struct topology_binding *b = &t->binds[r->from];
        b->node = topology_find_node(t, r->id);
        if (b->node == TOPOLOGY_NONE) {
            topology_err(errs, t->files[r->file], r->line, "binding of '%s': unknown node '%s'",
                         b->device, r->id);
            rc = -EINVAL;
        }
    }
    return rc;
}

/* children[] and subs[] of every node, each backed by one pool; returns the subs' pool, which
 * topology_finish() drops once the same lists are slices of sorder. */
static uint32_t *build_lists(struct topology *t)
{
    for (size_t i = 0; i < t->nnodes; i++)
        for (uint32_t j = 0; j < t->nodes[i].nparents; j++)
            t->nodes[t->nodes[i].parents[j]].nchildren++;
    for (size_t i = 0; i < t->nsubs; i++)
        if (t->subs[i].node != TOPOLOGY_NONE)
            t->nodes[t->subs[i].node].nsubs++;
    size_t nedges = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        nedges += t->nodes[i].nchildren;
    t->child_pool = xmalloc((nedges + 1) * sizeof(uint32_t));
    uint32_t *sub_pool = xmalloc((t->nsubs + 1) * sizeof(uint32_t));
    size_t ce = 0, se = 0;
    for (size_t i = 0; i < t->nnodes; i++) {
        struct topology_node *n = &t->nodes[i];
        n->children = t->child_pool + ce, ce += n->nchildren, n->nchildren = 0;
        n->subs = sub_pool + se, se += n->nsubs, n->nsubs = 0;
    }
    for (size_t i = 0; i < t->nnodes; i++)
        for (uint32_t j = 0; j < t->nodes[i].nparents; j++) {
            struct topology_node *p = &t->nodes[t->nodes[i].parents[j]];
            p->children[p->nchildren++] = (uint32_t)i;
        }
    for (size_t i = 0; i < t->nsubs; i++) {
        if (t->subs[i].node == TOPOLOGY_NONE)
            continue;
        struct topology_node *n = &t->nodes[t->subs[i].node];
        n->subs[n->nsubs++] = (uint32_t)i;
    }
    return sub_pool;
}

/* Kahn's order (parents before children) into topo[]; returns how many nodes it reached. */
static size_t topo_sort(struct topology *t, uint32_t *topo)
{
    uint32_t *left = xmalloc((t->nnodes + 1) * sizeof(uint32_t));
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        if (!(left[i] = t->nodes[i].nparents))
            topo[tail++] = (uint32_t)i;
    while (head < tail) {
        const struct topology_node *n = &t->nodes[topo[head++]];
        for (uint32_t j = 0; j < n->nchildren; j++)
            if (--left[n->children[j]] == 0)
                topo[tail++] = n->children[j];
    }
    free(left);
    return tail;
}

/* Report each cycle once, as the path of ids, at one member's line. */
static void report_cycles(struct topology *t, const uint32_t *topo, size_t sorted,
                          struct topology_errs *errs)
{
    /* state: 0 = unsorted, 1 = sorted, 2 = visited by an earlier walk, 3+k = walk k's path */
    uint32_t *state = xcalloc(t->nnodes + 1, sizeof(uint32_t));
    for (size_t i = 0; i < sorted; i++)
        state[topo[i]] = 1;
    uint32_t walk = 3;
    for (uint32_t start = 0; start < t->nnodes; start++, walk++) {
        uint32_t v = start;
        while (state[v] == 0) { /* an unsorted node always has an unsorted parent */
            state[v] = walk;
            const struct topology_node *n = &t->nodes[v];
            uint32_t next = v;
            for (uint32_t j = 0; j < n->nparents && next == v; j++)
                if (state[n->parents[j]] != 1)
                    next = n->parents[j];
            v = next;
        }
        if (state[v] == walk) {
            char *path = xstrdup(t->nodes[v].id);
            for (uint32_t u = v;;) {
                const struct topology_node *n = &t->nodes[u];
                uint32_t p = TOPOLOGY_NONE;
                for (uint32_t j = 0; j < n->nparents && p == TOPOLOGY_NONE; j++)
                    if (state[n->parents[j]] == walk)
                        p = n->parents[j];
                char *np = xasprintf("%s -> %s", path, t->nodes[p].id);
                free(path), path = np, u = p;
                if (u == v)
                    break;
            }
            topology_err(errs, t->files[t->node_pos[v].file], t->node_pos[v].line,
                         "parent cycle: %s (each node's parent follows it)", path);
            free(path);
        }
        for (uint32_t u = start; state[u] == walk;) { /* retire this walk's path */
            state[u] = 2;
            const struct topology_node *n = &t->nodes[u];
            for (uint32_t j = 0; j < n->nparents; j++)
                if (state[n->parents[j]] == walk) {
                    u = n->parents[j];
                    break;
                }
        }
    }
    free(state);
}

/* The dominator tree of a DAG: idom(v) = deepest common dominator of v's parents, taken in
 * topological order. depth is scratch (0 = virtual root). */
static void dominators(struct topology *t, const uint32_t *topo, uint32_t *depth)
{
    for (size_t k = 0; k < t->nnodes; k++) {
        struct topology_node *n = &t->nodes[topo[k]];
        uint32_t d = n->nparents ? n->parents[0] : TOPOLOGY_NONE;
        for (uint32_t j = 1; j < n->nparents && d != TOPOLOGY_NONE; j++) {
            uint32_t b = n->parents[j];
            while (d != b && d != TOPOLOGY_NONE && b != TOPOLOGY_NONE) {
                if (depth[d] < depth[b])
                    b = t->nodes[b].idom;
                else
                    d = t->nodes[d].idom;
            }
            if (d != b)
                d = TOPOLOGY_NONE;
        }
        n->idom = d;
        depth[topo[k]] = d == TOPOLOGY_NONE ? 1 : depth[d] + 1;
    }
}

/* Preorder of the dominator tree (children in input order) and the ranges derived from it. */
static void order(struct topology *t, uint32_t *scratch)
{
    size_t nn = t->nnodes;
    uint32_t *first = xmalloc((nn + 1) * sizeof(uint32_t)), *next = scratch;
    for (size_t i = 0; i <= nn; i++)
        first[i] = TOPOLOGY_NONE;
    for (size_t i = nn; i-- > 0;) { /* slot nn is the virtual root */
        uint32_t d = t->nodes[i].idom == TOPOLOGY_NONE ? (uint32_t)nn : t->nodes[i].idom;
        next[i] = first[d], first[d] = (uint32_t)i;
    }
    t->norder = xmalloc((nn + 1) * sizeof(uint32_t));
    t->sorder = xmalloc((t->nsubs + 1) * sizeof(uint32_t));
    uint32_t *stack = xmalloc((nn + 1) * sizeof(uint32_t));
    size_t sp = 0, pos = 0, spos = 0;
    for (uint32_t r = first[nn]; r != TOPOLOGY_NONE; r = next[r]) {
        stack[sp++] = r;
        while (sp) { /* a node is pushed once; its end is fixed when its last child pops */
            uint32_t v = stack[--sp];
            struct topology_node *n = &t->nodes[v];
            n->pre = (uint32_t)pos, n->sub_lo = (uint32_t)spos;
            t->norder[pos++] = v;
            for (uint32_t j = 0; j < n->nsubs; j++)
                t->sorder[spos++] = n->subs[j];
            size_t base = sp;
            for (uint32_t c = first[v]; c != TOPOLOGY_NONE; c = next[c])
                stack[sp++] = c;
            for (size_t a = base, b = sp; a + 1 < b; a++, b--) { /* keep input order */
                uint32_t x = stack[a];
                stack[a] = stack[b - 1], stack[b - 1] = x;
            }
        }
    }
    free(stack), free(first);
}

/* end / sub_hi: a subtree ends where the next node outside it starts, computed bottom-up. */
static void ranges(struct topology *t)
{
    for (size_t i = 0; i < t->nnodes; i++) {
        t->nodes[i].end = t->nodes[i].pre + 1;
        t->nodes[i].sub_hi = t->nodes[i].sub_lo + t->nodes[i].nsubs;
    }
    for (size_t p = t->nnodes; p-- > 0;) {
        struct topology_node *n = &t->nodes[t->norder[p]];
        if (n->idom != TOPOLOGY_NONE) {
            struct topology_node *d = &t->nodes[n->idom];
            if (n->end > d->end)
                d->end = n->end;
            if (n->sub_hi > d->sub_hi)
                d->sub_hi = n->sub_hi;
        }
    }
}

int topology_finish(struct topology *t, struct topology_errs *errs)
{
    if (t->finished)
        return 0;
    /* unresolved references are left out, so that cycles are still looked for */
    int rc = resolve_parents(t, errs);
    rc |= resolve_refs(t, errs);
    uint32_t *sub_pool = build_lists(t);
    uint32_t *topo = xmalloc((t->nnodes + 1) * sizeof(uint32_t));
    size_t sorted = topo_sort(t, topo);
    if (sorted < t->nnodes)
        report_cycles(t, topo, sorted, errs);
    free_loading(t);
    if (rc || sorted < t->nnodes) {
        free(topo), free(sub_pool);
        return -EINVAL;
    }
    uint32_t *scratch = xcalloc(t->nnodes + 1, sizeof(uint32_t));
    dominators(t, topo, scratch);
    order(t, scratch);
    ranges(t);
    free(scratch), free(topo);
    for (size_t i = 0; i < t->nnodes; i++) /* order() laid each node's subs out at sub_lo */
        t->nodes[i].subs = t->sorder + t->nodes[i].sub_lo;
    free(sub_pool);
    t->mark = xcalloc(t->nnodes + 1, sizeof(uint32_t));
    t->cnt = xcalloc(t->nnodes + 1, sizeof(uint32_t));
    t->finished = 1;
    return 0;
}

size_t topology_node_count(const struct topology *t)
{
    return t->nnodes;
}
size_t topology_sub_count(const struct topology *t)
{
    return t->nsubs;
}
size_t topology_binding_count(const struct topology *t)
{
    return t->nbinds;
}
const struct topology_node *topology_node(const struct topology *t, uint32_t i)
{
    return &t->nodes[i];
}
const struct topology_sub *topology_sub(const struct topology *t, uint32_t i)
{
    return &t->subs[i];
}
const struct topology_binding *topology_binding(const struct topology *t, uint32_t i)
{
    return &t->binds[i];
}
const uint32_t *topology_node_order(const struct topology *t)
{
    return t->norder;
}
const uint32_t *topology_sub_order(const struct topology *t)
{
    return t->sorder;
}

uint32_t topology_find_node(const struct topology *t, const char *id)
{
    return topology_index_get(t, TOPOLOGY_IX_NODE, id, NULL);
}

uint32_t topology_find_sub(const struct topology *t, const char *id)
{
    return topology_index_get(t, TOPOLOGY_IX_SUB, id, NULL);
}

uint32_t topology_bind_lookup(const struct topology *t, const char *device, const char *object)
{
    uint32_t b = topology_index_get(t, TOPOLOGY_IX_BIND, device, object ? object : "");
    return b == TOPOLOGY_NONE ? TOPOLOGY_NONE : t->binds[b].node;
}

void topology_impact(const struct topology *t, uint32_t node, struct topology_impact *out)
{
    const struct topology_node *n = &t->nodes[node];
    memset(out, 0, sizeof *out);
    out->nodes = t->norder + n->pre;
    out->nnodes = n->end - n->pre;
    out->subs = t->sorder + n->sub_lo;
    out->nsubs = n->sub_hi - n->sub_lo;
    for (size_t i = 0; i < out->nnodes; i++)
        out->count[t->nodes[out->nodes[i]].kind]++;
}

static void cut_push(struct topology *t, struct topology_cut *c, size_t *cap, uint32_t v)
{
    if (c->nnodes == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        c->nodes = xrealloc(c->nodes, *cap * sizeof(uint32_t));
    }
    c->nodes[c->nnodes++] = v;
    c->count[t->nodes[v].kind]++;
    c->nsubs += t->nodes[v].nsubs;
}

/* mark[v] == epoch: v is cut. cnt[v] counts v's cut parents, valid while mark[v] == epoch + 1
 * ("touched"); epochs advance by 2 so neither array is ever cleared. */
void topology_cut(struct topology *t, const uint32_t *failed, size_t nfailed,
                  struct topology_cut *out)
{
    memset(out, 0, sizeof *out);
    if (t->epoch >= UINT32_MAX - 2) {
        memset(t->mark, 0, t->nnodes * sizeof(uint32_t));
        t->epoch = 0;
    }
    uint32_t cut = t->epoch += 2, touched = cut + 1;
    size_t cap = 0;
    for (size_t i = 0; i < nfailed; i++)
        if (failed[i] < t->nnodes && t->mark[failed[i]] != cut) {
            t->mark[failed[i]] = cut;
            cut_push(t, out, &cap, failed[i]);
        }
    for (size_t q = 0; q < out->nnodes; q++) {
        const struct topology_node *n = &t->nodes[out->nodes[q]];
        for (uint32_t j = 0; j < n->nchildren; j++) {
            uint32_t c = n->children[j];
            if (t->mark[c] == cut)
                continue;
            if (t->mark[c] != touched)
                t->mark[c] = touched, t->cnt[c] = 0;
            if (++t->cnt[c] == t->nodes[c].nparents) {
                t->mark[c] = cut;
                cut_push(t, out, &cap, c);
            }
        }
    }
}

void topology_cut_deinit(struct topology_cut *c)
{
    free(c->nodes);
    memset(c, 0, sizeof *c);
}
