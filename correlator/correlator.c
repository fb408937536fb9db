/* correlator: the stage. Alarms are persisted (when they matter), applied to the engine, and
 * correlated together after `batch`; engine timers run on a deadline timer; outage events are
 * written to Redis with an outbox entry, then published, and the entry is dropped when the bus
 * confirms. A new topology version, or a restart, rebuilds the engine from Redis. */
#include "correlator/correlator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/bus.h"
#include "core/bus_outbox.h"
#include "core/event_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "core/store_link.h"
#include "correlator/engine.h"
#include "correlator/maint.h"
#include "correlator/maint_store.h"
#include "correlator/outage_store.h"
#include "correlator/topology_store.h"
#include "correlator/usage.h"

struct correlator {
    struct loop *loop;
    struct bus *bus;
    struct bus_outbox *out;
    struct store_link db;
    struct corr_params params;
    struct correlator_config cc; /* copied scalars only (no threshold list) */
    struct topology *topo;
    char version[64]; /* "" = no topology loaded */
    struct corr_engine *engine;
    struct usage_acct *usage;
    uint32_t thresholds[USAGE_MAX_THRESHOLDS];
    size_t nthresholds;
    struct loop_timer *batch, *deadline, *topo_poll;
    struct pub *pubs; /* awaiting confirmation */
    unsigned long handled;
    bool stopping;
};

/* A publication awaiting its confirmation; outlives the stage if the bus confirms later. */
struct pub {
    struct correlator *c; /* NULL once the stage is freed */
    char *json;
    struct pub *prev, *next;
};

static void arm_deadline(struct correlator *c);

static void on_confirmed(void *arg, int status)
{
    struct pub *p = arg;
    struct correlator *c = p->c;
    struct store_sync *ss = c && status == 0 ? store_link_get(&c->db) : NULL;
    char err[256];
    if (ss && outage_store_outbox_done(ss, p->json, err, sizeof err) < 0)
        store_link_failed(&c->db, err);
    if (c) {
        if (p->prev)
            p->prev->next = p->next;
        else
            c->pubs = p->next;
        if (p->next)
            p->next->prev = p->prev;
    }
    free(p->json);
    free(p);
}

static void publish_json(struct correlator *c, const char *key, const char *json)
{
    struct pub *p = xcalloc(1, sizeof *p);
    *p = (struct pub){.c = c, .json = xstrdup(json), .next = c->pubs};
    if (c->pubs)
        c->pubs->prev = p;
    c->pubs = p;
    bus_outbox_publish_confirmed(c->out, BUS_OUTAGES, key, xstrdup(json), on_confirmed, p);
}

/* A window's lifecycle event: its record is saved, then the event is published. */
static void on_window(struct correlator *c, const struct event *ev)
{
    struct maint_set *m = corr_engine_maint(c->engine);
    struct store_sync *ss = store_link_get(&c->db);
    char err[256];
    for (size_t i = 0; ss && i < maint_count(m); i++) {
        const struct maintenance *w = maint_get(m, i);
        if (!strcmp(w->id, ev->u.maintenance.id) && maint_store_save(ss, w, err, sizeof err) < 0)
            store_link_failed(&c->db, err);
    }
    log_info("correlator", "maintenance %s seq=%u %s: %u subscribers", ev->u.maintenance.id,
             ev->u.maintenance.seq, maint_phase_name(ev->u.maintenance.phase),
             ev->u.maintenance.affected_subscribers);
    bus_outbox_publish_event(c->out, ev);
}

/* Engine sink: an outage's state and outbox entry first (one transaction), then the bus. */
static void on_outage(void *arg, const struct event *ev)
{
    struct correlator *c = arg;
    if (ev->type == EVENT_MAINTENANCE) {
        on_window(c, ev);
        return;
    }
    char *json = NULL, err[256];
    if (event_encode(ev, &json, NULL, err, sizeof err) < 0) {
        log_error("correlator", "outage %s cannot be encoded: %s", ev->u.outage.id, err);
        return;
    }
    struct store_sync *ss = store_link_get(&c->db);
    if (!ss)
        log_warn("correlator", "outage %s published without its Redis record (Redis down)",
                 ev->u.outage.id);
    else if (outage_store_event(ss, ev, json, err, sizeof err) < 0)
        store_link_failed(&c->db, err);
    log_info("correlator", "outage %s seq=%u %s root=%s cause=%s subscribers=%u", ev->u.outage.id,
             ev->u.outage.seq, outage_phase_name(ev->u.outage.phase), ev->u.outage.root,
             outage_cause_name(ev->u.outage.cause), ev->u.outage.affected_subscribers);
    publish_json(c, event_key(ev), json);
    free(json);
}

