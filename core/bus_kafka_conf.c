/* librdkafka configuration for farol's producer and consumers, and the callbacks that route
 * librdkafka's logs and errors into core/log.h without ever printing a secret. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/bus_kafka.h"
#include "core/log.h"

#define SUBSYS "kafka"

struct kv_default {
    const char *name;
    const char *value;
};

/* Defaults the operator may override through bus.properties. */
static const struct kv_default producer_defaults[] = {
    {"enable.idempotence", "true"}, /* no duplicates or reordering from producer retries */
    {"acks", "all"},
    {"linger.ms", "5"},
    {"compression.codec", "none"},
    /* same key -> partition mapping as the Java client, so other tools agree with us */
    {"partitioner", "murmur2_random"},
    {"reconnect.backoff.max.ms", "1000"},
    {NULL, NULL},
};

static const struct kv_default consumer_defaults[] = {
    {"auto.offset.reset", "earliest"},
    {"enable.partition.eof", "false"},
    {"reconnect.backoff.max.ms", "1000"},
    {NULL, NULL},
};

/* Applied last: the at-least-once guarantee depends on them (docs/kafka.md). */
static const struct kv_default consumer_forced[] = {
    {"enable.auto.commit", "true"},
    {"enable.auto.offset.store", "false"},
    {NULL, NULL},
};

int bus_kafka_conf_is_secret(const char *name)
{
    return strcasestr(name, "password") != NULL || strcasestr(name, "secret") != NULL;
}

static int set_one(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errsz)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    if (bus_kafka_conf_is_secret(name) || bus_kafka_conf_is_secret(why))
        snprintf(err, errsz, "kafka property %s: invalid value", name);
    else
        snprintf(err, errsz, "kafka property %s: %s", name, why);
    return -EINVAL;
}

static int set_list(rd_kafka_conf_t *conf, const struct kv_default *list, char *err, size_t errsz)
{
    for (; list->name; list++)
        if (set_one(conf, list->name, list->value, err, errsz) < 0)
            return -EINVAL;
    return 0;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 7 debug, 5-6 notice/info, below that warnings and errors; librdkafka
     * recovers from those on its own, so they are never more than a warning here */
    enum log_level lv = level >= 7 ? LOG_LEVEL_DEBUG : level >= 5 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN;
    /* properties go to producer and consumers alike; each ignores the other's, as expected */
    if (strstr(buf, "will be ignored by this"))
        lv = LOG_LEVEL_DEBUG;
    if (!log_enabled(lv))
        return;
    const char *fields[] = {"client", rd_kafka_name(rk), "facility", fac, NULL};
    /* librdkafka redacts secrets in its config dumps; this is the belt to those braces */
    if (bus_kafka_conf_is_secret(buf))
        buf = "(line withheld: it mentions a credential)";
    log_kv(lv, SUBSYS, fields, "%s", buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    const char *fields[] = {"client", rd_kafka_name(rk), "error",
                            rd_kafka_err2name((rd_kafka_resp_err_t)err), NULL};
    char why[256];
    if (err == RD_KAFKA_RESP_ERR__FATAL &&
        rd_kafka_fatal_error(rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_kv(LOG_LEVEL_ERROR, SUBSYS, fields, "fatal client error: %s", why);
        return;
    }
    /* transport errors, all brokers down, ...: librdkafka keeps retrying on its own */
    log_kv(LOG_LEVEL_WARN, SUBSYS, fields, "%s", reason);
}

static int set_common(const struct bus_kafka *bk, rd_kafka_conf_t *conf, char *err, size_t errsz)
{
    const char *cid = bk->client_id ? bk->client_id : "farol";
    if (set_one(conf, "bootstrap.servers", bk->brokers, err, errsz) < 0 ||
        set_one(conf, "client.id", cid, err, errsz) < 0 ||
        set_one(conf, "log.queue", "true", err, errsz) < 0)
        return -EINVAL;
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    return 0;
}

static int set_properties(const struct bus_kafka *bk, rd_kafka_conf_t *conf, char *err,
                          size_t errsz)
{
    for (size_t i = 0; i < bk->n_props; i++)
        if (set_one(conf, bk->props[i].key, bk->props[i].value, err, errsz) < 0)
            return -EINVAL;
    return 0;
}

rd_kafka_conf_t *bus_kafka_conf_new(const struct bus_kafka *bk, enum bus_kafka_role role,
                                    const char *group, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = set_common(bk, conf, err, errsz);
    if (rc == 0 && role == BUS_KAFKA_PRODUCER)
        rc = set_list(conf, producer_defaults, err, errsz);
    if (rc == 0 && role == BUS_KAFKA_CONSUMER)
        rc = set_list(conf, consumer_defaults, err, errsz);
    if (rc == 0)
        rc = set_properties(bk, conf, err, errsz);
    if (rc == 0 && role == BUS_KAFKA_CONSUMER) {
        rc = set_list(conf, consumer_forced, err, errsz);
        if (rc == 0)
            rc = set_one(conf, "group.id", group, err, errsz);
    }
    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}
