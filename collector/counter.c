#include "collector/counter.h"

void counter_init(struct counter *c)
{
    *c = (struct counter){0};
}

/* A delta is plausible when it could have crossed the link in the time between readings. */
static bool plausible(uint64_t delta, int64_t elapsed_ms, uint64_t max_bps)
{
    if (elapsed_ms <= 0)
        return delta == 0;
    /* octets * 8 * 1000 / ms <= max_bps, rearranged to avoid overflow */
    return delta / (uint64_t)elapsed_ms <= max_bps / 8000 + 1;
}

static enum counter_outcome classify(const struct counter *c, uint64_t value, int bits,
                                     int64_t elapsed_ms, uint32_t uptime, uint64_t *delta)
{
    if (uptime < c->last_uptime) {
        *delta = value;
        return COUNTER_REBOOTED;
    }
    if (value >= c->last) {
        *delta = value - c->last;
        return COUNTER_DELTA;
    }
    if (bits == 32 && c->last <= UINT32_MAX) {
        *delta = ((uint64_t)UINT32_MAX - c->last) + value + 1;
        return COUNTER_WRAPPED;
    }
    (void)elapsed_ms;
    return COUNTER_DISCARDED; /* a 64-bit counter went backwards without a reboot: a reset */
}

enum counter_outcome counter_update(struct counter *c, uint64_t value, int bits, int64_t now_ms,
                                    uint32_t uptime, uint64_t max_bps, uint64_t *delta)
{
    enum counter_outcome o = COUNTER_BASELINE;
    if (c->valid) {
        int64_t elapsed = now_ms - c->last_ms;
        o = classify(c, value, bits, elapsed, uptime, delta);
        /* After a reboot the time since boot bounds the rate, not the time since last. */
        if (o == COUNTER_REBOOTED)
            elapsed = (int64_t)uptime * 10 < elapsed ? (int64_t)uptime * 10 : elapsed;
        if (o != COUNTER_DISCARDED && !plausible(*delta, elapsed, max_bps))
            o = COUNTER_DISCARDED;
    }
    c->valid = true;
    c->last = value;
    c->last_ms = now_ms;
    c->last_uptime = uptime;
    return o;
}

const char *counter_outcome_name(enum counter_outcome o)
{
    static const char *const names[] = {"baseline", "delta", "wrapped", "rebooted", "discarded"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}
