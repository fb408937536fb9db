/* inbound_api: delivery-status receivers for the cloud channels, on the embedded HTTP server
 * (core/httpd.h), next to inbound.c's Kannel routes:
 *   POST {prefix}/infobip/dlr        Infobip delivery reports ({"results": [...]}): the
 *                                    messageId is farol's own message id;
 *   GET  {prefix}/whatsapp/webhook   Meta's subscription check (hub.mode, hub.verify_token,
 *                                    hub.challenge);
 *   POST {prefix}/whatsapp/webhook   WhatsApp Cloud API status webhooks, signed with the app
 *                                    secret (X-Hub-Signature-256);
 *   POST {prefix}/twilio/status      Twilio status callbacks, signed with the auth token
 *                                    (X-Twilio-Signature over the public callback URL).
 * Each report updates the message's record (notif_store): wamids and Twilio SIDs are mapped
 * back through notif_store_by_provider(channel, id); a report faster than the send's own
 * outcome (no mapping yet) is parked for it (notif_store_park). A state never goes backwards: a
 * late sent/accepted keeps delivered, and read (WhatsApp, Twilio) stays above delivered. Answers:
 * 200 (unknown ids included: providers would retry them forever), 400 for a body that cannot be
 * read, 401 for a bad signature, 403 for a failed subscription check, 503 while Redis is
 * unreachable (the provider retries). Secrets never reach the logs; numbers are masked. The Redis
 * connection comes from the caller's db callbacks (notifier/inbound.h). */
#ifndef FAROL_INBOUND_API_H
#define FAROL_INBOUND_API_H

#include <stddef.h>

#include "notifier/inbound.h"

struct httpd;

/* A provider's routes exist only when its channel name is set. Strings are copied. */
struct inbound_api_config {
    const char *prefix; /* route prefix, e.g. "/hooks"; NULL or "": none */
    /* Infobip: the channel's name (reports carry farol's own id, so it is not looked up). */
    const char *infobip_channel;
    /* WhatsApp Cloud API: the channel whose provider ids are the wamids. */
    const char *whatsapp_channel;
    const char *whatsapp_verify_token; /* secret: NULL refuses every subscription check */
    const char *whatsapp_app_secret;   /* secret: NULL accepts unsigned webhooks (warned) */
    /* Twilio: the channel whose provider ids are the message SIDs. */
    const char *twilio_channel;
    const char *twilio_auth_token; /* secret: NULL accepts unsigned callbacks (warned) */
    const char *twilio_status_url; /* the public URL Twilio calls (the channel's
                                    * status_callback, exactly): required with the token */
};

struct inbound_api_stats {
    unsigned long reports;      /* status entries read from providers */
    unsigned long updates;      /* records written */
    unsigned long unknown;      /* entries naming no known message */
    unsigned long parked;       /* entries whose provider id is not mapped yet: kept for it */
    unsigned long stale;        /* entries older than the recorded state (kept) */
    unsigned long ignored;      /* states farol does not record (Twilio queued, sending...) */
    unsigned long bad;          /* requests answered 400 */
    unsigned long unauthorized; /* requests answered 401 or 403 */
    unsigned long errors;       /* requests answered 503 (Redis) */
};

struct inbound_api;

/* Route the configured providers on h; cfg and db are copied. Returns NULL with a message in
 * err (a route taken, Twilio's token without its status URL); h must then be freed unused. */
struct inbound_api *inbound_api_new(struct httpd *h, const struct inbound_api_config *cfg,
                                    const struct inbound_db *db, char *err, size_t errsz);
/* Free (NULL is fine); the routes must not be called afterwards (free the httpd first). */
void inbound_api_free(struct inbound_api *a);
/* Counters so far. */
void inbound_api_get_stats(const struct inbound_api *a, struct inbound_api_stats *out);

#endif
