/* bus: the only way stages talk. One interface, two transports:
 *   - in-process queues (default; all stages in one process), bounded, delivered from the loop;
 *   - Kafka (librdkafka), the scale-out transport: idempotent producer, consumer groups,
 *     offsets committed only after the handler has finished with a message.
 * Payloads are opaque bytes at this level; bus_publish_event()/bus_subscribe_events() add the
 * JSON event encoding and the malformed-input policy (log, count, dead-letter, move on).
 * The bus is opaque; the caller owns it and frees it after stopping its loop. */
#ifndef FAROL_BUS_H
#define FAROL_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct loop;
struct bus;

enum bus_topic {
    BUS_ALARMS,
    BUS_OUTAGES,
    BUS_MAINTENANCE,
    BUS_USAGE,
    BUS_THRESHOLDS,
    BUS_NOTIFICATIONS,
    BUS_DEADLETTER,
    BUS_TOPIC_COUNT
};

enum bus_transport { BUS_INPROC, BUS_KAFKA };

struct bus_kv {
    char *key;
    char *value;
};

struct bus_config {
    enum bus_transport transport;
    char *topics[BUS_TOPIC_COUNT]; /* wire names; NULL means the default "farol.<name>" */
    /* inproc: most messages queued per topic before publish answers -ENOBUFS */
    uint32_t queue_limit;
    /* kafka */
    char *brokers;             /* "host:port,host:port" */
    char *client_id;           /* NULL = "farol" */
    char *group_prefix;        /* consumer groups are "<prefix>.<group>"; NULL = "farol" */
    int64_t flush_timeout_ms;  /* how long shutdown waits for unacked produces */
    struct bus_kv *properties; /* extra librdkafka properties, passed through */
    size_t n_properties;
};

struct bus_msg {
    enum bus_topic topic;
    const char *key;
    size_t key_len;
    const void *payload;
    size_t len;
    int32_t partition; /* -1 in-process */
    int64_t offset;    /* position in the partition / in-process sequence */
};

/* Handler results: 0 = done (commit), BUS_RETRY = cannot take it now, redeliver the same
 * message later (back-pressure: consumption of that partition pauses meanwhile), any negative
 * errno = the message is poison: it is dead-lettered with the reason and committed. */
#define BUS_RETRY 1
typedef int (*bus_handler_fn)(void *arg, const struct bus_msg *msg);
/* Event handler: ev is decoded and owned by the bus for the duration of the call. */
typedef int (*bus_event_fn)(void *arg, const struct event *ev, const struct bus_msg *msg);

struct bus_stats {
    uint64_t published;
    uint64_t publish_refused; /* back-pressure: publish returned -ENOBUFS */
    uint64_t delivered;       /* handler calls */
    uint64_t handled;         /* handler returned 0 */
    uint64_t retried;
    uint64_t malformed; /* undecodable events */
    uint64_t deadlettered;
};

/* Fill cfg with defaults (inproc, default topic names, queue_limit 100000). */
void bus_config_init(struct bus_config *cfg);
/* Free the strings cfg owns. */
void bus_config_deinit(struct bus_config *cfg);
/* Make a bus on loop with the configured transport. Returns NULL and a message in err when the
 * transport cannot be set up (bad Kafka property, ...). cfg is copied. */
struct bus *bus_new(struct loop *loop, const struct bus_config *cfg, char *err, size_t errsz);
/* Stop consuming, flush what was published (up to flush_timeout_ms) and free. NULL is fine. */
void bus_free(struct bus *bus);
/* Queue payload for topic under key (key decides the partition and so the ordering).
 * Returns 0, or -ENOBUFS when the transport's queue is full (the caller keeps the message and
 * tries again later), or another negative errno. payload is copied. */
int bus_publish(struct bus *bus, enum bus_topic topic, const char *key, const void *payload,
                size_t len);
/* Outcome of a confirmed publish, exactly once and always from the loop (never inside the
 * publish call): 0 when the transport holds the message durably (Kafka: acknowledged by the
 * brokers with acks=all; in-process: queued), or a negative errno when it never will
 * (-ECANCELED when the bus is freed first). */
typedef void (*bus_confirm_fn)(void *arg, int status);
/* bus_publish with a delivery confirmation. When it returns an error (-ENOBUFS included), cb
 * is never called. */
int bus_publish_confirmed(struct bus *bus, enum bus_topic topic, const char *key,
                          const void *payload, size_t len, bus_confirm_fn cb, void *arg);
/* Encode ev and publish it to the topic of its type under event_key(ev). */
int bus_publish_event(struct bus *bus, const struct event *ev);
/* Consume topic as member of group (every group sees every message; members of one group
 * share partitions). The handler runs on the loop. */
int bus_subscribe(struct bus *bus, enum bus_topic topic, const char *group, bus_handler_fn fn,
                  void *arg);
/* Like bus_subscribe, but messages are decoded first; undecodable ones are logged, counted and
 * dead-lettered, and never reach fn. */
int bus_subscribe_events(struct bus *bus, enum bus_topic topic, const char *group, bus_event_fn fn,
                         void *arg);
/* Stop handing out new messages (start of a graceful drain). */
void bus_pause_consumers(struct bus *bus);
/* Messages published but not yet acknowledged by the transport (Kafka) or not yet consumed
 * by every subscriber (in-process). */
size_t bus_pending(struct bus *bus);
/* Counters since bus_new(). */
void bus_get_stats(struct bus *bus, struct bus_stats *out);
/* Wire name of a topic under this bus's config. */
const char *bus_topic_name(struct bus *bus, enum bus_topic topic);
/* Short name ("alarms") used in configs and logs; bus_topic_parse maps it back (0/-EINVAL). */
const char *bus_topic_id(enum bus_topic topic);
int bus_topic_parse(const char *s, enum bus_topic *out);
/* Topic that carries events of this type. */
enum bus_topic bus_topic_for(enum event_type type);

#endif
