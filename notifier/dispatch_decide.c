/* What to do with one due message, from what round loaded: its context, its subscriber, its
 * idempotency record, the subscriber's down marker and the channel's state. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "notifier/dispatch_impl.h"
#include "notifier/notif_store.h"
#include "notifier/quiet.h"

static const char *str(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static const char *ctx(const struct cand *c, const char *f)
{
    return notif_hash_get((struct notif_hash){c->ctx}, f);
}

static const char *sub(const struct cand *c, const char *f)
{
    return notif_hash_get((struct notif_hash){c->sub}, f);
}

static bool is_outage_type(enum template_type t)
{
    return t == TEMPLATE_OUTAGE_OPENED || t == TEMPLATE_OUTAGE_UPDATED || t == TEMPLATE_RESTORED;
}

/* The occurrence start in a window ref "w@START[#...]", 0 when absent. */
static int64_t occurrence_start(const char *ref)
{
    const char *at = strchr(ref, '@');
    return at ? strtoll(at + 1, NULL, 10) : 0;
}

/* Is the message still worth sending? NULL when it is, else why not. */
static const char *stale(const struct cand *c, int64_t now)
{
    const char *state = ctx(c, "state");
    const char *down = str(c->down);
    switch (c->m.type) {
    case TEMPLATE_OUTAGE_OPENED: { /* still down, and this is the message that tells them */
        const char *bar = down ? strchr(down, '|') : NULL;
        return bar && !strcmp(bar + 1, c->m.base) ? NULL : "service came back first";
    }
    case TEMPLATE_OUTAGE_UPDATED:
        return state && !strcmp(state, "active") ? NULL : "outage over";
    case TEMPLATE_RESTORED:
        return NULL; /* decided with the told record (extra) */
    case TEMPLATE_USAGE_THRESHOLD:
        return NULL;
    case TEMPLATE_MAINTENANCE_NOTICE: {
        int64_t start = occurrence_start(c->m.ref);
        if (state && !strcmp(state, "cancelled"))
            return "window cancelled";
        if (start && strtoll(ctx(c, "start_ms") ? ctx(c, "start_ms") : "0", NULL, 10) != start)
            return "window moved";
        return start && now >= start ? "window already started" : NULL;
    }
    default:
        return state && !strcmp(state, "cancelled") ? "window cancelled" : NULL;
    }
}

/* The first phone of a subscriber's JSON array, e.g. ["+5511999990001"], or NULL. */
static char *first_phone(const char *json)
{
    const char *a = json ? strchr(json, '"') : NULL;
    const char *b = a ? strchr(a + 1, '"') : NULL;
    return b && b > a + 1 ? xstrndup(a + 1, (size_t)(b - a - 1)) : NULL;
}

static const char *var(const struct cand *c, const char *f)
{
    return notif_hash_get((struct notif_hash){c->vars}, f);
}

/* The fallback of a message names its channel ("via"); otherwise the subscriber's
 * preferences ("whatsapp,sms"; none means "sms") decide, with an address for the channel. */
