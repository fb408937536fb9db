#include "notifier/notif_plan.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "notifier/notif_msg.h"

#define VARS_TTL "3456000" /* 40 days: a billing cycle and then some */
#define HOUR_MS (3600 * 1000LL)
#define KEY 512

void notif_policy_defaults(struct notif_policy *p)
{
    memset(p, 0, sizeof *p);
    p->notify_delay_ms = 60 * 1000;
    p->notices_ms[0] = 48 * HOUR_MS;
    p->notices_ms[1] = 2 * HOUR_MS;
    p->n_notices = 2;
    p->retry_min_ms = 1000;
    p->retry_max_ms = 30 * 1000;
    p->max_age_ms = 24 * HOUR_MS;
    p->max_attempts = 12;
    p->inflight_grace_ms = 30 * 1000;
    p->record_ttl_s = 30 * 86400;
    p->batch = 500;
}

struct plan {
    struct store_sync *ss;
    const struct notif_policy *p;
    const struct event *ev;
    int64_t now;
    struct notif_plan_stats *st;
    char *err;
    size_t errsz;
};

static void key(struct plan *pl, char *buf, const char *fmt, const char *a)
{
    store_sync_key(pl->ss, buf, KEY, fmt, a);
}

static void qkey(struct plan *pl, char *buf, enum template_type t)
{
    char p[8];
    snprintf(p, sizeof p, "%d", (int)notif_msg_prio(t));
    key(pl, buf, "notif:q:%s", p);
}

/* ZADD the message (NX: a redelivered event keeps the first due time). */
static void enqueue(struct plan *pl, struct store_batch *b, const struct notif_msg *m, int64_t due,
                    int nx)
{
    char k[KEY], score[24];
    qkey(pl, k, m->type);
    snprintf(score, sizeof score, "%" PRId64, due);
    if (nx)
        store_batch_add(b, 5, (const char *[]){"ZADD", k, "NX", score, m->id});
    else
        store_batch_add(b, 4, (const char *[]){"ZADD", k, score, m->id});
    pl->st->queued++;
}

static int finish(struct plan *pl, struct store_batch *b)
{
    if (store_batch_end(b) < 0) {
        snprintf(pl->err, pl->errsz, "Redis: %s", store_sync_errstr(pl->ss));
        return -EIO;
    }
    return 0;
}

/* ---- outages ---- */

static const char *outage_state(const struct outage *o)
{
    if (o->merged_into)
        return "merged";
    return o->phase == OUTAGE_RESOLVED ? "resolved" : "active";
}

static int quiet_cause(const struct outage *o)
{
    return o->cause == CAUSE_PLANNED || o->cause == CAUSE_OVERRUN;
}

enum { CTX_ETA = 1, CTX_NOC = 2 };

/* Context first, reading back what it replaces: an operator's ETA or message change is an
 * update for everyone already told (CTX_ETA); any change of what the NOC sees (state, cause,
 * root, status, ETA, message) is worth its summary (CTX_NOC), a chunk of subscribers is not.
 * Returns those bits, or -EIO. */
static int outage_ctx(struct plan *pl, const struct outage *o)
{
    char k[KEY], eta[24], cause[8], started[24];
    key(pl, k, "notif:ctx:%s", o->id);
    snprintf(eta, sizeof eta, "%" PRId64, o->eta_ms);
    snprintf(cause, sizeof cause, "%d", (int)o->cause);
    snprintf(started, sizeof started, "%" PRId64, o->started_ms);
    const char *msg = o->public_message ? o->public_message : "";
    struct store_batch b;
    store_batch_init(&b, pl->ss);
    const char *root = o->root ? o->root : "", *status = outage_status_name(o->status);
    store_batch_add(
        &b, 8,
        (const char *[]){"HMGET", k, "eta_ms", "message", "state", "cause", "root", "status"});
    store_batch_add(
        &b, 20,
        (const char *[]){"HSET",          k,       "kind",    "outage", "state",
                         outage_state(o), "cause", cause,     "area",   o->area ? o->area : "",
                         "eta_ms",        eta,     "message", msg,      "started_ms",
                         started,         "root",  root,      "status", status});
    redisReply *r = store_batch_next(&b);
    const char *now[] = {eta, msg, outage_state(o), cause, root, status};
    int changed = CTX_NOC; /* a first event is news for the NOC */
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 6 && r->element[0]->str) {
        changed = 0;
        for (size_t i = 0; i < 6; i++) {
            const char *old = r->element[i]->str ? r->element[i]->str : "";
            if (strcmp(old, now[i]))
                changed |= CTX_NOC | (i < 2 ? CTX_ETA : 0);
        }
    }
    freeReplyObject(r);
    return finish(pl, &b) < 0 ? -EIO : changed;
}

