/* bus_kafka: internals shared by the modules of the Kafka transport. Private to core/.
 *   bus_kafka.c          the transport object, the producer, the loop wake-up plumbing;
 *   bus_kafka_conf.c     librdkafka configurations, log/error callbacks, secret redaction;
 *   bus_kafka_consumer.c consumer groups: rebalances, handler dispatch, retry holds, offsets.
 * Everything runs on the loop thread: librdkafka's callbacks are served only from our polls
 * (logs go through log.queue), never from its internal threads. */
#ifndef FAROL_BUS_KAFKA_H
#define FAROL_BUS_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "core/bus_impl.h"
#include "core/loop.h"

struct bus_kafka_consumer;

/* Wakes the loop when a librdkafka queue goes from empty to non-empty. */
struct bus_kafka_wake {
    int fds[2];
    struct loop_io *io;
    rd_kafka_queue_t *q;
    void (*fn)(void *arg);
    void *arg;
};

struct bus_kafka {
    struct loop *loop;
    struct bus_counters *counters;
    char *names[BUS_TOPIC_COUNT];
    char *brokers;
    char *client_id;
    char *group_prefix;
    int64_t flush_timeout_ms;
    struct bus_kv *props;
    size_t n_props;
    rd_kafka_t *producer;
    rd_kafka_topic_t *rkt[BUS_TOPIC_COUNT];
    struct bus_kafka_wake *pwake;
    struct loop_timer *safety; /* polls everything now and then, in case a wake-up is missed */
    struct bus_kafka_consumer *consumers;
    bool paused;
};

enum bus_kafka_role { BUS_KAFKA_PRODUCER, BUS_KAFKA_CONSUMER };

/* Build the configuration of a producer or of a consumer in group (prefixed name); applies
 * farol's defaults, then cfg properties, then the settings the delivery guarantees depend on.
 * NULL with a message in err (never a secret value) when a property is refused. */
rd_kafka_conf_t *bus_kafka_conf_new(const struct bus_kafka *bk, enum bus_kafka_role role,
                                    const char *group, char *err, size_t errsz);
/* Non-zero for property names whose values must never be logged (password, secret). */
int bus_kafka_conf_is_secret(const char *name);

/* Make q write to a pipe watched by the loop; fn(arg) runs when it becomes readable. */
struct bus_kafka_wake *bus_kafka_wake_new(struct loop *loop, rd_kafka_queue_t *q,
                                          void (*fn)(void *arg), void *arg);
/* Detach from the queue (dropping our reference), stop watching, close the pipe. NULL ok. */
void bus_kafka_wake_free(struct bus_kafka_wake *w);

/* Join group (created on first use) and consume topic into fn. 0, -EEXIST or -EINVAL. */
int bus_kafka_consumer_subscribe(struct bus_kafka *bk, enum bus_topic topic, const char *group,
                                 bus_handler_fn fn, void *arg);
/* Serve every consumer's queue (safety poll). */
void bus_kafka_consumer_poll_all(struct bus_kafka *bk);
/* Stop fetching and delivering on every consumer (graceful drain). */
void bus_kafka_consumer_pause_all(struct bus_kafka *bk);
/* Leave every group (committing what was handled) and free the consumers. */
void bus_kafka_consumer_close_all(struct bus_kafka *bk);

#endif
