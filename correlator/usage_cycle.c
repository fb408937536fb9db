/* usage_cycle: billing cycles from the calendar. UTC goes through timegm/gmtime_r; a named
 * zone through mktime/localtime_r inside core/tz's tz_with, because glibc offers no per-call
 * zone API. */
#include "correlator/usage_cycle.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"

#define YEAR_MIN 1
#define YEAR_MAX 9998

/* Epoch seconds of local midnight on (year, mon 0..11, day). */
static time_t midnight(int year, int mon, int day, bool utc)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon, .tm_mday = day, .tm_isdst = -1};
    return utc ? timegm(&tm) : mktime(&tm);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Month index (year * 12 + mon) of the cycle holding t: the current month from cycle_day on,
 * else the previous one. */
static int cycle_month(time_t t, int day, bool utc, int *out)
{
    struct tm lt;
    if (!(utc ? gmtime_r(&t, &lt) : localtime_r(&t, &lt)))
        return -ERANGE;
    int64_t y = (int64_t)lt.tm_year + 1900;
    if (y < YEAR_MIN || y > YEAR_MAX)
        return -ERANGE;
    *out = (int)y * 12 + lt.tm_mon - (lt.tm_mday < day);
    return 0;
}

static void month_bounds(int m, int day, bool utc, int64_t *start_ms, int64_t *end_ms)
{
    *start_ms = (int64_t)midnight(m / 12, m % 12, day, utc) * 1000;
    *end_ms = (int64_t)midnight((m + 1) / 12, (m + 1) % 12, day, utc) * 1000;
}

static int compute(int64_t t_ms, int day, bool utc, char *id, size_t idsz, int64_t *start_ms,
                   int64_t *end_ms)
{
    int m;
    int rc = cycle_month((time_t)floor_div(t_ms, 1000), day, utc, &m);
    if (rc < 0)
        return rc;
    month_bounds(m, day, utc, start_ms, end_ms);
    /* Belt and braces for zones whose midnight a DST rule moves: keep start <= t < end. */
    if (t_ms < *start_ms)
        month_bounds(--m, day, utc, start_ms, end_ms);
    else if (t_ms >= *end_ms)
        month_bounds(++m, day, utc, start_ms, end_ms);
    snprintf(id, idsz, "%04d-%02d", m / 12, m % 12 + 1);
    return 0;
}

struct zoned {
    int64_t t_ms;
    int day;
    char *id;
    size_t idsz;
    int64_t *start_ms, *end_ms;
};

static int compute_zoned(void *arg)
{
    struct zoned *z = arg;
    return compute(z->t_ms, z->day, false, z->id, z->idsz, z->start_ms, z->end_ms);
}

int usage_cycle(int64_t t_ms, int cycle_day, const char *tz, char *id, size_t idsz,
                int64_t *start_ms, int64_t *end_ms)
{
    if (cycle_day < 1 || cycle_day > 28 || idsz < USAGE_CYCLE_ID_MAX)
        return -EINVAL;
    /* Keep the seconds far inside time_t and the years the id format can hold. */
    if (t_ms < -62135596800000LL || t_ms > 253402300799000LL)
        return -ERANGE;
    if (!tz || !strcmp(tz, "UTC"))
        return compute(t_ms, cycle_day, true, id, idsz, start_ms, end_ms);
    if (!tz_known(tz))
        return -ENOENT;
    struct zoned z = {t_ms, cycle_day, id, idsz, start_ms, end_ms};
    return tz_with(tz, compute_zoned, &z);
}
