/* rate: per-channel sending limits. A token bucket (kept as a schedule, the generic cell rate
 * algorithm) holds the configured messages per second with a burst allowance, so a channel
 * never goes faster than its gateway accepts; a daily
 * spend cap stops a channel once a day's cost is reached (reset at UTC midnight).
 * Both are caller-owned plain structs on a caller-supplied clock. */
#ifndef FAROL_RATE_H
#define FAROL_RATE_H

#include <stdbool.h>
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

/* The daily spend cap's local side. The day's spend itself is shared by every notifier
 * instance and survives restarts (notif_store_spend_reserve_add): each round reserves the sends
 * it may make there, uses them here, and gives back what it did not use. */
struct spend_cap {
    double cap;        /* per UTC day; <= 0 = no cap */
    unsigned granted;  /* sends reserved for this round and not used yet */
    int64_t recheck;   /* wall ms before which no reservation is tried (cap used up) */
    int64_t broke_day; /* days since the epoch last found used up; -1: none */
};

/* How often a channel whose cap is used up asks again: another instance may give back what
 * it reserved and did not use. */
#define SPEND_RECHECK_MS 60000

/* Nothing reserved; cap <= 0 disables the cap. */
void spend_init(struct spend_cap *s, double cap);
/* The shared store granted n of the wanted sends at now_ms. None of several wanted means the
 * day's cap is used up: no reservation is tried for SPEND_RECHECK_MS (or until the next UTC
 * day, if sooner). Returns true the first time that happens in a day (worth a log line). */
bool spend_grant(struct spend_cap *s, unsigned n, unsigned wanted, int64_t now_ms);
/* Use one reserved send: 0, or -EDQUOT when none is left. Without a cap, always 0. */
int spend_take(struct spend_cap *s);
/* The reserved sends not used, to give back; none are left after. */
unsigned spend_return(struct spend_cap *s);
/* 0 when the channel may reserve at now_ms, else the milliseconds until it may ask again. */
int64_t spend_wait_ms(const struct spend_cap *s, int64_t now_ms);

#endif
