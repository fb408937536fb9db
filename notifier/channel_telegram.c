#include "notifier/channel_telegram.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

struct telegram {
    struct channel ch; /* first: the interface */
    struct http_client *http;
    char *url, *token;
    int64_t timeout_ms;
};

struct attempt {
    channel_done_fn cb;
    void *arg;
    char *token; /* to scrub from curl's messages; the channel may be gone by the answer */
};

/* Replaces every occurrence of secret in buf with "***" (never longer: a secret shorter than
 * that is blanked with as many stars, so the text cannot grow or match again). */
static void scrub(char *buf, const char *secret)
{
    size_t n = strlen(secret), k = n < 3 ? n : 3;
    for (char *p = buf; n && (p = strstr(p, secret)) != NULL; p += k)
        memmove(p + k, p + n, strlen(p + n) + 1), memcpy(p, "***", k);
}

/* Telegram's error as "error_code: description", else the raw start of the answer. */
static void describe(const struct http_response *r, json_t *j, char *buf, size_t bufsz)
{
    const char *d = json_string_value(json_object_get(j, "description"));
    if (d)
        snprintf(buf, bufsz, "HTTP %d: Telegram error %lld: %s", r->status,
                 json_integer_value(json_object_get(j, "error_code")), d);
    else
        snprintf(buf, bufsz, "HTTP %d: %.200s", r->status, r->body);
}

/* How long Telegram asks us to wait: parameters.retry_after (seconds), else Retry-After. */
static int64_t wait_ms(const struct http_response *r, json_t *j)
{
    json_t *s = json_object_get(json_object_get(j, "parameters"), "retry_after");
    if (json_is_integer(s) && json_integer_value(s) > 0) /* at most a day: a pause, not a ban */
        return json_integer_value(s) < 86400 ? json_integer_value(s) * 1000 : 86400000;
    int64_t w = r->retry_after ? http_retry_after_ms(r->retry_after, loop_wall_ms()) : 0;
    return w > 0 ? w : 0;
}

static void classify(const struct http_response *r, json_t *j, struct channel_result *res,
                     char *buf, size_t bufsz, char *id, size_t idsz)
{
    *res = (struct channel_result){.status = CHANNEL_RETRY, .http_status = r->status};
    json_t *mid = json_object_get(json_object_get(j, "result"), "message_id");
    if (r->status >= 200 && r->status < 300 && json_is_true(json_object_get(j, "ok")) &&
        json_is_integer(mid)) {
        snprintf(id, idsz, "%" JSON_INTEGER_FORMAT, json_integer_value(mid));
        res->status = CHANNEL_SENT;
        res->provider_id = id;
        return;
    }
    describe(r, j, buf, bufsz);
    res->error = buf;
    if (r->status >= 400 && r->status < 500 && r->status != 429)
        res->status = CHANNEL_FAILED;
    res->retry_after_ms = wait_ms(r, j);
}

static void on_answer(void *arg, const struct http_response *r)
{
    struct attempt *a = arg;
    char buf[320], id[32];
    struct channel_result res = {.status = CHANNEL_RETRY};
    json_t *j = NULL;
    if (r->err) {
        snprintf(buf, sizeof buf, "no answer: %s", r->errmsg ? r->errmsg : "error");
        res.error = buf;
    } else {
        j = json_loadb(r->body, r->body_len, 0, NULL);
        classify(r, j, &res, buf, sizeof buf, id, sizeof id);
    }
    if (res.error) {
        scrub(buf, a->token);
        log_warn("telegram", "message: %s (%s)", channel_status_name(res.status), res.error);
    }
    a->cb(a->arg, &res);
    json_decref(j);
    free(a->token);
    free(a);
}

/* A numeric chat id goes as a number, "@channel" as a string, as the Bot API documents. */
static json_t *chat_id(const char *to)
{
    char *end;
    errno = 0;
    long long v = strtoll(to, &end, 10);
    if (!errno && !*end && end != to)
        return json_integer(v);
    return json_string(to);
}

static int telegram_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb,
                         void *arg)
{
    struct telegram *t = (struct telegram *)ch;
    if (!m->to || !*m->to || !m->text || !*m->text)
        return -EINVAL;
    json_t *to = chat_id(m->to), *text = json_string(m->text);
    if (!to || !text) {
        json_decref(to), json_decref(text);
        return -EINVAL;
    }
    json_t *root = json_pack("{s:o, s:o}", "chat_id", to, "text", text);
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct http_request rq = {.method = "POST",
                              .url = t->url,
                              .headers = headers,
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .timeout_ms = t->timeout_ms};
    struct attempt *a = xcalloc(1, sizeof *a);
    *a = (struct attempt){cb, arg, xstrdup(t->token)};
    int rc = body ? http_client_send(t->http, &rq, on_answer, a) : -EINVAL;
    if (rc < 0)
        free(a->token), free(a);
    free(body);
    return rc;
}

static void telegram_free(struct channel *ch)
{
    struct telegram *t = (struct telegram *)ch;
    free(t->ch.name), free(t->url), free(t->token);
    free(t);
}

static const struct channel_ops telegram_ops = {"telegram", telegram_send, telegram_free};

struct channel *channel_telegram_new(struct http_client *http,
                                     const struct channel_telegram_config *c, char *err,
                                     size_t errsz)
{
    if (!c->token || !*c->token) {
        snprintf(err, errsz, "channel %s: the bot token is required", c->name ? c->name : "?");
        return NULL;
    }
    struct telegram *t = xcalloc(1, sizeof *t);
    t->ch = (struct channel){.ops = &telegram_ops, .name = xstrdup(c->name ? c->name : "telegram")};
    t->http = http;
    const char *base = c->base_url && *c->base_url ? c->base_url : "https://api.telegram.org";
    size_t n = strlen(base);
    t->url =
        xasprintf("%.*s/bot%s/sendMessage", (int)(base[n - 1] == '/' ? n - 1 : n), base, c->token);
    t->token = xstrdup(c->token);
    t->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    return &t->ch;
}
