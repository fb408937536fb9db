#include "notifier/channel_whatsapp.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

struct whatsapp {
    struct channel ch; /* first: the interface */
    struct http_client *http;
    char *url, *auth, *template_name, *language;
    int64_t timeout_ms;
};

#define SPACE " \t\r\n\v\f"

char *channel_whatsapp_param(const char *text)
{
    struct strbuf out = {0};
    const char *p = text + strspn(text, SPACE);
    while (*p) {
        size_t word = strcspn(p, SPACE), gap = strspn(p + word, SPACE);
        strbuf_add(&out, p, word);
        p += word;
        if (!p[gap])
            break; /* trailing space dropped */
        if (gap <= 4 && strspn(p, " ") >= gap)
            strbuf_add(&out, p, gap); /* up to four plain spaces are allowed */
        else
            strbuf_add(&out, " ", 1);
        p += gap;
    }
    return strbuf_take(&out);
}

/* Meta's template language codes are ll or ll_RR: "pt-BR" and "pt-br" become "pt_BR". */
static char *language_of(const struct whatsapp *w, const char *locale)
{
    if (!locale || !*locale)
        return xstrdup(w->language);
    char *l = xstrdup(locale), *sep = strpbrk(l, "-_");
    if (sep)
        *sep = '_';
    if (sep && strlen(sep + 1) == 2) {
        sep[1] = (char)toupper((unsigned char)sep[1]);
        sep[2] = (char)toupper((unsigned char)sep[2]);
    }
    return l;
}

static const long long retry_codes[] = {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004};

/* Rate limits and Meta's own transient trouble: worth another attempt later. */
static int retryable(long long code)
{
    for (size_t i = 0; i < sizeof retry_codes / sizeof retry_codes[0]; i++)
        if (code == retry_codes[i])
            return 1;
    return 0;
}

/* Graph's error object as "code (subcode): message [fbtrace_id]" for the operator and Meta's
 * support, else the raw start of the answer; only the provider's text is masked. */
static void describe(const struct http_response *r, json_t *e, char *buf, size_t bufsz)
{
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *trace = json_string_value(json_object_get(e, "fbtrace_id"));
    long long sub = json_integer_value(json_object_get(e, "error_subcode"));
    if (!msg) {
        snprintf(buf, bufsz, "HTTP %d: %.200s", r->status, r->body);
        channel_mask_digits(buf);
        return;
    }
    char subtxt[32] = "";
    if (sub)
        snprintf(subtxt, sizeof subtxt, " (subcode %lld)", sub);
    int k = snprintf(buf, bufsz, "HTTP %d: WhatsApp error %lld%s: ", r->status,
                     json_integer_value(json_object_get(e, "code")), subtxt);
    if (k < 0 || (size_t)k >= bufsz)
        return;
    snprintf(buf + k, bufsz - (size_t)k, "%.250s", msg);
    channel_mask_digits(buf + k);
    size_t len = strlen(buf);
    snprintf(buf + len, bufsz - len, " [fbtrace_id %.40s]", trace ? trace : "-");
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
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *id =
        json_string_value(json_object_get(json_array_get(json_object_get(j, "messages"), 0), "id"));
    if (r->status >= 200 && r->status < 300 && id) {
        res->status = CHANNEL_SENT;
        res->provider_id = id;
        return j;
    }
    json_t *e = json_object_get(j, "error");
    describe(r, e, buf, bufsz);
    res->error = buf;
    long long code = json_integer_value(json_object_get(e, "code"));
    if (r->status >= 400 && r->status < 500 && r->status != 429 && !retryable(code))
        res->status = CHANNEL_FAILED;
    int64_t wait = r->retry_after ? http_retry_after_ms(r->retry_after, loop_wall_ms()) : 0;
    res->retry_after_ms = wait > 0 ? wait : 0;
    return j;
}

static void on_answer(void *arg, const struct http_response *r)
{
    char buf[400];
    struct channel_result res;
    json_t *j = classify(r, &res, buf, sizeof buf); /* res points into j */
    channel_attempt_done(arg, "whatsapp", "message", &res);
    json_decref(j);
}

/* The template message with text as its one body parameter; NULL when text is not UTF-8. */
static char *build_body(const struct whatsapp *w, const struct channel_msg *m)
{
    char *param = channel_whatsapp_param(m->text), *lang = language_of(w, m->locale);
    json_t *text = json_string(param), *to = json_string(m->to[0] == '+' ? m->to + 1 : m->to);
    char *s = NULL;
    if (text && to && *param) {
        /* biz_opaque_callback_data comes back in every status webhook: farol's own id there
         * settles the message even when its send's outcome (the wamid) was never written */
        json_t *root =
            json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:{s:s}, s:[{s:s, s:[{s:s, s:o}]}]}}",
                      "messaging_product", "whatsapp", "to", to, "biz_opaque_callback_data",
                      m->id ? m->id : "", "type", "template", "template", "name", w->template_name,
                      "language", "code", lang, "components", "type", "body", "parameters", "type",
                      "text", "text", text);
        s = json_dumps(root, JSON_COMPACT);
        json_decref(root);
    } else {
        json_decref(text), json_decref(to);
    }
    free(param), free(lang);
    return s;
}

