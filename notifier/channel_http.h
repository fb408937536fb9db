/* channel_http: the many local SMS gateways ISPs use, described in configuration rather than
 * code: a method, a URL template, header templates and a body template, with the placeholders
 * {{to}}, {{text}}, {{id}} and {{from}} escaped for where they stand (percent-encoding in the
 * URL and in form bodies, JSON string escaping in JSON bodies, as is in headers and raw
 * bodies). A 2xx is success unless success_contains is set and missing from the answer (many
 * gateways say "ERROR" with a 200); the provider's message id can be read from a top-level JSON
 * field. 5xx, 429 and no answer are retried; other statuses fail. */
#ifndef FAROL_CHANNEL_HTTP_H
#define FAROL_CHANNEL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "notifier/channel.h"

struct http_client;

enum channel_http_body { CHANNEL_HTTP_RAW, CHANNEL_HTTP_FORM, CHANNEL_HTTP_JSON };

struct channel_http_config {
    const char *name;
    const char *method;              /* NULL: POST with a body, GET without */
    const char *url;                 /* template */
    const char *const *headers;      /* NULL-terminated "Name: value" templates, or NULL */
    const char *body;                /* template, or NULL for none */
    enum channel_http_body encoding; /* how placeholders are escaped in the body */
    const char *from;                /* {{from}}, may be NULL */
    const char *success_contains;    /* required in a 2xx answer, or NULL */
    const char *id_field;            /* top-level JSON field with the provider's id, or NULL */
    int64_t timeout_ms;              /* 0: 10 s */
};

/* A generic HTTP channel over http (borrowed); cfg and its strings are copied. NULL with a
 * message in err when the url is missing or a template names an unknown placeholder. */
struct channel *channel_http_new(struct http_client *http, const struct channel_http_config *cfg,
                                 char *err, size_t errsz);
/* Expand template t with the message's values, escaping them for enc (CHANNEL_HTTP_FORM also
 * serves URLs); caller frees. NULL with err when t names an unknown placeholder. */
char *channel_http_expand(const char *t, enum channel_http_body enc, const char *to,
                          const char *text, const char *id, const char *from, char *err,
                          size_t errsz);

#endif
