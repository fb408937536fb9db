#include "notifier/dispatch.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/store_link.h"
#include "core/strmap.h"
#include "core/xmalloc.h"
#include "notifier/dispatch_impl.h"
#include "notifier/notif_store.h"
#include "notifier/sms_text.h"

#define IDLE_MS 1000  /* look for work from other instances this often */
#define HELD_MAX 4096 /* ids remembered as waiting for a busy channel (see fetch) */

void dispatch_qkey(struct store_sync *ss, int prio, char *buf, size_t bufsz)
{
    store_sync_key(ss, buf, bufsz, "notif:q:%d", prio);
}

static void round_in(struct dispatch *d, int64_t ms)
{
    if (d->stopped)
        return;
    if (!loop_timer_active(d->round_timer) || ms == 0)
        loop_timer_start(d->round_timer, ms < 0 ? 0 : ms, 0);
}

/* Sends channel ch could make now (0: paused, spent, out of tokens, or probing); *wait_ms
 * says when it may take one. */
static unsigned chan_avail(struct dchan *ch, int64_t now, int64_t *wait_ms)
{
    unsigned a = 0;
    int64_t broke = spend_wait_ms(&ch->spend, now);
    *wait_ms = IDLE_MS;
    if (now < ch->paused_until)
        *wait_ms = ch->paused_until - now;
    else if (broke) /* today's spend is used up: ask again in a minute, or tomorrow */
        *wait_ms = broke;
    else if (!(ch->streak && ch->inflight))
        a = rate_available(&ch->bucket, now, wait_ms);
    return a;
}

/* Is id held for a channel that still cannot take it? Others are forgotten: they compete
 * again, in queue order. */
static bool still_held(struct dispatch *d, const char *id, int64_t now)
{
    intptr_t ch = (intptr_t)strmap_get(d->held, id);
    int64_t w;
    if (!ch)
        return false;
    if (!chan_avail(&d->chans[ch - 1], now, &w))
        return true;
    strmap_remove(d->held, id);
    return false;
}

/* ---- fetch: due message ids, highest priority first ---- */

static size_t fetch(struct dispatch *d, struct store_sync *ss, int64_t now, size_t room,
                    struct cand *out, char *ver, size_t versz)
{
    char cur[DISPATCH_KEY], keys[NOTIF_PRIO_COUNT][DISPATCH_KEY], max[24], lim[24];
    store_sync_key(ss, cur, sizeof cur, "topo:%s", "current");
    snprintf(max, sizeof max, "%" PRId64, now);
    /* past what is in flight, and past what waits for a busy channel (a paused WhatsApp
     * must not keep the SMS behind it from going) */
    snprintf(lim, sizeof lim, "%zu", room + strmap_count(d->inflight) + strmap_count(d->held));
    struct store_batch b;
    store_batch_init(&b, ss);
    store_batch_add(&b, 2, (const char *[]){"GET", cur});
    for (int p = 0; p < NOTIF_PRIO_COUNT; p++) {
        dispatch_qkey(ss, p, keys[p], sizeof keys[p]);
        store_batch_add(&b, 8,
                        (const char *[]){"ZRANGEBYSCORE", keys[p], "-inf", max, "WITHSCORES",
                                         "LIMIT", "0", lim});
    }
    redisReply *r = store_batch_next(&b);
    snprintf(ver, versz, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    size_t n = 0;
    for (int p = 0; p < NOTIF_PRIO_COUNT; p++) {
        r = store_batch_next(&b);
        for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
            const char *id = r->element[i]->str;
            if (n == room || strmap_get(d->inflight, id) || still_held(d, id, now))
                continue;
            struct cand *c = &out[n];
            memset(c, 0, sizeof *c);
            if (notif_msg_parse(&c->m, id) < 0) {
                log_warn("notifier", "queue %d holds '%s', not a message id: dropped", p, id);
                store_batch_add(&b, 3, (const char *[]){"ZREM", keys[p], id}); /* read at end */
                continue;
            }
            c->prio = p;
            c->due = strtoll(r->element[i + 1]->str, NULL, 10);
            c->ch = -1;
            n++;
        }
        freeReplyObject(r);
    }
    return store_batch_end(&b) < 0 ? (size_t)-1 : n;
}

