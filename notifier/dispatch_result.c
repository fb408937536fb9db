/* Outcomes of sends: written over their claims in one batch per loop iteration, then the
 * queue entry goes; transient failures pause the channel and leave the message queued. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/store_link.h"
#include "core/strmap.h"
#include "core/xmalloc.h"
#include "notifier/dispatch_impl.h"
#include "notifier/notif_store.h"

#define RETRY_FLUSH_MS 1000

char *dispatch_dead_json(const struct notif_msg *m, const char *channel, const char *reason,
                         int attempts)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "id", m->id, "type",
                  template_type_name(m->type), "reason", reason ? reason : "?", "channel",
                  channel ? channel : "", "attempts", attempts, "ts", (json_int_t)loop_wall_ms());
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        abort(); /* OOM only */
    return s;
}

void dispatch_dead_letter(struct store_batch *b, const struct notif_msg *m, const char *channel,
                          const char *reason, int attempts)
{
    char k[DISPATCH_KEY], keep[24];
    store_sync_key(b->ss, k, sizeof k, "notif:%s", "dead");
    snprintf(keep, sizeof keep, "%d", DISPATCH_DEAD_KEEP);
    char *s = dispatch_dead_json(m, channel, reason, attempts);
    store_batch_add(b, 3, (const char *[]){"LPUSH", k, s});
    store_batch_add(b, 4, (const char *[]){"LTRIM", k, "0", keep});
    free(s);
    log_warn("notifier", "dead letter %s: %s", template_type_name(m->type), reason ? reason : "?");
}

/* Exponential with jitter: half the step plus a random part of the other half. */
static int64_t backoff(struct dispatch *d, int streak)
{
    const struct notif_policy *p = d->cfg.policy;
    int64_t step = p->retry_min_ms;
    for (int i = 1; i < streak && step < p->retry_max_ms; i++)
        step *= 2;
    if (step > p->retry_max_ms)
        step = p->retry_max_ms;
    return step / 2 + (int64_t)(erand48(d->rng) * (double)(step - step / 2));
}

static void channel_outcome(struct dispatch *d, struct flight *f)
{
    struct dchan *ch = &d->chans[f->ch];
    if (ch->inflight)
        ch->inflight--;
    if (f->status != CHANNEL_RETRY) {
        if (ch->streak)
            log_info("notifier", "channel %s: sending again", ch->cfg->ch->name);
        ch->streak = 0;
        return;
    }
    ch->streak++;
    int64_t pause = backoff(d, ch->streak);
    if (f->retry_after_ms > pause)
        pause = f->retry_after_ms;
    ch->paused_until = loop_wall_ms() + pause;
    log_warn("notifier", "channel %s: %s; paused %" PRId64 " ms", ch->cfg->ch->name,
             f->error ? f->error : "transient failure", pause);
}

void dispatch_result(void *arg, const struct channel_result *r)
{
    struct flight *f = arg;
    struct dispatch *d = f->d;
    f->done = true;
    f->status = r->status;
    f->provider_id = r->provider_id ? xstrdup(r->provider_id) : NULL;
    f->error = r->error ? xstrdup(r->error) : NULL;
    f->retry_after_ms = r->retry_after_ms;
    channel_outcome(d, f);
    f->next = d->results;
    d->results = f;
    if (!loop_timer_active(d->flush_timer))
        loop_timer_start(d->flush_timer, 0, 0);
}

/* What a send that got there implies: the subscriber is now told about their outage. */
void dispatch_told(struct store_batch *b, const struct notif_msg *m, const char *outage)
{
    char k[DISPATCH_KEY];
    if (m->type != TEMPLATE_OUTAGE_OPENED || !outage[0])
        return;
    store_sync_key(b->ss, k, sizeof k, "notif:told:%s", outage);
    store_batch_add(b, 3, (const char *[]){"SADD", k, m->sub});
}

/* The same message on the fallback channel, due fallback_after from now; it goes only if this
 * one has no delivery report by then. One level: a fallback has no fallback. */
