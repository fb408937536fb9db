/* tz: wall-clock time in IANA time zones (subscribers' quiet hours, message times, billing
 * cycles). glibc only converts through the process's TZ, so each call switches TZ under one
 * process-wide lock and restores it: callers in other threads must not read TZ meanwhile.
 * A NULL or empty zone means UTC. */
#ifndef FAROL_TZ_H
#define FAROL_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* True for NULL/"" (UTC), or a zone file of the tz database (TZDIR or /usr/share/zoneinfo);
 * glibc would silently use UTC for an unknown name. */
bool tz_known(const char *tz);
/* Local broken-down time of t in tz. Returns 0 or -EINVAL (unknown zone). */
int tz_local(time_t t, const char *tz, struct tm *out);
/* The instant of local time *lt in tz (tm_isdst -1 lets the zone decide; a time skipped by a
 * DST change moves forward). Returns 0 with *t set, or -EINVAL. */
int tz_instant(const struct tm *lt, const char *tz, time_t *t);

/* Run fn(arg) with the process's zone set to tz (under the same lock), then restore it; for
 * callers that need several local-time conversions in one zone. Returns fn's result, or
 * -EINVAL for an unknown zone (fn not called). NULL/"" runs fn with TZ set to UTC. */
int tz_with(const char *tz, int (*fn)(void *arg), void *arg);

#endif
