/* usage_cycle: billing-cycle arithmetic, with no Redis and no state (docs/usage.md).
 * A cycle runs from local midnight of cycle_day (1..28, so every month has it) in the
 * subscriber's timezone to local midnight of cycle_day in the next month; its id is the
 * "YYYY-MM" of the month where it starts.
 * Timezones come from the system tz database: the computation sets TZ in the environment for
 * the duration of the call and restores it (glibc then re-reads the zone file, ~tens of µs),
 * so it is not thread-safe when tz names a zone. Callers cache results (usage.c does). */
#ifndef FAROL_USAGE_CYCLE_H
#define FAROL_USAGE_CYCLE_H

#include <stddef.h>
#include <stdint.h>

/* Room for a cycle id: "YYYY-MM" and the NUL. */
#define USAGE_CYCLE_ID_MAX 8

/* The billing cycle containing t_ms for cycle_day in tz (IANA name; NULL or "UTC" = UTC):
 * id "YYYY-MM" of the month where the cycle STARTS, [start_ms, end_ms) at local midnights
 * (when midnight does not exist because of DST, the first instant of that day). Returns 0,
 * -EINVAL (cycle_day outside 1..28, idsz < USAGE_CYCLE_ID_MAX), -ENOENT (tz not in the tz
 * database) or -ERANGE (t_ms outside the years 0001..9998). */
int usage_cycle(int64_t t_ms, int cycle_day, const char *tz, char *id, size_t idsz,
                int64_t *start_ms, int64_t *end_ms);

#endif