static void fallback(struct dispatch *d, struct store_batch *b, const struct flight *f)
{
    const struct dispatch_channel *dc = d->chans[f->ch].cfg;
    if (dc->fallback < 0 || strstr(f->m.ref, "#fb"))
        return;
    char ref[DISPATCH_KEY], qk[DISPATCH_KEY], vars[DISPATCH_KEY], own[DISPATCH_KEY], due[24];
    snprintf(ref, sizeof ref, "%s#fb", f->m.ref);
    struct notif_msg m;
    if (notif_msg_make(&m, f->m.sub, ref, f->m.type) < 0)
        return;
    dispatch_qkey(b->ss, f->prio, qk, sizeof qk);
    store_sync_key(b->ss, vars, sizeof vars, "notif:vars:%s", m.id);
    snprintf(due, sizeof due, "%" PRId64, loop_wall_ms() + dc->fallback_after_ms);
    store_sync_key(b->ss, own, sizeof own, "notif:vars:%s", f->m.id);
    const char *via = d->chans[dc->fallback].cfg->ch->name;
    /* the same message: a usage message's figures, a restoration's outage come along */
    store_batch_add(b, 3, (const char *[]){"COPY", own, vars});
    store_batch_add(b, 6, (const char *[]){"HSET", vars, "after", f->m.id, "via", via});
    store_batch_add(b, 3, (const char *[]){"EXPIRE", vars, "3456000"});
    store_batch_add(b, 5, (const char *[]){"ZADD", qk, "NX", due, m.id});
}

static void write_one(struct dispatch *d, struct store_batch *b, struct flight *f)
{
    char qk[DISPATCH_KEY], att[DISPATCH_KEY], n[16];
    dispatch_qkey(b->ss, f->prio, qk, sizeof qk);
    store_sync_key(b->ss, att, sizeof att, "notif:%s", "att");
    const char *chname = d->chans[f->ch].cfg->ch->name;
    int attempts = f->attempts + (f->counted ? 1 : 0);
    bool expired = loop_wall_ms() - f->due > d->cfg.policy->max_age_ms;
    if (f->status == CHANNEL_RETRY && attempts < d->cfg.policy->max_attempts && !expired) {
        notif_store_release_add(b, f->m.id, d->owner);
        snprintf(n, sizeof n, "%d", attempts);
        store_batch_add(b, 4, (const char *[]){"HSET", att, f->m.id, n});
        d->st.retries++;
        return;
    }
    if (f->status == CHANNEL_SENT || f->status == CHANNEL_QUEUED) {
        notif_store_settle_add(b, f->m.id, channel_status_name(f->status), chname, f->provider_id,
                               NULL);
        dispatch_told(b, &f->m, f->cur);
        fallback(d, b, f);
        f->status == CHANNEL_SENT ? d->st.sent++ : d->st.queued++;
        f->final = channel_status_name(f->status);
        f->attempts_final = attempts;
    } else {
        const char *why = f->status == CHANNEL_RETRY
                              ? (expired ? "not sent within max_age" : "too many attempts")
                          : f->error ? f->error
                                     : "refused";
        notif_store_settle_add(b, f->m.id, "dead", chname, NULL, why);
        dispatch_dead_letter(b, &f->m, chname, why, attempts);
        d->st.dead++;
        f->final = "dead";
        f->attempts_final = attempts;
        if (why != f->error) { /* keep the reason for the outcome event */
            free(f->error);
            f->error = xstrdup(why);
        }
    }
    if (f->attempts > 0) /* the count exists only after a failure */
        store_batch_add(b, 3, (const char *[]){"HDEL", att, f->m.id});
    store_batch_add(b, 3, (const char *[]){"ZREM", qk, f->m.id});
}

void dispatch_flush(void *arg)
{
    struct dispatch *d = arg;
    if (!d->results)
        return;
    struct store_sync *ss = store_link_get(d->cfg.db);
    if (!ss) { /* the outcomes wait (claims stay "sending"); nothing new is sent meanwhile */
        loop_timer_start(d->flush_timer, RETRY_FLUSH_MS, 0);
        return;
    }
    struct store_batch b;
    store_batch_init(&b, ss);
    for (struct flight *f = d->results; f; f = f->next)
        write_one(d, &b, f);
    if (store_batch_end(&b) < 0) {
        store_link_failed(d->cfg.db, store_sync_errstr(ss));
        loop_timer_start(d->flush_timer, RETRY_FLUSH_MS, 0);
        return;
    }
    for (struct flight *f = d->results, *next; f; f = next) {
        next = f->next;
        if (f->final && d->cfg.outcome)
            d->cfg.outcome(d->cfg.outcome_arg, f->m.id, f->final, d->chans[f->ch].cfg->ch->name,
                           f->provider_id, f->status == CHANNEL_SENT ? NULL : f->error,
                           f->attempts_final);
        strmap_remove(d->inflight, f->m.id);
        free(f->provider_id);
        free(f->error);
        free(f);
    }
    d->results = NULL;
    if (!d->stopped)
        loop_timer_start(d->round_timer, 0, 0);
}
