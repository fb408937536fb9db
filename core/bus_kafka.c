/* Kafka transport of the bus: the transport object, the idempotent producer and the plumbing
 * that lets librdkafka wake the loop (queue io events -> pipe -> loop_io) instead of polling. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bus_kafka.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define SUBSYS "kafka"
#define SAFETY_POLL_MS 1000

/* ---- wake-ups ---- */

static void wake_readable(void *arg, int revents)
{
    (void)revents;
    struct bus_kafka_wake *w = arg;
    char buf[256];
    /* drain first: an event that arrives while we poll then writes again and is not lost */
    while (read(w->fds[0], buf, sizeof buf) > 0)
        ;
    w->fn(w->arg);
}

struct bus_kafka_wake *bus_kafka_wake_new(struct loop *loop, rd_kafka_queue_t *q,
                                          void (*fn)(void *arg), void *arg)
{
    struct bus_kafka_wake *w = xcalloc(1, sizeof *w);
    if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        log_error(SUBSYS, "pipe: %s", strerror(errno));
        abort();
    }
    w->q = q;
    w->fn = fn;
    w->arg = arg;
    w->io = loop_io_new(loop, w->fds[0], LOOP_READ, wake_readable, w);
    rd_kafka_queue_io_event_enable(q, w->fds[1], "1", 1);
    return w;
}

void bus_kafka_wake_free(struct bus_kafka_wake *w)
{
    if (!w)
        return;
    rd_kafka_queue_io_event_enable(w->q, -1, NULL, 0);
    rd_kafka_queue_destroy(w->q);
    loop_io_free(w->io);
    close(w->fds[0]);
    close(w->fds[1]);
    free(w);
}

/* ---- producer ---- */

static void producer_serve(void *arg)
{
    struct bus_kafka *bk = arg;
    while (rd_kafka_poll(bk->producer, 0) > 0)
        ;
}

/* The per-message opaque of a confirmed publish. */
struct kafka_confirm {
    bus_confirm_fn cb;
    void *arg;
};

/* Delivery reports are served by rd_kafka_poll() from the loop, so confirmations run there. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct kafka_confirm *kc = m->_private;
    if (m->err) {
        const char *fields[] = {"topic", rd_kafka_topic_name(m->rkt), "error",
                                rd_kafka_err2name(m->err), NULL};
        log_kv(LOG_LEVEL_ERROR, SUBSYS, fields, "message not delivered: %s",
               rd_kafka_err2str(m->err));
    }
    if (kc) {
        kc->cb(kc->arg,
               m->err ? (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ? -ECANCELED : -EIO) : 0);
        free(kc);
    }
}

static int producer_start(struct bus_kafka *bk, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = bus_kafka_conf_new(bk, BUS_KAFKA_PRODUCER, NULL, err, errsz);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    bk->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!bk->producer) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errsz, "kafka producer: %s", why);
        return -EINVAL;
    }
    rd_kafka_set_log_queue(bk->producer, NULL);
    bk->pwake =
        bus_kafka_wake_new(bk->loop, rd_kafka_queue_get_main(bk->producer), producer_serve, bk);
    return 0;
}

static rd_kafka_topic_t *producer_topic(struct bus_kafka *bk, enum bus_topic topic)
{
    if (!bk->rkt[topic])
        bk->rkt[topic] = rd_kafka_topic_new(bk->producer, bk->names[topic], NULL);
    return bk->rkt[topic];
}

static int kafka_publish(void *impl, enum bus_topic topic, const char *key, const void *payload,
                         size_t len, bus_confirm_fn cb, void *arg)
{
    struct bus_kafka *bk = impl;
    if ((unsigned)topic >= BUS_TOPIC_COUNT)
        return -EINVAL;
    rd_kafka_topic_t *rkt = producer_topic(bk, topic);
    if (!rkt)
        return -EINVAL;
    size_t klen = key ? strlen(key) : 0;
    struct kafka_confirm *kc = NULL;
    if (cb) {
        kc = xmalloc(sizeof *kc);
        *kc = (struct kafka_confirm){cb, arg};
    }
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)payload, len,
                         klen ? key : NULL, klen, kc) == 0) {
        bk->counters->s.published++;
        return 0;
    }
    free(kc);
    rd_kafka_resp_err_t e = rd_kafka_last_error();
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        bk->counters->s.publish_refused++;
        return -ENOBUFS;
    }
    const char *fields[] = {"topic", bk->names[topic], "error", rd_kafka_err2name(e), NULL};
    log_kv(LOG_LEVEL_WARN, SUBSYS, fields, "produce refused: %s", rd_kafka_err2str(e));
    return e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? -EMSGSIZE : -EIO;
}

/* ---- transport object ---- */

static void safety_poll(void *arg)
{
    struct bus_kafka *bk = arg;
    producer_serve(bk);
    bus_kafka_consumer_poll_all(bk);
}

