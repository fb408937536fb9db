/* quiet: a subscriber's quiet hours, in their own timezone. Outage messages may be configured
 * to ignore them; maintenance and usage messages wait until they end (the morning). */
#ifndef FAROL_QUIET_H
#define FAROL_QUIET_H

#include <stdint.h>

/* When a message due at now_ms may go: now_ms itself outside quiet hours, else the end of the
 * quiet period. Quiet hours are [start_min, end_min) minutes after local midnight in tz
 * (NULL = UTC), wrapping midnight when start_min > end_min; start_min < 0 or start == end
 * means none. An unknown tz is treated as UTC. */
int64_t quiet_until(int64_t now_ms, const char *tz, int start_min, int end_min);

#endif
