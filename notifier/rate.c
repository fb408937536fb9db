#include "notifier/rate.h"

#include <errno.h>
#include <math.h>

void rate_init(struct rate_bucket *b, double per_second, double burst, int64_t now_ms)
{
    b->per_ms = per_second / 1000.0;
    b->burst = burst < 1 ? 1 : burst;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

int64_t rate_take(struct rate_bucket *b, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->per_ms;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    if (b->per_ms <= 0)
        return INT64_MAX;
    return (int64_t)ceil((1.0 - b->tokens) / b->per_ms);
}

void spend_init(struct spend_cap *s, double cap)
{
    *s = (struct spend_cap){.cap = cap, .day = -1};
}

int spend_take(struct spend_cap *s, double cost, int64_t now_ms)
{
    int64_t day = now_ms / 86400000;
    if (day != s->day) {
        s->day = day;
        s->spent = 0;
    }
    if (s->cap > 0 && s->spent + cost > s->cap + 1e-9)
        return -EDQUOT;
    s->spent += cost;
    return 0;
}
