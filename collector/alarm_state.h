/* alarm_state: the collector's memory of which alarms are active, per (device, object, kind).
 * Reporting a condition that is already known produces nothing; a change produces exactly one
 * alarm event (raise, or clear with the raise's id) on the bus. The active set is written to
 * Redis (docs/redis.md, farol:alarm:*) before the event is published, so a restarted
 * collector neither raises again what it had raised nor forgets to clear it. When Redis is
 * unreachable, alarms still flow and the state is written again once it is back.
 * struct alarm_state is opaque, owned by the collector; it borrows loop, bus and store. */
#ifndef FAROL_ALARM_STATE_H
#define FAROL_ALARM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct loop;
struct bus;
struct store;
struct alarm_state;

/* One observation of a condition; strings are borrowed for the call. */
struct alarm_report {
    const char *device;
    const char *object; /* "" or NULL for the device itself */
    const char *kind;
    bool active; /* true: the condition holds (raise), false: it does not (clear) */
    enum alarm_severity severity;
    enum alarm_source source;
    int64_t observed_ms;
    bool has_value;
    double value;
    const char *text; /* may be NULL */
};

/* Create the state and start loading what Redis remembers; reports made before the load has
 * finished are held and applied after it, in order. */
struct alarm_state *alarm_state_new(struct loop *loop, struct bus *bus, struct store *store);
/* Apply one observation: publishes an alarm event only when the condition changed. */
void alarm_state_report(struct alarm_state *st, const struct alarm_report *r);
/* Non-zero once the state remembered in Redis has been loaded. */
int alarm_state_ready(const struct alarm_state *st);
/* Number of alarms currently active. */
size_t alarm_state_active(const struct alarm_state *st);
/* Events waiting for the bus (it refused them with back-pressure) plus Redis writes in flight. */
size_t alarm_state_pending(const struct alarm_state *st);
/* Free the state (NULL is fine); outstanding Redis replies are discarded safely. */
void alarm_state_free(struct alarm_state *st);

#endif
