#include "notifier/channel_http.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

#define MAX_HEADERS 16

struct generic {
    struct channel ch; /* first: the interface */
    struct http_client *http;
    char *method, *url, *body, *from, *success, *id_field;
    char *headers[MAX_HEADERS + 1];
    enum channel_http_body enc;
    int64_t timeout_ms;
};

struct attempt {
    channel_done_fn cb;
    void *arg;
    char *id_field, *success;
};

/* JSON string contents (no quotes) for s. */
static char *json_inner(const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *d = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!d)
        return xstrdup("");
    size_t n = strlen(d);
    char *out = xstrndup(d + 1, n >= 2 ? n - 2 : 0);
    free(d);
    return out;
}

static char *escape(const char *v, enum channel_http_body enc)
{
    if (enc == CHANNEL_HTTP_FORM)
        return http_escape(v ? v : "");
    if (enc == CHANNEL_HTTP_JSON)
        return json_inner(v);
    return xstrdup(v ? v : "");
}

char *channel_http_expand(const char *t, enum channel_http_body enc, const char *to,
                          const char *text, const char *id, const char *from, char *err,
                          size_t errsz)
{
    const char *names[] = {"to", "text", "id", "from"}, *values[] = {to, text, id, from};
    struct strbuf out = {0};
    for (const char *p = t; *p;) {
        const char *open = strstr(p, "{{"), *close = open ? strstr(open, "}}") : NULL;
        if (!open || !close) {
            strbuf_adds(&out, p);
            break;
        }
        strbuf_add(&out, p, (size_t)(open - p));
        size_t n = (size_t)(close - open - 2);
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (strlen(names[i]) == n && !strncmp(open + 2, names[i], n))
                k = i;
        if (k < 0) {
            snprintf(err, errsz, "unknown placeholder '{{%.*s}}' (known: to, text, id, from)",
                     (int)n, open + 2);
            strbuf_deinit(&out);
            return NULL;
        }
        char *v = escape(values[k], enc);
        strbuf_adds(&out, v);
        free(v);
        p = close + 2;
    }
    return strbuf_take(&out);
}

static void on_answer(void *arg, const struct http_response *r)
{
    struct attempt *a = arg;
    char buf[320];
    struct channel_result res = {.status = CHANNEL_RETRY, .http_status = r->status};
    json_t *j = NULL;
    bool ok2xx = !r->err && r->status >= 200 && r->status < 300;
    if (ok2xx && (!a->success || strstr(r->body, a->success))) {
        res.status = CHANNEL_SENT;
        if (a->id_field && (j = json_loadb(r->body, r->body_len, 0, NULL)))
            res.provider_id = json_string_value(json_object_get(j, a->id_field));
    } else {
        if (r->err)
            snprintf(buf, sizeof buf, "no answer: %s", r->errmsg ? r->errmsg : "error");
        else
            snprintf(buf, sizeof buf, "HTTP %d: %.200s", r->status, r->body);
        channel_mask_digits(buf); /* gateways echo the number they refuse */
        res.error = buf;
        if (!r->err && ((r->status >= 400 && r->status < 500 && r->status != 429) || ok2xx))
            res.status = CHANNEL_FAILED; /* refused, or a 2xx without the success marker */
        if (r->retry_after)
            res.retry_after_ms = http_retry_after_ms(r->retry_after, loop_wall_ms());
        log_warn("http-sms", "message: %s (%s)", channel_status_name(res.status), buf);
    }
    a->cb(a->arg, &res);
    json_decref(j);
    free(a->id_field), free(a->success), free(a);
}

static int generic_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb,
                        void *arg)
{
    struct generic *g = (struct generic *)ch;
    char err[160], *hdr[MAX_HEADERS + 1] = {0};
    if (!m->to || !*m->to || !m->text)
        return -EINVAL;
    char *url = channel_http_expand(g->url, CHANNEL_HTTP_FORM, m->to, m->text, m->id, g->from, err,
                                    sizeof err);
    char *body = g->body ? channel_http_expand(g->body, g->enc, m->to, m->text, m->id, g->from, err,
                                               sizeof err)
                         : NULL;
    for (int i = 0; g->headers[i]; i++)
        hdr[i] = channel_http_expand(g->headers[i], CHANNEL_HTTP_RAW, m->to, m->text, m->id,
                                     g->from, err, sizeof err);
    struct http_request rq = {.method = g->method,
                              .url = url,
                              .headers = (const char *const *)hdr,
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .timeout_ms = g->timeout_ms};
    struct attempt *a = xcalloc(1, sizeof *a);
    *a = (struct attempt){cb, arg, g->id_field ? xstrdup(g->id_field) : NULL,
                          g->success ? xstrdup(g->success) : NULL};
    int rc = http_client_send(g->http, &rq, on_answer, a);
    if (rc < 0)
        free(a->id_field), free(a->success), free(a);
    free(url), free(body);
    for (int i = 0; hdr[i]; i++)
        free(hdr[i]);
    return rc;
}

static void generic_free(struct channel *ch)
{
    struct generic *g = (struct generic *)ch;
    free(g->ch.name), free(g->method), free(g->url), free(g->body), free(g->from);
    free(g->success), free(g->id_field);
    for (int i = 0; g->headers[i]; i++)
        free(g->headers[i]);
    free(g);
}

static const struct channel_ops generic_ops = {"http", generic_send, generic_free};

static char *dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Placeholders are checked once, here, so a send never meets an unknown one. */
static int check(const char *t, char *err, size_t errsz)
{
    char *x = t ? channel_http_expand(t, CHANNEL_HTTP_RAW, "", "", "", "", err, errsz) : NULL;
    free(x);
    return t && !x ? -EINVAL : 0;
}

struct channel *channel_http_new(struct http_client *http, const struct channel_http_config *c,
                                 char *err, size_t errsz)
{
    if (!c->url) {
        snprintf(err, errsz, "channel %s: url is required", c->name ? c->name : "?");
        return NULL;
    }
    int bad = check(c->url, err, errsz) || check(c->body, err, errsz);
    for (int i = 0; !bad && c->headers && c->headers[i]; i++) {
        if (i >= MAX_HEADERS)
            snprintf(err, errsz, "channel %s: more than %d headers", c->name ? c->name : "?",
                     MAX_HEADERS);
        bad = i >= MAX_HEADERS || check(c->headers[i], err, errsz);
    }
    if (bad)
        return NULL;
    struct generic *g = xcalloc(1, sizeof *g);
    g->ch = (struct channel){.ops = &generic_ops, .name = xstrdup(c->name ? c->name : "http")};
    g->http = http;
    g->method = dup(c->method);
    g->url = xstrdup(c->url);
    g->body = dup(c->body);
    g->from = dup(c->from);
    g->success = dup(c->success_contains);
    g->id_field = dup(c->id_field);
    g->enc = c->encoding;
    g->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    for (int i = 0; c->headers && c->headers[i]; i++)
        g->headers[i] = xstrdup(c->headers[i]);
    return &g->ch;
}
