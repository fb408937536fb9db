/* maint_recur: the recurrence rules of maintenance windows, a small RRULE subset
 * (docs/maintenance.md). Occurrences step in fixed UTC milliseconds: a window planned at a
 * local hour moves by one hour across a daylight-saving change. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/xmalloc.h"
#include "correlator/maint.h"

#define DAY_MS (24 * 60 * 60 * 1000LL)
#define MAX_INTERVAL 366
#define MAX_COUNT 100000

static const char *const weekdays[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

static int fail(char *err, size_t errsz, const char *msg, const char *part)
{
    snprintf(err, errsz, "recurrence: %s%s%s%s", msg, part ? " '" : "", part ? part : "",
             part ? "'" : "");
    return -EINVAL;
}

static int parse_num(const char *v, uint32_t max, uint32_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*v))
        return -EINVAL;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < 1 || n > max)
        return -EINVAL;
    *out = (uint32_t)n;
    return 0;
}

static const char *start_weekday(int64_t start_ms)
{
    time_t s = (time_t)(start_ms >= 0 ? start_ms / 1000 : (start_ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    return weekdays[tm.tm_wday];
}

/* One KEY=VALUE part (or the "daily"/"weekly" shorthand) into r. */
static int parse_part(char *part, int64_t start_ms, struct maint_recur *r, char *err, size_t errsz)
{
    char *eq = strchr(part, '=');
    if (!eq) { /* the "daily" / "weekly" shorthand */
        int days = !strcasecmp(part, "daily") ? 1 : !strcasecmp(part, "weekly") ? 7 : 0;
        if (!days)
            return fail(err, errsz, "expected daily, weekly or KEY=VALUE, got", part);
        if (r->period_days)
            return fail(err, errsz, "frequency given twice", NULL);
        r->period_days = days;
        return 0;
    }
    *eq = '\0';
    const char *k = part, *v = eq + 1;
    if (!strcasecmp(k, "FREQ")) {
        if (r->period_days)
            return fail(err, errsz, "frequency given twice", NULL);
        if (!strcasecmp(v, "DAILY") || !strcasecmp(v, "WEEKLY"))
            return r->period_days = toupper((unsigned char)*v) == 'D' ? 1 : 7, 0;
        return fail(err, errsz, "FREQ must be DAILY or WEEKLY, got", v);
    }
    if (!strcasecmp(k, "INTERVAL"))
        return parse_num(v, MAX_INTERVAL, &r->interval) < 0
                   ? fail(err, errsz, "INTERVAL must be 1..366, got", v)
                   : 0;
    if (!strcasecmp(k, "COUNT"))
        return parse_num(v, MAX_COUNT, &r->count) < 0
                   ? fail(err, errsz, "COUNT must be 1..100000, got", v)
                   : 0;
    if (!strcasecmp(k, "BYDAY")) {
        if (strcasecmp(v, start_weekday(start_ms)))
            return fail(err, errsz, "BYDAY must be the start's weekday (UTC), one day only; got",
                        v);
        snprintf(r->byday, sizeof r->byday, "%s", start_weekday(start_ms));
        return 0;
    }
    return fail(err, errsz, "unknown key (use FREQ, INTERVAL, COUNT, BYDAY):", k);
}

int maint_recur_parse(const char *rule, int64_t start_ms, int64_t end_ms, struct maint_recur *r,
                      char *err, size_t errsz)
{
    memset(r, 0, sizeof *r);
    if (!rule || !*rule)
        return fail(err, errsz, "empty rule", NULL);
    char *copy = xstrdup(rule), *save = NULL;
    int rc = 0;
    for (char *p = strtok_r(copy, ";", &save); p && rc == 0; p = strtok_r(NULL, ";", &save))
        rc = parse_part(p, start_ms, r, err, errsz);
    free(copy);
    if (rc < 0)
        return rc;
    if (!r->period_days)
        return fail(err, errsz, "FREQ (DAILY or WEEKLY) is required", NULL);
    if (r->byday[0] && r->period_days != 7)
        return fail(err, errsz, "BYDAY needs FREQ=WEEKLY", NULL);
    if (!r->interval)
        r->interval = 1;
    if (end_ms - start_ms >= maint_recur_step_ms(r))
        return fail(err, errsz, "the window is as long as its period: occurrences would overlap",
                    NULL);
    return 0;
}

void maint_recur_format(const struct maint_recur *r, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "FREQ=%s", r->period_days == 1 ? "DAILY" : "WEEKLY");
    if (r->interval > 1 && n >= 0 && (size_t)n < outsz)
        n += snprintf(out + n, outsz - (size_t)n, ";INTERVAL=%u", r->interval);
    if (r->count && n >= 0 && (size_t)n < outsz)
        n += snprintf(out + n, outsz - (size_t)n, ";COUNT=%u", r->count);
    if (r->byday[0] && n >= 0 && (size_t)n < outsz)
        snprintf(out + n, outsz - (size_t)n, ";BYDAY=%s", r->byday);
}

int64_t maint_recur_step_ms(const struct maint_recur *r)
{
    return (int64_t)r->period_days * (int64_t)(r->interval ? r->interval : 1) * DAY_MS;
}