/* Read the down markers of ids (one HGET each); caller frees the array and its strings. */
static char **markers(struct plan *pl, const struct id_list *ids)
{
    char k[KEY];
    key(pl, k, "notif:%s", "down");
    struct store_batch b;
    store_batch_init(&b, pl->ss);
    for (size_t i = 0; i < ids->n; i++)
        store_batch_add(&b, 3, (const char *[]){"HGET", k, ids->ids[i]});
    char **out = xcalloc(ids->n + 1, sizeof *out);
    for (size_t i = 0; i < ids->n; i++) {
        redisReply *r = store_batch_next(&b);
        if (r && r->type == REDIS_REPLY_STRING)
            out[i] = xstrdup(r->str);
        freeReplyObject(r);
    }
    if (store_batch_end(&b) < 0) {
        for (size_t i = 0; i < ids->n; i++)
            free(out[i]);
        free(out);
        return NULL;
    }
    return out;
}

static void free_markers(char **m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        free(m[i]);
    free(m);
}

/* The outage that told a subscriber, from a marker "{current}|{told}". */
static const char *marker_told(const char *m)
{
    const char *bar = strchr(m, '|');
    return bar ? bar + 1 : m;
}

static int marker_is(const char *m, const char *outage)
{
    size_t n = strlen(outage);
    return !strncmp(m, outage, n) && m[n] == '|';
}

void notif_plan_marker_current(const char *marker, char *buf, size_t bufsz)
{
    const char *m = marker ? marker : "";
    snprintf(buf, bufsz, "%.*s", (int)strcspn(m, "|"), m);
}

/* sub, told under the outage its marker mk names as current, now belongs to outage: the
 * ETA updates of outage reach those told (notif:told:{outage}) */
static void absorbed_told(struct plan *pl, struct store_batch *b, const char *mk,
                          const char *outage, const char *sub)
{
    char cur[KEY], from[KEY], to[KEY];
    notif_plan_marker_current(mk, cur, sizeof cur);
    key(pl, from, "notif:told:%s", cur);
    key(pl, to, "notif:told:%s", outage);
    store_batch_add(b, 4, (const char *[]){"SMOVE", from, to, sub});
    pl->st->already_told++;
}

static int outage_added(struct plan *pl, const struct outage *o)
{
    const struct id_list *ids = &o->subscribers_added;
    char **mk = markers(pl, ids);
    if (!mk)
        return -EIO;
    char down[KEY];
    key(pl, down, "notif:%s", "down");
    int64_t due = (o->started_ms ? o->started_ms : pl->ev->ts_ms) + pl->p->notify_delay_ms;
    struct store_batch b;
    store_batch_init(&b, pl->ss);
    for (size_t i = 0; i < ids->n; i++) {
        struct notif_msg m;
        if (notif_msg_make(&m, ids->ids[i], o->id, TEMPLATE_OUTAGE_OPENED) < 0) {
            pl->st->ignored++;
            continue;
        }
        char *val = xasprintf("%s|%s", o->id, mk[i] ? marker_told(mk[i]) : o->id);
        store_batch_add(&b, 4, (const char *[]){"HSET", down, ids->ids[i], val});
        free(val);
        if (mk[i] && strcmp(marker_told(mk[i]), o->id)) {
            /* told by an outage this one absorbed: they already know, and hear its updates */
            absorbed_told(pl, &b, mk[i], o->id, ids->ids[i]);
            continue;
        }
        /* new, or this outage again (a redelivery, maybe of a batch Redis applied only in
         * part): queued unless it is already (NX); a message already sent is dropped unsent */
        enqueue(pl, &b, &m, due < pl->now ? pl->now : due, 1);
    }
    free_markers(mk, ids->n);
    return finish(pl, &b);
}