/* ---- load: everything the decision needs, one round trip ---- */

/* An outage's thousands of messages share one context: which candidate reads it for each
 * (itself, or an earlier one among the last 64 with the same base). Caller frees. */
static size_t *share_contexts(const struct cand *c, size_t n)
{
    size_t *ctx_of = xcalloc(n + 1, sizeof *ctx_of);
    for (size_t i = 0; i < n; i++) {
        ctx_of[i] = i;
        for (size_t j = i; j-- > 0 && j + 64 > i;)
            if (!strcmp(c[j].m.base, c[i].m.base)) {
                ctx_of[i] = ctx_of[j];
                break;
            }
    }
    return ctx_of;
}

/* Only restorations, usage messages and fallbacks carry variables of their own. */
static bool has_vars(const struct notif_msg *m)
{
    return m->type == TEMPLATE_RESTORED || m->type == TEMPLATE_USAGE_THRESHOLD ||
           strstr(m->ref, "#fb") != NULL;
}

static int load(struct store_sync *ss, struct cand *c, size_t n, const char *ver)
{
    char k[6][DISPATCH_KEY];
    struct store_batch b;
    store_batch_init(&b, ss);
    store_sync_key(ss, k[4], sizeof k[4], "notif:%s", "down");
    store_sync_key(ss, k[5], sizeof k[5], "notif:%s", "att");
    size_t *ctx_of = share_contexts(c, n);
    for (size_t i = 0; i < n; i++) {
        store_sync_key(ss, k[0], sizeof k[0], "notif:ctx:%s", c[i].m.base);
        store_sync_key(ss, k[1], sizeof k[1], "notif:vars:%s", c[i].m.id);
        store_sync_key(ss, k[2], sizeof k[2], "topo:%s:sub:%s", ver, c[i].m.sub);
        store_sync_key(ss, k[3], sizeof k[3], "notif:%s", c[i].m.id);
        if (ctx_of[i] == i)
            store_batch_add(&b, 2, (const char *[]){"HGETALL", k[0]});
        if (has_vars(&c[i].m))
            store_batch_add(&b, 2, (const char *[]){"HGETALL", k[1]});
        store_batch_add(&b, 2, (const char *[]){"HGETALL", k[2]});
        store_batch_add(&b, 2, (const char *[]){"GET", k[3]});
        if (notif_msg_prio(c[i].m.type) == NOTIF_PRIO_OUTAGE)
            store_batch_add(&b, 3, (const char *[]){"HGET", k[4], c[i].m.sub});
        store_batch_add(&b, 3, (const char *[]){"HGET", k[5], c[i].m.id});
    }
    for (size_t i = 0; i < n; i++) {
        if (ctx_of[i] == i)
            c[i].ctx = store_batch_next(&b);
        else
            c[i].ctx_shared = c[ctx_of[i]].ctx;
        if (has_vars(&c[i].m))
            c[i].vars = store_batch_next(&b);
        c[i].sub = store_batch_next(&b);
        c[i].rec = store_batch_next(&b);
        if (notif_msg_prio(c[i].m.type) == NOTIF_PRIO_OUTAGE)
            c[i].down = store_batch_next(&b);
        c[i].att = store_batch_next(&b);
        if (!c[i].ctx)
            c[i].ctx = c[i].ctx_shared;
    }
    free(ctx_of);
    return store_batch_end(&b);
}

