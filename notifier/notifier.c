#include "notifier/notifier.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/bus.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store_link.h"
#include "core/xmalloc.h"
#include "notifier/channel_build.h"
#include "notifier/dispatch.h"
#include "notifier/http_client.h"
#include "notifier/inbound.h"
#include "notifier/inbound_api.h"
#include "notifier/noc_webhook.h"
#include "notifier/notif_msg.h"
#include "notifier/notif_plan.h"
#include "notifier/template_file.h"

struct notifier {
    struct loop *loop;
    struct bus *bus;
    const struct notifier_config *ncfg;
    struct store_link db;
    struct notif_policy policy;
    struct template_file *tf;
    struct http_client *http;
    struct channel **chans;
    struct dispatch_channel *dchans;
    size_t n_chans;
    struct dispatch *dispatch;
    struct httpd *httpd;
    struct inbound *inbound;
    struct inbound_api *inbound_api;
    struct notif_plan_stats plan;
    unsigned long handled, noc_sent, noc_failed, audit_lost;
};

static const char *kind_class(int kind)
{
    if (kind == CHANNEL_KIND_WHATSAPP)
        return "whatsapp";
    return kind == CHANNEL_KIND_TELEGRAM ? "telegram" : "sms";
}

static void noc_done(void *arg, const struct channel_result *r)
{
    struct notifier *n = arg;
    if (r->status == CHANNEL_SENT || r->status == CHANNEL_QUEUED) {
        n->noc_sent++;
        return;
    }
    n->noc_failed++;
    log_warn("notifier", "NOC webhook: %s", r->error ? r->error : channel_status_name(r->status));
}

/* One summary per outage event for the NOC's tools (never one per alarm). */
static void tell_noc(struct notifier *n, const struct event *ev)
{
    const struct notifier_config *c = n->ncfg;
    if (ev->type != EVENT_OUTAGE || !c->noc_url || !n->plan.noc_news)
        return;
    if (noc_webhook_send(n->http, c->noc_url, (enum noc_format)c->noc_format, ev, 0, noc_done, n) <
        0)
        n->noc_failed++;
}

static enum notif_status status_of(const char *s)
{
    if (!strcmp(s, "sent"))
        return NOTIF_SENT;
    if (!strcmp(s, "opted-out"))
        return NOTIF_OPTED_OUT;
    return !strcmp(s, "dead") ? NOTIF_DEAD : NOTIF_QUEUED;
}

/* Every outcome, once written in Redis, also goes out as a notification result (audit for the
 * NOC's tools; best effort: Redis holds the record of truth). */
static void on_outcome(void *arg, const char *id, const char *status, const char *channel,
                       const char *provider_id, const char *error, int attempts)
{
    struct notifier *n = arg;
    struct notif_msg m;
    if (notif_msg_parse(&m, id) < 0)
        return;
    struct event ev;
    event_init(&ev, EVENT_NOTIFICATION);
    ev.ts_ms = loop_wall_ms();
    struct notification *o = &ev.u.notification;
    o->id = xstrdup(id);
    o->kind = NOTIF_RESULT;
    o->subscriber = xstrdup(m.sub);
    o->ref = xstrdup(m.ref);
    o->message_type = xstrdup(template_type_name(m.type));
    o->channel = channel ? xstrdup(channel) : NULL;
    o->status = status_of(status);
    o->attempts = attempts > 0 ? (uint32_t)attempts : 0;
    o->provider_id = provider_id ? xstrdup(provider_id) : NULL;
    o->error = error ? xstrdup(error) : NULL;
    if (bus_publish_event(n->bus, &ev) < 0)
        n->audit_lost++;
    event_deinit(&ev);
}

static int on_event(void *arg, const struct event *ev, const struct bus_msg *msg)
{
    struct notifier *n = arg;
    (void)msg;
    struct store_sync *ss = store_link_get(&n->db);
    if (!ss)
        return BUS_RETRY; /* nothing is queued without Redis: the bus redelivers it */
    char err[256];
    int rc = notif_plan_event(ss, &n->policy, ev, loop_wall_ms(), &n->plan, err, sizeof err);
    if (rc == -EIO) {
        store_link_failed(&n->db, err);
        return BUS_RETRY;
    }
    if (rc < 0) {
        log_warn("notifier", "%s event %s: %s", event_type_name(ev->type), event_key(ev), err);
        return rc;
    }
    n->handled++;
    tell_noc(n, ev);
    dispatch_kick(n->dispatch);
    return 0;
}

