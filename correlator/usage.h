/* usage: data-cap accounting (docs/usage.md). Usage samples are mapped to subscribers,
 * accumulated per billing cycle in Redis (`{prefix}usage:{cycle}:{subscriber}`), and each
 * plan threshold (80%, 100%, ...) crossed in a cycle is emitted once as an EVENT_THRESHOLD.
 *
 * Exactly-once under redelivery and across correlator instances: the dedupe (a high-water
 * mark of observed_ms per sample source), the counters and the threshold markers change in one
 * Lua script, so a sample is applied entirely or not at all. A threshold is marked "pending"
 * by the sample that crossed it and "done" once emitted; a redelivery of that same sample
 * re-emits a threshold still pending (the reply was lost or the process died before emitting),
 * so a crossing is never lost, and is emitted twice only when a process dies between emitting
 * and marking it done (the notifier's idempotency keys absorb that).
 *
 * struct usage_acct is opaque, owned by its creator. The store connection and the topology
 * are the caller's and must outlive it (or be replaced first). Blocking (one synchronous Redis
 * round trip per attributed sample, a second one when a threshold is crossed). Not
 * thread-safe (it also swaps TZ in the environment while computing a zone's cycle). */
#ifndef FAROL_USAGE_H
#define FAROL_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "correlator/topology.h"
#include "correlator/usage_cycle.h"

struct store_sync;

/* Most thresholds per plan; more are ignored. */
#define USAGE_MAX_THRESHOLDS 16

struct usage_params {
    const uint32_t *thresholds; /* percents, e.g. 80, 100; sorted, 0 and repeats dropped */
    size_t nthresholds;
    int64_t ttl_days; /* key expiry after the cycle ends; <= 0 means the default, 90 */
};

/* One EVENT_THRESHOLD; the event is owned by the usage module, valid during the call. */
typedef void (*usage_emit_fn)(void *arg, const struct event *ev);

struct usage_stats {
    uint64_t samples;      /* every call */
    uint64_t applied;      /* added to a cycle */
    uint64_t duplicates;   /* already applied (redelivery, another instance) */
    uint64_t unattributed; /* no subscriber: unknown id, unbound, or 0 or several on the node */
    uint64_t stale;        /* observed so long ago that its cycle's key has expired */
    uint64_t invalid;      /* -EINVAL */
    uint64_t errors;       /* -EAGAIN: Redis failed */
    uint64_t thresholds;   /* threshold events emitted */
};

/* Fill p with the defaults: thresholds 80 and 100, ttl 90 days. */
void usage_params_default(struct usage_params *p);
/* A new accountant over ss and topo (topo may be NULL until one is loaded: samples then fail
 * with -EAGAIN); p is copied (NULL = defaults); emit may be NULL (events dropped). */
struct usage_acct *usage_new(struct store_sync *ss, const struct topology *topo,
                             const struct usage_params *p, usage_emit_fn emit, void *arg);
/* Free the accountant (NULL is fine); the store and topology are left alone. */
void usage_free(struct usage_acct *u);
/* Account one sample at now_ms; emits a threshold event for each threshold first crossed in
 * the cycle. Returns 0 (applied, duplicate, stale or unattributable: counted), -EAGAIN when
 * Redis failed or no topology is set (redeliver later: nothing was half-applied), -EINVAL for
 * a sample that names nothing usable or whose octets overflow the counters. err gets a
 * message for every negative return. */
int usage_sample(struct usage_acct *u, const struct usage_sample *s, int64_t now_ms, char *err,
                 size_t errsz);
/* Use topo from now on (after a topology swap); the previous one may then be freed. */
void usage_set_topology(struct usage_acct *u, const struct topology *topo);
/* Use a new connection from now on (after the old one failed: a store_sync is unusable after
 * an I/O error); the previous one may then be freed. */
void usage_set_store(struct usage_acct *u, struct store_sync *ss);
/* Counters so far. */
void usage_get_stats(const struct usage_acct *u, struct usage_stats *out);

#endif
