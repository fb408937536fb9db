/* snmp_poller: polls devices with their profile through the SNMP engine, on a schedule spread
 * over the interval (each device has a stable phase), and turns each completed poll into
 * profile readings, then alarm reports and usage deltas (collector/profile.h).
 * A poll that fails (timeout, auth error) raises "snmp-unresponsive" for the device and is not
 * evaluated: partial tables must never clear alarms. The next good poll clears it.
 * struct snmp_poller is opaque, owned by the collector; it owns the engine devices it adds.
 * Free it before the engine. */
#ifndef FAROL_SNMP_POLLER_H
#define FAROL_SNMP_POLLER_H

#include <stddef.h>
#include <stdint.h>

#include "collector/profile.h"
#include "collector/snmp_engine.h"

struct loop;
struct snmp_poller;

/* Called after every poll of a device (status 0 or the first error), for tools and tests. */
typedef void (*snmp_poll_done_fn)(void *arg, const char *device, int status, const char *msg);

/* A poller sending what it finds to sink (copied; its arg is borrowed). */
struct snmp_poller *snmp_poller_new(struct loop *loop, struct snmp_engine *engine,
                                    const struct profile_sink *sink);
/* Report the end of every poll to fn (NULL to stop). */
void snmp_poller_on_done(struct snmp_poller *p, snmp_poll_done_fn fn, void *arg);
/* Add a device polled with profile (borrowed: must outlive the poller) every interval_ms
 * (0 = only when snmp_poller_poll_all() is called). Returns 0 or -EINVAL with err set. */
int snmp_poller_add(struct snmp_poller *p, const char *device, const struct snmp_device_cfg *cfg,
                    const struct profile *profile, int64_t interval_ms, char *err, size_t errsz);
/* Start a poll of every device now (those already polling are skipped). */
void snmp_poller_poll_all(struct snmp_poller *p);
/* Polls in progress. */
size_t snmp_poller_busy(const struct snmp_poller *p);
/* Stop scheduling new polls (drain); polls in progress finish. */
void snmp_poller_stop(struct snmp_poller *p);
/* Cancel everything and free (NULL is fine). */
void snmp_poller_free(struct snmp_poller *p);

#endif
