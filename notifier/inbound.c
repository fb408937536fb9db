#include "notifier/inbound.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/channel_kannel.h"
#include "notifier/notif_store.h"

struct inbound {
    struct inbound_db db;
    struct inbound_stats st;
    char *key; /* secret, or NULL: every call must carry it */
};

/* Words subscribers send to stop or restart messages, in farol's five languages. */
static const char *const stop_words[] = {"STOP",     "PARE",       "PARAR", "SAIR",
                                         "CANCELAR", "BAJA",       "ALTO",  "UNSUBSCRIBE",
                                         "СТОП",     "ОТПИСАТЬСЯ", "توقف",  "لغو"};
static const char *const start_words[] = {"START", "VOLTAR", "ALTA", "СТАРТ", "شروع"};

static bool word_in(const char *w, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && !strncasecmp(w, list[i], n))
            return true;
    return false;
}

int inbound_keyword(const char *text)
{
    while (*text && isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n && (isspace((unsigned char)text[n - 1]) || text[n - 1] == '.' || text[n - 1] == '!'))
        n--;
    if (word_in(text, n, stop_words, sizeof stop_words / sizeof stop_words[0]))
        return 1;
    return word_in(text, n, start_words, sizeof start_words / sizeof start_words[0]) ? 2 : 0;
}

static void reply(struct httpd_response *out, int status, const char *body)
{
    out->status = status;
    out->content_type = "text/plain";
    out->body = body;
    out->body_len = strlen(body);
}

static const char *const dlr_status[] = {"delivered", "failed", "buffered", "accepted"};

/* The call carries the configured key (or none is configured); else it is answered 403. The
 * comparison takes the same time however much of the key matched. */
static bool allowed(struct inbound *in, const struct httpd_request *rq, struct httpd_response *out)
{
    if (!in->key)
        return true;
    const char *q = rq->query ? rq->query : "";
    char *got = httpd_form_value(q, strlen(q), "key");
    size_t n = strlen(in->key);
    bool ok = got && strlen(got) == n && CRYPTO_memcmp(got, in->key, n) == 0;
    free(got);
    if (!ok) {
        in->st.refused++;
        log_warn("inbound", "kannel: refused a call to %s from %s: missing or wrong key", rq->path,
                 rq->remote_addr);
        reply(out, 403, "forbidden\n");
    }
    return ok;
}

static void on_dlr(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct inbound *in = arg;
    char *id = NULL, err[256];
    enum kannel_dlr d;
    if (!allowed(in, rq, out))
        return;
    if (!rq->query || channel_kannel_dlr(rq->query, &id, &d) < 0) {
        reply(out, 400, "not a delivery report\n");
        return;
    }
    in->st.dlrs++;
    struct store_sync *ss = in->db.get(in->db.arg);
    struct notif_record rec;
    int rc = ss ? notif_store_get(ss, id, &rec, err, sizeof err) : -EIO;
    if (rc == 0) {
        /* a report never moves a record back: Kannel retries a report we answered 503, so
         * a "buffered" can come after "delivered" */
        bool keep = notif_store_rank(dlr_status[d]) < notif_store_rank(rec.status);
        if (keep)
            in->st.dlrs_stale++;
        else
            rc =
                notif_store_outcome(ss, id, dlr_status[d], rec.channel, rec.provider_id,
                                    d == KANNEL_DLR_FAILED ? "undelivered" : NULL, err, sizeof err);
        notif_record_deinit(&rec);
    }
    if (rc == -ENOENT)
        in->st.dlrs_unknown++;
    if (rc == -EIO) {
        in->st.errors++;
        if (ss)
            in->db.failed(in->db.arg, err);
    }
    free(id);
    reply(out, rc == -EIO ? 503 : 200, rc == -EIO ? "try again\n" : "ok\n");
}

/* "5511..." or "+5511..." from Kannel's %p into E.164. */
static char *e164(const char *from)
{
    return from[0] == '+' ? xstrdup(from) : xasprintf("+%s", from);
}

static int set_optout(struct store_sync *ss, const char *phone, int kw, char *err, size_t errsz)
{
    char key[256];
    store_sync_key(ss, key, sizeof key, "optout:%s", phone);
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)loop_wall_ms());
    redisReply *r = kw == 1 ? store_sync_command(ss, "SET %s %s", key, ts)
                            : store_sync_command(ss, "DEL %s", key);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errsz, "opt-out: %s", r ? r->str : store_sync_errstr(ss));
        if (r)
            freeReplyObject(r);
        return -EIO;
    }
    freeReplyObject(r);
    return 0;
}

static void on_mo(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct inbound *in = arg;
    if (!allowed(in, rq, out))
        return;
    const char *q = rq->query ? rq->query : "";
    char *from = httpd_form_value(q, strlen(q), "from");
    char *text = httpd_form_value(q, strlen(q), "text");
    int kw = text ? inbound_keyword(text) : 0;
    in->st.mo++;
    int status = from && text ? 200 : 400;
    if (status == 200 && kw) {
        char err[256], *phone = e164(from), masked[64];
        struct store_sync *ss = in->db.get(in->db.arg);
        if (!ss || set_optout(ss, phone, kw, err, sizeof err) < 0) {
            in->st.errors++;
            if (ss)
                in->db.failed(in->db.arg, err);
            status = 503; /* Kannel retries; an opt-out is never dropped silently */
        } else {
            kw == 1 ? in->st.opt_outs++ : in->st.opt_ins++;
            log_info("inbound", "%s opted %s", log_mask_phone(phone, masked, sizeof masked),
                     kw == 1 ? "out" : "back in");
        }
        free(phone);
    }
    free(from);
    free(text);
    reply(out, status, ""); /* an empty answer: nothing goes back to the subscriber */
}

struct inbound *inbound_new(struct httpd *h, const char *prefix, const struct inbound_db *db,
                            const char *key, char *err, size_t errsz)
{
    struct inbound *in = xcalloc(1, sizeof *in);
    in->db = *db;
    in->key = key && *key ? xstrdup(key) : NULL;
    char *dlr = xasprintf("%s/dlr", prefix), *mo = xasprintf("%s/mo", prefix);
    int rc = httpd_route(h, "GET", dlr, on_dlr, in);
    if (rc == 0)
        rc = httpd_route(h, "GET", mo, on_mo, in);
    free(dlr);
    free(mo);
    if (rc < 0) {
        snprintf(err, errsz, "cannot route %s/dlr and %s/mo (%d)", prefix, prefix, rc);
        inbound_free(in);
        return NULL;
    }
    if (!in->key)
        log_warn("inbound", "kannel reports and replies are not authenticated: no kannel_key "
                            "(keep listen on loopback or Kannel's network)");
    return in;
}

void inbound_free(struct inbound *in)
{
    if (!in)
        return;
    if (in->key)
        OPENSSL_cleanse(in->key, strlen(in->key));
    free(in->key);
    free(in);
}

void inbound_get_stats(const struct inbound *in, struct inbound_stats *out)
{
    *out = in->st;
}

int inbound_opted_out(struct store_sync *ss, const char *phone, char *err, size_t errsz)
{
    char key[256];
    store_sync_key(ss, key, sizeof key, "optout:%s", phone);
    redisReply *r = store_sync_command(ss, "EXISTS %s", key);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        snprintf(err, errsz, "opt-out lookup: %s",
                 r && r->type == REDIS_REPLY_ERROR ? r->str : store_sync_errstr(ss));
        if (r)
            freeReplyObject(r);
        return -EIO;
    }
    int yes = r->integer > 0;
    freeReplyObject(r);
    return yes;
}
