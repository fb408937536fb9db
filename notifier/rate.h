/* rate: per-channel sending limits. A token bucket holds the configured messages per second
 * (with a burst allowance), so a channel never goes faster than its gateway accepts; a daily
 * spend cap stops a channel once a day's cost is reached (reset at UTC midnight).
 * Both are caller-owned plain structs on a caller-supplied clock. */
#ifndef FAROL_RATE_H
#define FAROL_RATE_H

#include <stdint.h>

struct rate_bucket {
    double per_ms; /* tokens added per millisecond */
    double burst;  /* most tokens held */
    double tokens;
    int64_t last_ms;
};

/* Start full at now_ms: per_second tokens a second, at most burst (>= 1) at once. */
void rate_init(struct rate_bucket *b, double per_second, double burst, int64_t now_ms);
/* Take one token at now_ms: returns 0 when taken, else the milliseconds until one is there
 * (nothing is taken then). */
int64_t rate_take(struct rate_bucket *b, int64_t now_ms);

struct spend_cap {
    double cap;   /* per UTC day; <= 0 = no cap */
    double spent; /* today */
    int64_t day;  /* days since the epoch of "today" */
};

/* No spending yet; cap <= 0 disables the cap. */
void spend_init(struct spend_cap *s, double cap);
/* Account a message costing cost at now_ms if today's total stays within the cap: 0, or
 * -EDQUOT (nothing accounted) when it would exceed it. */
int spend_take(struct spend_cap *s, double cost, int64_t now_ms);

#endif
