/* Kafka consumer groups of the bus: one librdkafka consumer per farol group, handlers per topic.
 *
 * Offsets: auto-commit is on but auto offset *store* is off. An offset is stored only after the
 * handler returned 0, and the background commit only ever commits stored offsets, so a commit
 * never covers a message that was not fully handled (at-least-once). Explicit commits per
 * message would cost a round trip each; this batches them for free.
 *
 * Retry: when a handler answers BUS_RETRY the message is kept ("held"), its partition paused,
 * and the same message is handed again after a backoff (100 ms doubling to 2 s). Pausing makes
 * librdkafka discard what it prefetched for that partition and, on resume, fetch again from
 * the position after the held message, so order within the partition is kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus_kafka.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define SUBSYS "kafka"
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000
/* messages handled per wake-up before yielding to the rest of the loop */
#define DRAIN_BATCH 256

struct handler {
    bool on;
    bus_handler_fn fn;
    void *arg;
};

struct hold {
    struct bus_kafka_consumer *c;
    rd_kafka_message_t *m;
    enum bus_topic topic;
    int64_t backoff_ms;
    struct loop_timer *timer;
    struct hold *next;
};

struct bus_kafka_consumer {
    struct bus_kafka *bk;
    char *group; /* wire name, prefixed */
    rd_kafka_t *rk;
    struct bus_kafka_wake *wake;
    struct loop_timer *kick;
    struct handler h[BUS_TOPIC_COUNT];
    struct hold *holds;
    struct bus_kafka_consumer *next;
};

static void consumer_drain(void *arg);

/* ---- partitions ---- */

static void set_paused(rd_kafka_t *rk, const char *topic, int32_t partition, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t e =
        pause ? rd_kafka_pause_partitions(rk, l) : rd_kafka_resume_partitions(rk, l);
    if (e)
        log_warn(SUBSYS, "%s %s [%d]: %s", pause ? "pause" : "resume", topic, (int)partition,
                 rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
}

static void store_offset(struct bus_kafka_consumer *c, const rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(c->rk, l);
    if (!e && l->elems[0].err)
        e = l->elems[0].err;
    /* the partition was revoked meanwhile: its new owner will see the message again */
    if (e)
        log_debug(SUBSYS, "offset store %s [%d] %lld: %s", rd_kafka_topic_name(m->rkt),
                  (int)m->partition, (long long)m->offset, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
}

static int topic_of(const struct bus_kafka_consumer *c, const rd_kafka_message_t *m,
                    enum bus_topic *out)
{
    const char *name = rd_kafka_topic_name(m->rkt);
    for (int t = 0; t < BUS_TOPIC_COUNT; t++) {
        if (c->h[t].on && strcmp(c->bk->names[t], name) == 0) {
            *out = (enum bus_topic)t;
            return 0;
        }
    }
    return -ENOENT;
}

/* ---- holds (BUS_RETRY) ---- */

static struct hold *hold_find(struct bus_kafka_consumer *c, const char *topic, int32_t part)
{
    for (struct hold *h = c->holds; h; h = h->next)
        if (h->m->partition == part && strcmp(rd_kafka_topic_name(h->m->rkt), topic) == 0)
            return h;
    return NULL;
}

static void hold_drop(struct hold *h)
{
    struct hold **pp = &h->c->holds;
    while (*pp != h)
        pp = &(*pp)->next;
    *pp = h->next;
    loop_timer_free(h->timer);
    rd_kafka_message_destroy(h->m);
    free(h);
}

/* Hand m to the handler; returns the handler's verdict (0 or BUS_RETRY). */
static int deliver(struct bus_kafka_consumer *c, enum bus_topic topic, rd_kafka_message_t *m)
{
    struct bus_counters *ctr = c->bk->counters;
    struct bus_msg msg = {
        .topic = topic,
        .key = m->key,
        .key_len = m->key_len,
        .payload = m->payload,
        .len = m->len,
        .partition = m->partition,
        .offset = m->offset,
    };
    ctr->s.delivered++;
    int rc = c->h[topic].fn(c->h[topic].arg, &msg);
    if (rc == BUS_RETRY) {
        ctr->s.retried++;
        return BUS_RETRY;
    }
    ctr->s.handled++;
    store_offset(c, m);
    return 0;
}

static void hold_retry(void *arg)
{
    struct hold *h = arg;
    struct bus_kafka_consumer *c = h->c;
    if (c->bk->paused)
        return; /* draining: the message stays unhandled and uncommitted */
    if (deliver(c, h->topic, h->m) == BUS_RETRY) {
        h->backoff_ms = h->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : h->backoff_ms * 2;
        loop_timer_start(h->timer, h->backoff_ms, 0);
        return;
    }
    if (!c->bk->paused) /* the handler may have started a drain */
        set_paused(c->rk, rd_kafka_topic_name(h->m->rkt), h->m->partition, false);
    hold_drop(h);
}

static void hold_new(struct bus_kafka_consumer *c, enum bus_topic topic, rd_kafka_message_t *m)
{
    struct hold *h = xcalloc(1, sizeof *h);
    h->c = c;
    h->m = m;
    h->topic = topic;
    h->backoff_ms = RETRY_FIRST_MS;
    h->timer = loop_timer_new(c->bk->loop, hold_retry, h);
    h->next = c->holds;
    c->holds = h;
    set_paused(c->rk, rd_kafka_topic_name(m->rkt), m->partition, true);
    loop_timer_start(h->timer, h->backoff_ms, 0);
}

/* Drop the holds of partitions we no longer own (all of them when parts is NULL). */
static void holds_release(struct bus_kafka_consumer *c,
                          const rd_kafka_topic_partition_list_t *parts)
{
    struct hold *h = c->holds;
    while (h) {
        struct hold *next = h->next;
        if (!parts || rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(h->m->rkt),
                                                         h->m->partition))
            hold_drop(h);
        h = next;
    }
}

/* ---- messages, errors, rebalances ---- */

static void on_consumer_error(struct bus_kafka_consumer *c, rd_kafka_message_t *m)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    const char *fields[] = {"group", c->group, "topic", topic, "error", rd_kafka_err2name(m->err),
                            NULL};
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        log_kv(LOG_LEVEL_DEBUG, SUBSYS, fields, "end of partition %d", (int)m->partition);
    else
        log_kv(LOG_LEVEL_WARN, SUBSYS, fields, "consumer: %s", rd_kafka_message_errstr(m));
}

