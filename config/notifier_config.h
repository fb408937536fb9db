/* notifier_config: the `notifier:` section of farol's configuration (docs/configuration.md):
 * the message templates and the channels messages go out on. Filled by config_load() as part
 * of struct config and freed with it. Channel secrets are never logged. */
#ifndef FAROL_NOTIFIER_CONFIG_H
#define FAROL_NOTIFIER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct schema_section;

/* Kinds of channel; each is a module in notifier/ (channel_kannel.c, ...). */
enum channel_kind {
    CHANNEL_KIND_KANNEL,
    CHANNEL_KIND_TWILIO,
    CHANNEL_KIND_HTTP,
    CHANNEL_KIND_INFOBIP,
    CHANNEL_KIND_WHATSAPP,
    CHANNEL_KIND_TELEGRAM
};

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
    char *url;      /* Kannel: its sendsms URL; Twilio, Infobip, WhatsApp, Telegram: the API
                       base (NULL for WhatsApp's and Telegram's public one) */
    char *username; /* Kannel: sendsms user; Twilio: the account SID */
    char *password; /* a secret: Kannel's password, Twilio's auth token, Infobip's API key,
                       WhatsApp's access token, Telegram's bot token */
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
    char *success_contains;    /* required in a 2xx answer, or NULL */
    char *id_field;            /* JSON field with the provider's id, or NULL */
    char *fallback;            /* another channel's name: tried when this one has not
                                  delivered within fallback_after (WhatsApp to SMS), or NULL */
    int64_t fallback_after_ms; /* default 5 min */
    /* kind whatsapp (notifier/channel_whatsapp.h) */
    char *phone_number_id;   /* the sending number's id */
    char *api_version;       /* Graph API version, "v21.0" by default */
    char *template_name;     /* approved template whose body is the one parameter {{1}} */
    char *template_language; /* when a message has no locale, or NULL for "en" */
    char *verify_token;      /* secret: answers Meta's webhook verification */
    char *app_secret;        /* secret: checks X-Hub-Signature-256 on status webhooks */
};

struct notifier_config {
    char *templates;      /* template file (notifier/templates/default.yaml's format), or NULL */
    char *default_locale; /* when a subscriber's locale has no template */
    struct channel_config *channels;
    size_t n_channels;
    /* the stage (docs/notifier.md) */
    char *listen;            /* host:port for delivery reports and inbound messages, or NULL */
    char *kannel_key;        /* secret: Kannel's calls (/kannel/dlr, /kannel/mo) carry key=it */
    char *noc_url;           /* NOC webhook: one summary per outage event, or NULL */
    int noc_format;          /* enum noc_format: json, slack, alertmanager */
    int64_t notify_delay_ms; /* outage messages wait this long (a blip tells no one) */
    int quiet_outages;       /* outage messages wait out quiet hours too */
    int64_t *notice_hours;   /* maintenance advance notices, hours before the start */
    size_t n_notice_hours;
    int64_t retry_min_ms, retry_max_ms; /* a channel's pause after a transient failure */
    int64_t max_age_ms;                 /* a message not sent this long after due is dead */
    int64_t max_attempts;               /* transient failures of one message before it is dead */
    int64_t inflight_grace_ms;          /* a dead instance's send waits this long for a receipt */
    int64_t batch;                      /* messages per dispatch round */
    int64_t max_inflight;               /* sends at once */
    int64_t sms_max_segments;           /* SMS parts a message may take (0: no limit) */
    int sms_overflow;                   /* 0 truncate, 1 reject (dead letter) */
};

/* The configuration name of a kind ("kannel", ...), "?" for an unknown one. */
const char *notifier_config_kind_name(int kind);

/* The schema of the section, for config.c's root table. */
extern const struct schema_section notifier_config_section;

#endif
