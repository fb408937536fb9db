#include "notifier/inbound_api.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/httpd.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"
#include "notifier/channel.h"
#include "notifier/channel_infobip.h"
#include "notifier/channel_twilio.h"
#include "notifier/channel_whatsapp.h"
#include "notifier/notif_store.h"

struct inbound_api {
    struct inbound_db db;
    char *prefix, *infobip, *wa, *wa_token, *wa_secret, *tw, *tw_token, *tw_url;
    struct inbound_api_stats st;
    char err[256];       /* why Redis failed, for db.failed */
    char challenge[256]; /* the subscription answer: it must outlive the handler */
};

static void reply(struct httpd_response *out, int status, const char *body)
{
    out->status = status;
    out->content_type = "text/plain";
    out->body = body;
    out->body_len = strlen(body);
}

/* Write status (and error) on message id unless its record already says as much or more.
 * Returns 0, -ENOENT or -EIO (a->err says why). */
static int apply(struct inbound_api *a, struct store_sync *ss, const char *id, const char *status,
                 const char *error)
{
    struct notif_record rec;
    int rc = notif_store_get(ss, id, &rec, a->err, sizeof a->err);
    if (rc < 0)
        return rc;
    bool same = rec.status && !strcmp(rec.status, status) && !error;
    if (same || notif_store_rank(status) < notif_store_rank(rec.status)) {
        a->st.stale++;
    } else {
        rc = notif_store_outcome(ss, id, status, rec.channel, rec.provider_id, error, a->err,
                                 sizeof a->err);
        if (rc == 0)
            a->st.updates++;
        if (rc == 0 && error)
            log_info("inbound", "message %s %s: %s", id, status, error);
    }
    notif_record_deinit(&rec);
    return rc;
}

/* One status entry; channel is NULL when pid is farol's own message id (Infobip).
 * Returns 0, -ENOENT or -EIO. */
static int report(struct inbound_api *a, struct store_sync *ss, const char *channel,
                  const char *pid, const char *status, const char *error)
{
    char *id = NULL;
    int rc = 0;
    a->st.reports++;
    if (channel)
        rc = notif_store_by_provider(ss, channel, pid, &id, a->err, sizeof a->err);
    if (rc == -ENOENT) { /* maybe faster than the send's outcome: kept for it */
        rc = notif_store_park(ss, channel, pid, status, error, &id, a->err, sizeof a->err);
        if (rc == 0)
            a->st.parked++;
        if (rc == 0)
            return 0;
    }
    if (rc >= 0)
        rc = apply(a, ss, id ? id : pid, status, error);
    if (rc == -ENOENT)
        a->st.unknown++;
    free(id);
    return rc;
}

/* The answer once the entries are in. Unknown ids are fine (a retry cannot make them known);
 * 503 makes the provider send the whole request again, which is harmless since no state goes
 * back. */
static void finish(struct inbound_api *a, struct store_sync *ss, int rc, struct httpd_response *out)
{
    if (rc != -EIO) {
        reply(out, 200, "ok\n");
        return;
    }
    a->st.errors++;
    if (ss)
        a->db.failed(a->db.arg, a->err);
    reply(out, 503, "try again\n");
}

/* 400, with a short excerpt for the operator: numbers in it masked, control bytes dotted. */
static void bad(struct inbound_api *a, const char *who, const struct httpd_request *rq,
                struct httpd_response *out)
{
    char snip[161] = "";
    size_t n = rq->body_len < sizeof snip - 1 ? rq->body_len : sizeof snip - 1;
    for (size_t i = 0; i < n; i++)
        snip[i] = isprint((unsigned char)rq->body[i]) ? rq->body[i] : '.';
    while (n < rq->body_len && n && isdigit((unsigned char)snip[n - 1]))
        n--; /* a number cut short would escape the masking */
    snip[n] = '\0';
    channel_mask_digits(snip);
    a->st.bad++;
    log_warn("inbound", "%s: unreadable status report from %s (%zu bytes): %s", who,
             rq->remote_addr, rq->body_len, snip);
    reply(out, 400, "not a status report\n");
}

static void refuse(struct inbound_api *a, const char *who, const struct httpd_request *rq,
                   int status, struct httpd_response *out)
{
    a->st.unauthorized++;
    log_warn("inbound", "%s: refused a request from %s: %s", who, rq->remote_addr,
             status == 401 ? "missing or wrong signature" : "wrong verify token");
    reply(out, status, status == 401 ? "bad signature\n" : "forbidden\n");
}

