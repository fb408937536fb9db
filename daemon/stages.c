#include "daemon/stages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector.h"
#include "core/xmalloc.h"
#include "correlator/correlator.h"
#include "notifier/notifier.h"

struct stages {
    struct collector *collector;
    struct correlator *correlator;
    struct notifier *notifier;
};

static const char *const role_names[] = {"all", "collector", "correlator", "notifier"};

int stages_role_parse(const char *s, enum stage_role *out)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum stage_role)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *stages_role_name(enum stage_role role)
{
    return role_names[role];
}

struct stages *stages_new(enum stage_role role, struct loop *loop, struct bus *bus,
                          struct store *store, const struct config *cfg, char *err, size_t errsz)
{
    struct stages *st = xcalloc(1, sizeof *st);
    int all = role == ROLE_ALL;
    /* Sinks first, so nothing a source emits at start-up waits for its consumer. */
    if (all || role == ROLE_NOTIFIER) {
        st->notifier = notifier_new(loop, bus, store, cfg, err, errsz);
        if (!st->notifier)
            goto fail;
    }
    if (all || role == ROLE_CORRELATOR) {
        st->correlator = correlator_new(loop, bus, store, cfg, err, errsz);
        if (!st->correlator)
            goto fail;
    }
    if (all || role == ROLE_COLLECTOR) {
        st->collector = collector_new(loop, bus, store, cfg, err, errsz);
        if (!st->collector)
            goto fail;
    }
    return st;
fail:
    stages_free(st);
    return NULL;
}

void stages_stop_sources(struct stages *st)
{
    if (st->collector)
        collector_stop_sources(st->collector);
    if (st->correlator)
        correlator_stop_sources(st->correlator);
    if (st->notifier)
        notifier_stop_sources(st->notifier);
}

size_t stages_pending(const struct stages *st)
{
    return st && st->notifier ? notifier_inflight(st->notifier) : 0;
}

void stages_free(struct stages *st)
{
    if (!st)
        return;
    collector_free(st->collector);
    correlator_free(st->correlator);
    notifier_free(st->notifier);
    free(st);
}
