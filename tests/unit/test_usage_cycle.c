/* test_usage_cycle: billing-cycle arithmetic: month boundaries, cycle_day 28 through February,
 * the year wrap, zones moving the boundary (including a DST start at midnight), bad input, and
 * the process's TZ left as it was. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"
#include "correlator/usage_cycle.h"
#include "tests/support/check_run.h"

/* Epoch ms of a UTC wall time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

struct cyc {
    char id[USAGE_CYCLE_ID_MAX];
    int64_t start, end;
};

static struct cyc cycle(int64_t t, int day, const char *tz)
{
    struct cyc c;
    int rc = usage_cycle(t, day, tz, c.id, sizeof c.id, &c.start, &c.end);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_le(c.start, t);
    ck_assert_int_lt(t, c.end);
    return c;
}

START_TEST(month_boundaries_utc)
{
    struct cyc c = cycle(utc(2026, 11, 23, 21, 8), 1, NULL);
    ck_assert_str_eq(c.id, "2026-11");
    ck_assert_int_eq(c.start, utc(2026, 11, 1, 0, 0));
    ck_assert_int_eq(c.end, utc(2026, 12, 1, 0, 0));
    c = cycle(utc(2026, 11, 3, 12, 0), 5, "UTC");
    ck_assert_str_eq(c.id, "2026-10");
    ck_assert_int_eq(c.start, utc(2026, 10, 5, 0, 0));
    ck_assert_int_eq(c.end, utc(2026, 11, 5, 0, 0));
    /* The first millisecond of the day belongs to the new cycle, the one before to the old. */
    c = cycle(utc(2026, 11, 5, 0, 0), 5, NULL);
    ck_assert_str_eq(c.id, "2026-11");
    c = cycle(utc(2026, 11, 5, 0, 0) - 1, 5, NULL);
    ck_assert_str_eq(c.id, "2026-10");
}
END_TEST

START_TEST(day_28_through_february)
{
    struct cyc c = cycle(utc(2026, 2, 27, 23, 59), 28, NULL);
    ck_assert_str_eq(c.id, "2026-01");
    ck_assert_int_eq(c.start, utc(2026, 1, 28, 0, 0));
    ck_assert_int_eq(c.end, utc(2026, 2, 28, 0, 0));
    c = cycle(utc(2026, 3, 1, 0, 0), 28, NULL);
    ck_assert_str_eq(c.id, "2026-02");
    ck_assert_int_eq(c.start, utc(2026, 2, 28, 0, 0));
    ck_assert_int_eq(c.end, utc(2026, 3, 28, 0, 0));
    c = cycle(utc(2028, 2, 29, 12, 0), 28, NULL); /* leap day */
    ck_assert_str_eq(c.id, "2028-02");
    ck_assert_int_eq(c.end - c.start, 29LL * 86400000);
}
END_TEST

START_TEST(year_wrap)
{
    struct cyc c = cycle(utc(2026, 1, 3, 8, 0), 5, NULL);
    ck_assert_str_eq(c.id, "2025-12");
    ck_assert_int_eq(c.start, utc(2025, 12, 5, 0, 0));
    ck_assert_int_eq(c.end, utc(2026, 1, 5, 0, 0));
    c = cycle(utc(2025, 12, 31, 23, 59), 1, NULL);
    ck_assert_str_eq(c.id, "2025-12");
    ck_assert_int_eq(c.end, utc(2026, 1, 1, 0, 0));
    c = cycle(utc(1969, 12, 15, 0, 0) + 1, 1, NULL); /* before the epoch: floor, not trunc */
    ck_assert_str_eq(c.id, "1969-12");
    ck_assert_int_eq(c.start, utc(1969, 12, 1, 0, 0));
}
END_TEST