/* The told record of a restoration, the opt-out key of a phone: a second round trip. */
static int extras(struct dispatch *d, struct store_sync *ss, struct cand *c, size_t n)
{
    char rec[DISPATCH_KEY], optout[DISPATCH_KEY];
    struct store_batch b;
    store_batch_init(&b, ss);
    unsigned char *want = xcalloc(n + 1, 1); /* 1: rec, 2: optout */
    for (size_t i = 0; i < n; i++) {
        dispatch_extra_keys(ss, &c[i], rec, optout, sizeof rec);
        if (rec[0])
            store_batch_add(&b, 2, (const char *[]){"GET", rec});
        if (optout[0])
            store_batch_add(&b, 2, (const char *[]){"EXISTS", optout});
        want[i] = (unsigned char)((rec[0] ? 1 : 0) | (optout[0] ? 2 : 0));
    }
    for (size_t i = 0; i < n; i++) {
        if (want[i] & 1)
            c[i].extra = store_batch_next(&b);
        if (want[i] & 2)
            c[i].optout = store_batch_next(&b);
    }
    free(want);
    int rc = store_batch_end(&b);
    for (size_t i = 0; rc == 0 && i < n; i++)
        dispatch_decide_extra(d, &c[i]);
    return rc;
}

/* ---- spend: capped channels reserve this round's sends in Redis, and give back the rest ---- */

static bool capped(const struct dchan *ch)
{
    return ch->cfg->daily_cap > 0 && ch->cfg->cost > 0;
}

/* Up to n sends on each capped channel (n candidates could all pick it). */
static int spend_reserve(struct dispatch *d, struct store_sync *ss, size_t n, int64_t now)
{
    struct store_batch b;
    store_batch_init(&b, ss);
    for (size_t i = 0; i < d->cfg.n_channels; i++)
        if (capped(&d->chans[i]) && !spend_wait_ms(&d->chans[i].spend, now))
            notif_store_spend_reserve_add(&b, d->chans[i].cfg->ch->name, now, d->chans[i].cfg->cost,
                                          d->chans[i].cfg->daily_cap, (unsigned)n);
    for (size_t i = 0; i < d->cfg.n_channels; i++) {
        struct dchan *ch = &d->chans[i];
        if (!capped(ch) || spend_wait_ms(&ch->spend, now))
            continue;
        redisReply *r = store_batch_next(&b);
        bool read = r && r->type == REDIS_REPLY_INTEGER; /* else no answer: not a spent cap */
        unsigned got = read && r->integer > 0 ? (unsigned)r->integer : 0;
        if (r)
            freeReplyObject(r);
        if (!read) {
            if (r)
                log_warn("notifier", "channel %s: spend reservation refused by Redis",
                         ch->cfg->ch->name);
            continue; /* nothing reserved: this round sends nothing on it */
        }
        if (spend_grant(&ch->spend, got, (unsigned)n, now))
            log_warn("notifier",
                     "channel %s: today's spend cap (%g) is used up; nothing more on it "
                     "until 00:00 UTC (or what another instance gives back)",
                     ch->cfg->ch->name, ch->cfg->daily_cap);
    }
    return store_batch_end(&b);
}

/* What the round reserved and did not use goes back for the next round or instance. */
static int spend_give_back(struct dispatch *d, struct store_sync *ss, int64_t now)
{
    struct store_batch b;
    store_batch_init(&b, ss);
    for (size_t i = 0; i < d->cfg.n_channels; i++) {
        unsigned left = spend_return(&d->chans[i].spend);
        if (left)
            notif_store_spend_return_add(&b, d->chans[i].cfg->ch->name, now,
                                         left * d->chans[i].cfg->cost);
    }
    return store_batch_end(&b);
}

static void cand_free(struct cand *c)
{
    redisReply *r[] = {c->ctx_shared ? NULL : c->ctx,
                       c->vars,
                       c->sub,
                       c->rec,
                       c->down,
                       c->att,
                       c->extra,
                       c->optout};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (r[i])
            freeReplyObject(r[i]);
    free(c->phone);
}

/* ---- apply: one batch of queue moves, records and claims ---- */

/* Never to be sent: the record, the queue entry and the dead letter in one script, which
 * does nothing when another instance holds the message (see apply). */