/* The Redis connection for n entries; *rc is -EIO without one. */
static struct store_sync *db_for(struct inbound_api *a, size_t n, int *rc)
{
    struct store_sync *ss = n ? a->db.get(a->db.arg) : NULL;
    *rc = n && !ss ? -EIO : 0;
    return ss;
}

/* ---- Infobip ---- */

static const char *const infobip_status[] = {[INFOBIP_DLR_PENDING] = "accepted",
                                             [INFOBIP_DLR_DELIVERED] = "delivered",
                                             [INFOBIP_DLR_UNDELIVERABLE] = "failed",
                                             [INFOBIP_DLR_EXPIRED] = "failed",
                                             [INFOBIP_DLR_REJECTED] = "failed"};

static void on_infobip(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct inbound_api *a = arg;
    struct infobip_report *r;
    size_t n;
    if (channel_infobip_report(rq->body, rq->body_len, &r, &n) < 0) {
        bad(a, "infobip", rq, out);
        return;
    }
    int rc;
    struct store_sync *ss = db_for(a, n, &rc);
    for (size_t i = 0; i < n && rc != -EIO; i++) {
        const char *st = infobip_status[r[i].dlr];
        const char *e = r[i].detail ? r[i].detail : "undelivered";
        rc = report(a, ss, NULL, r[i].message_id, st, strcmp(st, "failed") ? NULL : e);
    }
    channel_infobip_report_free(r, n);
    finish(a, ss, rc, out);
}

/* ---- WhatsApp Cloud API ---- */

/* Both must be set and equal; the time taken does not tell how much of the token matched. */
static bool secret_eq(const char *got, const char *want)
{
    size_t n = strlen(want);
    return got && strlen(got) == n && CRYPTO_memcmp(got, want, n) == 0;
}

static void on_wa_verify(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct inbound_api *a = arg;
    const char *q = rq->query ? rq->query : "";
    char *mode = httpd_form_value(q, strlen(q), "hub.mode");
    char *token = httpd_form_value(q, strlen(q), "hub.verify_token");
    char *challenge = httpd_form_value(q, strlen(q), "hub.challenge");
    if (!a->wa_token || !mode || strcmp(mode, "subscribe") || !secret_eq(token, a->wa_token)) {
        refuse(a, "whatsapp", rq, 403, out);
    } else if (!challenge || !*challenge || strlen(challenge) >= sizeof a->challenge) {
        reply(out, 400, "no challenge\n");
        a->st.bad++;
    } else {
        log_info("inbound", "whatsapp: webhook subscription confirmed");
        memcpy(a->challenge, challenge, strlen(challenge) + 1);
        reply(out, 200, a->challenge);
    }
    free(mode);
    free(token);
    free(challenge);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the raw body under the app secret. */
static bool hub_signed(const struct inbound_api *a, const struct httpd_request *rq)
{
    const char *h = rq->header(rq, "X-Hub-Signature-256");
    unsigned char want[EVP_MAX_MD_SIZE], got[32];
    unsigned int n = 0;
    if (!h || strncmp(h, "sha256=", 7) || strlen(h + 7) != 2 * sizeof got)
        return false;
    for (size_t i = 0; i < sizeof got; i++) {
        int hi = hexval((unsigned char)h[7 + 2 * i]), lo = hexval((unsigned char)h[8 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        got[i] = (unsigned char)(hi << 4 | lo);
    }
    if (!HMAC(EVP_sha256(), a->wa_secret, (int)strlen(a->wa_secret),
              (const unsigned char *)rq->body, rq->body_len, want, &n))
        return false;
    return n == sizeof got && CRYPTO_memcmp(want, got, sizeof got) == 0;
}

static const char *const wa_status[] = {[WHATSAPP_SENT] = "sent",
                                        [WHATSAPP_DELIVERED] = "delivered",
                                        [WHATSAPP_READ] = "read",
                                        [WHATSAPP_FAILED] = "failed"};

static char *wa_error(const struct whatsapp_update *u)
{
    return u->error ? xasprintf("WhatsApp error %lld: %s", u->error_code, u->error)
                    : xasprintf("WhatsApp error %lld", u->error_code);
}

static void on_wa_status(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct inbound_api *a = arg;
    struct whatsapp_update *u;
    size_t n;
    if (a->wa_secret && !hub_signed(a, rq)) {
        refuse(a, "whatsapp", rq, 401, out);
        return;
    }
    if (channel_whatsapp_status(rq->body, rq->body_len, &u, &n) < 0) {
        bad(a, "whatsapp", rq, out);
        return;
    }
    int rc;
    struct store_sync *ss = db_for(a, n, &rc);
    for (size_t i = 0; i < n && rc != -EIO; i++) {
        char *e = u[i].state == WHATSAPP_FAILED ? wa_error(&u[i]) : NULL;
        /* farol's own id, when the status carries it back, needs no mapping */
        rc = u[i].ref ? report(a, ss, NULL, u[i].ref, wa_status[u[i].state], e)
                      : report(a, ss, a->wa, u[i].id, wa_status[u[i].state], e);
        free(e);
    }
    channel_whatsapp_status_free(u, n);
    finish(a, ss, rc, out);
}

/* ---- Twilio ---- */

struct pair {
    char *k, *v;
};

static char *form_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        bool pct = s[i] == '%' && i + 2 < n;
        int hi = pct ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = pct ? hexval((unsigned char)s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return out;
}

static int pair_cmp(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    int c = strcmp(p->k, q->k);
    return c ? c : strcmp(p->v, q->v);
}

/* Every name=value of a form body, decoded and sorted by name, then value: the order Twilio
 * signs them in. */
static struct pair *form_pairs(const char *body, size_t len, size_t *n)
{
    struct pair *p = NULL;
    size_t k = 0;
    for (const char *s = body, *end = body + len; s < end;) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        if (!amp)
            amp = end;
        const char *eq = memchr(s, '=', (size_t)(amp - s));
        if (amp > s) {
            p = xrealloc(p, (k + 1) * sizeof *p);
            p[k].k = form_decode(s, (size_t)((eq ? eq : amp) - s));
            p[k].v = eq ? form_decode(eq + 1, (size_t)(amp - eq - 1)) : xstrdup("");
            k++;
        }
        s = amp + (amp < end);
    }
    if (k)
        qsort(p, k, sizeof *p, pair_cmp);
    *n = k;
    return p;
}

static void pairs_free(struct pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].k), free(p[i].v);
    free(p);
}

