#include "notifier/rate.h"

#include <errno.h>
#include <math.h>

void rate_init(struct rate_bucket *b, double per_second, double burst, int64_t now_ms)
{
    b->period_ms = per_second > 0 ? 1000.0 / per_second : INFINITY;
    b->tolerance_ms = ((burst < 1 ? 1 : burst) - 1) * (per_second > 0 ? b->period_ms : 0);
    b->tat = (double)now_ms;
}

int64_t rate_take(struct rate_bucket *b, int64_t now_ms)
{
    double now = (double)now_ms;
    if (now < b->tat - b->tolerance_ms) /* a zero rate's schedule is at infinity */
        return isinf(b->tat) ? INT64_MAX : (int64_t)ceil(b->tat - b->tolerance_ms - now);
    if (now - b->tat >= b->period_ms) /* idle, or too late to keep the schedule */
        b->tat = now;
    b->tat += b->period_ms;
    return 0;
}

unsigned rate_available(const struct rate_bucket *b, int64_t now_ms, int64_t *wait_ms)
{
    double now = (double)now_ms, start = b->tat;
    if (isinf(b->tat) || (isinf(b->period_ms) && now < start)) {
        if (wait_ms)
            *wait_ms = INT64_MAX;
        return 0;
    }
    if (isinf(b->period_ms))
        return 1;
    if (now - start >= b->period_ms)
        start = now;
    double ahead = now - (start - b->tolerance_ms); /* how far into the allowance we are */
    if (ahead < 0) {
        if (wait_ms)
            *wait_ms = (int64_t)ceil(-ahead);
        return 0;
    }
    double n = floor(ahead / b->period_ms) + 1, max = b->tolerance_ms / b->period_ms + 1;
    return (unsigned)(n > max ? max : n);
}

void spend_init(struct spend_cap *s, double cap)
{
    *s = (struct spend_cap){.cap = cap, .broke_day = -1};
}

bool spend_grant(struct spend_cap *s, unsigned n, unsigned wanted, int64_t now_ms)
{
    s->granted = n;
    if (n || !wanted)
        return false;
    int64_t day = now_ms / 86400000, midnight = (day + 1) * 86400000;
    s->recheck = now_ms + SPEND_RECHECK_MS < midnight ? now_ms + SPEND_RECHECK_MS : midnight;
    bool first = s->broke_day != day;
    s->broke_day = day;
    return first;
}

int spend_take(struct spend_cap *s)
{
    if (s->cap <= 0)
        return 0;
    if (!s->granted)
        return -EDQUOT;
    s->granted--;
    return 0;
}

unsigned spend_return(struct spend_cap *s)
{
    unsigned n = s->granted;
    s->granted = 0;
    return n;
}

int64_t spend_wait_ms(const struct spend_cap *s, int64_t now_ms)
{
    if (s->cap <= 0 || now_ms >= s->recheck)
        return 0;
    return s->recheck - now_ms;
}