static void record_final(struct dispatch *d, struct store_batch *b, struct cand *c, const char *qk)
{
    const char *chname = c->ch >= 0 ? d->chans[c->ch].cfg->ch->name : NULL;
    bool dead = c->act == DACT_DEAD;
    char *letter = dead ? dispatch_dead_json(&c->m, chname, c->why, c->attempts) : NULL;
    const char *old = c->rec && c->rec->type == REDIS_REPLY_STRING ? c->rec->str : NULL;
    notif_store_final_add(b, c->m.id, old, dead ? "dead" : "opted-out", chname, c->why,
                          d->cfg.policy->record_ttl_s, qk, letter, DISPATCH_DEAD_KEEP);
    free(letter);
}

/* An outage message settled elsewhere (a delivery report resolved the claim of an instance
 * that died before writing the outcome): what its send implies, the subscriber is told and
 * hears the outage's updates. Idempotent, as the outcome's own write may have done it. */
static void told_again(struct store_batch *b, const struct cand *c)
{
    const char *mk = c->down && c->down->type == REDIS_REPLY_STRING ? c->down->str : NULL;
    char cur[DISPATCH_KEY];
    if (c->m.type != TEMPLATE_OUTAGE_OPENED || !mk || !dispatch_told_ok(c->rec))
        return; /* (the type first: no record parsed for other messages) */
    notif_plan_marker_current(mk, cur, sizeof cur);
    dispatch_told(b, &c->m, cur);
}

static void apply_one(struct dispatch *d, struct store_batch *b, struct cand *c, const char *qk)
{
    char score[24];
    switch (c->act) {
    case DACT_SEND:
        notif_store_claim_add(b, c->m.id, d->chans[c->ch].cfg->ch->name, d->owner,
                              d->cfg.policy->record_ttl_s);
        return;
    case DACT_TAKEOVER:
        notif_store_takeover_add(b, c->m.id, c->rec->str, d->chans[c->ch].cfg->ch->name, d->owner);
        return;
    case DACT_WAIT:
    case DACT_DEFER:
        snprintf(score, sizeof score, "%" PRId64, c->until);
        store_batch_add(b, 5, (const char *[]){"ZADD", qk, "XX", score, c->m.id});
        d->st.deferred += c->act == DACT_DEFER;
        return;
    case DACT_HOLD:
        return;
    case DACT_OPTOUT:
    case DACT_DEAD:
        record_final(d, b, c, qk);
        return;
    case DACT_DROP:
        d->st.dropped++;
        break;
    case DACT_DONE:
        told_again(b, c);
        break;
    }
    store_batch_add(b, 3, (const char *[]){"ZREM", qk, c->m.id});
}

/* The text of c: rendered, and for SMS fitted into sms_max_segments parts. Returns 0, -ENOENT
 * (no template), -EINVAL (bad values) or -EMSGSIZE (too long, and the policy rejects). */
static int text_of(struct dispatch *d, struct cand *c, char **text)
{
    struct notif_render_in in = {&c->m, {c->sub}, {c->ctx}, {c->vars}};
    *text = NULL;
    int rc = notif_render(d->cfg.tf, &in, text);
    if (rc < 0 || strcmp(d->chans[c->ch].cfg->cls, "sms") || !d->cfg.sms_max_segments)
        return rc;
    char *fit = NULL, err[128];
    rc = sms_text_fit(*text, d->cfg.sms_max_segments,
                      d->cfg.sms_reject ? SMS_FIT_REJECT : SMS_FIT_TRUNCATE, &fit, NULL, err,
                      sizeof err);
    free(*text);
    *text = fit;
    return rc;
}

static const char *why_not(int rc)
{
    if (rc == -ENOENT)
        return "no template for this message type";
    return rc == -EMSGSIZE ? "longer than sms_max_segments SMS parts"
                           : "the channel cannot carry this message";
}

