#include "notifier/channel_infobip.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

struct infobip {
    struct channel ch; /* first: the interface */
    struct http_client *http;
    char *url, *auth, *from, *dlr_url;
    int64_t timeout_ms;
};

/* Infobip's error body (the classic requestError shape, or the newer errorCode one) as
 * "code: text" for the operator, else the raw start of the answer. */
static void describe(const struct http_response *r, char *buf, size_t bufsz)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *se = json_object_get(json_object_get(j, "requestError"), "serviceException");
    const char *code = json_string_value(json_object_get(se, se ? "messageId" : "errorCode"));
    const char *text = json_string_value(json_object_get(se ? se : j, se ? "text" : "description"));
    if (text)
        snprintf(buf, bufsz, "HTTP %d: Infobip error %s: %s", r->status, code ? code : "?", text);
    else
        snprintf(buf, bufsz, "HTTP %d: %.200s", r->status, r->body);
    json_decref(j);
    channel_mask_digits(buf);
}

/* A 2xx naming the message: sent, unless Infobip already refused it. */
static void accepted(const struct http_response *r, json_t *msg, struct channel_result *res,
                     char *buf, size_t bufsz)
{
    json_t *st = json_object_get(msg, "status");
    const char *group = json_string_value(json_object_get(st, "groupName"));
    res->status = CHANNEL_SENT;
    res->provider_id = json_string_value(json_object_get(msg, "messageId"));
    if (!group || (strcmp(group, "REJECTED") && strcmp(group, "UNDELIVERABLE")))
        return;
    const char *name = json_string_value(json_object_get(st, "name"));
    const char *desc = json_string_value(json_object_get(st, "description"));
    snprintf(buf, bufsz, "HTTP %d: Infobip %s: %s (%s)", r->status, group, name ? name : "?",
             desc ? desc : "");
    channel_mask_digits(buf);
    res->status = CHANNEL_FAILED;
    res->error = buf;
}

/* Fills res; returns the parsed answer (res points into it), for the caller to release. */
static json_t *classify(const struct http_response *r, struct channel_result *res, char *buf,
                        size_t bufsz)
{
    *res = (struct channel_result){.status = CHANNEL_RETRY, .http_status = r->status};
    if (r->err) {
        snprintf(buf, bufsz, "no answer: %s", r->errmsg ? r->errmsg : "error");
        res->error = buf;
        return NULL;
    }
    json_t *j = NULL, *msg = NULL;
    if (r->status >= 200 && r->status < 300) {
        j = json_loadb(r->body, r->body_len, 0, NULL);
        msg = json_array_get(json_object_get(j, "messages"), 0);
    }
    if (json_string_value(json_object_get(msg, "messageId"))) {
        accepted(r, msg, res, buf, bufsz);
        return j;
    }
    describe(r, buf, bufsz); /* an error, or a 2xx we do not understand (retried) */
    res->error = buf;
    if (r->status >= 400 && r->status < 500 && r->status != 429)
        res->status = CHANNEL_FAILED;
    int64_t wait = r->retry_after ? http_retry_after_ms(r->retry_after, loop_wall_ms()) : 0;
    res->retry_after_ms = wait > 0 ? wait : 0;
    return j;
}

static void on_answer(void *arg, const struct http_response *r)
{
    char buf[320];
    struct channel_result res;
    json_t *j = classify(r, &res, buf, sizeof buf); /* res points into j */
    channel_attempt_done(arg, "infobip", "sms", &res);
    json_decref(j);
}

