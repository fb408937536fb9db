/* store_link: a synchronous Redis connection on a loop, reconnected on demand. Stages that
 * write their state before acting on it (the correlator's alarms and outages, the notifier's
 * claims before a send) use a blocking connection with farol's timeouts rather than the async
 * one; a failed connection is dropped and retried at most once a second, logged once per
 * outage of Redis under the owner's subsystem tag.
 * struct store_link is caller-owned (store_link_init / store_link_deinit); it copies the
 * config. */
#ifndef FAROL_STORE_LINK_H
#define FAROL_STORE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/store.h"

struct loop;

struct store_link {
    struct loop *loop;
    struct store_config cfg;
    struct store_sync *ss;
    int64_t retry_at;   /* loop ms before which no reconnect is tried */
    bool down;          /* last attempt failed (logged once per outage of Redis) */
    const char *subsys; /* log tag (a string literal) */
};

/* Prepare (no connection yet); subsys (a string literal) tags its log lines. */
void store_link_init(struct store_link *db, struct loop *loop, const struct store_config *cfg,
                     const char *subsys);
/* The connection, connecting first when needed; NULL while Redis is unreachable. */
struct store_sync *store_link_get(struct store_link *db);
/* A command failed with err: log it and drop the connection (the next get reconnects). */
void store_link_failed(struct store_link *db, const char *err);
/* Close and free what db holds. */
void store_link_deinit(struct store_link *db);

#endif
