/* bus_impl: the contract between bus.c and its transports. Private to core/. */
#ifndef FAROL_BUS_IMPL_H
#define FAROL_BUS_IMPL_H

#include "core/bus.h"

struct bus_transport_ops {
    /* cb may be NULL; when set, it is called once, later, from the loop */
    int (*publish)(void *impl, enum bus_topic topic, const char *key, const void *payload,
                   size_t len, bus_confirm_fn cb, void *arg);
    int (*subscribe)(void *impl, enum bus_topic topic, const char *group, bus_handler_fn fn,
                     void *arg);
    void (*pause)(void *impl);
    size_t (*pending)(void *impl);
    void (*free)(void *impl); /* flushes first */
};

/* Shared counters the transports update. */
struct bus_counters {
    struct bus_stats s;
};

/* In-process transport. */
void *bus_inproc_new(struct loop *loop, const struct bus_config *cfg, struct bus_counters *c);
extern const struct bus_transport_ops bus_inproc_ops;

/* Kafka transport; NULL with a message in err on failure. */
void *bus_kafka_new(struct loop *loop, const struct bus_config *cfg, const char *const *names,
                    struct bus_counters *c, char *err, size_t errsz);
extern const struct bus_transport_ops bus_kafka_ops;

#endif