static void on_message(struct bus_kafka_consumer *c, rd_kafka_message_t *m)
{
    enum bus_topic topic;
    if (m->err) {
        on_consumer_error(c, m);
    } else if (c->bk->paused) {
        /* draining: not handled, not stored; whoever owns the partition next gets it */
    } else if (topic_of(c, m, &topic) < 0) {
        log_warn(SUBSYS, "group %s: message from unexpected topic %s", c->group,
                 rd_kafka_topic_name(m->rkt));
    } else if (hold_find(c, rd_kafka_topic_name(m->rkt), m->partition)) {
        /* prefetched before the pause took effect; it will be fetched again on resume */
        log_debug(SUBSYS, "dropping prefetched message behind a held one");
    } else if (deliver(c, topic, m) == BUS_RETRY) {
        hold_new(c, topic, m);
        return; /* the hold owns m now */
    }
    rd_kafka_message_destroy(m);
}

static void consumer_drain(void *arg)
{
    struct bus_kafka_consumer *c = arg;
    for (int n = 0; n < DRAIN_BATCH; n++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
        if (!m)
            return;
        on_message(c, m);
    }
    /* more may be queued, and the queue only signals empty -> non-empty: come back soon */
    loop_timer_start(c->kick, 0, 0);
}

static void log_partitions(struct bus_kafka_consumer *c, const char *what,
                           const rd_kafka_topic_partition_list_t *parts)
{
    char buf[512] = "";
    size_t used = 0;
    for (int i = 0; i < parts->cnt && used < sizeof buf - 64; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s[%d]", i ? " " : "",
                                 parts->elems[i].topic, (int)parts->elems[i].partition);
    const char *fields[] = {"group", c->group, "partitions", buf, NULL};
    log_kv(LOG_LEVEL_INFO, SUBSYS, fields, "%s", what);
}

static void on_assign(struct bus_kafka_consumer *c, rd_kafka_topic_partition_list_t *parts,
                      bool cooperative)
{
    log_partitions(c, "partitions assigned", parts);
    rd_kafka_error_t *ce = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cooperative)
        ce = rd_kafka_incremental_assign(c->rk, parts);
    else
        e = rd_kafka_assign(c->rk, parts);
    if (ce || e)
        log_warn(SUBSYS, "group %s: assign: %s", c->group,
                 ce ? rd_kafka_error_string(ce) : rd_kafka_err2str(e));
    if (ce)
        rd_kafka_error_destroy(ce);
    if (c->bk->paused)
        rd_kafka_pause_partitions(c->rk, parts);
}