static void restore_outage(void *arg, const struct outage *last, const char *const *subs,
                           size_t nsubs)
{
    corr_engine_restore(arg, last, subs, nsubs);
}

struct replay_ctx {
    struct corr_engine *e;
    int64_t now;
    size_t n;
};

static int restore_window(void *arg, const struct maintenance *w)
{
    struct replay_ctx *r = arg;
    maint_restore(corr_engine_maint(r->e), w, r->now);
    return 0;
}

static void restore_alarm(void *arg, const struct alarm *a)
{
    struct replay_ctx *r = arg;
    corr_engine_apply(r->e, a, r->now);
    r->n++;
}

static void republish(void *arg, const char *json)
{
    struct correlator *c = arg;
    struct event ev;
    char err[256];
    if (event_decode(json, strlen(json), &ev, err, sizeof err) < 0) {
        log_warn("correlator", "outbox entry dropped: %s", err);
        return;
    }
    publish_json(c, event_key(&ev), json);
    event_deinit(&ev);
}

/* The topology in Redis, or an empty one when none was imported yet. */
static struct topology *load_topology(struct correlator *c, struct store_sync *ss, char *v,
                                      size_t vsz)
{
    char err[256];
    struct topology *t = topology_store_load_lean(ss, v, vsz, err, sizeof err);
    if (t)
        return t;
    if (topology_store_current(ss, v, vsz, err, sizeof err) != -ENOENT) {
        store_link_failed(&c->db, err);
        return NULL;
    }
    log_warn("correlator", "no topology in Redis yet (farol topology import): every alarm is "
                           "unbound until one is imported");
    *v = '\0';
    t = topology_new();
    struct topology_errs errs = {0};
    topology_finish(t, &errs);
    topology_errs_deinit(&errs);
    return t;
}

/* A new engine over the current topology, with the alarms and outages Redis holds. */
static int rebuild(struct correlator *c)
{
    struct store_sync *ss = store_link_get(&c->db);
    char v[64], err[256];
    if (!ss)
        return -EAGAIN;
    struct topology *t = load_topology(c, ss, v, sizeof v);
    if (!t)
        return -EIO;
    struct corr_sink sink = {on_outage, c};
    struct corr_engine *e = corr_engine_new(t, &c->params, &sink);
    struct replay_ctx r = {e, loop_wall_ms(), 0};
    int rc = maint_store_load(ss, restore_window, &r, err, sizeof err);
    if (rc == 0)
        rc = outage_store_load_outages(ss, restore_outage, e, err, sizeof err);
    if (rc == 0)
        rc = outage_store_load_alarms(ss, restore_alarm, &r, err, sizeof err);
    if (rc < 0) {
        store_link_failed(&c->db, err);
        corr_engine_free(e);
        topology_free(t);
        return rc;
    }
    usage_set_topology(c->usage, t);
    corr_engine_free(c->engine);
    topology_free(c->topo);
    c->engine = e;
    c->topo = t;
    snprintf(c->version, sizeof c->version, "%s", v);
    struct corr_engine_stats st;
    corr_engine_stats(e, &st);
    log_info("correlator",
             "topology %s: %zu nodes, %zu subscribers; %zu alarms and %u outages "
             "reloaded",
             *v ? v : "(none)", topology_node_count(t), topology_sub_count(t), r.n, st.outages);
    corr_engine_tick(e, r.now);
    arm_deadline(c);
    return 0;
}

/* Both timers (a batch of alarms, an engine deadline) correlate now and re-arm the deadline. */
static void on_tick(void *arg)
{
    struct correlator *c = arg;
    corr_engine_tick(c->engine, loop_wall_ms());
    arm_deadline(c);
}

static void arm_deadline(struct correlator *c)
{
    int64_t d = corr_engine_next_deadline(c->engine);
    loop_timer_stop(c->deadline);
    if (d == INT64_MAX)
        return;
    int64_t after = d - loop_wall_ms();
    loop_timer_start(c->deadline, after > 0 ? after : 0, 0);
}

