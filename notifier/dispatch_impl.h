/* dispatch_impl: the dispatcher's internals, shared by dispatch.c (rounds: fetch, load, claim,
 * send), dispatch_decide.c (what to do with one message) and dispatch_result.c (outcomes). */
#ifndef FAROL_DISPATCH_IMPL_H
#define FAROL_DISPATCH_IMPL_H

#include <stdbool.h>

#include "core/store.h"
#include "notifier/channel.h"
#include "notifier/dispatch.h"
#include "notifier/notif_msg.h"
#include "notifier/notif_plan.h"
#include "notifier/notif_render.h"
#include "notifier/rate.h"

#define DISPATCH_KEY 512
#define DISPATCH_DEAD_KEEP 99999 /* dead letters kept (LTRIM) */

struct dchan {
    const struct dispatch_channel *cfg;
    struct rate_bucket bucket;
    struct spend_cap spend;
    int64_t paused_until; /* wall ms: no sends before */
    int streak;           /* consecutive transient failures */
    size_t inflight;
    bool blocked; /* no more sends this round */
};

enum dact {
    DACT_SEND,     /* claim and send */
    DACT_TAKEOVER, /* a dead instance's stale claim: take it over and send */
    DACT_WAIT,     /* someone else's claim in flight: look again later */
    DACT_DEFER,    /* quiet hours: move the due time */
    DACT_HOLD,     /* channel busy (rate, pause, cap): leave it where it is */
    DACT_DONE,     /* already sent: drop from the queue (and apply what sending implies) */
    DACT_DROP,     /* no longer meaningful (outage over, window cancelled): drop silently */
    DACT_OPTOUT,   /* record "opted-out" and drop */
    DACT_DEAD      /* record "dead", dead-letter, drop */
};

struct cand {
    struct notif_msg m;
    int prio;
    int64_t due;
    struct redisReply *ctx, *vars, *sub, *rec, *down, *att; /* owned, NULL if not read */
    struct redisReply *extra, *optout; /* dispatch_extra_keys' replies, owned, NULL if not read */
    struct redisReply *ctx_shared;     /* set when ctx is another candidate's (not owned) */
    enum dact act;
    int ch;           /* index in channels, -1 none */
    const char *addr; /* into sub */
    char *phone;      /* E.164 for the opt-out check, owned */
    int64_t until;    /* DEFER / WAIT: new due time */
    const char *why;  /* DROP / DEAD / OPTOUT reason (static) */
    int attempts;
};

/* One send in flight until its outcome is written. */
struct flight {
    struct dispatch *d;
    struct notif_msg m;
    int prio, ch;
    int64_t due;
    int attempts;
    bool counted;           /* the channel was healthy at send: a failure is the message's own */
    char cur[DISPATCH_KEY]; /* outage the subscriber is down in (opened), for the told set */
    bool done;
    enum channel_status status;
    char *provider_id, *error;
    int64_t retry_after_ms;
    const char *final;   /* the outcome written ("sent", "queued", "dead"), NULL: retried */
    int attempts_final;  /* attempts counted with this one */
    struct flight *next; /* in the results list */
};

struct dispatch {
    struct loop *loop;
    struct dispatch_config cfg;
    struct dchan *chans;
    struct strmap *inflight; /* id -> struct flight (sending or outcome unwritten) */
    struct strmap *held;     /* id -> channel index + 1 (cast): waits for that channel */
    struct flight *results;  /* done, outcome to write */
    struct loop_timer *round_timer, *flush_timer;
    char owner[40];        /* this instance, in claims */
    unsigned short rng[3]; /* backoff jitter (erand48), seeded per instance */
    bool stopped;
    struct dispatch_stats st;
};

/* Decide what to do with c at now (may set c->extra-dependent fields on a second pass). */
void dispatch_decide(struct dispatch *d, struct cand *c, int64_t now);
/* The extra lookups c needs, keys into rec and optout (sz bytes each, "" for none): the record
 * a fallback or restoration depends on (GET: the first channel's message, the outage message
 * that told them) and the opt-out of the phone it goes to (EXISTS). */
void dispatch_extra_keys(struct store_sync *ss, const struct cand *c, char *rec, char *optout,
                         size_t sz);
/* The outage message whose record r is went out (or may have): anything else means the
 * subscriber was never told. */
bool dispatch_told_ok(const struct redisReply *r);
/* Apply c's extra replies (second decision pass). */
void dispatch_decide_extra(struct dispatch *d, struct cand *c);
/* A send finished: queue its outcome for writing. */
void dispatch_result(void *arg, const struct channel_result *r);
/* Write the queued outcomes (timer callback). */
void dispatch_flush(void *arg);
/* An outage message went out: its subscriber is among those told of outage (the one they are
 * down in, "" for none) and hears its updates (into batch b; nothing for other types). */
void dispatch_told(struct store_batch *b, const struct notif_msg *m, const char *outage);
/* Queue key of priority p into buf. */
void dispatch_qkey(struct store_sync *ss, int prio, char *buf, size_t bufsz);
/* The dead-letter entry of m (JSON, caller frees). */
char *dispatch_dead_json(const struct notif_msg *m, const char *channel, const char *reason,
                         int attempts);
/* Dead-letter entry for id into batch b (the record itself is written by the caller). */
void dispatch_dead_letter(struct store_batch *b, const struct notif_msg *m, const char *channel,
                          const char *reason, int attempts);

#endif
