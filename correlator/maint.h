/* maint: planned maintenance windows on a virtual clock (docs/maintenance.md). A planner's
 * request (a seq-0 `maintenance` event) creates, changes or cancels a window; the set answers
 * "is this node under an active window?" cheaply for every alarm, and publishes the windows'
 * lifecycle (scheduled, updated, cancelled, started, ended, overrun) with their affected
 * subscribers to a sink. No Redis, no bus: the caller persists (maint_store.h) and publishes.
 *
 * The set owns its windows. The topology is the caller's, must outlive the set (or be replaced
 * with maint_set_topology first), and is written only through topology_cut()'s scratch state,
 * so it must not be cut from another thread meanwhile. Events handed to the sink are owned by
 * the set and valid only during the call. Output is deterministic: windows are processed in id
 * order and subscriber ids are sorted. Not thread-safe. */
#ifndef FAROL_MAINT_H
#define FAROL_MAINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "correlator/topology.h"

/* Affected subscribers are recomputed this long before a window starts, by default. */
#define MAINT_PRESTART_DEFAULT_MS (10 * 60 * 1000)
/* Ended and cancelled windows are kept this long after their end (overrun, listing). */
#define MAINT_RETAIN_MS (24 * 60 * 60 * 1000LL)

struct maint_sink {
    void (*emit)(void *arg, const struct event *ev); /* one maintenance event, set-owned */
    void *arg;
};

struct maint_set;

/* A new, empty set over topo (NULL: none loaded yet, requests naming nodes then fail).
 * prestart_ms < 0 selects MAINT_PRESTART_DEFAULT_MS; sink is copied (emit may be NULL). */
struct maint_set *maint_new(struct topology *topo, int64_t prestart_ms,
                            const struct maint_sink *sink);
/* Free the set and its windows (NULL is fine); no events. */
void maint_free(struct maint_set *m);
/* Apply a planner's request (seq 0; phase scheduled = create, updated = change, cancelled =
 * cancel) at now_ms. Returns 0 (events emitted before it returns; re-sending an identical
 * create is a no-op), -EINVAL (bad request), -ENOENT (update/cancel of an unknown or finished
 * window) or -EEXIST (create over a live window that differs), with a message in err. */
int maint_request(struct maint_set *m, const struct maintenance *req, int64_t now_ms, char *err,
                  size_t errsz);
/* Advance to now_ms: prestart recompute (an `updated` when the affected set changed), started,
 * ended and the next occurrence of a recurring window (scheduled); drops windows retained past
 * MAINT_RETAIN_MS. Call it before maint_scope() for the same now_ms. */
void maint_tick(struct maint_set *m, int64_t now_ms);
/* The earliest time at which maint_tick can change something, or INT64_MAX. */
int64_t maint_next_deadline(const struct maint_set *m);
/* Id of the first (by id) started window whose scope covers node at now_ms (the window's
 * nodes and whatever they cut off, redundancy-aware), or NULL. Valid until the next call that
 * changes the set. Cost: O(active windows * log covered nodes). */
const char *maint_scope(const struct maint_set *m, uint32_t node, int64_t now_ms);
/* Alarms of window id persisted past its end: emit `overrun` once per occurrence. Ignored for
 * unknown windows and windows that never started. */
void maint_overrun(struct maint_set *m, const char *id, int64_t now_ms);
/* Replace the topology (the old one may already be freed): node ids are resolved again and the
 * scopes of started windows recomputed. No events; pending windows are re-checked at prestart. */
void maint_set_topology(struct maint_set *m, struct topology *topo);
/* Windows held (pending, started, and ended/cancelled ones still retained). */
size_t maint_count(const struct maint_set *m);
/* The i-th window by id (i < maint_count), for persistence and listing; its seq is the last
 * published one and `subscribers` is empty. Valid until the next call that changes the set. */
const struct maintenance *maint_get(const struct maint_set *m, size_t i);
/* Reload a persisted window (as maint_get gave it) without emitting. Returns 0, -EINVAL
 * (bad record, message in no buffer: logged) or -EEXIST. */
int maint_restore(struct maint_set *m, const struct maintenance *w, int64_t now_ms);

/* A parsed recurrence (maint_recur.c): every interval * period_days days, count occurrences
 * from the current one on (0 = no end); byday is "" or the start's UTC weekday ("TU"). */
struct maint_recur {
    int period_days; /* 1 daily, 7 weekly */
    uint32_t interval;
    uint32_t count;
    char byday[3];
};

/* Parse a rule ("daily", "weekly;count=4", "FREQ=WEEKLY;INTERVAL=2;COUNT=3") for a window
 * [start_ms, end_ms): occurrences must not overlap. Returns 0 or -EINVAL, message in err. */
int maint_recur_parse(const char *rule, int64_t start_ms, int64_t end_ms, struct maint_recur *r,
                      char *err, size_t errsz);
/* The canonical RRULE form: FREQ=...[;INTERVAL=n][;COUNT=n][;BYDAY=XX]. */
void maint_recur_format(const struct maint_recur *r, char *out, size_t outsz);
/* Milliseconds from one occurrence's start to the next. */
int64_t maint_recur_step_ms(const struct maint_recur *r);
/* The id of a window created without one: "mw-<start UTC, to the minute>-<hash of the unique
 * node ids>", e.g. "mw-20261125T0300Z-1a2b3c4d"; node order and repeats do not matter. */
void maint_window_id(const struct id_list *nodes, int64_t start_ms, char *id, size_t idsz);
/* True when id is a valid window id: 1..128 bytes of [A-Za-z0-9._-] (it becomes a Redis key). */
int maint_id_valid(const char *id);

#endif
