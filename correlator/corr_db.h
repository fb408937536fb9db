/* corr_db: the correlator's synchronous Redis connection, reconnected on demand. The
 * correlator writes its state before acting on it (alarms before correlation, outages before
 * publishing), so it uses a blocking connection with farol's timeouts rather than the async
 * one; a failed connection is dropped and retried at most once a second.
 * struct corr_db is caller-owned (corr_db_init / corr_db_deinit); it copies the config. */
#ifndef FAROL_CORR_DB_H
#define FAROL_CORR_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/store.h"

struct loop;

struct corr_db {
    struct loop *loop;
    struct store_config cfg;
    struct store_sync *ss;
    int64_t retry_at; /* loop ms before which no reconnect is tried */
    bool down;        /* last attempt failed (logged once per outage of Redis) */
};

/* Prepare (no connection yet). */
void corr_db_init(struct corr_db *db, struct loop *loop, const struct store_config *cfg);
/* The connection, connecting first when needed; NULL while Redis is unreachable. */
struct store_sync *corr_db_get(struct corr_db *db);
/* A command failed with err: log it and drop the connection (the next get reconnects). */
void corr_db_failed(struct corr_db *db, const char *err);
/* Close and free what db holds. */
void corr_db_deinit(struct corr_db *db);

#endif