static void on_topo_poll(void *arg)
{
    struct correlator *c = arg;
    struct store_sync *ss = store_link_get(&c->db);
    char v[64] = "", err[256];
    if (!ss)
        return;
    int rc = topology_store_current(ss, v, sizeof v, err, sizeof err);
    if (rc == -EIO) {
        store_link_failed(&c->db, err);
        return;
    }
    if (strcmp(v, c->version) != 0 || !c->engine) {
        log_info("correlator", "topology version %s replaces %s", *v ? v : "(none)",
                 *c->version ? c->version : "(none)");
        rebuild(c);
    }
}

static int on_alarm(struct correlator *c, const struct alarm *a, const struct bus_msg *msg)
{
    if (!c->engine && rebuild(c) < 0)
        return BUS_RETRY;
    enum corr_change ch = corr_engine_check(c->engine, a);
    if (ch != CORR_NOOP || a->action == ALARM_CLEAR) {
        struct store_sync *ss = store_link_get(&c->db);
        char err[256];
        if (!ss)
            return BUS_RETRY; /* never correlate what a restart would forget */
        if (outage_store_alarm(ss, a, msg->payload, msg->len,
                               a->action == ALARM_CLEAR ? CORR_CLEAR : ch, err, sizeof err) < 0) {
            store_link_failed(&c->db, err);
            return BUS_RETRY;
        }
    }
    if (corr_engine_apply(c->engine, a, loop_wall_ms()) && !loop_timer_active(c->batch))
        loop_timer_start(c->batch, c->cc.batch_ms, 0);
    return 0;
}

/* The alarm feed: one line per alarm handled (NOC operators follow it; tests count it). */
static void journal(const struct event *ev)
{
    if (ev->type == EVENT_ALARM) {
        const struct alarm *a = &ev->u.alarm;
        log_kv(LOG_LEVEL_INFO, "correlator",
               (const char *const[]){"id", a->id, "device", a->device, "object", a->object, "kind",
                                     a->kind, NULL},
               "alarm %s", alarm_action_name(a->action));
    } else if (ev->type == EVENT_USAGE) {
        const struct usage_sample *u = &ev->u.usage;
        char rx[24], tx[24];
        snprintf(rx, sizeof rx, "%llu", (unsigned long long)u->rx_octets);
        snprintf(tx, sizeof tx, "%llu", (unsigned long long)u->tx_octets);
        log_kv(LOG_LEVEL_DEBUG, "correlator",
               (const char *const[]){"device", u->device ? u->device : "", "object",
                                     u->object ? u->object : "", "rx", rx, "tx", tx, NULL},
               "usage");
    }
}

static int on_usage(struct correlator *c, const struct usage_sample *u)
{
    struct store_sync *ss = store_link_get(&c->db);
    char err[256];
    if (!ss)
        return BUS_RETRY;
    usage_set_store(c->usage, ss);
    int rc = usage_sample(c->usage, u, loop_wall_ms(), err, sizeof err);
    if (rc == -EAGAIN) {
        store_link_failed(&c->db, err);
        return BUS_RETRY;
    }
    if (rc < 0)
        log_warn("correlator", "usage sample refused: %s", err);
    return rc;
}

/* A planner's request (seq 0); the correlator's own lifecycle events (seq >= 1) are skipped. */
static int on_request(struct correlator *c, const struct maintenance *req)
{
    char err[256];
    if (req->seq != 0)
        return 0;
    if (!c->engine && rebuild(c) < 0)
        return BUS_RETRY;
    if (!store_link_get(&c->db))
        return BUS_RETRY; /* a window must be saved before it counts */
    int rc = corr_engine_window(c->engine, req, loop_wall_ms(), err, sizeof err);
    if (rc < 0)
        log_warn("correlator", "maintenance request %s refused: %s", req->id, err);
    else
        arm_deadline(c);
    return rc;
}

static int on_event(void *arg, const struct event *ev, const struct bus_msg *msg)
{
    struct correlator *c = arg;
    int rc = 0;
    if (ev->type == EVENT_ALARM)
        rc = on_alarm(c, &ev->u.alarm, msg);
    else if (ev->type == EVENT_USAGE)
        rc = on_usage(c, &ev->u.usage);
    else if (ev->type == EVENT_MAINTENANCE)
        rc = on_request(c, &ev->u.maintenance);
    if (rc == 0) {
        journal(ev);
        c->handled++;
    }
    return rc;
}

