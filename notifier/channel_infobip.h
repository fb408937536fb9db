/* channel_infobip: SMS through Infobip's SMS API v3: POST {base}/sms/3/messages with a JSON
 * body of one message to one destination, "Authorization: App <api key>". farol's message id
 * goes as the destination's messageId, so Infobip answers and reports with farol's own id. A
 * 2xx naming the message is sent unless its status group is REJECTED or UNDELIVERABLE (failed);
 * Infobip's JSON errors ({"requestError": {"serviceException": {"messageId", "text"}}}) are
 * failures, except 429 and 5xx (retried, honouring Retry-After). With a dlr_url, delivery
 * reports are asked for there; channel_infobip_report() reads one. */
#ifndef FAROL_CHANNEL_INFOBIP_H
#define FAROL_CHANNEL_INFOBIP_H

#include <stddef.h>
#include <stdint.h>

#include "notifier/channel.h"

struct http_client;

struct channel_infobip_config {
    const char *name;
    const char *base_url; /* the account's base URL, e.g. https://xyz12.api.infobip.com */
    const char *api_key;  /* a secret: never logged */
    const char *from;     /* sender id, or NULL for the account's default */
    const char *dlr_url;  /* farol's receiver for delivery reports, or NULL for none */
    int64_t timeout_ms;   /* 0: 10 s */
};

/* What a delivery report says (Infobip's status group). */
enum infobip_dlr {
    INFOBIP_DLR_PENDING,       /* still on its way */
    INFOBIP_DLR_DELIVERED,     /* on the handset */
    INFOBIP_DLR_UNDELIVERABLE, /* the operator could not deliver it */
    INFOBIP_DLR_EXPIRED,       /* no final answer within the validity period */
    INFOBIP_DLR_REJECTED       /* refused by Infobip or the operator */
};

/* One result of a delivery report. */
struct infobip_report {
    char *message_id;     /* the messageId the channel set: farol's message id */
    enum infobip_dlr dlr; /* from status.groupName */
    char *detail;         /* status.name and the error's name when given, or NULL */
};

/* An Infobip channel over http (borrowed; must outlive the channel); cfg is copied. NULL with
 * a message in err when the base URL or the API key is missing. */
struct channel *channel_infobip_new(struct http_client *http,
                                    const struct channel_infobip_config *cfg, char *err,
                                    size_t errsz);
/* Read a delivery-report POST body (body_len bytes of JSON with "results"): *out gets *n
 * reports (free with channel_infobip_report_free); results with an unknown status are skipped.
 * Returns 0, or -EINVAL for a body that is not a delivery report. */
int channel_infobip_report(const char *body, size_t body_len, struct infobip_report **out,
                           size_t *n);
/* Free what channel_infobip_report gave (NULL is fine). */
void channel_infobip_report_free(struct infobip_report *r, size_t n);

#endif