static void send_one(struct dispatch *d, struct cand *c)
{
    char *text = NULL;
    int rc = text_of(d, c, &text);
    struct flight *f = xcalloc(1, sizeof *f);
    f->d = d, f->prio = c->prio, f->ch = c->ch, f->due = c->due;
    notif_msg_parse(&f->m, c->m.id); /* its parts point into its own buffer */
    f->attempts = c->attempts;
    struct dchan *ch = &d->chans[c->ch];
    f->counted = ch->streak == 0;
    const char *mk = c->down && c->down->type == REDIS_REPLY_STRING ? c->down->str : NULL;
    notif_plan_marker_current(mk, f->cur, sizeof f->cur);
    strmap_put(d->inflight, f->m.id, f);
    ch->inflight++;
    struct channel_msg msg = {.id = f->m.id,
                              .to = c->addr,
                              .text = text,
                              .locale = notif_hash_get((struct notif_hash){c->sub}, "locale"),
                              .type = template_type_name(f->m.type)};
    if (rc == 0)
        rc = channel_send(ch->cfg->ch, &msg, dispatch_result, f);
    free(text);
    if (rc < 0) { /* the channel cannot carry it (or no template): permanent */
        struct channel_result r = {.status = CHANNEL_FAILED, .error = why_not(rc)};
        dispatch_result(f, &r);
    }
}

