/* topology_store: the topology in Redis, versioned (key layout: docs/redis.md, "Correlator:
 * topology"). An import writes a complete new version through the sync pipeline, swaps the
 * pointer farol:topo:current with a compare-and-set, then deletes the previous version; readers
 * take the pointer once per operation and never see half a topology.
 * Everything here blocks (struct store_sync): for the CLI and for the correlator's start-up.
 * Error texts go into caller buffers and never contain phone numbers. */
#ifndef FAROL_TOPOLOGY_STORE_H
#define FAROL_TOPOLOGY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "correlator/topology.h"

struct store_sync;

/* Progress of a long write or delete: phase ("nodes", "subscribers", ...), done of total. */
typedef void (*topology_store_progress_fn)(void *arg, const char *phase, size_t done, size_t total);

struct topology_store_write_opts {
    const char *source;                  /* recorded in meta (file names), may be NULL */
    topology_store_progress_fn progress; /* NULL = silent */
    void *progress_arg;
};

/* Write t (finished) as a new version and make it current; the previous version is deleted
 * afterwards. version receives the new version id. Returns 0, -EAGAIN when another import
 * swapped first (ours is deleted), or -EIO (ours is deleted when the connection allows). */
int topology_store_write(struct store_sync *ss, const struct topology *t,
                         const struct topology_store_write_opts *o, char *version, size_t vsz,
                         char *err, size_t errsz);
/* The current version id into v. Returns 0, -ENOENT when no topology is loaded, or -EIO. */
int topology_store_current(struct store_sync *ss, char *v, size_t vsz, char *err, size_t errsz);
/* Delete every key of version v (paged; never touches the current pointer). */
int topology_store_delete(struct store_sync *ss, const char *v, topology_store_progress_fn fn,
                          void *arg, char *err, size_t errsz);
/* Read the current version back into a new finished model (caller frees); version gets its id.
 * NULL with err set on failure. */
struct topology *topology_store_load(struct store_sync *ss, char *version, size_t vsz, char *err,
                                     size_t errsz);
/* Like topology_store_load, but subscribers carry only what correlation and usage need (id,
 * node, cap, cycle_day, timezone): a fraction of the memory and load time at 1M subscribers. */
struct topology *topology_store_load_lean(struct store_sync *ss, char *version, size_t vsz,
                                          char *err, size_t errsz);

/* One node as `farol topology show` / `farol impact` read it: counts precomputed at import. */
struct topology_store_node {
    char *id, *kind, *name, *area, *parents, *bindings; /* parents/bindings: JSON arrays */
    uint64_t count[TOPOLOGY_KINDS]; /* nodes by kind that lose service if it fails, itself too */
    uint64_t subs;                  /* subscribers that lose service if it fails */
    uint64_t direct_subs;           /* subscribers attached to it */
    uint64_t sub_lo;                /* where they start in the version's subs list */
    uint64_t nchildren;
};

/* Read node id of version v. Returns 0, -ENOENT (no such node) or -EIO. Free with _deinit. */
int topology_store_node_get(struct store_sync *ss, const char *v, const char *id,
                            struct topology_store_node *out, char *err, size_t errsz);
/* Free what a node record holds. */
void topology_store_node_deinit(struct topology_store_node *n);
/* Up to limit ids of the subscribers that lose service when n fails, from offset on (one
 * LRANGE: cost proportional to limit). *ids (caller frees each and the array), *n set. */
int topology_store_impact_subs(struct store_sync *ss, const char *v,
                               const struct topology_store_node *node, uint64_t offset,
                               uint64_t limit, char ***ids, size_t *n, char *err, size_t errsz);
/* Up to limit children ids of node id (one SSCAN page per call, cursor in/out, 0 = start/end). */
int topology_store_children(struct store_sync *ss, const char *v, const char *id,
                            unsigned long long *cursor, char ***ids, size_t *n, char *err,
                            size_t errsz);

#endif
