/* bus_inproc: the default transport, for all stages in one process.
 * Each topic is a bounded FIFO; each consumer group has its own cursor into it, so every group
 * sees every message, in publish order. Members of one group split messages by key hash, which
 * keeps per-key order like Kafka partitions do. Delivery always happens from the loop, never
 * inside bus_publish(), so a handler that publishes cannot recurse into other handlers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus_impl.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

/* Messages handed to handlers per loop iteration, per group: keeps the loop responsive. */
#define DELIVER_BATCH 512
#define RETRY_MIN_MS 10
#define RETRY_MAX_MS 1000

struct imsg {
    char *key;
    void *payload;
    size_t len;
};

struct imember {
    bus_handler_fn fn;
    void *arg;
};

struct igroup {
    struct inproc *ip;
    enum bus_topic topic;
    char *name;
    uint64_t cursor; /* next sequence number to deliver */
    struct imember *members;
    size_t n_members;
    struct loop_timer *retry;
    int64_t backoff_ms;
};

struct itopic {
    struct imsg *ring;
    size_t cap, head, count;
    uint64_t head_seq; /* sequence number of ring[head] */
    struct igroup **groups;
    size_t n_groups;
};

struct confirm {
    bus_confirm_fn cb;
    void *arg;
};

struct inproc {
    struct loop *loop;
    struct bus_counters *c;
    uint32_t limit;
    /* In-process, queued is as durable as it gets: confirmations are due at once, but are
     * delivered from the loop so no caller sees its callback inside the publish call. */
    struct confirm *confirms;
    size_t n_confirms;
    struct loop_timer *confirm_timer;
    struct itopic topics[BUS_TOPIC_COUNT];
    struct loop_timer *kick;
    int paused;
};

static struct imsg *msg_at(struct itopic *t, uint64_t seq)
{
    return &t->ring[(t->head + (size_t)(seq - t->head_seq)) % t->cap];
}

static void ring_grow(struct itopic *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    struct imsg *n = xcalloc(ncap, sizeof *n);
    for (size_t i = 0; i < t->count; i++)
        n[i] = t->ring[(t->head + i) % t->cap];
    free(t->ring);
    t->ring = n;
    t->cap = ncap;
    t->head = 0;
}

/* Drop messages every group has consumed. */
static void ring_trim(struct itopic *t)
{
    if (!t->n_groups)
        return;
    uint64_t low = UINT64_MAX;
    for (size_t i = 0; i < t->n_groups; i++)
        if (t->groups[i]->cursor < low)
            low = t->groups[i]->cursor;
    while (t->count && t->head_seq < low) {
        struct imsg *m = &t->ring[t->head];
        free(m->key);
        free(m->payload);
        t->head = (t->head + 1) % t->cap;
        t->head_seq++;
        t->count--;
    }
}

static void schedule(struct inproc *ip)
{
    if (!ip->paused && !loop_timer_active(ip->kick))
        loop_timer_start(ip->kick, 0, 0);
}

static void confirm_due(void *arg)
{
    struct inproc *ip = arg;
    struct confirm *due = ip->confirms; /* callbacks may publish and queue new ones */
    size_t n = ip->n_confirms;
    ip->confirms = NULL;
    ip->n_confirms = 0;
    for (size_t i = 0; i < n; i++)
        due[i].cb(due[i].arg, 0);
    free(due);
}

static void confirm_later(struct inproc *ip, bus_confirm_fn cb, void *arg)
{
    ip->confirms = xrealloc(ip->confirms, (ip->n_confirms + 1) * sizeof *ip->confirms);
    ip->confirms[ip->n_confirms++] = (struct confirm){cb, arg};
    if (!loop_timer_active(ip->confirm_timer))
        loop_timer_start(ip->confirm_timer, 0, 0);
}

static int inproc_publish(void *impl, enum bus_topic topic, const char *key, const void *payload,
                          size_t len, bus_confirm_fn cb, void *arg)
{
    struct inproc *ip = impl;
    struct itopic *t = &ip->topics[topic];
    if (t->count >= ip->limit) {
        ip->c->s.publish_refused++;
        return -ENOBUFS;
    }
    if (t->count == t->cap)
        ring_grow(t);
    struct imsg *m = &t->ring[(t->head + t->count) % t->cap];
    m->key = xstrdup(key);
    m->payload = xmalloc(len);
    memcpy(m->payload, payload, len);
    m->len = len;
    t->count++;
    ip->c->s.published++;
    schedule(ip);
    if (cb)
        confirm_later(ip, cb, arg);
    return 0;
}

static size_t key_member(const char *key, size_t n)
{
    /* FNV-1a: stable, so one key always lands on the same member. */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % n;
}