/* One restored subscriber whose marker names this outage: withdraw a message still waiting,
 * else queue the restoration (the dispatcher sends it only if the outage message went out). */
static void restore_one(struct plan *pl, struct store_batch *b, const char *sub, const char *mk,
                        const struct outage *o, const char *down)
{
    struct notif_msg opened, rest;
    const char *told = marker_told(mk);
    store_batch_add(b, 3, (const char *[]){"HDEL", down, sub});
    if (notif_msg_make(&opened, sub, told, TEMPLATE_OUTAGE_OPENED) < 0 ||
        notif_msg_make(&rest, sub, o->id, TEMPLATE_RESTORED) < 0)
        return;
    char qk[KEY], vars[KEY], told_k[KEY];
    qkey(pl, qk, TEMPLATE_OUTAGE_OPENED);
    key(pl, vars, "notif:vars:%s", rest.id);
    key(pl, told_k, "notif:told:%s", o->id);
    store_batch_add(b, 3, (const char *[]){"ZREM", qk, opened.id});
    store_batch_add(b, 3, (const char *[]){"SREM", told_k, sub});
    /* the restoration is queued regardless; its "told" variable lets the dispatcher drop it
     * when the outage message was withdrawn here or never went out */
    store_batch_add(b, 4, (const char *[]){"HSET", vars, "told", told});
    store_batch_add(b, 3, (const char *[]){"EXPIRE", vars, VARS_TTL});
    enqueue(pl, b, &rest, pl->now, 1);
    pl->st->restorations++;
}

static int outage_restored(struct plan *pl, const struct outage *o)
{
    const struct id_list *ids = &o->subscribers_restored;
    char **mk = markers(pl, ids);
    if (!mk)
        return -EIO;
    char down[KEY];
    key(pl, down, "notif:%s", "down");
    struct store_batch b;
    store_batch_init(&b, pl->ss);
    for (size_t i = 0; i < ids->n; i++) {
        if (!mk[i] || !marker_is(mk[i], o->id)) { /* never queued, or moved to another outage */
            pl->st->ignored++;
            continue;
        }
        restore_one(pl, &b, ids->ids[i], mk[i], o, down);
    }
    free_markers(mk, ids->n);
    return finish(pl, &b);
}

/* Every member of set (a full key) gets message (ref, type), due now: scanned 1,000 at a
 * time, each chunk queued in one batch. */
static int enqueue_members(struct plan *pl, const char *set, const char *ref,
                           enum template_type type)
{
    char cursor[32] = "0";
    do {
        redisReply *r = store_sync_command_argv(
            pl->ss, 5, (const char *[]){"SSCAN", set, cursor, "COUNT", "1000"}, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            snprintf(pl->err, pl->errsz, "Redis: SSCAN %s", store_sync_errstr(pl->ss));
            return -EIO;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        struct store_batch b;
        store_batch_init(&b, pl->ss);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            struct notif_msg m;
            if (notif_msg_make(&m, r->element[1]->element[i]->str, ref, type) == 0)
                enqueue(pl, &b, &m, pl->now, 1);
        }
        freeReplyObject(r);
        if (finish(pl, &b) < 0)
            return -EIO;
    } while (strcmp(cursor, "0"));
    return 0;
}

