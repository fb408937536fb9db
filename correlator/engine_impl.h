/* engine_impl: state shared by the engine's modules, private to them:
 *   engine.c         life cycle, steps, timers, restore;
 *   engine_alarm.c   alarms to node state (idempotency, flapping, unknown subtrees);
 *   engine_infer.c   inference at PON ports and splitters, and the top roots of the cut;
 *   engine_outage.c  the outage lifecycle and its events. */
#ifndef FAROL_ENGINE_IMPL_H
#define FAROL_ENGINE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/strmap.h"
#include "correlator/engine.h"

/* One alarm occurrence; kept after its clear so that a redelivered raise stays a no-op. */
struct eng_alarm {
    char *id;
    const char *kind; /* one of the engine's static kind names */
    uint32_t node;
    int64_t observed_ms;
    int64_t cleared_ms; /* when it cleared (pruning), 0 while active */
    bool active;
    bool unknown;           /* snmp-unresponsive: marks the subtree unknown, fails nothing */
    struct eng_alarm *next; /* the node's active list, then the cleared FIFO */
};

/* Per-node state that few nodes ever need (a node that had an alarm, was inferred, held or
 * unknown): allocated on first use, so a million quiet nodes cost 32 bytes each. */
struct eng_node_x {
    int64_t infer_ms;   /* inferred: earliest member failure */
    int64_t held_until; /* flapping and up: stays failed until then (0 = not held) */
    int64_t unknown_ms; /* when it became unknown (nunknown > 0) */
    int64_t known_ms;   /* when it answered again (frozen for settle more), 0 = not */
    uint32_t nflips;
    int64_t flips[]; /* ring of the last flap_count + 1 state changes */
};

struct eng_node {
    struct eng_alarm *active; /* active service-down alarms */
    struct eng_node_x *x;     /* NULL: every field of it is 0 (read through engine_x) */
    uint32_t nactive;
    uint32_t nunknown;   /* active snmp-unresponsive alarms */
    uint32_t failed_pos; /* index in e->failed, or TOPOLOGY_NONE */
    bool monitored : 1;  /* has a binding */
    bool inferred : 1;   /* failed by inference */
    bool top : 1;        /* a top root in the current step */
    bool cut : 1;        /* in the current cut (scratch) */
    bool flapping : 1;   /* changed state too often: damped */
};

struct eng_outage {
    char *id;
    uint32_t root;
    uint32_t seq;
    bool confirmed;
    bool dead;     /* removed at the end of the step */
    bool flapping; /* published flapping mark */
    int64_t created_ms, started_ms, confirmed_ms;
    int64_t clearing_since; /* -1 while the root is failed */
    int cause;              /* enum outage_cause */
    char *maint_id;         /* planned (or overrun): the window, else NULL */
    char *group_area;       /* a power outage grouped by this area, else NULL */
    uint32_t *extra;        /* the group's other roots */
    size_t nextra;
    bool overrun_sent; /* maint_overrun() called for it */
    uint32_t *subs;    /* published affected subscribers, sorted by rank */
    size_t nsubs;
    uint32_t count[TOPOLOGY_KINDS]; /* published node counts */
};

struct corr_engine {
    struct topology *topo;
    struct corr_params p;
    struct corr_sink sink;
    struct corr_engine_stats st;
    size_t nnodes;
    struct eng_node *nodes;
    uint32_t *rank;   /* subscriber index -> rank of its id (deterministic ordering) */
    uint32_t *failed; /* nodes with an active own alarm, or held by flap damping */
    size_t nfailed;
    uint32_t *held; /* flapping nodes held failed while up */
    size_t nheld;
    uint32_t *unknown; /* nodes unknown (snmp-unresponsive) or settling after it */
    size_t nunknown;
    struct eng_alarm *cleared_head, *cleared_tail; /* cleared alarms in clear order */
    struct strmap *alarms;                         /* id (borrowed) -> struct eng_alarm */
    struct strmap *unbound;                        /* device -> uint64_t* count */
    struct strmap *used_ids;                       /* outage ids ever used -> (void *)1 */
    struct eng_outage **outages;                   /* open ones, sorted by id */
    size_t noutages;
    uint32_t *mark; /* BFS stamps */
    uint32_t stamp;
    uint32_t *scratch; /* nnodes entries, for one function at a time */
    uint32_t *tops;    /* the top roots of the last step */
    size_t ntops;
    uint32_t *inferred_nodes; /* nodes with .inferred set */
    size_t ninferred;
    struct topology_cut cut; /* the last step's cut: whose .cut/.top flags are set */
    int64_t now_ms;          /* the last step's time */
    bool dirty;              /* alarms applied since the last step */
    struct maint_set *maint;
    struct eng_outage **by_root; /* node -> its open outage (NULL: none), nnodes entries */
};

/* All zeros: what engine_x reads for a node without rare state. */
extern const struct eng_node_x engine_no_x;
/* A node's rare state for reading. */
static inline const struct eng_node_x *engine_x(const struct eng_node *s)
{
    return s->x ? s->x : &engine_no_x;
}
/* Node n's rare state for writing, allocated on first use. */
struct eng_node_x *engine_x_mut(struct corr_engine *e, uint32_t n);
/* Node failure time: own alarms' earliest observation, or the inferred time. */
int64_t engine_fail_ms(const struct corr_engine *e, uint32_t n);
/* True when n failed itself, by inference, or is held failed by flap damping. */
bool engine_is_failed(const struct corr_engine *e, uint32_t n);
/* Release flapping nodes whose hold ran out and unknown subtrees whose freeze ended by
 * now_ms; true when a node's state changed. */
bool engine_release_held(struct corr_engine *e, int64_t now_ms);
/* Earliest hold or unknown deadline after now, or INT64_MAX. */
int64_t engine_node_deadline(const struct corr_engine *e);
/* True when n (unless failed by its own non-ONU alarm) or a node that dominates it is unknown
 * (snmp-unresponsive, at most a window) or answered again less than settle ago. */
bool engine_in_unknown(const struct corr_engine *e, uint32_t n, int64_t now_ms);
/* Mark inferred nodes (PON ports, splitters) from the failed ONUs below them. */
void engine_infer(struct corr_engine *e);
/* Cut the failed set and mark the top roots (nodes[].top and .cut). */
void engine_find_roots(struct corr_engine *e);
/* Run the outage lifecycle over the current roots and cut (nodes[].top/.cut set); when
 * nothing changed since the last step, only outages with a due timer are looked at. */
void engine_outages_step(struct corr_engine *e, bool changed, int64_t now_ms);
/* The outage's next timer after the last step, or INT64_MAX. */
int64_t engine_outage_deadline(const struct corr_engine *e, const struct eng_outage *o);
/* Free one outage record. */
void engine_outage_free(struct eng_outage *o);
/* Insert o into the open outages, kept sorted by id. */
void engine_outage_insert(struct corr_engine *e, struct eng_outage *o);
/* A new root that is a power cut in the area of an open power group joins it (true). */
bool engine_group_join(struct corr_engine *e, uint32_t root);
/* A new outage that is a power cut with an area becomes that area's group. */
void engine_group_mark(struct corr_engine *e, struct eng_outage *o);
/* Drop the group's roots that recovered or are covered; promote one if the first left. */
void engine_group_prune(struct corr_engine *e, struct eng_outage *o);
/* The outage's roots into out (1 + nextra entries); returns their count. */
size_t engine_group_seeds(const struct eng_outage *o, uint32_t *out);
/* Sort subscriber indexes by rank. */
void engine_sort_subs(const struct corr_engine *e, uint32_t *v, size_t n);

#endif
