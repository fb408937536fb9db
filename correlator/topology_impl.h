/* topology_impl: the model's internals, shared by topology.c (indexes, queries),
 * topology_record.c (records and their validation) and topology_mem.c (the string arena and the
 * id indexes). Nothing outside those three includes it.
 *
 * Memory layout (a 1M-subscriber ISP must fit in a few hundred MB): strings live in arenas, not
 * one allocation each; repeated values (areas, time zones, devices...) are interned once; the id
 * indexes hold uint32 record indexes, their keys being the records' own strings; adjacency lists
 * are slices of shared pools. What only loading needs (unresolved references, record positions
 * for messages) is kept apart and dropped by topology_finish(). */
#ifndef FAROL_TOPOLOGY_IMPL_H
#define FAROL_TOPOLOGY_IMPL_H

#include "correlator/topology.h"

struct strmap;

/* Strings and small arrays copied into large blocks, all freed together. */
struct topology_arena {
    char *block; /* the current block; each block starts with a pointer to the previous one */
    size_t used, size;
};

/* Open addressing over record indexes + 1 (0 = empty); keys are read from the records. */
struct topology_index {
    uint32_t *slot;
    size_t cap, n; /* cap: a power of two, or 0 */
};

enum topology_ix { TOPOLOGY_IX_NODE, TOPOLOGY_IX_SUB, TOPOLOGY_IX_BIND, TOPOLOGY_IXS };

/* A reference to a node by id, resolved by topology_finish(): a node's parent (from = the
 * child) or the node of a subscriber or binding (from = that record). */
struct topology_ref {
    const char *id; /* in the scratch arena; NULL when resolved at once */
    uint32_t from;
    uint32_t to; /* the node, or TOPOLOGY_NONE while id is unresolved */
    uint32_t file;
    int line;
};

/* Where a record was defined: an index in files and a line. */
struct topology_pos {
    uint32_t file;
    int line;
};

/* A links.csv / links: record, resolved by topology_finish(). */
struct topology_link {
    const char *child, *parent; /* in the scratch arena */
    uint32_t file;
    int line;
};

/* A growable array of references. */
struct topology_refs {
    struct topology_ref *v;
    size_t n, cap;
};

struct topology {
    struct topology_node *nodes;
    size_t nnodes, capnodes;
    struct topology_sub *subs;
    size_t nsubs, capsubs;
    struct topology_binding *binds;
    size_t nbinds, capbinds;
    struct topology_index ix[TOPOLOGY_IXS];
    struct topology_arena strs; /* the model's strings and phone lists */
    struct strmap *interned;    /* value -> its copy in strs (borrowed keys) */
    char **files;
    size_t nfiles;
    uint32_t *parent_pool, *child_pool; /* backing of nodes[].parents / nodes[].children */
    uint32_t *norder, *sorder;          /* dominator preorder; subscribers in that order */
    uint32_t *mark, *cnt;               /* topology_cut scratch, stamped with epoch */
    uint32_t epoch;
    int finished;
    /* Loading only: freed by topology_finish(). */
    struct topology_arena scratch;
    struct topology_refs parents;  /* every node's parents, in record order */
    struct topology_refs sub_refs; /* subscribers whose node was not defined yet */
    struct topology_refs bind_refs;
    struct topology_link *links;
    size_t nlinks, caplinks;
    struct topology_pos *node_pos, *sub_pos; /* parallel to nodes / subs */
};

/* Copy s into the arena. */
char *topology_arena_strdup(struct topology_arena *a, const char *s);
/* n bytes from the arena, aligned for pointers. */
void *topology_arena_alloc(struct topology_arena *a, size_t n);
/* Free every block. */
void topology_arena_free(struct topology_arena *a);
/* The model's single copy of a value that repeats across records (area, time zone, device). */
const char *topology_intern(struct topology *t, const char *s);

/* The record with key (a, b) in index ix, or TOPOLOGY_NONE. b is the binding's object, NULL
 * for ids. */
uint32_t topology_index_get(const struct topology *t, enum topology_ix ix, const char *a,
                            const char *b);
/* Index record idx, whose key is already stored in it and not indexed yet. */
void topology_index_put(struct topology *t, enum topology_ix ix, uint32_t idx);
/* Free the three indexes. */
void topology_index_free(struct topology *t);

/* Append a reference; returns it for the caller to fill. */
struct topology_ref *topology_refs_push(struct topology_refs *r);
/* Index of file (from topology_file) in t->files. */
uint32_t topology_file_index(struct topology *t, const char *file);

#endif
