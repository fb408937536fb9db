/* bus_outbox: publish in order, and keep what the bus refuses under back-pressure (-ENOBUFS)
 * in a FIFO that is retried from the loop, so a producer never drops a message nor reorders
 * them because the bus was momentarily full. struct bus_outbox is opaque, owned by its
 * producer; it borrows loop and bus and must be freed before them. */
#ifndef FAROL_BUS_OUTBOX_H
#define FAROL_BUS_OUTBOX_H

#include <stddef.h>

#include "core/bus.h"

struct loop;
struct bus_outbox;

/* An empty outbox for bus. */
struct bus_outbox *bus_outbox_new(struct loop *loop, struct bus *bus);
/* Publish payload (taken over, NUL-terminated) under key, now or after what waits before it. */
void bus_outbox_publish(struct bus_outbox *o, enum bus_topic topic, const char *key, char *payload);
/* Like bus_outbox_publish, with cb told the delivery outcome (bus_publish_confirmed); a message
 * still waiting when the outbox is freed is confirmed with -ECANCELED. */
void bus_outbox_publish_confirmed(struct bus_outbox *o, enum bus_topic topic, const char *key,
                                  char *payload, bus_confirm_fn cb, void *arg);
/* Encode ev and publish it to its type's topic under event_key(); -EINVAL if it cannot be
 * encoded (logged), else 0. */
int bus_outbox_publish_event(struct bus_outbox *o, const struct event *ev);
/* Messages waiting for the bus. */
size_t bus_outbox_pending(const struct bus_outbox *o);
/* Free; messages still waiting are logged as lost (NULL is fine). */
void bus_outbox_free(struct bus_outbox *o);

#endif
