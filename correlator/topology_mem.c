/* topology_mem: where the model's bytes go. Strings are copied into large arena blocks (a
 * malloc'd string costs at least 32 bytes; most ids are 10), repeated values are interned, and
 * the id indexes store 4-byte record indexes whose keys are read back from the records. */
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "core/xmalloc.h"
#include "correlator/topology_impl.h"

#define BLOCK (1u << 20)
#define ALIGN sizeof(void *)

void *topology_arena_alloc(struct topology_arena *a, size_t n)
{
    size_t at = (a->used + ALIGN - 1) & ~(ALIGN - 1);
    if (!a->block || at + n > a->size) {
        size_t size = n + ALIGN > BLOCK ? n + ALIGN : BLOCK;
        char *b = xmalloc(size);
        memcpy(b, &a->block, sizeof a->block); /* chain to the previous block */
        a->block = b, a->size = size, at = ALIGN;
    }
    a->used = at + n;
    return a->block + at;
}

char *topology_arena_strdup(struct topology_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p;
    if (a->block && a->used + n <= a->size) { /* strings need no alignment */
        p = a->block + a->used;
        a->used += n;
    } else {
        p = topology_arena_alloc(a, n);
    }
    return memcpy(p, s, n);
}

void topology_arena_free(struct topology_arena *a)
{
    while (a->block) {
        char *prev;
        memcpy(&prev, a->block, sizeof prev);
        free(a->block);
        a->block = prev;
    }
    memset(a, 0, sizeof *a);
}

const char *topology_intern(struct topology *t, const char *s)
{
    const char *p = strmap_get(t->interned, s);
    if (!p) {
        p = topology_arena_strdup(&t->strs, s);
        strmap_put(t->interned, p, (void *)p);
    }
    return p;
}

/* FNV-1a over a, then (bindings) a unit separator and b: the hash of "device\x1fobject". */
static uint64_t hash_key(const char *a, const char *b)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    if (!b)
        return h;
    h = (h ^ 0x1f) * 1099511628211ull;
    for (const unsigned char *p = (const unsigned char *)b; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static void key_of(const struct topology *t, enum topology_ix ix, uint32_t i, const char **a,
                   const char **b)
{
    *b = NULL;
    if (ix == TOPOLOGY_IX_NODE)
        *a = t->nodes[i].id;
    else if (ix == TOPOLOGY_IX_SUB)
        *a = t->subs[i].id;
    else
        *a = t->binds[i].device, *b = t->binds[i].object;
}

/* The slot holding key (a, b), or the empty slot where it would go. */
static size_t probe(const struct topology *t, enum topology_ix ix, const char *a, const char *b)
{
    const struct topology_index *x = &t->ix[ix];
    size_t mask = x->cap - 1;
    for (size_t i = (size_t)hash_key(a, b) & mask;; i = (i + 1) & mask) {
        const char *ka, *kb;
        if (!x->slot[i])
            return i;
        key_of(t, ix, x->slot[i] - 1, &ka, &kb);
        if (!strcmp(ka, a) && (!b || !strcmp(kb, b)))
            return i;
    }
}

uint32_t topology_index_get(const struct topology *t, enum topology_ix ix, const char *a,
                            const char *b)
{
    if (!t->ix[ix].cap)
        return TOPOLOGY_NONE;
    uint32_t s = t->ix[ix].slot[probe(t, ix, a, b)];
    return s ? s - 1 : TOPOLOGY_NONE;
}

/* Double the table (load stays under 3/4); hashes are recomputed from the records' keys. */
static void grow(struct topology *t, enum topology_ix ix)
{
    struct topology_index *x = &t->ix[ix];
    uint32_t *old = x->slot;
    size_t ocap = x->cap;
    x->cap = ocap ? ocap * 2 : 64;
    x->slot = xcalloc(x->cap, sizeof *x->slot);
    for (size_t i = 0; i < ocap; i++) {
        const char *a, *b;
        if (!old[i])
            continue;
        key_of(t, ix, old[i] - 1, &a, &b);
        size_t j = (size_t)hash_key(a, b) & (x->cap - 1);
        while (x->slot[j])
            j = (j + 1) & (x->cap - 1);
        x->slot[j] = old[i];
    }
    free(old);
}

void topology_index_put(struct topology *t, enum topology_ix ix, uint32_t idx)
{
    struct topology_index *x = &t->ix[ix];
    if ((x->n + 1) * 4 > x->cap * 3)
        grow(t, ix);
    const char *a, *b;
    key_of(t, ix, idx, &a, &b);
    x->slot[probe(t, ix, a, b)] = idx + 1;
    x->n++;
}

void topology_index_free(struct topology *t)
{
    for (int i = 0; i < TOPOLOGY_IXS; i++) {
        free(t->ix[i].slot);
        memset(&t->ix[i], 0, sizeof t->ix[i]);
    }
}

struct topology_ref *topology_refs_push(struct topology_refs *r)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = xrealloc(r->v, r->cap * sizeof *r->v);
    }
    return memset(&r->v[r->n++], 0, sizeof *r->v);
}

uint32_t topology_file_index(struct topology *t, const char *file)
{
    for (size_t i = 0; i < t->nfiles; i++)
        if (t->files[i] == file)
            return (uint32_t)i;
    const char *own = topology_file(t, file);
    for (size_t i = 0; i < t->nfiles; i++)
        if (t->files[i] == own)
            return (uint32_t)i;
    return 0;
}