static void copy_config(struct bus_kafka *bk, const struct bus_config *cfg,
                        const char *const *names)
{
    for (int t = 0; t < BUS_TOPIC_COUNT; t++)
        bk->names[t] = xstrdup(names[t]);
    bk->brokers = xstrdup(cfg->brokers);
    bk->client_id = xstrdup(cfg->client_id);
    bk->group_prefix = xstrdup(cfg->group_prefix ? cfg->group_prefix : "farol");
    bk->flush_timeout_ms = cfg->flush_timeout_ms > 0 ? cfg->flush_timeout_ms : 0;
    bk->n_props = cfg->n_properties;
    bk->props = xcalloc(cfg->n_properties + 1, sizeof *bk->props);
    for (size_t i = 0; i < cfg->n_properties; i++) {
        bk->props[i].key = xstrdup(cfg->properties[i].key);
        bk->props[i].value = xstrdup(cfg->properties[i].value);
    }
}

static void free_config(struct bus_kafka *bk)
{
    for (int t = 0; t < BUS_TOPIC_COUNT; t++)
        free(bk->names[t]);
    for (size_t i = 0; i < bk->n_props; i++) {
        free(bk->props[i].key);
        free(bk->props[i].value);
    }
    free(bk->props);
    free(bk->brokers);
    free(bk->client_id);
    free(bk->group_prefix);
}

/* Catch unknown or invalid consumer properties now rather than at the first subscribe. */
static int check_consumer_conf(struct bus_kafka *bk, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = bus_kafka_conf_new(bk, BUS_KAFKA_CONSUMER, "farol.check", err, errsz);
    if (!conf)
        return -EINVAL;
    rd_kafka_conf_destroy(conf);
    return 0;
}

static void log_started(const struct bus_kafka *bk)
{
    const char *fields[] = {"brokers", bk->brokers, "group_prefix", bk->group_prefix, NULL};
    log_kv(LOG_LEVEL_INFO, SUBSYS, fields, "kafka transport ready");
    for (size_t i = 0; i < bk->n_props && log_enabled(LOG_LEVEL_DEBUG); i++) {
        const char *k = bk->props[i].key;
        const char *v = bus_kafka_conf_is_secret(k) ? "(withheld)" : bk->props[i].value;
        const char *pf[] = {"name", k, "value", v, NULL};
        log_kv(LOG_LEVEL_DEBUG, SUBSYS, pf, "kafka property");
    }
}

void *bus_kafka_new(struct loop *loop, const struct bus_config *cfg, const char *const *names,
                    struct bus_counters *c, char *err, size_t errsz)
{
    if (!cfg->brokers || !cfg->brokers[0]) {
        snprintf(err, errsz, "kafka transport needs bus.brokers");
        return NULL;
    }
    struct bus_kafka *bk = xcalloc(1, sizeof *bk);
    bk->loop = loop;
    bk->counters = c;
    copy_config(bk, cfg, names);
    if (check_consumer_conf(bk, err, errsz) < 0 || producer_start(bk, err, errsz) < 0) {
        free_config(bk);
        free(bk);
        return NULL;
    }
    bk->safety = loop_timer_new(loop, safety_poll, bk);
    loop_timer_start(bk->safety, SAFETY_POLL_MS, SAFETY_POLL_MS);
    log_started(bk);
    return bk;
}

static int kafka_subscribe(void *impl, enum bus_topic topic, const char *group, bus_handler_fn fn,
                           void *arg)
{
    if ((unsigned)topic >= BUS_TOPIC_COUNT || !group || !group[0] || !fn)
        return -EINVAL;
    return bus_kafka_consumer_subscribe(impl, topic, group, fn, arg);
}

static void kafka_pause(void *impl)
{
    struct bus_kafka *bk = impl;
    if (bk->paused)
        return;
    bk->paused = true;
    bus_kafka_consumer_pause_all(bk);
}

static size_t kafka_pending(void *impl)
{
    struct bus_kafka *bk = impl;
    int n = rd_kafka_outq_len(bk->producer);
    return n > 0 ? (size_t)n : 0;
}

static void producer_close(struct bus_kafka *bk)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(bk->producer, (int)bk->flush_timeout_ms);
    int left = rd_kafka_outq_len(bk->producer);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && left > 0) {
        char n[32];
        snprintf(n, sizeof n, "%d", left);
        const char *fields[] = {"unacknowledged", n, NULL};
        log_kv(LOG_LEVEL_ERROR, SUBSYS, fields,
               "flush timed out; unacknowledged messages purged (confirmed publishers are told)");
        /* Purged messages get their delivery report (and confirmation) with an error now,
         * instead of vanishing in rd_kafka_destroy(). */
        rd_kafka_purge(bk->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(bk->producer, 0);
    }
    bus_kafka_wake_free(bk->pwake);
    for (int t = 0; t < BUS_TOPIC_COUNT; t++)
        if (bk->rkt[t])
            rd_kafka_topic_destroy(bk->rkt[t]);
    rd_kafka_destroy(bk->producer);
}

static void kafka_free(void *impl)
{
    struct bus_kafka *bk = impl;
    if (!bk)
        return;
    bus_kafka_consumer_close_all(bk);
    producer_close(bk);
    loop_timer_free(bk->safety);
    free_config(bk);
    free(bk);
}

const struct bus_transport_ops bus_kafka_ops = {
    .publish = kafka_publish,
    .subscribe = kafka_subscribe,
    .pause = kafka_pause,
    .pending = kafka_pending,
    .free = kafka_free,
};
