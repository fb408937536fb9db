/* topology_impl: the model's internals, shared by topology.c (indexes, queries) and
 * topology_record.c (records and their validation). Nothing outside those two includes it. */
#ifndef FAROL_TOPOLOGY_IMPL_H
#define FAROL_TOPOLOGY_IMPL_H

#include "correlator/topology.h"

struct strmap;

/* A links.csv / links: record, resolved by topology_finish(). */
struct topology_link {
    char *child, *parent;
    const char *file;
    int line;
};

struct topology {
    struct topology_node *nodes;
    size_t nnodes, capnodes;
    struct topology_sub *subs;
    size_t nsubs, capsubs;
    struct topology_binding *binds;
    size_t nbinds, capbinds;
    struct topology_link *links;
    size_t nlinks, caplinks;
    struct strmap *node_ids, *sub_ids, *bind_ids; /* id -> index + 1 */
    char **files;
    size_t nfiles;
    uint32_t *child_pool, *sub_pool; /* backing of nodes[].children / nodes[].subs */
    uint32_t *norder, *sorder;       /* dominator preorder; subscribers in that order */
    uint32_t *mark, *cnt;            /* topology_cut scratch, stamped with epoch */
    uint32_t epoch;
    int finished;
};

/* strmap values are index + 1 so that index 0 is not NULL. */
#define TOPOLOGY_IDX(p) ((uint32_t)((uintptr_t)(p)-1))
#define TOPOLOGY_PTR(i) ((void *)((uintptr_t)(i) + 1))

/* Key of a binding in bind_ids: device, unit separator, object. Caller frees. */
char *topology_bind_key(const char *device, const char *object);

#endif