static const char *pair_get(const struct pair *p, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].k, k))
            return p[i].v;
    return NULL;
}

/* X-Twilio-Signature: base64 of HMAC-SHA1 under the auth token over the public URL followed by
 * every parameter's name and value. Twilio signs the URL it called: behind a proxy the request's
 * own URL differs, hence the configured one, and the farol_id farol added to it for this
 * message (escaped as it was sent; NULL when the callback has none). */
static bool twilio_signed(const struct inbound_api *a, const struct httpd_request *rq,
                          const struct pair *p, size_t n, const char *farol_id)
{
    const char *h = rq->header(rq, "X-Twilio-Signature");
    struct strbuf b = {0};
    char *url = farol_id ? channel_twilio_callback_url(a->tw_url, farol_id) : NULL;
    strbuf_adds(&b, url ? url : a->tw_url);
    free(url);
    for (size_t i = 0; i < n; i++)
        strbuf_adds(&b, p[i].k), strbuf_adds(&b, p[i].v);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    bool ok = HMAC(EVP_sha1(), a->tw_token, (int)strlen(a->tw_token), (unsigned char *)b.s, b.len,
                   mac, &ml) != NULL;
    strbuf_deinit(&b);
    char want[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    if (!ok || !h)
        return false;
    int wl = EVP_EncodeBlock((unsigned char *)want, mac, (int)ml);
    return wl > 0 && strlen(h) == (size_t)wl && CRYPTO_memcmp(h, want, (size_t)wl) == 0;
}

/* farol's state for a MessageStatus, NULL for those it does not record (queued, sending,
 * accepted, scheduled, canceled...: the send's own outcome already covers them). */
static const char *twilio_status(const char *s)
{
    static const char *const map[][2] = {{"sent", "sent"},
                                         {"delivered", "delivered"},
                                         {"read", "read"},
                                         {"undelivered", "failed"},
                                         {"failed", "failed"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i][0]))
            return map[i][1];
    return NULL;
}

static char *twilio_error(const struct pair *p, size_t n, const char *status)
{
    const char *code = pair_get(p, n, "ErrorCode"), *to = pair_get(p, n, "To");
    char *e = code && *code ? xasprintf("Twilio error %.32s (%s)", code, status)
                            : xasprintf("Twilio: %s", status);
    channel_mask_digits(e);
    char masked[64];
    log_info("inbound", "twilio: %s %s to %s", pair_get(p, n, "MessageSid"), status,
             to ? log_mask_phone(to, masked, sizeof masked) : "?");
    return e;
}