static void pick_channel(struct dispatch *d, struct cand *c)
{
    const char *via = var(c, "via");
    const char *prefs = sub(c, "channels");
    char buf[128];
    for (size_t i = 0; via && i < d->cfg.n_channels; i++)
        if (!strcmp(d->chans[i].cfg->ch->name, via))
            via = d->chans[i].cfg->cls;
    snprintf(buf, sizeof buf, "%s", via ? via : prefs && *prefs ? prefs : "sms");
    char *save = NULL;
    for (char *p = strtok_r(buf, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        const char *addr = NULL;
        if (!strcmp(p, "telegram"))
            addr = sub(c, "telegram");
        else if (!c->phone && (c->phone = first_phone(sub(c, "phones"))) != NULL)
            addr = c->phone;
        else
            addr = c->phone;
        if (!addr || !*addr)
            continue;
        for (size_t i = 0; i < d->cfg.n_channels; i++)
            if (!strcmp(d->chans[i].cfg->cls, p)) {
                c->ch = (int)i;
                c->addr = addr;
                return;
            }
    }
}

static int quiet_min(const char *s, int *start, int *end)
{
    int h1, m1, h2, m2;
    if (!s || sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4)
        return -1;
    *start = h1 * 60 + m1;
    *end = h2 * 60 + m2;
    return 0;
}

/* The channel can take one more now? Takes the token and the spend when it can. */
static bool channel_takes(struct dchan *ch, int64_t now)
{
    if (ch->blocked || now < ch->paused_until || (ch->streak && ch->inflight))
        return false;
    if (rate_take(&ch->bucket, now) > 0) {
        ch->blocked = true;
        return false;
    }
    if (spend_take(&ch->spend) < 0) {
        ch->blocked = true;
        return false;
    }
    if (ch->streak) /* recovering: one probe, and nothing more until its answer */
        ch->blocked = true;
    return true;
}

/* A claim that exists: done, someone's send in flight, or a dead instance's leftover. */
static void claimed(struct dispatch *d, struct cand *c, int64_t now)
{
    struct notif_record rec;
    if (notif_store_parse(c->rec->str, c->rec->len, &rec) < 0 || strcmp(rec.status, "sending")) {
        c->act = DACT_DONE;
        notif_record_deinit(&rec);
        return;
    }
    int64_t stale_at = rec.ts_ms + d->cfg.policy->inflight_grace_ms;
    bool mine = rec.owner && !strcmp(rec.owner, d->owner);
    notif_record_deinit(&rec);
    if (!mine && now < stale_at) { /* another instance's, still young */
        c->act = DACT_WAIT;
        c->until = stale_at + 1000;
        return;
    }
    /* no delivery report within the grace: it never got there. Or ours, yet not in flight
     * (fetch skips those): the reply to the claim was lost, and nothing was sent */
    c->act = DACT_TAKEOVER;
}

void dispatch_decide(struct dispatch *d, struct cand *c, int64_t now)
{
    const struct notif_policy *p = d->cfg.policy;
    c->attempts = str(c->att) ? atoi(str(c->att)) : 0;
    c->act = DACT_SEND;
    if (str(c->rec)) {
        claimed(d, c, now);
        if (c->act != DACT_TAKEOVER)
            return;
    }
    if ((c->why = stale(c, now)) != NULL) {
        c->act = DACT_DROP;
        return;
    }
    if (!c->sub || c->sub->type != REDIS_REPLY_ARRAY || !c->sub->elements) {
        c->act = DACT_DEAD, c->why = "subscriber not in the topology";
        return;
    }
    if (sub(c, "opt_out") && !strcmp(sub(c, "opt_out"), "1")) {
        c->act = DACT_OPTOUT, c->why = "subscriber opted out";
        return;
    }
    if (now - c->due > p->max_age_ms) {
        c->act = DACT_DEAD, c->why = "not sent within max_age";
        return;
    }
    pick_channel(d, c);
    if (c->ch < 0) {
        c->act = DACT_DEAD, c->why = "no configured channel for the subscriber's addresses";
        return;
    }
    int qs, qe;
    if ((!is_outage_type(c->m.type) || p->quiet_outages) &&
        quiet_min(sub(c, "quiet_hours"), &qs, &qe) == 0) {
        int64_t until = quiet_until(now, sub(c, "timezone"), qs, qe);
        if (until > now) {
            c->act = DACT_DEFER, c->until = until;
            return;
        }
    }
    /* the channel is asked last: a token is taken only for a message that will go; a
     * takeover is a send like any other (pause, probe, rate and spend apply) */
    if (!channel_takes(&d->chans[c->ch], now))
        c->act = DACT_HOLD;
}

void dispatch_extra_keys(struct store_sync *ss, const struct cand *c, char *rec, char *optout,
                         size_t sz)
{
    rec[0] = optout[0] = '\0';
    if (c->act != DACT_SEND && c->act != DACT_TAKEOVER)
        return;
    if (var(c, "after")) { /* a fallback: did the first channel deliver? */
        store_sync_key(ss, rec, sz, "notif:%s", var(c, "after"));
    } else if (c->m.type == TEMPLATE_RESTORED) {
        const char *told = var(c, "told");
        store_sync_key(ss, rec, sz, "notif:%s:%s:outage-opened", c->m.sub, told ? told : c->m.base);
    }
    /* every message to a phone, restorations and fallbacks too: STOP means stop */
    if (c->phone && c->addr == c->phone)
        store_sync_key(ss, optout, sz, "optout:%s", c->phone);
}

bool dispatch_told_ok(const redisReply *r)
{
    struct notif_record rec;
    if (!str(r) || notif_store_parse(r->str, r->len, &rec) < 0)
        return false;
    static const char *const ok[] = {"sending",  "sent",     "queued",
                                     "accepted", "buffered", "delivered"};
    bool yes = false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        yes |= !strcmp(rec.status, ok[i]);
    notif_record_deinit(&rec);
    return yes;
}

/* The first channel's record says it reached the subscriber. */
static bool delivered(const redisReply *r)
{
    struct notif_record rec;
    if (!str(r) || notif_store_parse(r->str, r->len, &rec) < 0)
        return false;
    bool yes = !strcmp(rec.status, "delivered") || !strcmp(rec.status, "read");
    notif_record_deinit(&rec);
    return yes;
}

void dispatch_decide_extra(struct dispatch *d, struct cand *c)
{
    bool drop = false;
    if (c->extra && var(c, "after"))
        drop = delivered(c->extra);
    else if (c->extra && c->m.type == TEMPLATE_RESTORED)
        drop = !dispatch_told_ok(c->extra);
    bool optout = c->optout && c->optout->type == REDIS_REPLY_INTEGER && c->optout->integer == 1;
    if (!drop && !optout)
        return;
    /* the token taken for it is not given back: it can only make the rate lower */
    (void)d;
    c->act = drop ? DACT_DROP : DACT_OPTOUT;
    c->why = !drop             ? "number opted out (STOP)"
             : var(c, "after") ? "delivered on the first channel"
                               : "never told the service was down";
}