static bool granted(const struct cand *c, const redisReply *r)
{
    if (!r)
        return false;
    if (c->act == DACT_SEND)
        return r->type == REDIS_REPLY_STATUS; /* OK; nil: someone else has it */
    return r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

/* A dead or opted-out message's record is written: count, log and publish its outcome. */
static void finished(struct dispatch *d, const struct cand *c)
{
    bool dead = c->act == DACT_DEAD;
    const char *chname = c->ch >= 0 ? d->chans[c->ch].cfg->ch->name : NULL;
    dead ? d->st.dead++ : d->st.opted_out++;
    if (dead)
        log_warn("notifier", "dead letter %s: %s", template_type_name(c->m.type), c->why);
    if (d->cfg.outcome)
        d->cfg.outcome(d->cfg.outcome_arg, c->m.id, dead ? "dead" : "opted-out", chname, NULL,
                       c->why, c->attempts);
}

/* Queue every candidate's commands, then read the replies in the same order (each candidate's
 * first reply is its claim when it has one) and send the ones whose claim was granted. */
static int apply(struct dispatch *d, struct store_sync *ss, struct cand *c, size_t n)
{
    char qk[NOTIF_PRIO_COUNT][DISPATCH_KEY];
    for (int p = 0; p < NOTIF_PRIO_COUNT; p++)
        dispatch_qkey(ss, p, qk[p], sizeof qk[p]);
    size_t *cmds = xcalloc(n + 1, sizeof *cmds);
    struct store_batch b;
    store_batch_init(&b, ss);
    for (size_t i = 0; i < n; i++) {
        size_t before = b.pending;
        apply_one(d, &b, &c[i], qk[c[i].prio]);
        cmds[i] = b.pending - before;
    }
    bool *final = xcalloc(n + 1, sizeof *final); /* its record written: it is over */
    for (size_t i = 0; i < n && !b.failed; i++) {
        for (size_t k = 0; k < cmds[i]; k++) {
            redisReply *r = store_batch_next(&b);
            bool claim = k == 0 && (c[i].act == DACT_SEND || c[i].act == DACT_TAKEOVER);
            bool got = claim && granted(&c[i], r);
            if (k == 0 && (c[i].act == DACT_DEAD || c[i].act == DACT_OPTOUT))
                final[i] = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
            if (r)
                freeReplyObject(r);
            if (b.failed)
                break; /* the claim is not confirmed: send nothing */
            if (got && c[i].act == DACT_TAKEOVER) {
                log_info("notifier", "took over %s: claimed by a dead instance, no receipt",
                         template_type_name(c[i].m.type));
                d->st.takeovers++;
            }
            if (got)
                send_one(d, &c[i]);
        }
    }
    free(cmds);
    int rc = store_batch_end(&b);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (final[i])
            finished(d, &c[i]);
    free(final);
    return rc;
}

/* Sends the channels could make now (tokens, not paused, one probe at a time while one
 * recovers); *wait_ms says when the next is possible when it is 0. With no channel at all,
 * room: every message then goes to the dead letters with its reason. */
static size_t capacity(struct dispatch *d, int64_t now, size_t room, int64_t *wait_ms)
{
    size_t n = 0;
    int64_t wait = IDLE_MS;
    if (!d->cfg.n_channels)
        return room;
    for (size_t i = 0; i < d->cfg.n_channels; i++) {
        int64_t w;
        unsigned a = chan_avail(&d->chans[i], now, &w);
        n += a;
        if (!a && w < wait)
            wait = w;
    }
    *wait_ms = wait < 1 ? 1 : wait;
    return n;
}

/* What a round did: how many were due, how many waited for their channel, and of those how
 * many are newly remembered as waiting (so the next round looks past them). */
struct round_out {
    size_t n, held, remembered;
};

/* Remember that c waits for its channel, so the next rounds look past it while the channel
 * stays busy (bounded: beyond HELD_MAX the queue order simply applies). */
static void hold(struct dispatch *d, const struct cand *c, struct round_out *out)
{
    out->held++;
    if (c->ch < 0 || strmap_count(d->held) >= HELD_MAX || strmap_get(d->held, c->m.id))
        return;
    strmap_put(d->held, c->m.id, (void *)(intptr_t)(c->ch + 1));
    out->remembered++;
}

/* One round over room candidates: fetch, load, decide, look up extras, apply. Returns 0 or
 * -EIO, and what it did in *out. */
static int run(struct dispatch *d, struct store_sync *ss, size_t room, int64_t now,
               struct round_out *out)
{
    for (size_t i = 0; i < d->cfg.n_channels; i++)
        d->chans[i].blocked = false;
    struct cand *c = xcalloc(room, sizeof *c);
    char ver[64];
    size_t n = fetch(d, ss, now, room, c, ver, sizeof ver);
    int rc = n == (size_t)-1 ? -EIO : 0;
    if (rc < 0)
        n = 0;
    if (rc == 0 && n)
        rc = spend_reserve(d, ss, n, now);
    if (rc == 0 && n)
        rc = load(ss, c, n, ver);
    for (size_t i = 0; rc == 0 && i < n; i++)
        dispatch_decide(d, &c[i], now);
    if (rc == 0 && n)
        rc = extras(d, ss, c, n);
    if (rc == 0 && n)
        rc = apply(d, ss, c, n);
    if (rc == 0 && n)
        rc = spend_give_back(d, ss, now);
    for (size_t i = 0; rc < 0 && i < d->cfg.n_channels; i++)
        spend_return(
            &d->chans[i].spend); /* lost with the connection: spent too little, never more */
    *out = (struct round_out){.n = n};
    for (size_t i = 0; i < n; i++) {
        if (c[i].act == DACT_HOLD)
            hold(d, &c[i], out);
        cand_free(&c[i]);
    }
    free(c);
    return rc;
}

/* Nothing waits for a busy channel: forget what was held (sent by another instance since,
 * or gone from the queue), so the map cannot fill with stale ids. */
static void held_prune(struct dispatch *d, int64_t now)
{
    int64_t w;
    if (!strmap_count(d->held))
        return;
    for (size_t i = 0; i < d->cfg.n_channels; i++)
        if (!chan_avail(&d->chans[i], now, &w))
            return;
    strmap_free(d->held, NULL);
    d->held = strmap_new();
}

/* Free slots for sends, at most a batch. */
static size_t room_left(const struct dispatch *d)
{
    size_t busy = strmap_count(d->inflight);
    size_t room = d->cfg.max_inflight > busy ? d->cfg.max_inflight - busy : 0;
    return (size_t)d->cfg.policy->batch < room ? (size_t)d->cfg.policy->batch : room;
}

static void round_cb(void *arg)
{
    struct dispatch *d = arg;
    if (d->stopped)
        return;
    struct store_sync *ss = store_link_get(d->cfg.db);
    if (!ss) {
        round_in(d, IDLE_MS);
        return;
    }
    d->st.rounds++;
    size_t room = room_left(d);
    if (!room)
        return; /* results kick the next round */
    int64_t now = loop_wall_ms(), wait = IDLE_MS;
    size_t cap = capacity(d, now, room, &wait);
    if (!cap) { /* no Redis work until a channel can take one */
        round_in(d, wait);
        return;
    }
    room = cap < room ? cap : room;
    held_prune(d, now);
    struct round_out out;
    if (run(d, ss, room, now, &out) < 0) {
        store_link_failed(d->cfg.db, store_sync_errstr(ss));
        round_in(d, IDLE_MS);
        return;
    }
    /* a full round may have more behind it, unless it only met messages waiting for a busy
     * channel that it could not set aside (a round again would meet the same ones); what waits
     * goes when its channel can take it */
    bool stuck = out.held == out.n && !out.remembered;
    if (out.n == room && !stuck)
        round_in(d, 0);
    else if (out.held || strmap_count(d->held))
        round_in(d, capacity(d, loop_wall_ms(), room, &wait) && !stuck ? 1 : wait);
    else
        round_in(d, IDLE_MS);
}

/* ---- life cycle ---- */

struct dispatch *dispatch_new(struct loop *loop, const struct dispatch_config *cfg)
{
    struct dispatch *d = xcalloc(1, sizeof *d);
    d->loop = loop;
    d->cfg = *cfg;
    if (!d->cfg.max_inflight)
        d->cfg.max_inflight = 256;
    int64_t now = loop_wall_ms();
    d->chans = xcalloc(cfg->n_channels + 1, sizeof *d->chans);
    for (size_t i = 0; i < cfg->n_channels; i++) {
        const struct dispatch_channel *dc = &cfg->channels[i];
        d->chans[i].cfg = dc;
        /* paced at 99 % of the configured rate: the gateway sees each request after a
         * varying delay (libcurl's queue, the kernel, its own accept), and 1 % is 10 ms of
         * slack in every second for that jitter, so no second of its log exceeds rate + burst */
        rate_init(&d->chans[i].bucket, dc->rate > 0 ? dc->rate * 0.99 : 1e9,
                  (double)(dc->burst > 0 ? dc->burst : 1), now);
        spend_init(&d->chans[i].spend, dc->cost > 0 ? dc->daily_cap : 0); /* free: no cap */
    }
    d->inflight = strmap_new();
    d->held = strmap_new();
    d->round_timer = loop_timer_new(loop, round_cb, d);
    d->flush_timer = loop_timer_new(loop, dispatch_flush, d);
    snprintf(d->owner, sizeof d->owner, "%ld-%" PRId64, (long)getpid(), now);
    /* instances must not pause in step after a shared gateway failure */
    uint64_t seed = (uint64_t)now ^ ((uint64_t)getpid() << 20);
    for (int i = 0; i < 3; i++)
        d->rng[i] = (unsigned short)(seed >> (16 * i));
    round_in(d, 0);
    return d;
}

void dispatch_kick(struct dispatch *d)
{
    round_in(d, 0);
}

void dispatch_stop(struct dispatch *d)
{
    d->stopped = true;
    loop_timer_stop(d->round_timer);
}

size_t dispatch_inflight(const struct dispatch *d)
{
    return strmap_count(d->inflight);
}

void dispatch_get_stats(const struct dispatch *d, struct dispatch_stats *out)
{
    *out = d->st;
}

static void flight_free(void *p)
{
    struct flight *f = p;
    free(f->provider_id);
    free(f->error);
    free(f);
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    loop_timer_free(d->round_timer);
    loop_timer_free(d->flush_timer);
    d->results = NULL;
    strmap_free(d->inflight, flight_free);
    strmap_free(d->held, NULL);
    free(d->chans);
    free(d);
}
