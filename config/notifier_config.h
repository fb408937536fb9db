/* notifier_config: the `notifier:` section of farol's configuration (docs/configuration.md):
 * the message templates and the channels messages go out on. Filled by config_load() as part
 * of struct config and freed with it. Channel secrets are never logged. */
#ifndef FAROL_NOTIFIER_CONFIG_H
#define FAROL_NOTIFIER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct schema_section;

/* Kinds of channel; each is a module in notifier/ (channel_kannel.c, ...). */
enum channel_kind { CHANNEL_KIND_KANNEL, CHANNEL_KIND_TWILIO, CHANNEL_KIND_HTTP };

/* How a generic HTTP channel escapes placeholders in its body. */
enum channel_body_encoding { CHANNEL_BODY_RAW, CHANNEL_BODY_FORM, CHANNEL_BODY_JSON };

/* One header of a generic HTTP channel (layout shared with the schema's string maps). */
struct channel_header {
    char *name;
    char *value;
};

struct channel_config {
    char *name;     /* unique; subscribers' channel preferences name a kind ("sms") */
    int kind;       /* enum channel_kind */
    char *url;      /* Kannel: its sendsms URL; Twilio: the API base (https://api.twilio.com) */
    char *username; /* Kannel: sendsms user; Twilio: the account SID */
    char *password; /* a secret: Kannel's password, Twilio's auth token */
    char *service;  /* Twilio: messaging service SID (instead of from), or NULL */
    char *from;     /* sender id, or NULL */
    char *smsc;     /* Kannel: route to this smsc-id, or NULL */
    char *dlr_url;  /* where the provider calls back with delivery reports (Twilio: status
                       callbacks), or NULL */
    int64_t timeout_ms;
    double rate;      /* messages per second at most */
    int64_t burst;    /* messages at once after a quiet spell */
    double cost;      /* per message, for the daily spend cap */
    double daily_cap; /* spend per UTC day; 0 = none */
    /* kind http: a gateway described by templates (notifier/channel_http.h) */
    char *method;                   /* NULL: POST with a body, GET without */
    char *body;                     /* body template, or NULL */
    int body_encoding;              /* enum channel_body_encoding */
    struct channel_header *headers; /* value templates */
    size_t n_headers;
    char *success_contains; /* required in a 2xx answer, or NULL */
    char *id_field;         /* JSON field with the provider's id, or NULL */
};

struct notifier_config {
    char *templates;      /* template file (notifier/templates/default.yaml's format), or NULL */
    char *default_locale; /* when a subscriber's locale has no template */
    struct channel_config *channels;
    size_t n_channels;
};

/* The schema of the section, for config.c's root table. */
extern const struct schema_section notifier_config_section;

#endif