/* The ETA or public message changed: everyone told about this outage hears it. */
static int outage_update(struct plan *pl, const struct outage *o)
{
    char told_k[KEY], ref[KEY];
    key(pl, told_k, "notif:told:%s", o->id);
    snprintf(ref, sizeof ref, "%s#u%" PRIu32, o->id, o->seq);
    return enqueue_members(pl, told_k, ref, TEMPLATE_OUTAGE_UPDATED);
}

static int plan_outage(struct plan *pl, const struct outage *o)
{
    int changed = outage_ctx(pl, o);
    if (changed < 0)
        return -EIO;
    pl->st->noc_news = (changed & CTX_NOC) != 0;
    if (quiet_cause(o)) /* planned work: the window's own messages tell them */
        return 0;
    if (o->subscribers_added.n && outage_added(pl, o) < 0)
        return -EIO;
    if (o->subscribers_restored.n && outage_restored(pl, o) < 0)
        return -EIO;
    if ((changed & CTX_ETA) && o->phase == OUTAGE_UPDATED)
        return outage_update(pl, o);
    return 0;
}

/* ---- maintenance windows ---- */

static int window_ctx(struct plan *pl, const struct maintenance *w)
{
    char k[KEY], start[24], end[24], seq[16];
    key(pl, k, "notif:ctx:%s", w->id);
    snprintf(start, sizeof start, "%" PRId64, w->start_ms);
    snprintf(end, sizeof end, "%" PRId64, w->end_ms);
    snprintf(seq, sizeof seq, "%" PRIu32, w->seq);
    redisReply *r = store_sync_command_argv(
        pl->ss, 14,
        (const char *[]){"HSET", k, "kind", "window", "state", maint_phase_name(w->phase),
                         "start_ms", start, "end_ms", end, "message",
                         w->description ? w->description : "", "seq", seq},
        NULL);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    freeReplyObject(r);
    if (!ok)
        snprintf(pl->err, pl->errsz, "Redis: HSET window context: %s", store_sync_errstr(pl->ss));
    return ok ? 0 : -EIO;
}

/* Advance notices for one subscriber: each one still ahead, or (for a window scheduled at short
 * notice) a single one now. */
static void notices(struct plan *pl, struct store_batch *b, const struct maintenance *w,
                    const char *occ, const char *sub)
{
    int any = 0;
    for (size_t i = 0; i < pl->p->n_notices; i++) {
        int64_t due = w->start_ms - pl->p->notices_ms[i];
        if (due < pl->now)
            continue;
        char ref[KEY];
        snprintf(ref, sizeof ref, "%s#n%" PRId64, occ, pl->p->notices_ms[i] / 60000);
        struct notif_msg m;
        if (notif_msg_make(&m, sub, ref, TEMPLATE_MAINTENANCE_NOTICE) == 0)
            enqueue(pl, b, &m, due, 0); /* not NX: a rescheduled window moves them */
        any = 1;
    }
    if (!any && w->phase == MAINT_SCHEDULED && w->start_ms > pl->now && pl->p->n_notices) {
        char ref[KEY];
        snprintf(ref, sizeof ref, "%s#n0", occ);
        struct notif_msg m;
        if (notif_msg_make(&m, sub, ref, TEMPLATE_MAINTENANCE_NOTICE) == 0)
            enqueue(pl, b, &m, pl->now, 1);
    }
}

static enum template_type window_type(enum maint_phase ph)
{
    if (ph == MAINT_STARTED)
        return TEMPLATE_MAINTENANCE_STARTED;
    return ph == MAINT_ENDED ? TEMPLATE_MAINTENANCE_ENDED : TEMPLATE_MAINTENANCE_OVERRUN;
}

