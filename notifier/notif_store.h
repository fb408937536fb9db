/* notif_store: the notifier's exactly-once bookkeeping in Redis (docs/redis.md). A message is
 * one (subscriber, ref, message type): ref is the outage, window or billing cycle. Before a
 * send, its key is claimed with SET NX (so two notifier instances, a restart or a merged
 * outage repeating a subscriber never send it twice); after, the key holds the outcome. A
 * claim left at "sending" by a crash is never resent (at most once beats twice). Delivery
 * reports find their message through a provider-id key.
 * All calls are synchronous on a caller-owned store_sync; -EIO means the connection failed (it
 * is then unusable: the caller reconnects) and nothing may be sent. */
#ifndef FAROL_NOTIF_STORE_H
#define FAROL_NOTIF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/store.h"

/* The message key's suffix "{subscriber}:{ref}:{type}" into buf. -EINVAL when a part is empty
 * or holds a ':' (it would collide with another message's key), or buf is too small. */
int notif_store_id(char *buf, size_t bufsz, const char *subscriber, const char *ref,
                   const char *type);
/* Claim message id for channel before sending. Returns 1 (claimed: send it), 0 (already claimed
 * by a send in flight or done: do not send) or -EIO. ttl_s: how long the record lives. */
int notif_store_claim(struct store_sync *ss, const char *id, const char *channel, int64_t ttl_s,
                      char *err, size_t errsz);
/* Record the outcome of the send ("sent", "queued", "failed", "dead", "delivered", ...) with
 * the provider's message id and error when known (NULL otherwise), keeping the key's TTL; with
 * a provider id, also map it back to id for delivery reports (7 days). Returns 0 or -EIO. */
int notif_store_outcome(struct store_sync *ss, const char *id, const char *status,
                        const char *channel, const char *provider_id, const char *error, char *err,
                        size_t errsz);
/* Give a claim back (the send was refused before reaching the provider and will be retried):
 * deletes the key only while it still says "sending". Returns 0 or -EIO. */
int notif_store_release(struct store_sync *ss, const char *id, char *err, size_t errsz);

struct notif_record {
    char *status, *channel, *provider_id, *error; /* NULL when absent; caller frees */
    char *owner; /* the notifier instance that claimed it (claims in flight only) */
    int64_t ts_ms;
};

/* Read message id's record. Returns 0, -ENOENT or -EIO. Free with notif_record_deinit. */
int notif_store_get(struct store_sync *ss, const char *id, struct notif_record *out, char *err,
                    size_t errsz);
/* The message id a provider's message id belongs to (caller frees *id). 0, -ENOENT or -EIO. */
int notif_store_by_provider(struct store_sync *ss, const char *channel, const char *provider_id,
                            char **id, char *err, size_t errsz);
/* How long a parked report waits for its mapping. */
#define NOTIF_STORE_PARK_S 3600
/* A delivery report naming a provider id that has no mapping yet (the send's outcome is still
 * on its way to Redis, maybe from another instance). Returns 1 with *id (caller frees) when the
 * mapping exists by now: apply the report as usual; 0 when the record it should become was
 * parked (notif:early:, NOTIF_STORE_PARK_S, the higher-ranked of two kept) for the settle that
 * writes the mapping to apply; -EIO. */
int notif_store_park(struct store_sync *ss, const char *channel, const char *provider_id,
                     const char *status, const char *error, char **id, char *err, size_t errsz);
/* Free what a record holds. */
void notif_record_deinit(struct notif_record *r);
/* Parse a record's stored JSON (a GET's reply). 0, or -EINVAL (out is then empty). */
int notif_store_parse(const char *json, size_t len, struct notif_record *out);
/* How far a status got, for delivery reports: a report ranked below the record's is stale.
 * 0 dead, opted-out or none; 1 sending, sent, queued, accepted, buffered; 2 delivered,
 * failed; 3 read. */
int notif_store_rank(const char *status);

/* The same operations queued on a batch (core/store.h), one reply each, for the dispatcher:
 * claim (reply OK = claimed, nil = taken), with the claiming instance's owner id; */
void notif_store_claim_add(struct store_batch *b, const char *id, const char *channel,
                           const char *owner, int64_t ttl_s);
/* take over a claim a dead instance left at "sending" if it still reads old (reply 1 = taken); */
void notif_store_takeover_add(struct store_batch *b, const char *id, const char *old,
                              const char *channel, const char *owner);
/* record the outcome unless a delivery report got there first (reply 1 = written); with a
 * provider id, map it back and apply a report parked for it (notif_store_park); */
void notif_store_settle_add(struct store_batch *b, const char *id, const char *status,
                            const char *channel, const char *provider_id, const char *error);
/* give owner's claim back while it is still "sending" and still owner's (reply: keys
 * deleted); */
void notif_store_release_add(struct store_batch *b, const char *id, const char *owner);
/* the record of a message that will never be sent (status "dead" or "opted-out", with its
 * reason), written only when there is none, or when it is still exactly old (a dead
 * instance's claim, as read) (reply 1; 0: another instance claimed or sent it, and nothing
 * was changed); then the id leaves queue (a full key) and, with dead_letter (JSON), that goes
 * to farol:notif:dead, trimmed to dead_keep + 1 entries; */
void notif_store_final_add(struct store_batch *b, const char *id, const char *old,
                           const char *status, const char *channel, const char *reason,
                           int64_t ttl_s, const char *queue, const char *dead_letter,
                           long dead_keep);
/* reserve up to wanted sends of channel costing cost each within the UTC day's cap (the day of
 * now_ms, farol:notif:spend:{channel}:{YYYY-MM-DD}; reply: how many were granted, 0 when the
 * day's spend is used up); */
void notif_store_spend_reserve_add(struct store_batch *b, const char *channel, int64_t now_ms,
                                   double cost, double cap, unsigned wanted);
/* give back amount of a reservation (reserved on the day of now_ms) that was not used. */
void notif_store_spend_return_add(struct store_batch *b, const char *channel, int64_t now_ms,
                                  double amount);

#endif
