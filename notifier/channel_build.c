#include "notifier/channel_build.h"

#include <stdlib.h>

#include "config/notifier_config.h"
#include "core/xmalloc.h"
#include "notifier/channel_http.h"
#include "notifier/channel_infobip.h"
#include "notifier/channel_kannel.h"
#include "notifier/channel_telegram.h"
#include "notifier/channel_twilio.h"
#include "notifier/channel_whatsapp.h"

/* A generic HTTP channel: the headers become "Name: value" templates. */
static struct channel *make_http(const struct channel_config *cc, struct http_client *http,
                                 char *err, size_t errsz)
{
    char **hdr = xcalloc(cc->n_headers + 1, sizeof *hdr);
    for (size_t i = 0; i < cc->n_headers; i++)
        hdr[i] = xasprintf("%s: %s", cc->headers[i].name, cc->headers[i].value);
    struct channel_http_config hc = {.name = cc->name,
                                     .method = cc->method,
                                     .url = cc->url,
                                     .headers = (const char *const *)hdr,
                                     .body = cc->body,
                                     .encoding = (enum channel_http_body)cc->body_encoding,
                                     .from = cc->from,
                                     .success_contains = cc->success_contains,
                                     .id_field = cc->id_field,
                                     .timeout_ms = cc->timeout_ms};
    struct channel *ch = channel_http_new(http, &hc, err, errsz);
    for (size_t i = 0; i < cc->n_headers; i++)
        free(hdr[i]);
    free(hdr);
    return ch;
}

/* The messaging APIs: Infobip, WhatsApp Cloud, Telegram Bot (the caller picked the kind). */
static struct channel *make_api(const struct channel_config *cc, struct http_client *http,
                                char *err, size_t errsz)
{
    if (cc->kind == CHANNEL_KIND_INFOBIP) {
        struct channel_infobip_config ic = {.name = cc->name,
                                            .base_url = cc->url,
                                            .api_key = cc->password,
                                            .from = cc->from,
                                            .dlr_url = cc->dlr_url,
                                            .timeout_ms = cc->timeout_ms};
        return channel_infobip_new(http, &ic, err, errsz);
    }
    if (cc->kind == CHANNEL_KIND_WHATSAPP) {
        struct channel_whatsapp_config wc = {.name = cc->name,
                                             .base_url = cc->url,
                                             .api_version = cc->api_version,
                                             .phone_number_id = cc->phone_number_id,
                                             .token = cc->password,
                                             .template_name = cc->template_name,
                                             .language = cc->template_language,
                                             .timeout_ms = cc->timeout_ms};
        return channel_whatsapp_new(http, &wc, err, errsz);
    }
    struct channel_telegram_config tc = {
        .name = cc->name, .base_url = cc->url, .token = cc->password, .timeout_ms = cc->timeout_ms};
    return channel_telegram_new(http, &tc, err, errsz);
}

struct channel *channel_build(const struct channel_config *cc, struct http_client *http, char *err,
                              size_t errsz)
{
    if (cc->kind == CHANNEL_KIND_HTTP)
        return make_http(cc, http, err, errsz);
    if (cc->kind == CHANNEL_KIND_INFOBIP || cc->kind == CHANNEL_KIND_WHATSAPP ||
        cc->kind == CHANNEL_KIND_TELEGRAM)
        return make_api(cc, http, err, errsz);
    if (cc->kind == CHANNEL_KIND_TWILIO) {
        struct channel_twilio_config tc = {.name = cc->name,
                                           .base_url = cc->url,
                                           .account_sid = cc->username,
                                           .auth_token = cc->password,
                                           .from = cc->from,
                                           .messaging_service_sid = cc->service,
                                           .status_callback = cc->dlr_url,
                                           .timeout_ms = cc->timeout_ms};
        return channel_twilio_new(http, &tc, err, errsz);
    }
    struct channel_kannel_config kc = {.name = cc->name,
                                       .sendsms_url = cc->url,
                                       .username = cc->username,
                                       .password = cc->password,
                                       .from = cc->from,
                                       .smsc = cc->smsc,
                                       .dlr_url = cc->dlr_url,
                                       .timeout_ms = cc->timeout_ms};
    return channel_kannel_new(http, &kc, err, errsz);
}
