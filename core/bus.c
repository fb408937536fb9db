/* bus: transport dispatch plus the policies every transport shares: event encoding, and what
 * happens to a message a stage cannot use (log it, count it, dead-letter it, move on). */
#include "core/bus.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus_impl.h"
#include "core/event_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct bus_sub {
    struct bus *bus;
    bus_handler_fn fn;
    bus_event_fn efn;
    void *arg;
};

struct bus {
    struct loop *loop;
    enum bus_transport transport;
    char *names[BUS_TOPIC_COUNT];
    const struct bus_transport_ops *ops;
    void *impl;
    struct bus_counters counters;
    struct bus_sub **subs;
    size_t n_subs;
};

static const char *const topic_ids[BUS_TOPIC_COUNT] = {
    "alarms", "outages", "maintenance", "usage", "thresholds", "notifications", "deadletter",
};

void bus_config_init(struct bus_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->transport = BUS_INPROC;
    cfg->queue_limit = 100000;
    cfg->flush_timeout_ms = 10000;
}

void bus_config_deinit(struct bus_config *cfg)
{
    for (int i = 0; i < BUS_TOPIC_COUNT; i++)
        free(cfg->topics[i]);
    free(cfg->brokers);
    free(cfg->client_id);
    free(cfg->group_prefix);
    for (size_t i = 0; i < cfg->n_properties; i++) {
        free(cfg->properties[i].key);
        free(cfg->properties[i].value);
    }
    free(cfg->properties);
    memset(cfg, 0, sizeof *cfg);
}

const char *bus_topic_id(enum bus_topic topic)
{
    return (unsigned)topic < BUS_TOPIC_COUNT ? topic_ids[topic] : "?";
}

int bus_topic_parse(const char *s, enum bus_topic *out)
{
    for (int i = 0; i < BUS_TOPIC_COUNT; i++) {
        if (strcmp(s, topic_ids[i]) == 0) {
            *out = (enum bus_topic)i;
            return 0;
        }
    }
    return -EINVAL;
}

enum bus_topic bus_topic_for(enum event_type type)
{
    switch (type) {
    case EVENT_ALARM:
        return BUS_ALARMS;
    case EVENT_OUTAGE:
        return BUS_OUTAGES;
    case EVENT_MAINTENANCE:
        return BUS_MAINTENANCE;
    case EVENT_USAGE:
        return BUS_USAGE;
    case EVENT_THRESHOLD:
        return BUS_THRESHOLDS;
    case EVENT_NOTIFICATION:
    default:
        return BUS_NOTIFICATIONS;
    }
}

struct bus *bus_new(struct loop *loop, const struct bus_config *cfg, char *err, size_t errsz)
{
    struct bus *b = xcalloc(1, sizeof *b);
    b->loop = loop;
    b->transport = cfg->transport;
    for (int i = 0; i < BUS_TOPIC_COUNT; i++)
        b->names[i] =
            cfg->topics[i] ? xstrdup(cfg->topics[i]) : xasprintf("farol.%s", topic_ids[i]);
    if (cfg->transport == BUS_KAFKA) {
        b->ops = &bus_kafka_ops;
        b->impl = bus_kafka_new(loop, cfg, (const char *const *)b->names, &b->counters, err, errsz);
    } else {
        b->ops = &bus_inproc_ops;
        b->impl = bus_inproc_new(loop, cfg, &b->counters);
    }
    if (!b->impl) {
        for (int i = 0; i < BUS_TOPIC_COUNT; i++)
            free(b->names[i]);
        free(b);
        return NULL;
    }
    return b;
}

void bus_free(struct bus *bus)
{
    if (!bus)
        return;
    bus->ops->free(bus->impl);
    for (size_t i = 0; i < bus->n_subs; i++)
        free(bus->subs[i]);
    free(bus->subs);
    for (int i = 0; i < BUS_TOPIC_COUNT; i++)
        free(bus->names[i]);
    free(bus);
}

int bus_publish(struct bus *bus, enum bus_topic topic, const char *key, const void *payload,
                size_t len)
{
    return bus_publish_confirmed(bus, topic, key, payload, len, NULL, NULL);
}

int bus_publish_confirmed(struct bus *bus, enum bus_topic topic, const char *key,
                          const void *payload, size_t len, bus_confirm_fn cb, void *arg)
{
    if ((unsigned)topic >= BUS_TOPIC_COUNT)
        return -EINVAL;
    return bus->ops->publish(bus->impl, topic, key ? key : "", payload, len, cb, arg);
}

int bus_publish_event(struct bus *bus, const struct event *ev)
{
    char err[256];
    char *buf = NULL;
    size_t len = 0;
    int rc = event_encode(ev, &buf, &len, err, sizeof err);
    if (rc < 0) {
        log_error("bus", "refusing to publish invalid %s event: %s", event_type_name(ev->type),
                  err);
        return rc;
    }
    rc = bus_publish(bus, bus_topic_for(ev->type), event_key(ev), buf, len);
    free(buf);
    return rc;
}

