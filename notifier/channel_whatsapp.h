/* channel_whatsapp: WhatsApp through Meta's Cloud API, as template messages (the only kind a
 * business may start a conversation with): POST {base}/{api_version}/{phone_number_id}/messages
 * with "Authorization: Bearer <token>". Every message uses one approved template whose body is
 * a single parameter {{1}}: farol's rendered text goes there, with newlines, tabs and runs of
 * more than four spaces turned into one space (WhatsApp refuses them in parameters). The
 * template's language is the message's locale ("pt-BR" -> "pt_BR"), else the configured one.
 * A 2xx with messages[0].id (a "wamid") is sent. Graph errors ({"error": {"message", "type",
 * "code", "error_subcode", "fbtrace_id"}}) are failures, except rate limits (codes 4, 80007,
 * 130429, 131056), transient ones (1, 2, 131000, 131016, 133004) and 5xx: retried, honouring
 * Retry-After. channel_whatsapp_status() reads the status webhook. */
#ifndef FAROL_CHANNEL_WHATSAPP_H
#define FAROL_CHANNEL_WHATSAPP_H

#include <stddef.h>
#include <stdint.h>

#include "notifier/channel.h"

struct http_client;

struct channel_whatsapp_config {
    const char *name;
    const char *base_url;        /* NULL: https://graph.facebook.com */
    const char *api_version;     /* NULL: v21.0 */
    const char *phone_number_id; /* the sending number's id in the WhatsApp Business account */
    const char *token;           /* a secret: never logged */
    const char *template_name;   /* e.g. "farol_notice", body "{{1}}" */
    const char *language;        /* template language when a message has no locale; NULL: en */
    int64_t timeout_ms;          /* 0: 10 s */
};

/* A message's state in a status webhook. */
enum whatsapp_state {
    WHATSAPP_SENT,      /* left WhatsApp's servers */
    WHATSAPP_DELIVERED, /* on the recipient's device */
    WHATSAPP_READ,      /* opened */
    WHATSAPP_FAILED     /* not delivered; error_code and error say why */
};

/* One entry of entry[].changes[].value.statuses[]. */
struct whatsapp_update {
    char *id;  /* the wamid the send answered with */
    char *ref; /* biz_opaque_callback_data: farol's message id as sent, or NULL */
    enum whatsapp_state state;
    long long error_code; /* errors[0].code, 0 when none */
    char *error;          /* errors[0] title and details (digit runs masked), or NULL */
};

/* A WhatsApp channel over http (borrowed; must outlive the channel); cfg is copied. NULL with a
 * message in err when the number id, token or template name is missing. */
struct channel *channel_whatsapp_new(struct http_client *http,
                                     const struct channel_whatsapp_config *cfg, char *err,
                                     size_t errsz);
/* The template parameter WhatsApp accepts for text: caller frees. */
char *channel_whatsapp_param(const char *text);
/* Read a status webhook POST body (body_len bytes of JSON): *out gets *n updates (free with
 * channel_whatsapp_status_free); statuses of other kinds are skipped. Returns 0, or -EINVAL for
 * a body that is not a WhatsApp webhook. */
int channel_whatsapp_status(const char *body, size_t body_len, struct whatsapp_update **out,
                            size_t *n);
/* Free what channel_whatsapp_status gave (NULL is fine). */
void channel_whatsapp_status_free(struct whatsapp_update *u, size_t n);

#endif
