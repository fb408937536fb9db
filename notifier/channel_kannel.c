#include "notifier/channel_kannel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"
#include "notifier/sms_text.h"

struct kannel {
    struct channel ch; /* first: the interface */
    struct http_client *http;
    char *url, *user, *pass, *from, *smsc, *dlr_url;
    int64_t timeout_ms;
};

static char *hex_of(const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char *out = xmalloc(strlen(s) * 2 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        *o++ = hex[*p >> 4];
        *o++ = hex[*p & 15];
    }
    *o = '\0';
    return out;
}

/* "&key=escaped(value)" appended to *q. */
static void add_param(char **q, const char *key, const char *value)
{
    char *v = http_escape(value);
    char *n = xasprintf("%s&%s=%s", *q, key, v);
    free(v);
    free(*q);
    *q = n;
}

static char *dlr_param(const struct kannel *k, const char *id)
{
    char *h = hex_of(id);
    char *u = xasprintf("%s%sid=%s&type=%%d", k->dlr_url, strchr(k->dlr_url, '?') ? "&" : "?", h);
    free(h);
    return u;
}

static char *build_url(const struct kannel *k, const struct channel_msg *m, int ucs2)
{
    char *q = xstrdup("");
    add_param(&q, "username", k->user);
    add_param(&q, "password", k->pass);
    add_param(&q, "to", m->to);
    add_param(&q, "text", m->text);
    add_param(&q, "charset", "UTF-8");
    add_param(&q, "coding", ucs2 ? "2" : "0");
    if (k->from)
        add_param(&q, "from", k->from);
    if (k->smsc)
        add_param(&q, "smsc", k->smsc);
    if (k->dlr_url) {
        char *d = dlr_param(k, m->id);
        add_param(&q, "dlr-mask", "31");
        add_param(&q, "dlr-url", d);
        free(d);
    }
    char *url = xasprintf("%s%s%s", k->url, strchr(k->url, '?') ? "" : "?", q + 1);
    free(q);
    return url;
}

/* Kannel answers "0: Accepted for delivery" or "3: Queued for later delivery" (202); anything
 * else in a 2xx is not an answer we understand: a failed attempt, retried. */
static void classify(const struct http_response *r, struct channel_result *out, char *buf,
                     size_t bufsz)
{
    *out = (struct channel_result){.status = CHANNEL_RETRY, .http_status = r->status};
    if (r->err) {
        snprintf(buf, bufsz, "no answer: %s", r->errmsg ? r->errmsg : "error");
    } else if (r->status >= 200 && r->status < 300 && !strncmp(r->body, "0:", 2)) {
        out->status = CHANNEL_SENT;
        return;
    } else if (r->status >= 200 && r->status < 300 && !strncmp(r->body, "3:", 2)) {
        out->status = CHANNEL_QUEUED;
        return;
    } else if (r->status == 429 || r->status >= 500 || (r->status >= 200 && r->status < 300)) {
        out->retry_after_ms =
            r->retry_after ? http_retry_after_ms(r->retry_after, loop_wall_ms()) : 0;
        snprintf(buf, bufsz, "HTTP %d: %.200s", r->status, r->body);
    } else {
        out->status = CHANNEL_FAILED;
        snprintf(buf, bufsz, "HTTP %d: %.200s", r->status, r->body);
    }
    channel_mask_digits(buf); /* an SMSC's refusal may name the number */
    out->error = buf;
}

static void on_answer(void *arg, const struct http_response *r)
{
    struct channel_result res;
    char buf[320];
    classify(r, &res, buf, sizeof buf);
    channel_attempt_done(arg, "kannel", "sms", &res);
}

static int kannel_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb,
                       void *arg)
{
    struct kannel *k = (struct kannel *)ch;
    struct sms_text_info info;
    if (!m->to || !*m->to || !m->id || !m->text ||
        sms_text_analyze(m->text, strlen(m->text), &info) < 0)
        return -EINVAL;
    char *url = build_url(k, m, info.encoding != SMS_ENC_GSM7);
    struct http_request rq = {.method = "GET", .url = url, .timeout_ms = k->timeout_ms};
    int rc = channel_attempt_send(k->http, &rq, m->to, cb, arg, on_answer);
    free(url);
    return rc;
}

static void kannel_free(struct channel *ch)
{
    struct kannel *k = (struct kannel *)ch;
    free(k->ch.name), free(k->url), free(k->user), free(k->pass);
    free(k->from), free(k->smsc), free(k->dlr_url);
    free(k);
}

static const struct channel_ops kannel_ops = {"kannel", kannel_send, kannel_free};

struct channel *channel_kannel_new(struct http_client *http, const struct channel_kannel_config *c,
                                   char *err, size_t errsz)
{
    if (!c->sendsms_url || !c->username || !c->password) {
        snprintf(err, errsz, "channel %s: sendsms_url, username and password are required",
                 c->name ? c->name : "?");
        return NULL;
    }
    struct kannel *k = xcalloc(1, sizeof *k);
    k->ch = (struct channel){.ops = &kannel_ops, .name = xstrdup(c->name ? c->name : "kannel")};
    k->http = http;
    k->url = xstrdup(c->sendsms_url);
    k->user = xstrdup(c->username);
    k->pass = xstrdup(c->password);
    k->from = channel_opt_dup(c->from);
    k->smsc = channel_opt_dup(c->smsc);
    k->dlr_url = channel_opt_dup(c->dlr_url);
    k->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    return &k->ch;
}

/* The value of key in a query string, still encoded; NULL when absent. */
static const char *param(const char *q, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (const char *p = q; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            const char *v = p + kl + 1;
            *len = strcspn(v, "&");
            return v;
        }
    return NULL;
}

static int unhex(const char *h, size_t n, char **out)
{
    if (n % 2 || !n)
        return -EINVAL;
    char *s = xmalloc(n / 2 + 1);
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        if (sscanf(h + i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", h[i + 1])) {
            free(s);
            return -EINVAL;
        }
        s[i / 2] = (char)v;
    }
    s[n / 2] = '\0';
    *out = s;
    return 0;
}

int channel_kannel_dlr(const char *query, char **id, enum kannel_dlr *dlr)
{
    size_t il = 0, tl = 0;
    const char *iv = param(query, "id", &il), *tv = param(query, "type", &tl);
    if (!iv || !tv || tl == 0 || tl > 3)
        return -EINVAL;
    int type = atoi(tv);
    if (type == 1)
        *dlr = KANNEL_DLR_DELIVERED;
    else if (type == 2 || type == 16)
        *dlr = KANNEL_DLR_FAILED;
    else if (type == 4)
        *dlr = KANNEL_DLR_BUFFERED;
    else if (type == 8)
        *dlr = KANNEL_DLR_ACCEPTED;
    else
        return -EINVAL;
    return unhex(iv, il, id);
}
