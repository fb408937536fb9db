/* engine: the correlation core (docs/correlation.md): alarms in, outage events out, on a
 * virtual clock supplied by the caller, so the daemon and `farol replay` run the same code.
 *
 * The engine owns its state; the topology is the caller's and must outlive the engine. The
 * engine writes only topology_cut()'s scratch state, so one topology must not be shared with
 * another thread while the engine runs. Events handed to the sink are owned by the engine and
 * valid only during the call. Not thread-safe. */
#ifndef FAROL_ENGINE_H
#define FAROL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "correlator/topology.h"

struct corr_params {
    int64_t hold_down_ms;  /* suspected -> confirmed (and published) after this */
    int64_t clear_hold_ms; /* root must stay clear this long before resolved */
    int64_t window_ms;     /* correlation window for inference */
    double infer_fraction; /* fraction of monitored ONUs failed that infers their PON/splitter */
    uint32_t infer_min;    /* least monitored ONUs below a node for inference */
    uint32_t flap_count;   /* more state changes than this within flap_window: flapping */
    int64_t flap_window_ms;
    int64_t settle_ms;         /* after a root recovers, no new outage below it for this long */
    int64_t prune_ms;          /* cleared alarms are remembered (duplicate detection) this long */
    int64_t maint_prestart_ms; /* windows' affected sets are recomputed this early */
};

/* What an alarm would change, without applying it (corr_engine_check). */
enum corr_change { CORR_NOOP, CORR_RAISE, CORR_CLEAR };

struct corr_sink {
    void (*emit)(void *arg, const struct event *ev); /* one outage or maintenance event,
                                                        engine-owned */
    void *arg;
};

struct maint_set;

struct corr_engine_stats {
    uint64_t alarms;     /* every alarm given */
    uint64_t duplicates; /* (id, action) already applied */
    uint64_t unbound;    /* no binding for (device, object) */
    uint64_t ignored;    /* bound, but a kind that never fails a node */
    uint64_t flaps;      /* nodes marked flapping */
    uint64_t pruned;     /* cleared alarms forgotten after prune_ms */
    uint32_t outages;    /* open (suspected or confirmed) */
};

/* Defaults: hold-down 60 s, clear-hold 30 s, window 120 s, infer 0.8 of at least 4, flapping
 * above 4 changes in 10 min, settle 60 s, cleared alarms remembered 24 h. */
void corr_params_default(struct corr_params *p);
/* A new engine over a finished topology; p and sink are copied (sink.emit may be NULL). */
struct corr_engine *corr_engine_new(struct topology *topo, const struct corr_params *p,
                                    const struct corr_sink *sink);
/* Free the engine (NULL is fine); open outages are dropped without events. */
void corr_engine_free(struct corr_engine *e);
/* Whether a matters to correlation: a new raise of a kind that fails a node or freezes a
 * subtree (bound or not: a topology imported later may bind it), or the clear of an active
 * one. Lets the caller persist exactly those before applying them. */
enum corr_change corr_engine_check(const struct corr_engine *e, const struct alarm *a);
/* Apply one alarm's node state at now_ms without re-correlating (a burst is applied, then
 * correlated once by corr_engine_tick). Returns true when state changed. */
bool corr_engine_apply(struct corr_engine *e, const struct alarm *a, int64_t now_ms);
/* Apply one alarm at now_ms, then re-correlate; events go to the sink before it returns. */
void corr_engine_alarm(struct corr_engine *e, const struct alarm *a, int64_t now_ms);
/* Re-correlate and advance timers (hold-down, clear-hold, settle, flap holds) to now_ms;
 * events go to the sink. */
void corr_engine_tick(struct corr_engine *e, int64_t now_ms);
/* Apply a planner's maintenance request (a seq-0 maintenance event, correlator/maint.h) at
 * now_ms, then re-correlate. Returns 0 or a negative errno with a message in err. */
int corr_engine_window(struct corr_engine *e, const struct maintenance *req, int64_t now_ms,
                       char *err, size_t errsz);
/* The engine's maintenance windows (for persistence and listing; the engine owns them). */
struct maint_set *corr_engine_maint(struct corr_engine *e);
/* True when alarms were applied since the last tick. */
bool corr_engine_dirty(const struct corr_engine *e);
/* Reload a published outage after a restart, from its last event (id, root, seq, cause,
 * times) and its published subscriber ids, without emitting anything; the next tick compares
 * it with the reloaded alarms. -ENOENT when its root is not in the topology (then dropped). */
int corr_engine_restore(struct corr_engine *e, const struct outage *last, const char *const *subs,
                        size_t nsubs);
/* The earliest future time at which a tick can change something, or INT64_MAX. */
int64_t corr_engine_next_deadline(const struct corr_engine *e);
/* Counters so far. */
void corr_engine_stats(const struct corr_engine *e, struct corr_engine_stats *out);
/* Alarms seen for device with no binding (0 when none). */
uint64_t corr_engine_unbound(const struct corr_engine *e, const char *device);

#endif