/* Deliver up to DELIVER_BATCH messages to one group; returns non-zero if more remain. */
static int deliver_group(struct inproc *ip, struct itopic *t, struct igroup *g)
{
    for (int i = 0; i < DELIVER_BATCH; i++) {
        if (ip->paused || loop_timer_active(g->retry) || g->cursor >= t->head_seq + t->count)
            return 0;
        uint64_t seq = g->cursor;
        struct imsg *m = msg_at(t, seq);
        struct bus_msg bm = {.topic = g->topic,
                             .key = m->key,
                             .key_len = strlen(m->key),
                             .payload = m->payload,
                             .len = m->len,
                             .partition = -1,
                             .offset = (int64_t)seq};
        struct imember *mem = &g->members[key_member(m->key, g->n_members)];
        ip->c->s.delivered++;
        /* The handler may publish, which can move the ring: m is not used after this. */
        if (mem->fn(mem->arg, &bm) == BUS_RETRY) {
            ip->c->s.retried++;
            g->backoff_ms = g->backoff_ms ? g->backoff_ms * 2 : RETRY_MIN_MS;
            if (g->backoff_ms > RETRY_MAX_MS)
                g->backoff_ms = RETRY_MAX_MS;
            loop_timer_start(g->retry, g->backoff_ms, 0);
            return 0;
        }
        ip->c->s.handled++;
        g->backoff_ms = 0;
        g->cursor = seq + 1;
    }
    return g->cursor < t->head_seq + t->count;
}

static void kick_cb(void *arg)
{
    struct inproc *ip = arg;
    int more = 0;
    for (int ti = 0; ti < BUS_TOPIC_COUNT; ti++) {
        struct itopic *t = &ip->topics[ti];
        for (size_t gi = 0; gi < t->n_groups; gi++)
            more |= deliver_group(ip, t, t->groups[gi]);
        ring_trim(t);
    }
    if (more)
        schedule(ip);
}

static void retry_cb(void *arg)
{
    struct igroup *g = arg;
    schedule(g->ip);
}

static struct igroup *group_get(struct inproc *ip, enum bus_topic topic, const char *name)
{
    struct itopic *t = &ip->topics[topic];
    for (size_t i = 0; i < t->n_groups; i++)
        if (strcmp(t->groups[i]->name, name) == 0)
            return t->groups[i];
    struct igroup *g = xcalloc(1, sizeof *g);
    g->ip = ip;
    g->topic = topic;
    g->name = xstrdup(name);
    /* Like auto.offset.reset=earliest: a late group still gets what is queued. */
    g->cursor = t->head_seq;
    g->retry = loop_timer_new(ip->loop, retry_cb, g);
    t->groups = xrealloc(t->groups, (t->n_groups + 1) * sizeof *t->groups);
    t->groups[t->n_groups++] = g;
    return g;
}

static int inproc_subscribe(void *impl, enum bus_topic topic, const char *group, bus_handler_fn fn,
                            void *arg)
{
    struct inproc *ip = impl;
    struct igroup *g = group_get(ip, topic, group);
    g->members = xrealloc(g->members, (g->n_members + 1) * sizeof *g->members);
    g->members[g->n_members++] = (struct imember){.fn = fn, .arg = arg};
    schedule(ip);
    return 0;
}

static void inproc_pause(void *impl)
{
    struct inproc *ip = impl;
    ip->paused = 1;
    loop_timer_stop(ip->kick);
}

static size_t inproc_pending(void *impl)
{
    struct inproc *ip = impl;
    size_t n = 0;
    for (int ti = 0; ti < BUS_TOPIC_COUNT; ti++) {
        struct itopic *t = &ip->topics[ti];
        for (size_t gi = 0; gi < t->n_groups; gi++)
            n += (size_t)(t->head_seq + t->count - t->groups[gi]->cursor);
    }
    return n;
}

static void topic_free(struct itopic *t)
{
    for (size_t i = 0; i < t->count; i++) {
        struct imsg *m = &t->ring[(t->head + i) % t->cap];
        free(m->key);
        free(m->payload);
    }
    free(t->ring);
    for (size_t i = 0; i < t->n_groups; i++) {
        loop_timer_free(t->groups[i]->retry);
        free(t->groups[i]->name);
        free(t->groups[i]->members);
        free(t->groups[i]);
    }
    free(t->groups);
}

static void inproc_free(void *impl)
{
    struct inproc *ip = impl;
    size_t left = inproc_pending(ip);
    if (left)
        log_warn("bus", "in-process bus freed with %zu undelivered messages", left);
    for (int ti = 0; ti < BUS_TOPIC_COUNT; ti++)
        topic_free(&ip->topics[ti]);
    for (size_t i = 0; i < ip->n_confirms; i++)
        ip->confirms[i].cb(ip->confirms[i].arg, -ECANCELED);
    free(ip->confirms);
    loop_timer_free(ip->confirm_timer);
    loop_timer_free(ip->kick);
    free(ip);
}

void *bus_inproc_new(struct loop *loop, const struct bus_config *cfg, struct bus_counters *c)
{
    struct inproc *ip = xcalloc(1, sizeof *ip);
    ip->loop = loop;
    ip->c = c;
    ip->limit = cfg->queue_limit ? cfg->queue_limit : 100000;
    ip->kick = loop_timer_new(loop, kick_cb, ip);
    ip->confirm_timer = loop_timer_new(loop, confirm_due, ip);
    return ip;
}

const struct bus_transport_ops bus_inproc_ops = {
    .publish = inproc_publish,
    .subscribe = inproc_subscribe,
    .pause = inproc_pause,
    .pending = inproc_pending,
    .free = inproc_free,
};