/* The subscribers the event carries: notices or the start message, and the audience set. */
static int window_listed(struct plan *pl, const struct maintenance *w, const char *occ)
{
    char aud[KEY];
    key(pl, aud, "notif:aud:%s", occ);
    struct store_batch b;
    store_batch_init(&b, pl->ss);
    for (size_t i = 0; i < w->subscribers.n; i++) {
        const char *sub = w->subscribers.ids[i];
        store_batch_add(&b, 3, (const char *[]){"SADD", aud, sub});
        if (w->phase == MAINT_STARTED) {
            struct notif_msg m;
            if (notif_msg_make(&m, sub, occ, TEMPLATE_MAINTENANCE_STARTED) == 0)
                enqueue(pl, &b, &m, pl->now, 1);
        } else {
            notices(pl, &b, w, occ, sub);
        }
    }
    store_batch_add(&b, 3, (const char *[]){"EXPIRE", aud, VARS_TTL});
    return finish(pl, &b);
}

/* End and overrun events carry no list: the occurrence's audience hears them. */
static int window_audience(struct plan *pl, const struct maintenance *w, const char *occ)
{
    char aud[KEY];
    key(pl, aud, "notif:aud:%s", occ);
    return enqueue_members(pl, aud, occ, window_type(w->phase));
}

static int plan_window(struct plan *pl, const struct maintenance *w)
{
    if (window_ctx(pl, w) < 0)
        return -EIO;
    char occ[KEY];
    snprintf(occ, sizeof occ, "%s@%" PRId64, w->id, w->start_ms);
    switch (w->phase) {
    case MAINT_SCHEDULED:
    case MAINT_UPDATED:
        return window_listed(pl, w, occ);
    case MAINT_STARTED: /* carries the set only when it changed since the notices */
    case MAINT_ENDED:
    case MAINT_OVERRUN:
        return w->subscribers.n ? window_listed(pl, w, occ) : window_audience(pl, w, occ);
    default: /* cancelled: the context says so and the dispatcher drops what is queued */
        return 0;
    }
}

/* ---- data caps ---- */

static int plan_threshold(struct plan *pl, const struct threshold *t)
{
    char ref[KEY], pct[16], used[24], cap[24], vars[KEY];
    snprintf(ref, sizeof ref, "%s#%" PRIu32, t->cycle, t->percent);
    struct notif_msg m;
    if (notif_msg_make(&m, t->subscriber, ref, TEMPLATE_USAGE_THRESHOLD) < 0) {
        snprintf(pl->err, pl->errsz, "threshold for '%s' cycle '%s': unusable id", t->subscriber,
                 t->cycle);
        return -EINVAL;
    }
    snprintf(pct, sizeof pct, "%" PRIu32, t->percent);
    snprintf(used, sizeof used, "%" PRIu64, t->used_octets);
    snprintf(cap, sizeof cap, "%" PRIu64, t->cap_octets);
    key(pl, vars, "notif:vars:%s", m.id);
    struct store_batch b;
    store_batch_init(&b, pl->ss);
    store_batch_add(&b, 8,
                    (const char *[]){"HSET", vars, "percent", pct, "used", used, "cap", cap});
    store_batch_add(&b, 3, (const char *[]){"EXPIRE", vars, VARS_TTL});
    enqueue(pl, &b, &m, pl->now, 1);
    return finish(pl, &b);
}

int notif_plan_event(struct store_sync *ss, const struct notif_policy *p, const struct event *ev,
                     int64_t now_ms, struct notif_plan_stats *st, char *err, size_t errsz)
{
    struct plan pl = {ss, p, ev, now_ms, st, err, errsz};
    switch (ev->type) {
    case EVENT_OUTAGE:
        if (!ev->u.outage.id || !*ev->u.outage.id || strchr(ev->u.outage.id, ':')) {
            snprintf(err, errsz, "outage id '%s' cannot name messages",
                     ev->u.outage.id ? ev->u.outage.id : "");
            return -EINVAL;
        }
        return plan_outage(&pl, &ev->u.outage);
    case EVENT_MAINTENANCE:
        if (!ev->u.maintenance.id || strchr(ev->u.maintenance.id, ':')) {
            snprintf(err, errsz, "window id cannot name messages");
            return -EINVAL;
        }
        return plan_window(&pl, &ev->u.maintenance);
    case EVENT_THRESHOLD:
        return plan_threshold(&pl, &ev->u.threshold);
    default:
        return 0;
    }
}
