/* notif_plan: turns the correlator's events into queued messages, in Redis, before the event is
 * acknowledged (so a restart loses nothing and a redelivered event queues nothing twice).
 *
 * Redis (docs/redis.md, all under the prefix):
 *   notif:q:{prio}      zset  message id -> when it is due (ms); one per notif_prio
 *   notif:ctx:{base}    hash  what messages about an outage or window are rendered from
 *                             (kind, state, cause, area, eta_ms, message, start_ms, end_ms)
 *   notif:vars:{id}     hash  variables of one message (usage figures, the outage that told)
 *   notif:down          hash  subscriber -> "{current outage}|{outage whose message told them}"
 *   notif:told:{base}   set   subscribers told about an outage (they get its ETA updates)
 *   notif:aud:{ref}     set   a window occurrence's subscribers (they get its end/overrun)
 * A subscriber already told they are down is not told again when their outage merges into
 * another; a restoration is queued only for someone whose outage message went (or may have
 * gone) out, and a pending outage message is withdrawn instead when service comes back first. */
#ifndef FAROL_NOTIF_PLAN_H
#define FAROL_NOTIF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/store.h"

#define NOTIF_MAX_NOTICES 4

/* How the notifier behaves; notif_policy_defaults() gives the documented defaults. */
struct notif_policy {
    int64_t notify_delay_ms;               /* outage messages wait this long after the start */
    int64_t notices_ms[NOTIF_MAX_NOTICES]; /* maintenance advance notices, before start */
    size_t n_notices;
    int quiet_outages;                  /* 1: outage messages also wait out quiet hours */
    int64_t retry_min_ms, retry_max_ms; /* a channel's pause after a transient failure */
    int64_t max_age_ms;                 /* not sent this long after due: dead letter */
    int max_attempts;                   /* transient failures of one message: dead after */
    int64_t inflight_grace_ms;          /* a dead instance's claim waits for a receipt */
    int64_t record_ttl_s;               /* how long idempotency records live */
    int batch;                          /* messages taken from the queues per round */
};

/* 60 s delay, notices 48 h and 2 h, quiet hours ignored for outages, pauses 1..30 s, 24 h max
 * age, 12 attempts, 30 s grace, 30-day records, batches of 500. */
void notif_policy_defaults(struct notif_policy *p);

struct notif_plan_stats {
    unsigned long queued, withdrawn, already_told, restorations, ignored;
    bool noc_news; /* the last outage event changed what the NOC sees (not just a chunk of
                      subscribers): worth a summary */
};

/* The outage a subscriber's down marker ("{current}|{told}", farol:notif:down) names as
 * current, into buf ("" for NULL). */
void notif_plan_marker_current(const char *marker, char *buf, size_t bufsz);

/* Queue what ev means for subscribers. Returns 0 (done), -EIO when Redis failed midway (the
 * caller retries the same event: every write is idempotent) or -EINVAL for an event with an
 * id that cannot name messages (err says why; nothing was queued). */
int notif_plan_event(struct store_sync *ss, const struct notif_policy *p, const struct event *ev,
                     int64_t now_ms, struct notif_plan_stats *st, char *err, size_t errsz);

#endif
