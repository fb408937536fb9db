/* channel_twilio: SMS (or WhatsApp through Twilio, with "whatsapp:" addresses) through Twilio's
 * Messages API: POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To,
 * From or MessagingServiceSid, Body and StatusCallback, HTTP Basic auth with the account SID and
 * auth token. 201 with the message's "sid" is sent; Twilio's JSON errors ({"code", "message",
 * "status"}) are failures, except 429 and 5xx (retried, honouring Retry-After). */
#ifndef FAROL_CHANNEL_TWILIO_H
#define FAROL_CHANNEL_TWILIO_H

#include <stddef.h>
#include <stdint.h>

#include "notifier/channel.h"

struct http_client;

struct channel_twilio_config {
    const char *name;
    const char *base_url;    /* NULL: https://api.twilio.com */
    const char *account_sid; /* "AC..." */
    const char *auth_token;  /* a secret: never logged */
    const char *from;        /* E.164 sender, or NULL with messaging_service_sid */
    const char *messaging_service_sid;
    const char *status_callback; /* farol's receiver for status callbacks, or NULL */
    int64_t timeout_ms;          /* 0: 10 s */
};

/* The StatusCallback farol gives Twilio for message id: callback plus farol_id=<id>, escaped.
 * The receiver rebuilds it to check Twilio's signature. Caller frees. */
char *channel_twilio_callback_url(const char *callback, const char *id);

/* A Twilio channel over http (borrowed); cfg is copied. NULL with a message in err when the
 * account, token or sender is missing. */
struct channel *channel_twilio_new(struct http_client *http,
                                   const struct channel_twilio_config *cfg, char *err,
                                   size_t errsz);

#endif
