/* engine: the correlation core (docs/correlation.md): alarms in, outage events out, on a
 * virtual clock supplied by the caller, so the daemon and `farol replay` run the same code.
 *
 * The engine owns its state; the topology is the caller's and must outlive the engine. The
 * engine writes only topology_cut()'s scratch state, so one topology must not be shared with
 * another thread while the engine runs. Events handed to the sink are owned by the engine and
 * valid only during the call. Not thread-safe. */
#ifndef FAROL_ENGINE_H
#define FAROL_ENGINE_H

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
};

struct corr_sink {
    void (*emit)(void *arg, const struct event *ev); /* one outage event, engine-owned */
    void *arg;
};

struct corr_engine_stats {
    uint64_t alarms;     /* every alarm given */
    uint64_t duplicates; /* (id, action) already applied */
    uint64_t unbound;    /* no binding for (device, object) */
    uint64_t ignored;    /* bound, but a kind that never fails a node */
    uint32_t outages;    /* open (suspected or confirmed) */
};

/* Defaults: hold-down 60 s, clear-hold 30 s, window 120 s, infer 0.8 of at least 4. */
void corr_params_default(struct corr_params *p);
/* A new engine over a finished topology; p and sink are copied (sink.emit may be NULL). */
struct corr_engine *corr_engine_new(struct topology *topo, const struct corr_params *p,
                                    const struct corr_sink *sink);
/* Free the engine (NULL is fine); open outages are dropped without events. */
void corr_engine_free(struct corr_engine *e);
/* Apply one alarm at now_ms, then re-correlate; events go to the sink before it returns. */
void corr_engine_alarm(struct corr_engine *e, const struct alarm *a, int64_t now_ms);
/* Advance timers (hold-down, clear-hold) to now_ms; events go to the sink. */
void corr_engine_tick(struct corr_engine *e, int64_t now_ms);
/* The earliest future time at which a tick can change something, or INT64_MAX. */
int64_t corr_engine_next_deadline(const struct corr_engine *e);
/* Counters so far. */
void corr_engine_stats(const struct corr_engine *e, struct corr_engine_stats *out);
/* Alarms seen for device with no binding (0 when none). */
uint64_t corr_engine_unbound(const struct corr_engine *e, const char *device);

#endif
