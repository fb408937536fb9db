/* outage_store: what a correlator needs to restart where it stopped, in Redis (keys in
 * docs/redis.md): the alarms it holds active, each open outage's last state and published
 * subscriber set, and an outbox of outage events written in the same transaction as the state
 * they describe, removed once the bus confirms them. A restart reloads the alarms and outages
 * into a new engine and republishes what the outbox still holds (at least once; consumers
 * de-duplicate by outage id and seq).
 *
 * All calls are synchronous on a caller-owned store_sync connection; each returns 0 or -EIO
 * with a message in err (the connection is then unusable: the caller reconnects). */
#ifndef FAROL_OUTAGE_STORE_H
#define FAROL_OUTAGE_STORE_H

#include <stddef.h>

#include "core/event.h"
#include "core/store.h"
#include "correlator/engine.h"

/* Record a raise (CORR_RAISE: json, len bytes, is the alarm event as it came off the bus)
 * or forget a clear (CORR_CLEAR). */
int outage_store_alarm(struct store_sync *ss, const struct alarm *a, const char *json, size_t len,
                       enum corr_change ch, char *err, size_t errsz);
/* Apply one outage event (ev, and json its encoding) to the outage's state and subscriber set,
 * and append json to the outbox, in one MULTI/EXEC. */
int outage_store_event(struct store_sync *ss, const struct event *ev, const char *json, char *err,
                       size_t errsz);
/* The bus holds json durably: drop it from the outbox. */
int outage_store_outbox_done(struct store_sync *ss, const char *json, char *err, size_t errsz);

typedef void (*outage_store_alarm_fn)(void *arg, const struct alarm *a);
typedef void (*outage_store_outage_fn)(void *arg, const struct outage *last,
                                       const char *const *subs, size_t nsubs);
typedef void (*outage_store_json_fn)(void *arg, const char *json);

/* Every active alarm, in no particular order. Undecodable entries are logged and skipped. */
int outage_store_load_alarms(struct store_sync *ss, outage_store_alarm_fn fn, void *arg, char *err,
                             size_t errsz);
/* Every open outage with its last state and published subscribers. */
int outage_store_load_outages(struct store_sync *ss, outage_store_outage_fn fn, void *arg,
                              char *err, size_t errsz);
/* The outbox, oldest first. */
int outage_store_load_outbox(struct store_sync *ss, outage_store_json_fn fn, void *arg, char *err,
                             size_t errsz);

#endif
