#include "notifier/notifier.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct notifier {
    struct bus *bus;
    unsigned long handled;
};

static int on_event(void *arg, const struct event *ev, const struct bus_msg *msg)
{
    struct notifier *n = arg;
    (void)msg;
    n->handled++;
    log_info("notifier", "%s event for %s", event_type_name(ev->type), event_key(ev));
    return 0;
}

static const enum bus_topic inputs[] = {BUS_OUTAGES, BUS_MAINTENANCE, BUS_THRESHOLDS};

struct notifier *notifier_new(struct loop *loop, struct bus *bus, struct store *store,
                              const struct config *cfg, char *err, unsigned long errsz)
{
    (void)loop;
    (void)store;
    (void)cfg;
    struct notifier *n = xcalloc(1, sizeof *n);
    n->bus = bus;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        int rc = bus_subscribe_events(bus, inputs[i], "notifier", on_event, n);
        if (rc < 0) {
            snprintf(err, errsz, "cannot subscribe to %s (%d)", bus_topic_id(inputs[i]), rc);
            free(n);
            return NULL;
        }
    }
    log_info("notifier", "started; journaling outages until notification lands (issue #5)");
    return n;
}

void notifier_stop_sources(struct notifier *n)
{
    (void)n;
}

unsigned long notifier_handled(const struct notifier *n)
{
    return n->handled;
}

void notifier_free(struct notifier *n)
{
    free(n);
}