/* The dead-letter record keeps the original bytes: as a string when they are valid UTF-8,
 * otherwise hex, so that an operator can always recover and replay them. */
static char *deadletter_record(struct bus *bus, const struct bus_msg *msg, const char *reason)
{
    char ts[40];
    event_format_time(loop_wall_ms(), ts, sizeof ts);
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:s%, s:s}", "v", EVENT_VERSION, "type",
                          "deadletter", "ts", ts, "topic", bus_topic_id(msg->topic), "partition",
                          (json_int_t)msg->partition, "offset", (json_int_t)msg->offset, "key",
                          msg->key, msg->key_len, "reason", reason);
    if (!o)
        return NULL;
    json_t *p = json_stringn(msg->payload, msg->len);
    if (p) {
        json_object_set_new(o, "payload", p);
    } else {
        char *hex = xmalloc(msg->len * 2 + 1);
        for (size_t i = 0; i < msg->len; i++)
            snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)msg->payload)[i]);
        json_object_set_new(o, "payload_hex", json_string(hex));
        free(hex);
    }
    (void)bus;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Returns the handler result the transport should see: 0 when the message is dealt with
 * (dead-lettered), BUS_RETRY when even the dead-letter topic refused it. */
static int deadletter(struct bus *bus, const struct bus_msg *msg, const char *reason)
{
    log_kv(LOG_LEVEL_WARN, "bus",
           (const char *const[]){"topic", bus_topic_id(msg->topic), "reason", reason, NULL},
           "dead-lettering message at offset %lld", (long long)msg->offset);
    if (msg->topic == BUS_DEADLETTER)
        return 0; /* never loop on our own dead letters */
    char *rec = deadletter_record(bus, msg, reason);
    if (!rec) {
        /* Key not valid UTF-8: the record cannot be JSON; the log line above is all we keep. */
        bus->counters.s.deadlettered++;
        return 0;
    }
    int rc = bus_publish(bus, BUS_DEADLETTER, "", rec, strlen(rec));
    free(rec);
    if (rc == -ENOBUFS)
        return BUS_RETRY;
    bus->counters.s.deadlettered++;
    return 0;
}

static int sub_dispatch(void *arg, const struct bus_msg *msg)
{
    struct bus_sub *s = arg;
    int rc;
    if (s->fn) {
        rc = s->fn(s->arg, msg);
    } else {
        struct event ev;
        char err[256];
        rc = event_decode(msg->payload, msg->len, &ev, err, sizeof err);
        if (rc < 0) {
            s->bus->counters.s.malformed++;
            return deadletter(s->bus, msg, err);
        }
        rc = s->efn(s->arg, &ev, msg);
        event_deinit(&ev);
    }
    if (rc < 0)
        return deadletter(s->bus, msg, strerror(-rc));
    return rc == BUS_RETRY ? BUS_RETRY : 0;
}

static int subscribe(struct bus *bus, enum bus_topic topic, const char *group, bus_handler_fn fn,
                     bus_event_fn efn, void *arg)
{
    if ((unsigned)topic >= BUS_TOPIC_COUNT || !group || !*group)
        return -EINVAL;
    struct bus_sub *s = xcalloc(1, sizeof *s);
    *s = (struct bus_sub){.bus = bus, .fn = fn, .efn = efn, .arg = arg};
    int rc = bus->ops->subscribe(bus->impl, topic, group, sub_dispatch, s);
    if (rc < 0) {
        free(s);
        return rc;
    }
    bus->subs = xrealloc(bus->subs, (bus->n_subs + 1) * sizeof *bus->subs);
    bus->subs[bus->n_subs++] = s;
    return 0;
}

int bus_subscribe(struct bus *bus, enum bus_topic topic, const char *group, bus_handler_fn fn,
                  void *arg)
{
    return subscribe(bus, topic, group, fn, NULL, arg);
}

int bus_subscribe_events(struct bus *bus, enum bus_topic topic, const char *group, bus_event_fn fn,
                         void *arg)
{
    return subscribe(bus, topic, group, NULL, fn, arg);
}

void bus_pause_consumers(struct bus *bus)
{
    bus->ops->pause(bus->impl);
}

size_t bus_pending(struct bus *bus)
{
    return bus->ops->pending(bus->impl);
}

void bus_get_stats(struct bus *bus, struct bus_stats *out)
{
    *out = bus->counters.s;
}

const char *bus_topic_name(struct bus *bus, enum bus_topic topic)
{
    return (unsigned)topic < BUS_TOPIC_COUNT ? bus->names[topic] : "?";
}
