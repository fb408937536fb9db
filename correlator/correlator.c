#include "correlator/correlator.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct correlator {
    struct bus *bus;
    unsigned long handled;
};

static int on_event(void *arg, const struct event *ev, const struct bus_msg *msg)
{
    struct correlator *c = arg;
    (void)msg;
    c->handled++;
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
    return 0;
}

struct correlator *correlator_new(struct loop *loop, struct bus *bus, struct store *store,
                                  const struct config *cfg, char *err, unsigned long errsz)
{
    (void)loop;
    (void)store;
    (void)cfg;
    struct correlator *c = xcalloc(1, sizeof *c);
    c->bus = bus;
    int rc = bus_subscribe_events(bus, BUS_ALARMS, "correlator", on_event, c);
    if (rc == 0)
        rc = bus_subscribe_events(bus, BUS_USAGE, "correlator", on_event, c);
    if (rc < 0) {
        snprintf(err, errsz, "cannot subscribe to the alarm and usage topics (%d)", rc);
        free(c);
        return NULL;
    }
    log_info("correlator", "started; journaling alarms until correlation lands (issue #4)");
    return c;
}

void correlator_stop_sources(struct correlator *c)
{
    (void)c;
}

unsigned long correlator_handled(const struct correlator *c)
{
    return c->handled;
}

void correlator_free(struct correlator *c)
{
    free(c);
}