START_TEST(timezone_shifts_boundary)
{
    /* 02:00 UTC on Nov 1 is still Oct 31 in São Paulo (UTC-3, no DST since 2019). */
    struct cyc c = cycle(utc(2026, 11, 1, 2, 0), 1, "America/Sao_Paulo");
    ck_assert_str_eq(c.id, "2026-10");
    ck_assert_int_eq(c.end, utc(2026, 11, 1, 3, 0));
    c = cycle(utc(2026, 11, 1, 3, 0), 1, "America/Sao_Paulo");
    ck_assert_str_eq(c.id, "2026-11");
    /* 16:00 UTC on Oct 31 is already Nov 1 in Tokyo (UTC+9). */
    c = cycle(utc(2026, 10, 31, 16, 0), 1, "Asia/Tokyo");
    ck_assert_str_eq(c.id, "2026-11");
    ck_assert_int_eq(c.start, utc(2026, 10, 31, 15, 0));
    /* The same instant in UTC is still October. */
    ck_assert_str_eq(cycle(utc(2026, 10, 31, 16, 0), 1, NULL).id, "2026-10");
}
END_TEST

/* São Paulo's DST began at 00:00 on 2018-11-04: that midnight never happened, the day (and
 * the cycle) began at 01:00 -02 = 03:00 UTC. */
START_TEST(dst_midnight_missing)
{
    struct cyc c = cycle(utc(2018, 11, 4, 3, 0), 4, "America/Sao_Paulo");
    ck_assert_str_eq(c.id, "2018-11");
    ck_assert_int_eq(c.start, utc(2018, 11, 4, 3, 0));
    c = cycle(utc(2018, 11, 4, 3, 0) - 1, 4, "America/Sao_Paulo");
    ck_assert_str_eq(c.id, "2018-10");
    ck_assert_int_eq(c.end, utc(2018, 11, 4, 3, 0));
}
END_TEST

START_TEST(bad_input_and_tz_restored)
{
    char id[USAGE_CYCLE_ID_MAX];
    int64_t s, e, t = utc(2026, 11, 23, 0, 0);
    ck_assert_int_eq(usage_cycle(t, 0, NULL, id, sizeof id, &s, &e), -EINVAL);
    ck_assert_int_eq(usage_cycle(t, 29, NULL, id, sizeof id, &s, &e), -EINVAL);
    ck_assert_int_eq(usage_cycle(t, 1, NULL, id, 4, &s, &e), -EINVAL);
    ck_assert_int_eq(usage_cycle(t, 1, "Nope/Zone", id, sizeof id, &s, &e), -ENOENT);
    ck_assert_int_eq(usage_cycle(t, 1, "America", id, sizeof id, &s, &e), -ENOENT);
    ck_assert_int_eq(usage_cycle(t, 1, "../etc/passwd", id, sizeof id, &s, &e), -ENOENT);
    ck_assert_int_eq(usage_cycle(INT64_MAX, 1, NULL, id, sizeof id, &s, &e), -ERANGE);
    ck_assert(!tz_known("EST5EDT,M3.2.0,M11.1.0"));
    ck_assert(tz_known("Europe/Berlin"));

    unsetenv("TZ");
    cycle(t, 1, "Asia/Tokyo");
    ck_assert_ptr_null(getenv("TZ"));
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    cycle(t, 1, "Asia/Tokyo");
    ck_assert_str_eq(getenv("TZ"), "Europe/Berlin");
    /* The process's zone is really back: Berlin is UTC+1 in November. */
    time_t noon = (time_t)(utc(2026, 11, 23, 12, 0) / 1000);
    struct tm lt;
    localtime_r(&noon, &lt);
    ck_assert_int_eq(lt.tm_hour, 13);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("usage_cycle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, month_boundaries_utc);
    tcase_add_test(tc, day_28_through_february);
    tcase_add_test(tc, year_wrap);
    tcase_add_test(tc, timezone_shifts_boundary);
    tcase_add_test(tc, dst_midnight_missing);
    tcase_add_test(tc, bad_input_and_tz_restored);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