static int whatsapp_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb,
                         void *arg)
{
    struct whatsapp *w = (struct whatsapp *)ch;
    if (!m->to || !*m->to || !m->text)
        return -EINVAL;
    char *body = build_body(w, m);
    if (!body)
        return -EINVAL;
    const char *headers[] = {w->auth, "Content-Type: application/json", NULL};
    struct http_request rq = {.method = "POST",
                              .url = w->url,
                              .headers = headers,
                              .body = body,
                              .body_len = strlen(body),
                              .timeout_ms = w->timeout_ms};
    int rc = channel_attempt_send(w->http, &rq, m->to, cb, arg, on_answer);
    free(body);
    return rc;
}

static void whatsapp_free(struct channel *ch)
{
    struct whatsapp *w = (struct whatsapp *)ch;
    free(w->ch.name), free(w->url), free(w->auth), free(w->template_name), free(w->language);
    free(w);
}

static const struct channel_ops whatsapp_ops = {"whatsapp", whatsapp_send, whatsapp_free};

static int missing(const char *s)
{
    return !s || !*s;
}

struct channel *channel_whatsapp_new(struct http_client *http,
                                     const struct channel_whatsapp_config *c, char *err,
                                     size_t errsz)
{
    if (missing(c->phone_number_id) || missing(c->token) || missing(c->template_name)) {
        snprintf(err, errsz, "channel %s: phone_number_id, token and template name are required",
                 c->name ? c->name : "?");
        return NULL;
    }
    struct whatsapp *w = xcalloc(1, sizeof *w);
    w->ch = (struct channel){.ops = &whatsapp_ops, .name = xstrdup(c->name ? c->name : "whatsapp")};
    w->http = http;
    const char *base = missing(c->base_url) ? "https://graph.facebook.com" : c->base_url;
    size_t n = strlen(base);
    w->url = xasprintf("%.*s/%s/%s/messages", (int)(base[n - 1] == '/' ? n - 1 : n), base,
                       missing(c->api_version) ? "v21.0" : c->api_version, c->phone_number_id);
    w->auth = xasprintf("Authorization: Bearer %s", c->token);
    w->template_name = xstrdup(c->template_name);
    w->language = xstrdup(missing(c->language) ? "en" : c->language);
    w->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    return &w->ch;
}

static int state_of(const char *s, enum whatsapp_state *st)
{
    static const char *const names[] = {"sent", "delivered", "read", "failed"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i])) {
            *st = (enum whatsapp_state)i;
            return 0;
        }
    return -EINVAL;
}

/* errors[0] as "title: details"; NULL when there is none. */
static char *error_of(json_t *errors, long long *code)
{
    json_t *e = json_array_get(errors, 0);
    const char *title = json_string_value(json_object_get(e, "title"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *det =
        json_string_value(json_object_get(json_object_get(e, "error_data"), "details"));
    *code = json_integer_value(json_object_get(e, "code"));
    if (!title && !msg)
        return NULL;
    char *s = xasprintf("%s%s%s", title ? title : msg, det ? ": " : "", det ? det : "");
    channel_mask_digits(s);
    return s;
}

/* Appends value.statuses[] of one change to *u. */
static void add_statuses(json_t *value, struct whatsapp_update **u, size_t *n)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(value, "statuses"), i, s)
    {
        struct whatsapp_update x = {0};
        const char *id = json_string_value(json_object_get(s, "id"));
        if (!id || state_of(json_string_value(json_object_get(s, "status")), &x.state) < 0)
            continue;
        x.id = xstrdup(id);
        const char *ref = json_string_value(json_object_get(s, "biz_opaque_callback_data"));
        x.ref = ref && *ref ? xstrdup(ref) : NULL;
        x.error = error_of(json_object_get(s, "errors"), &x.error_code);
        *u = xrealloc(*u, (*n + 1) * sizeof **u);
        (*u)[(*n)++] = x;
    }
}

int channel_whatsapp_status(const char *body, size_t body_len, struct whatsapp_update **out,
                            size_t *n)
{
    json_t *j = json_loadb(body, body_len, 0, NULL);
    json_t *entries = json_object_get(j, "entry");
    if (!json_is_array(entries)) {
        json_decref(j);
        return -EINVAL;
    }
    struct whatsapp_update *u = xcalloc(1, sizeof *u);
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *changes = json_object_get(json_array_get(entries, i), "changes");
        for (size_t c = 0; c < json_array_size(changes); c++)
            add_statuses(json_object_get(json_array_get(changes, c), "value"), &u, &k);
    }
    json_decref(j);
    *out = u;
    *n = k;
    return 0;
}

void channel_whatsapp_status_free(struct whatsapp_update *u, size_t n)
{
    for (size_t i = 0; u && i < n; i++)
        free(u[i].id), free(u[i].ref), free(u[i].error);
    free(u);
}
