/* counter: turning successive readings of an SNMP octet counter into usage deltas.
 * Counters wrap (Counter32 at 2^32, Counter64 at 2^64) and restart from zero when the device
 * reboots or a line card resets; a naive subtraction then bills a subscriber for petabytes.
 * Rules, in order:
 *   - the first reading only sets the baseline (no delta);
 *   - sysUpTime lower than last time: the device rebooted, the counter restarted at 0, so the
 *     delta is the new value itself (what was counted since the reboot);
 *   - value >= last: the difference;
 *   - value < last on a Counter32: a wrap, if the implied rate is plausible; else a reset;
 *   - value < last on a Counter64: a reset (a real 64-bit wrap takes centuries).
 * A delta whose rate exceeds max_bps (a reset the device did not announce) is discarded and the
 * reading becomes the new baseline. struct counter is caller-owned plain data. */
#ifndef FAROL_COUNTER_H
#define FAROL_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

struct counter {
    bool valid;
    uint64_t last;
    int64_t last_ms;
    uint32_t last_uptime; /* sysUpTime in hundredths of a second */
};

enum counter_outcome {
    COUNTER_BASELINE,  /* first reading: nothing to report */
    COUNTER_DELTA,     /* *delta holds the octets since the last reading */
    COUNTER_WRAPPED,   /* Counter32 wrapped; *delta is corrected */
    COUNTER_REBOOTED,  /* the device rebooted; *delta is what it counted since */
    COUNTER_DISCARDED, /* implausible (reset without a reboot, clock trouble): no delta */
};

/* Start with no baseline. */
void counter_init(struct counter *c);
/* Take one reading: value of a counter of `bits` (32 or 64) at now_ms, with the device's
 * sysUpTime; max_bps bounds a plausible rate (bits per second). Sets *delta when the outcome
 * carries one, and always makes this reading the new baseline. */
enum counter_outcome counter_update(struct counter *c, uint64_t value, int bits, int64_t now_ms,
                                    uint32_t uptime, uint64_t max_bps, uint64_t *delta);
/* Name of an outcome, for logs. */
const char *counter_outcome_name(enum counter_outcome o);

#endif