static void on_twilio(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct inbound_api *a = arg;
    size_t n;
    struct pair *p = form_pairs(rq->body, rq->body_len, &n);
    const char *sid = pair_get(p, n, "MessageSid"), *st = pair_get(p, n, "MessageStatus");
    const char *status = st ? twilio_status(st) : NULL;
    const char *q = rq->query ? rq->query : "";
    char *id = httpd_form_value(q, strlen(q), "farol_id"); /* farol's own id: no mapping */
    if (a->tw_token && !twilio_signed(a, rq, p, n, id)) {
        refuse(a, "twilio", rq, 401, out);
    } else if (!sid || !*sid || !st) {
        bad(a, "twilio", rq, out);
    } else if (!status) {
        a->st.reports++;
        a->st.ignored++;
        reply(out, 200, "ok\n");
    } else {
        char *e = !strcmp(status, "failed") ? twilio_error(p, n, st) : NULL;
        int rc;
        struct store_sync *ss = db_for(a, 1, &rc);
        if (rc == 0)
            rc = id && *id ? report(a, ss, NULL, id, status, e)
                           : report(a, ss, a->tw, sid, status, e);
        free(e);
        finish(a, ss, rc, out);
    }
    free(id);
    pairs_free(p, n);
}

/* ---- setup ---- */

static bool set(const char *s)
{
    return s && *s;
}

static char *dup_set(const char *s)
{
    return set(s) ? xstrdup(s) : NULL;
}

/* Secrets are wiped before their memory goes back to the allocator. */
static void free_secret(char *s)
{
    if (s)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static int route(struct httpd *h, const char *method, const char *prefix, const char *path,
                 httpd_handler_fn fn, void *arg)
{
    char *full = xasprintf("%s%s", prefix, path);
    int rc = httpd_route(h, method, full, fn, arg);
    free(full);
    return rc;
}

static int route_all(struct inbound_api *a, struct httpd *h)
{
    int rc = 0;
    if (a->infobip)
        rc = route(h, "POST", a->prefix, "/infobip/dlr", on_infobip, a);
    if (rc == 0 && a->wa)
        rc = route(h, "GET", a->prefix, "/whatsapp/webhook", on_wa_verify, a);
    if (rc == 0 && a->wa)
        rc = route(h, "POST", a->prefix, "/whatsapp/webhook", on_wa_status, a);
    if (rc == 0 && a->tw)
        rc = route(h, "POST", a->prefix, "/twilio/status", on_twilio, a);
    return rc;
}

struct inbound_api *inbound_api_new(struct httpd *h, const struct inbound_api_config *cfg,
                                    const struct inbound_db *db, char *err, size_t errsz)
{
    if (set(cfg->twilio_channel) && set(cfg->twilio_auth_token) && !set(cfg->twilio_status_url)) {
        snprintf(err, errsz, "twilio status callbacks: the auth token needs the public URL");
        return NULL;
    }
    struct inbound_api *a = xcalloc(1, sizeof *a);
    a->db = *db;
    const char *p = cfg->prefix ? cfg->prefix : "";
    size_t pl = strlen(p);
    a->prefix = xstrndup(p, pl && p[pl - 1] == '/' ? pl - 1 : pl);
    a->infobip = dup_set(cfg->infobip_channel);
    a->wa = dup_set(cfg->whatsapp_channel);
    a->wa_token = dup_set(cfg->whatsapp_verify_token);
    a->wa_secret = dup_set(cfg->whatsapp_app_secret);
    a->tw = dup_set(cfg->twilio_channel);
    a->tw_token = dup_set(cfg->twilio_auth_token);
    a->tw_url = dup_set(cfg->twilio_status_url);
    int rc = route_all(a, h);
    if (rc < 0) {
        snprintf(err, errsz, "cannot route the status receivers under \"%s\" (%d)", a->prefix, rc);
        inbound_api_free(a);
        return NULL;
    }
    if (a->wa && !a->wa_secret)
        log_warn("inbound", "whatsapp webhooks are not authenticated: no app secret configured");
    if (a->tw && !a->tw_token)
        log_warn("inbound", "twilio callbacks are not authenticated: no auth token configured");
    return a;
}

void inbound_api_free(struct inbound_api *a)
{
    if (!a)
        return;
    free(a->prefix), free(a->infobip), free(a->wa), free(a->tw), free(a->tw_url);
    free_secret(a->wa_token), free_secret(a->wa_secret), free_secret(a->tw_token);
    free(a);
}

void inbound_api_get_stats(const struct inbound_api *a, struct inbound_api_stats *out)
{
    *out = a->st;
}
