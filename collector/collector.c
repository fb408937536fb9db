#include "collector/collector.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct collector {
    struct loop *loop;
    struct bus *bus;
    struct store *store;
    int stopped;
};

struct collector *collector_new(struct loop *loop, struct bus *bus, struct store *store,
                                const struct config *cfg, char *err, unsigned long errsz)
{
    (void)cfg;
    (void)err;
    (void)errsz;
    struct collector *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->bus = bus;
    c->store = store;
    log_info("collector", "started; no probes are configured in this version (issue #3)");
    return c;
}

void collector_stop_sources(struct collector *c)
{
    c->stopped = 1;
}

unsigned long collector_handled(const struct collector *c)
{
    (void)c;
    return 0;
}

void collector_free(struct collector *c)
{
    free(c);
}
