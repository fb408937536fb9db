/* channel: one way of reaching a subscriber (an SMS gateway, a messaging API, a webhook). Each
 * kind is a module (channel_kannel.c, ...) behind this interface; the notifier's policies
 * (idempotency, rate limits, retries, priorities) sit above it and never see a provider's
 * format. A channel's send is asynchronous on the loop and reports exactly one result.
 *
 * struct channel is owned by whoever made it with a kind's constructor and freed with
 * channel_free(); sends still in flight are reported as CHANNEL_RETRY (-ECANCELED). */
#ifndef FAROL_CHANNEL_H
#define FAROL_CHANNEL_H

#include <stdint.h>

/* What became of one attempt. */
enum channel_status {
    CHANNEL_SENT,   /* the provider accepted it (delivery receipts may follow) */
    CHANNEL_QUEUED, /* accepted, held by the provider for later delivery */
    CHANNEL_RETRY,  /* transient: timeout, connection, 5xx, 429, unparsable answer */
    CHANNEL_FAILED  /* permanent: refused (bad number, auth, 4xx): retrying cannot help */
};

struct channel_msg {
    const char *id;   /* farol's message id: echoed in delivery-report callbacks */
    const char *to;   /* E.164 number or chat id */
    const char *text; /* UTF-8 */
    /* Optional (NULL: unknown); most kinds ignore them. WhatsApp picks its template's
     * language from locale ("pt-BR"). */
    const char *locale; /* the subscriber's locale, BCP 47 */
    const char *type;   /* farol's message type ("outage-opened", ...) */
};

struct channel_result {
    enum channel_status status;
    int http_status;         /* 0 when no answer */
    const char *provider_id; /* the provider's message id, or NULL */
    int64_t retry_after_ms;  /* from Retry-After, 0 when none */
    const char *error;       /* human-readable, secrets and numbers masked; NULL on success */
};

/* Called once per send, from the loop, never inside channel_send; r is valid during the call. */
typedef void (*channel_done_fn)(void *arg, const struct channel_result *r);

struct channel;

struct channel_ops {
    const char *kind;
    int (*send)(struct channel *ch, const struct channel_msg *m, channel_done_fn cb, void *arg);
    void (*free)(struct channel *ch);
};

/* The part every kind starts with. */
struct channel {
    const struct channel_ops *ops;
    char *name; /* from the configuration */
};

/* Send m (copied as needed). Returns 0 (cb will be called) or a negative errno (-EINVAL for a
 * message the channel cannot carry, with cb never called). */
int channel_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb, void *arg);
/* Free a channel of any kind (NULL is fine). */
void channel_free(struct channel *ch);
/* Name of a status: "sent", "queued", "retry", "failed". */
const char *channel_status_name(enum channel_status s);
/* Mask, in place, every run of 7 or more digits in s (numbers a provider's text echoes),
 * keeping the run's first and last two: errors and logs must not carry phone numbers. */
void channel_mask_digits(char *s);

/* A copy of an optional setting: NULL when s is NULL or empty. */
char *channel_opt_dup(const char *s);

/* ---- for kinds: one HTTP request per message to a phone number ---- */
struct http_client;
struct http_request;
struct http_response;

/* A send in flight: the caller's callback and the number, masked for log lines. */
struct channel_attempt {
    channel_done_fn cb;
    void *arg;
    char *to_masked;
};

/* Send rq (a message to number `to`); answer(attempt, response) follows from the loop and must
 * end with channel_attempt_done. Returns 0, or http_client_send's error (cb never called). */
int channel_attempt_send(struct http_client *http, const struct http_request *rq, const char *to,
                         channel_done_fn cb, void *arg,
                         void (*answer)(void *attempt, const struct http_response *r));
/* Report r to the caller, logging a failure as "SUBSYS: WHAT to NUMBER: status (error)" with
 * the number masked, and free a. */
void channel_attempt_done(struct channel_attempt *a, const char *subsys, const char *what,
                          const struct channel_result *r);

#endif
