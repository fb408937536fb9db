#include "notifier/channel_twilio.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

struct twilio {
    struct channel ch; /* first: the interface */
    struct http_client *http;
    char *url, *userpwd, *from, *service, *callback;
    int64_t timeout_ms;
};

struct attempt {
    channel_done_fn cb;
    void *arg;
};

static void add(char **body, const char *key, const char *value)
{
    char *v = http_escape(value);
    char *n = xasprintf("%s%s%s=%s", *body, **body ? "&" : "", key, v);
    free(v);
    free(*body);
    *body = n;
}

/* Twilio's error body: "code message" for the operator, or the raw start of the answer. */
static void describe(const struct http_response *r, char *buf, size_t bufsz)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (msg)
        snprintf(buf, bufsz, "HTTP %d: Twilio error %lld: %s", r->status,
                 (long long)json_integer_value(json_object_get(j, "code")), msg);
    else
        snprintf(buf, bufsz, "HTTP %d: %.200s", r->status, r->body);
    channel_mask_digits(buf); /* "The 'To' number +1500... is not valid" */
    json_decref(j);
}

static void on_answer(void *arg, const struct http_response *r)
{
    struct attempt *a = arg;
    char buf[320];
    struct channel_result res = {.status = CHANNEL_RETRY, .http_status = r->status};
    json_t *j = NULL;
    if (r->err) {
        snprintf(buf, sizeof buf, "no answer: %s", r->errmsg ? r->errmsg : "error");
        res.error = buf;
    } else if (r->status >= 200 && r->status < 300 &&
               (j = json_loadb(r->body, r->body_len, 0, NULL)) &&
               json_string_value(json_object_get(j, "sid"))) {
        res.status = CHANNEL_SENT;
        res.provider_id = json_string_value(json_object_get(j, "sid"));
    } else {
        describe(r, buf, sizeof buf);
        res.error = buf;
        if (r->status >= 400 && r->status < 500 && r->status != 429)
            res.status = CHANNEL_FAILED;
        if (r->retry_after)
            res.retry_after_ms = http_retry_after_ms(r->retry_after, loop_wall_ms());
    }
    if (res.error)
        log_warn("twilio", "message: %s (%s)", channel_status_name(res.status), res.error);
    a->cb(a->arg, &res);
    json_decref(j);
    free(a);
}

char *channel_twilio_callback_url(const char *callback, const char *id)
{
    char *esc = http_escape(id);
    char *url = xasprintf("%s%sfarol_id=%s", callback, strchr(callback, '?') ? "&" : "?", esc);
    free(esc);
    return url;
}

static int twilio_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb,
                       void *arg)
{
    struct twilio *t = (struct twilio *)ch;
    if (!m->to || !*m->to || !m->text || !*m->text)
        return -EINVAL;
    char *body = xstrdup("");
    add(&body, "To", m->to);
    add(&body, t->service ? "MessagingServiceSid" : "From", t->service ? t->service : t->from);
    add(&body, "Body", m->text);
    if (t->callback) { /* with farol's id: its callbacks settle the message, mapped or not */
        char *cb_url = channel_twilio_callback_url(t->callback, m->id ? m->id : "");
        add(&body, "StatusCallback", cb_url);
        free(cb_url);
    }
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json", NULL};
    struct http_request rq = {.method = "POST",
                              .url = t->url,
                              .headers = headers,
                              .body = body,
                              .body_len = strlen(body),
                              .timeout_ms = t->timeout_ms,
                              .userpwd = t->userpwd};
    struct attempt *a = xcalloc(1, sizeof *a);
    *a = (struct attempt){cb, arg};
    int rc = http_client_send(t->http, &rq, on_answer, a);
    if (rc < 0)
        free(a);
    free(body);
    return rc;
}

static void twilio_free(struct channel *ch)
{
    struct twilio *t = (struct twilio *)ch;
    free(t->ch.name), free(t->url), free(t->userpwd), free(t->from), free(t->service);
    free(t->callback);
    free(t);
}

static const struct channel_ops twilio_ops = {"twilio", twilio_send, twilio_free};

struct channel *channel_twilio_new(struct http_client *http, const struct channel_twilio_config *c,
                                   char *err, size_t errsz)
{
    if (!c->account_sid || !c->auth_token || (!c->from && !c->messaging_service_sid)) {
        snprintf(err, errsz, "channel %s: account_sid, auth_token and a sender are required",
                 c->name ? c->name : "?");
        return NULL;
    }
    struct twilio *t = xcalloc(1, sizeof *t);
    t->ch = (struct channel){.ops = &twilio_ops, .name = xstrdup(c->name ? c->name : "twilio")};
    t->http = http;
    t->url = xasprintf("%s/2010-04-01/Accounts/%s/Messages.json",
                       c->base_url ? c->base_url : "https://api.twilio.com", c->account_sid);
    t->userpwd = xasprintf("%s:%s", c->account_sid, c->auth_token);
    t->from = c->from ? xstrdup(c->from) : NULL;
    t->service = c->messaging_service_sid ? xstrdup(c->messaging_service_sid) : NULL;
    t->callback = c->status_callback ? xstrdup(c->status_callback) : NULL;
    t->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    return &t->ch;
}