static struct store_sync *inbound_get(void *arg)
{
    return store_link_get(arg);
}

static void inbound_failed(void *arg, const char *err)
{
    store_link_failed(arg, err);
}

/* Status callbacks of the cloud channels, from the channels' own settings. */
static int start_inbound_api(struct notifier *n, const struct inbound_db *idb, char *err,
                             size_t errsz)
{
    struct inbound_api_config ac = {.prefix = "/hooks"};
    for (size_t i = 0; i < n->ncfg->n_channels; i++) {
        const struct channel_config *cc = &n->ncfg->channels[i];
        if (cc->kind == CHANNEL_KIND_INFOBIP && !ac.infobip_channel)
            ac.infobip_channel = cc->name;
        if (cc->kind == CHANNEL_KIND_WHATSAPP && !ac.whatsapp_channel) {
            ac.whatsapp_channel = cc->name;
            ac.whatsapp_verify_token = cc->verify_token;
            ac.whatsapp_app_secret = cc->app_secret;
        }
        if (cc->kind == CHANNEL_KIND_TWILIO && !ac.twilio_channel && cc->dlr_url) {
            ac.twilio_channel = cc->name;
            ac.twilio_auth_token = cc->password;
            ac.twilio_status_url = cc->dlr_url;
        }
    }
    if (!ac.infobip_channel && !ac.whatsapp_channel && !ac.twilio_channel)
        return 0;
    n->inbound_api = inbound_api_new(n->httpd, &ac, idb, err, errsz);
    return n->inbound_api ? 0 : -EINVAL;
}

static int start_inbound(struct notifier *n, char *err, size_t errsz)
{
    if (!n->ncfg->listen)
        return 0;
    n->httpd = httpd_new(n->loop, n->ncfg->listen, 65536, err, errsz);
    if (!n->httpd)
        return -EINVAL;
    struct inbound_db idb = {inbound_get, inbound_failed, &n->db};
    n->inbound = inbound_new(n->httpd, "/kannel", &idb, n->ncfg->kannel_key, err, errsz);
    if (!n->inbound || start_inbound_api(n, &idb, err, errsz) < 0)
        return -EINVAL;
    log_info("notifier", "delivery reports and inbound messages on http://%s/kannel/%s",
             n->ncfg->listen, n->inbound_api ? " and /hooks/" : "");
    return 0;
}

static int load_templates(struct notifier *n, char *err, size_t errsz)
{
    char **msgs = NULL;
    size_t nm = 0;
    const char *path = n->ncfg->templates ? n->ncfg->templates : FAROL_TEMPLATES_DEFAULT;
    n->tf = template_file_load(path, &msgs, &nm);
    for (size_t i = 0; i < nm; i++) {
        log_error("notifier", "%s", msgs[i]);
        free(msgs[i]);
    }
    free(msgs);
    if (!n->tf)
        snprintf(err, errsz, "templates %s cannot be used (see above)", path);
    return n->tf ? 0 : -EINVAL;
}

static int build_channels(struct notifier *n, char *err, size_t errsz)
{
    const struct notifier_config *c = n->ncfg;
    n->chans = xcalloc(c->n_channels + 1, sizeof *n->chans);
    n->dchans = xcalloc(c->n_channels + 1, sizeof *n->dchans);
    for (size_t i = 0; i < c->n_channels; i++) {
        const struct channel_config *cc = &c->channels[i];
        n->chans[i] = channel_build(cc, n->http, err, errsz);
        if (!n->chans[i])
            return -EINVAL;
        n->n_chans++;
        n->dchans[i] = (struct dispatch_channel){
            n->chans[i], kind_class(cc->kind), cc->rate, cc->burst,
            cc->cost,    cc->daily_cap,        -1,       cc->fallback_after_ms};
    }
    for (size_t i = 0; i < c->n_channels; i++) {
        const char *fb = c->channels[i].fallback;
        for (size_t j = 0; fb && j < c->n_channels; j++)
            if (j != i && !strcmp(c->channels[j].name, fb))
                n->dchans[i].fallback = (int)j;
        if (fb && n->dchans[i].fallback < 0) {
            snprintf(err, errsz, "notifier.channels: %s falls back to '%s', no other such channel",
                     c->channels[i].name, fb);
            return -EINVAL;
        }
    }
    return 0;
}