static void params_from(struct corr_params *p, const struct correlator_config *cc)
{
    corr_params_default(p);
    p->hold_down_ms = cc->hold_down_ms;
    p->clear_hold_ms = cc->clear_hold_ms;
    p->window_ms = cc->window_ms;
    p->infer_fraction = cc->infer_fraction;
    p->infer_min = (uint32_t)cc->infer_min;
    p->flap_count = (uint32_t)cc->flap_count;
    p->flap_window_ms = cc->flap_window_ms;
    p->settle_ms = cc->settle_ms;
    p->maint_prestart_ms = cc->maintenance_prestart_ms;
}

static void on_threshold(void *arg, const struct event *ev)
{
    struct correlator *c = arg;
    log_info("correlator", "usage of %s crossed %u%% of its cap in cycle %s",
             ev->u.threshold.subscriber, ev->u.threshold.percent, ev->u.threshold.cycle);
    bus_outbox_publish_event(c->out, ev);
}

static void usage_setup(struct correlator *c, const struct correlator_config *cc)
{
    struct usage_params up;
    usage_params_default(&up);
    for (size_t i = 0; i < cc->n_usage_thresholds && i < USAGE_MAX_THRESHOLDS; i++)
        c->thresholds[c->nthresholds++] = (uint32_t)cc->usage_thresholds[i];
    up.thresholds = c->thresholds;
    up.nthresholds = c->nthresholds;
    c->usage = usage_new(NULL, NULL, &up, on_threshold, c);
}

struct correlator *correlator_new(struct loop *loop, struct bus *bus, struct store *store,
                                  const struct config *cfg, char *err, unsigned long errsz)
{
    (void)store;
    struct correlator *c = xcalloc(1, sizeof *c);
    *c = (struct correlator){.loop = loop, .bus = bus, .cc = cfg->correlator};
    c->cc.usage_thresholds = NULL;
    c->cc.n_usage_thresholds = 0;
    params_from(&c->params, &cfg->correlator);
    store_link_init(&c->db, loop, &cfg->redis, "correlator");
    c->out = bus_outbox_new(loop, bus);
    usage_setup(c, &cfg->correlator);
    c->batch = loop_timer_new(loop, on_tick, c);
    c->deadline = loop_timer_new(loop, on_tick, c);
    c->topo_poll = loop_timer_new(loop, on_topo_poll, c);
    struct store_sync *ss = store_link_get(&c->db);
    char e2[256];
    if (ss && outage_store_load_outbox(ss, republish, c, e2, sizeof e2) < 0)
        store_link_failed(&c->db, e2);
    if (rebuild(c) < 0)
        log_warn("correlator", "Redis unreachable at start: alarms wait until it is back");
    loop_timer_start(c->topo_poll, c->cc.topology_poll_ms, c->cc.topology_poll_ms);
    int rc = bus_subscribe_events(bus, BUS_ALARMS, "correlator", on_event, c);
    if (rc == 0)
        rc = bus_subscribe_events(bus, BUS_USAGE, "correlator", on_event, c);
    if (rc == 0)
        rc = bus_subscribe_events(bus, BUS_MAINTENANCE, "correlator", on_event, c);
    if (rc < 0) {
        snprintf(err, errsz, "cannot subscribe to the alarm, usage and maintenance topics (%d)",
                 rc);
        correlator_free(c);
        return NULL;
    }
    return c;
}

void correlator_stop_sources(struct correlator *c)
{
    c->stopping = true;
    loop_timer_stop(c->topo_poll);
    if (c->engine && corr_engine_dirty(c->engine))
        on_tick(c); /* correlate what was applied before draining */
}

unsigned long correlator_handled(const struct correlator *c)
{
    return c->handled;
}

void correlator_free(struct correlator *c)
{
    if (!c)
        return;
    loop_timer_free(c->batch);
    loop_timer_free(c->deadline);
    loop_timer_free(c->topo_poll);
    bus_outbox_free(c->out);
    for (struct pub *p = c->pubs; p; p = p->next)
        p->c = NULL; /* confirmed later by the bus: entries stay in the Redis outbox */
    corr_engine_free(c->engine);
    usage_free(c->usage);
    topology_free(c->topo);
    store_link_deinit(&c->db);
    free(c);
}