static void on_revoke(struct bus_kafka_consumer *c, rd_kafka_topic_partition_list_t *parts,
                      bool cooperative)
{
    log_partitions(c, "partitions revoked", parts);
    holds_release(c, parts);
    /* commit what was handled before someone else takes over; nothing stored is fine */
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, NULL, 1);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        log_warn(SUBSYS, "group %s: commit on revoke: %s", c->group, rd_kafka_err2str(e));
    if (cooperative) {
        rd_kafka_error_t *ce = rd_kafka_incremental_unassign(c->rk, parts);
        if (ce)
            rd_kafka_error_destroy(ce);
    } else {
        rd_kafka_assign(c->rk, NULL);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct bus_kafka_consumer *c = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(c, parts, coop);
    } else {
        if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            log_warn(SUBSYS, "group %s: rebalance error: %s", c->group, rd_kafka_err2str(err));
        on_revoke(c, parts, coop);
    }
}

/* ---- lifecycle ---- */

static struct bus_kafka_consumer *consumer_find(struct bus_kafka *bk, const char *group)
{
    for (struct bus_kafka_consumer *c = bk->consumers; c; c = c->next)
        if (strcmp(c->group, group) == 0)
            return c;
    return NULL;
}

static struct bus_kafka_consumer *consumer_new(struct bus_kafka *bk, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = bus_kafka_conf_new(bk, BUS_KAFKA_CONSUMER, group, err, sizeof err);
    if (!conf) {
        log_error(SUBSYS, "group %s: %s", group, err);
        return NULL;
    }
    struct bus_kafka_consumer *c = xcalloc(1, sizeof *c);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c->rk) {
        log_error(SUBSYS, "group %s: consumer: %s", group, err);
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    c->bk = bk;
    c->group = xstrdup(group);
    rd_kafka_poll_set_consumer(c->rk); /* logs, errors and rebalances come with messages */
    rd_kafka_set_log_queue(c->rk, NULL);
    c->wake = bus_kafka_wake_new(bk->loop, rd_kafka_queue_get_consumer(c->rk), consumer_drain, c);
    c->kick = loop_timer_new(bk->loop, consumer_drain, c);
    c->next = bk->consumers;
    bk->consumers = c;
    return c;
}

static int consumer_resubscribe(struct bus_kafka_consumer *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(BUS_TOPIC_COUNT);
    for (int t = 0; t < BUS_TOPIC_COUNT; t++)
        if (c->h[t].on)
            rd_kafka_topic_partition_list_add(l, c->bk->names[t], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        log_error(SUBSYS, "group %s: subscribe: %s", c->group, rd_kafka_err2str(e));
        return -EINVAL;
    }
    return 0;
}

int bus_kafka_consumer_subscribe(struct bus_kafka *bk, enum bus_topic topic, const char *group,
                                 bus_handler_fn fn, void *arg)
{
    char *wire = xasprintf("%s.%s", bk->group_prefix, group);
    struct bus_kafka_consumer *c = consumer_find(bk, wire);
    if (!c)
        c = consumer_new(bk, wire);
    free(wire);
    if (!c)
        return -EINVAL;
    if (c->h[topic].on)
        return -EEXIST;
    c->h[topic] = (struct handler){.on = true, .fn = fn, .arg = arg};
    int rc = consumer_resubscribe(c);
    if (rc < 0)
        c->h[topic].on = false;
    else
        log_info(SUBSYS, "group %s subscribed to %s", c->group, bk->names[topic]);
    return rc;
}

void bus_kafka_consumer_poll_all(struct bus_kafka *bk)
{
    for (struct bus_kafka_consumer *c = bk->consumers; c; c = c->next)
        consumer_drain(c);
}

void bus_kafka_consumer_pause_all(struct bus_kafka *bk)
{
    for (struct bus_kafka_consumer *c = bk->consumers; c; c = c->next) {
        rd_kafka_topic_partition_list_t *l = NULL;
        if (rd_kafka_assignment(c->rk, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l) {
            rd_kafka_pause_partitions(c->rk, l);
            rd_kafka_topic_partition_list_destroy(l);
        }
        for (struct hold *h = c->holds; h; h = h->next)
            loop_timer_stop(h->timer);
    }
}

static void consumer_close(struct bus_kafka_consumer *c)
{
    holds_release(c, NULL);
    loop_timer_free(c->kick);
    /* the wake must go before close: close serves the queue itself, rebalance callback and
     * all, and commits the stored offsets on the way out */
    bus_kafka_wake_free(c->wake);
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
    if (e)
        log_warn(SUBSYS, "group %s: close: %s", c->group, rd_kafka_err2str(e));
    rd_kafka_destroy(c->rk);
    log_info(SUBSYS, "group %s left", c->group);
    free(c->group);
    free(c);
}

void bus_kafka_consumer_close_all(struct bus_kafka *bk)
{
    while (bk->consumers) {
        struct bus_kafka_consumer *c = bk->consumers;
        bk->consumers = c->next;
        consumer_close(c);
    }
}
