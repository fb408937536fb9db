/* rate: per-channel sending limits. A token bucket (kept as a schedule, the generic cell rate
 * algorithm) holds the configured messages per second with a burst allowance, so a channel
 * never goes faster than its gateway accepts; a daily
 * spend cap stops a channel once a day's cost is reached (reset at UTC midnight).
 * Both are caller-owned plain structs on a caller-supplied clock. */
#ifndef FAROL_RATE_H
#define FAROL_RATE_H

#include <stdint.h>

struct rate_bucket {
    double period_ms;    /* 1000 / messages per second */
    double tolerance_ms; /* (burst - 1) periods: how far ahead of schedule a send may go */
    double tat;          /* when the next send is due on schedule (ms) */
};

/* Start full at now_ms: per_second tokens a second, at most burst (>= 1) at once. A send
 * taken less than one period late keeps the schedule (the event loop wakes with millisecond
 * granularity, and at 200/s a millisecond is 20 % of a period); later than that, the schedule
 * restarts from now. No send is ever ahead of schedule by more than the burst allows, so any
 * second holds at most per_second + burst sends. */
void rate_init(struct rate_bucket *b, double per_second, double burst, int64_t now_ms);
/* Take one token at now_ms: returns 0 when taken, else the milliseconds until one is there
 * (nothing is taken then). */
int64_t rate_take(struct rate_bucket *b, int64_t now_ms);
/* Tokens that could be taken at now_ms (0 .. burst), without taking any; when 0, *wait_ms
 * (may be NULL) says when the next one is there. */
unsigned rate_available(const struct rate_bucket *b, int64_t now_ms, int64_t *wait_ms);

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
/* 0 when a message costing cost could be accounted at now_ms, else the milliseconds until the
 * next UTC day, when the cap starts again. */
int64_t spend_wait_ms(const struct spend_cap *s, double cost, int64_t now_ms);

#endif
