/* dispatch: sends what notif_plan queued, when it is due, in priority order (outages and
 * restorations, then maintenance, then usage), within each channel's rate and daily spend, and
 * exactly once per message id:
 *   - a message is claimed in Redis (SET NX, owner = this instance) before its send and the
 *     outcome is written over the claim afterwards; Redis unreachable means nothing is sent;
 *   - a claim a dead instance left at "sending" waits `inflight_grace` for the gateway's delivery
 *     report (Kannel retries those); with none, the send never reached the gateway and is taken
 *     over and sent;
 *   - transient failures (timeouts, 5xx, 429) pause the channel with exponential backoff and
 *     jitter (at least Retry-After) and keep the message queued at its place; while a channel
 *     recovers one message probes it at a time, and only failures of a healthy channel count as
 *     the message's attempts; permanent failures, too many attempts or a message older than
 *     `max_age` go to the dead-letter list with the reason;
 *   - a channel with a fallback queues, with each send, a second message on the fallback
 *     channel due fallback_after later; it goes only if the first has no delivery report by
 *     then (the id's ref gets "#fb", so it is claimed and recorded on its own);
 *   - opted-out subscribers (their record or an inbound STOP) get nothing, recorded as such;
 *     maintenance and usage messages (and outage messages when configured) wait out quiet hours
 *     in the subscriber's timezone by moving their due time in Redis.
 * struct dispatch is opaque and borrows everything in its config (which must outlive it). */
#ifndef FAROL_DISPATCH_H
#define FAROL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct channel;
struct store_link;
struct template_file;
struct notif_policy;

struct dispatch_channel {
    struct channel *ch;
    const char *cls; /* what subscribers' preferences call it: "sms", "whatsapp", "telegram" */
    double rate;     /* messages per second */
    int64_t burst;
    double cost, daily_cap;
    int fallback; /* index of the channel to try when this one has not delivered
                     within fallback_after_ms (WhatsApp to SMS), -1 for none */
    int64_t fallback_after_ms;
};

/* Told of every outcome the dispatcher writes (after it is in Redis): status is "sent",
 * "queued", "dead" or "opted-out"; channel, provider_id and error may be NULL. */
typedef void (*dispatch_outcome_fn)(void *arg, const char *id, const char *status,
                                    const char *channel, const char *provider_id, const char *error,
                                    int attempts);

struct dispatch_config {
    const struct notif_policy *policy;
    const struct template_file *tf;
    struct store_link *db;
    const struct dispatch_channel *channels;
    size_t n_channels;
    size_t max_inflight;         /* sends at once over all channels; 0: 256 */
    unsigned sms_max_segments;   /* SMS longer than this many parts are cut (0: no limit) */
    int sms_reject;              /* ... or dead-lettered instead */
    dispatch_outcome_fn outcome; /* may be NULL */
    void *outcome_arg;
};

struct dispatch_stats {
    unsigned long sent, queued, retries, dead, dropped, deferred, opted_out, takeovers, rounds;
};

/* Start dispatching (the first round runs from the loop). Never NULL. */
struct dispatch *dispatch_new(struct loop *loop, const struct dispatch_config *cfg);
/* New messages may be due: run a round soon. */
void dispatch_kick(struct dispatch *d);
/* Send nothing new; sends in flight still complete and are recorded. */
void dispatch_stop(struct dispatch *d);
/* Sends in flight or whose outcome is not written yet. */
size_t dispatch_inflight(const struct dispatch *d);
/* Counters so far. */
void dispatch_get_stats(const struct dispatch *d, struct dispatch_stats *out);
/* Free (NULL is fine); sends still in flight are abandoned with their claims left "sending",
 * which a later instance resolves as after a crash. */
void dispatch_free(struct dispatch *d);

#endif
