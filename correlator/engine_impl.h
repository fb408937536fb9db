/* engine_impl: state shared by engine.c (alarms, node state, failed set, roots) and
 * engine_outage.c (outage lifecycle and events). Private to the engine. */
#ifndef FAROL_ENGINE_IMPL_H
#define FAROL_ENGINE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/strmap.h"
#include "correlator/engine.h"

/* One alarm occurrence; kept after its clear so that a redelivered raise stays a no-op. */
struct eng_alarm {
    char *id;
    char *kind;
    uint32_t node;
    int64_t observed_ms;
    bool active;
    struct eng_alarm *next; /* the node's active list */
};

struct eng_node {
    struct eng_alarm *active; /* active service-down alarms */
    uint32_t nactive;
    uint32_t failed_pos; /* index in e->failed, or TOPOLOGY_NONE */
    bool monitored;      /* has a binding */
    bool inferred;       /* failed by inference */
    bool top;            /* a top root in the current step */
    bool cut;            /* in the current cut (scratch) */
    int64_t infer_ms;    /* inferred: earliest member failure */
};

struct eng_outage {
    char *id;
    uint32_t root;
    uint32_t seq;
    bool confirmed;
    bool dead; /* removed at the end of the step */
    int64_t created_ms, started_ms, confirmed_ms;
    int64_t clearing_since; /* -1 while the root is failed */
    int cause;              /* enum outage_cause */
    uint32_t *subs;         /* published affected subscribers, sorted by id */
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
    uint32_t *failed; /* nodes with an active own alarm */
    size_t nfailed;
    struct strmap *alarms;       /* id -> struct eng_alarm */
    struct strmap *unbound;      /* device -> uint64_t* count */
    struct strmap *used_ids;     /* outage ids ever used -> (void *)1 */
    struct eng_outage **outages; /* open ones, sorted by id */
    size_t noutages;
    uint32_t *mark; /* BFS stamps */
    uint32_t stamp;
};

/* Node failure time: own alarms' earliest observation, or the inferred time. */
int64_t engine_fail_ms(const struct corr_engine *e, uint32_t n);
/* True when n failed itself or by inference. */
bool engine_is_failed(const struct corr_engine *e, uint32_t n);
/* Run the outage lifecycle over the current roots and cut (nodes[].top/.cut set). */
void engine_outages_step(struct corr_engine *e, int64_t now_ms);
/* Free one outage record. */
void engine_outage_free(struct eng_outage *o);

#endif