static void policy_from_config(struct notif_policy *p, const struct notifier_config *c)
{
    notif_policy_defaults(p);
    p->notify_delay_ms = c->notify_delay_ms;
    p->quiet_outages = c->quiet_outages;
    if (c->n_notice_hours) {
        p->n_notices =
            c->n_notice_hours < NOTIF_MAX_NOTICES ? c->n_notice_hours : NOTIF_MAX_NOTICES;
        for (size_t i = 0; i < p->n_notices; i++)
            p->notices_ms[i] = c->notice_hours[i] * 3600 * 1000;
    }
    p->retry_min_ms = c->retry_min_ms;
    p->retry_max_ms = c->retry_max_ms;
    p->max_age_ms = c->max_age_ms;
    p->max_attempts = (int)c->max_attempts;
    p->inflight_grace_ms = c->inflight_grace_ms;
    p->batch = (int)c->batch;
}

static const enum bus_topic inputs[] = {BUS_OUTAGES, BUS_MAINTENANCE, BUS_THRESHOLDS};

static int start(struct notifier *n, struct store *store, const struct config *cfg, char *err,
                 size_t errsz)
{
    (void)store;
    store_link_init(&n->db, n->loop, &cfg->redis, "notifier");
    policy_from_config(&n->policy, n->ncfg);
    if (load_templates(n, err, errsz) < 0)
        return -EINVAL;
    /* one connection per send in flight: a gateway is one host */
    long conns = (long)n->ncfg->max_inflight;
    struct http_client_opts ho = {.max_total_connections = conns, .max_host_connections = conns};
    n->http = http_client_new(n->loop, &ho);
    if (build_channels(n, err, errsz) < 0 || start_inbound(n, err, errsz) < 0)
        return -EINVAL;
    struct dispatch_config dc = {.policy = &n->policy,
                                 .tf = n->tf,
                                 .db = &n->db,
                                 .channels = n->dchans,
                                 .n_channels = n->n_chans,
                                 .max_inflight = (size_t)n->ncfg->max_inflight,
                                 .sms_max_segments = (unsigned)n->ncfg->sms_max_segments,
                                 .sms_reject = n->ncfg->sms_overflow == 1,
                                 .outcome = on_outcome,
                                 .outcome_arg = n};
    n->dispatch = dispatch_new(n->loop, &dc);
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        int rc = bus_subscribe_events(n->bus, inputs[i], "notifier", on_event, n);
        if (rc < 0) {
            snprintf(err, errsz, "cannot subscribe to %s (%d)", bus_topic_id(inputs[i]), rc);
            return rc;
        }
    }
    return 0;
}

struct notifier *notifier_new(struct loop *loop, struct bus *bus, struct store *store,
                              const struct config *cfg, char *err, unsigned long errsz)
{
    struct notifier *n = xcalloc(1, sizeof *n);
    n->loop = loop;
    n->bus = bus;
    n->ncfg = &cfg->notifier;
    if (start(n, store, cfg, err, errsz) < 0) {
        notifier_free(n);
        return NULL;
    }
    log_info("notifier", "started: %zu channel(s), notify delay %lld ms", n->n_chans,
             (long long)n->policy.notify_delay_ms);
    return n;
}

void notifier_stop_sources(struct notifier *n)
{
    dispatch_stop(n->dispatch);
}

unsigned long notifier_inflight(const struct notifier *n)
{
    return n->dispatch ? (unsigned long)dispatch_inflight(n->dispatch) : 0;
}

unsigned long notifier_handled(const struct notifier *n)
{
    return n->handled;
}

void notifier_free(struct notifier *n)
{
    if (!n)
        return;
    httpd_free(n->httpd); /* no more callbacks into inbound */
    inbound_free(n->inbound);
    inbound_api_free(n->inbound_api);
    /* the client first: its cancelled sends report through their channels into the
     * dispatcher (which logs the channel's name), so both must still be there */
    http_client_free(n->http);
    for (size_t i = 0; i < n->n_chans; i++)
        channel_free(n->chans[i]);
    dispatch_free(n->dispatch);
    free(n->chans);
    free(n->dchans);
    template_file_free(n->tf);
    if (n->db.loop)
        store_link_deinit(&n->db);
    free(n);
}
