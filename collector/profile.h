/* profile: what a poll profile reads from a device and how readings become alarms and usage.
 * A profile is configuration (collector.profiles in the YAML, docs/collector-profiles.md): a
 * few rule kinds, each bound to numeric column OIDs, so supporting a new vendor means writing
 * YAML, not code:
 *   uptime    sysUpTime going backwards: the device rebooted ("reboot" alarm for one poll);
 *   links     ifOperStatus with ifAdminStatus: a link is down only if it is administratively up;
 *   onus      ONU status (+ last down cause, + optical rx power): online, or offline with a
 *             cause (LOS, dying-gasp, other), and low optical power as a warning;
 *   counters  octet counters per object, turned into usage deltas (collector/counter.h).
 * Evaluation is pure: readings in, alarm reports and usage deltas out through callbacks, with
 * per-device memory (last uptime, counters) kept in a struct profile_memory.
 * The profile structs themselves are configuration (config/collector_config.h). */
#ifndef FAROL_PROFILE_H
#define FAROL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/alarm_state.h"
#include "config/collector_config.h"

/* One reading: row index (OID suffix after the column) and value. */
struct profile_cell {
    const char *index;
    bool is_number;
    int64_t i;  /* signed view (status codes, dBm*100) */
    uint64_t u; /* unsigned view (counters) */
};

/* One walked column. */
struct profile_column {
    const char *oid;
    const struct profile_cell *cells;
    size_t n;
};

/* Everything one poll read from a device. */
struct profile_readings {
    const struct profile_column *columns;
    size_t n_columns;
    bool has_uptime;
    uint32_t uptime;
    int64_t at_ms;
};

struct profile_sink {
    void (*alarm)(void *arg, const struct alarm_report *r);
    void (*usage)(void *arg, const char *device, const char *object, uint64_t rx, uint64_t tx,
                  int64_t interval_ms);
    void *arg;
};

struct profile_memory;

/* Expand an object template: "{index}" replaced by index, or index appended to a template
 * without one. Polls and traps name objects through this, so they always agree. */
void profile_object_name(char *buf, size_t sz, const char *tmpl, const char *index);
/* Per-device memory between polls (owned by the caller). */
struct profile_memory *profile_memory_new(void);
/* Free it (NULL is fine). */
void profile_memory_free(struct profile_memory *m);
/* Columns the profile needs walked (NULL-terminated, pointers into p); the uptime OID is
 * read with a GET, not listed here. */
size_t profile_columns(const struct profile *p, const char **out, size_t max);
/* Evaluate one poll of device with profile p and send what follows to sink. */
void profile_evaluate(const struct profile *p, const char *device, const struct profile_readings *r,
                      struct profile_memory *mem, const struct profile_sink *sink);
#endif