/* The v3 request: one message, one destination; NULL for text that is not UTF-8. */
static char *build_body(const struct infobip *k, const struct channel_msg *m)
{
    json_t *to = json_string(m->to[0] == '+' ? m->to + 1 : m->to);
    json_t *text = json_string(m->text), *id = m->id ? json_string(m->id) : NULL;
    if (!to || !text || (m->id && !id)) {
        json_decref(to), json_decref(text), json_decref(id);
        return NULL;
    }
    json_t *dest = json_pack("{s:o}", "to", to);
    if (id)
        json_object_set_new(dest, "messageId", id);
    json_t *msg = json_pack("{s:[o], s:{s:o}}", "destinations", dest, "content", "text", text);
    if (k->from)
        json_object_set_new(msg, "sender", json_string(k->from));
    if (k->dlr_url)
        json_object_set_new(msg, "webhooks", json_pack("{s:{s:s}}", "delivery", "url", k->dlr_url));
    json_t *root = json_pack("{s:[o]}", "messages", msg);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static int infobip_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb,
                        void *arg)
{
    struct infobip *k = (struct infobip *)ch;
    if (!m->to || !*m->to || !m->text || !*m->text)
        return -EINVAL;
    char *body = build_body(k, m);
    if (!body)
        return -EINVAL;
    const char *headers[] = {k->auth, "Content-Type: application/json", "Accept: application/json",
                             NULL};
    struct http_request rq = {.method = "POST",
                              .url = k->url,
                              .headers = headers,
                              .body = body,
                              .body_len = strlen(body),
                              .timeout_ms = k->timeout_ms};
    int rc = channel_attempt_send(k->http, &rq, m->to, cb, arg, on_answer);
    free(body);
    return rc;
}

static void infobip_free(struct channel *ch)
{
    struct infobip *k = (struct infobip *)ch;
    free(k->ch.name), free(k->url), free(k->auth), free(k->from), free(k->dlr_url);
    free(k);
}

static const struct channel_ops infobip_ops = {"infobip", infobip_send, infobip_free};

struct channel *channel_infobip_new(struct http_client *http,
                                    const struct channel_infobip_config *c, char *err, size_t errsz)
{
    if (!c->base_url || !*c->base_url || !c->api_key || !*c->api_key) {
        snprintf(err, errsz, "channel %s: the base URL and the API key are required",
                 c->name ? c->name : "?");
        return NULL;
    }
    struct infobip *k = xcalloc(1, sizeof *k);
    k->ch = (struct channel){.ops = &infobip_ops, .name = xstrdup(c->name ? c->name : "infobip")};
    k->http = http;
    size_t n = strlen(c->base_url);
    k->url =
        xasprintf("%.*s/sms/3/messages", (int)(c->base_url[n - 1] == '/' ? n - 1 : n), c->base_url);
    k->auth = xasprintf("Authorization: App %s", c->api_key);
    k->from = channel_opt_dup(c->from);
    k->dlr_url = channel_opt_dup(c->dlr_url);
    k->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    return &k->ch;
}

static int dlr_of(const char *group, enum infobip_dlr *d)
{
    static const char *const groups[] = {"PENDING", "DELIVERED", "UNDELIVERABLE", "EXPIRED",
                                         "REJECTED"};
    for (size_t i = 0; group && i < sizeof groups / sizeof groups[0]; i++)
        if (!strcmp(group, groups[i])) {
            *d = (enum infobip_dlr)i;
            return 0;
        }
    return -EINVAL;
}

/* "STATUS_NAME" or "STATUS_NAME (ERROR_NAME)"; Infobip sends error id 0 (NO_ERROR) when none. */
static char *detail_of(json_t *status, json_t *error)
{
    const char *st = json_string_value(json_object_get(status, "name"));
    const char *er = json_string_value(json_object_get(error, "name"));
    if (json_integer_value(json_object_get(error, "id")) == 0)
        er = NULL;
    if (!st && !er)
        return NULL;
    return xasprintf("%s%s%s%s", st ? st : "?", er ? " (" : "", er ? er : "", er ? ")" : "");
}

int channel_infobip_report(const char *body, size_t body_len, struct infobip_report **out,
                           size_t *n)
{
    json_t *j = json_loadb(body, body_len, 0, NULL);
    json_t *results = json_object_get(j, "results"), *it;
    if (!json_is_array(results)) {
        json_decref(j);
        return -EINVAL;
    }
    struct infobip_report *r = xcalloc(json_array_size(results) + 1, sizeof *r);
    size_t k = 0, i;
    json_array_foreach(results, i, it)
    {
        json_t *st = json_object_get(it, "status");
        const char *id = json_string_value(json_object_get(it, "messageId"));
        if (!id || dlr_of(json_string_value(json_object_get(st, "groupName")), &r[k].dlr) < 0)
            continue;
        r[k].message_id = xstrdup(id);
        r[k].detail = detail_of(st, json_object_get(it, "error"));
        k++;
    }
    json_decref(j);
    *out = r;
    *n = k;
    return 0;
}

void channel_infobip_report_free(struct infobip_report *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        free(r[i].message_id), free(r[i].detail);
    free(r);
}
