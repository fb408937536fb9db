/* test_quiet_rate: quiet hours in subscribers' timezones (wrapping midnight, a daytime window,
 * none, an unknown zone, a DST change) and the sending limits: the token bucket never exceeds
 * its rate and meets it within 2 % over a simulated minute; the daily spend cap. */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "notifier/quiet.h"
#include "notifier/rate.h"
#include "tests/support/check_run.h"

/* 2026-11-23T21:00:00Z */
#define T0 1795467600000LL
#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)

START_TEST(quiet_hours_wrap_midnight_in_local_time)
{
    /* 21:00Z is 18:00 in São Paulo (UTC-3): outside 22:00-07:00 */
    ck_assert_int_eq(quiet_until(T0, "America/Sao_Paulo", 22 * 60, 7 * 60), T0);
    /* 02:00Z is 23:00 local: quiet until 07:00 local = 10:00Z next day */
    int64_t t = T0 + 5 * HOUR;
    ck_assert_int_eq(quiet_until(t, "America/Sao_Paulo", 22 * 60, 7 * 60), T0 + 13 * HOUR);
    /* 06:59 local (09:59Z) is still quiet, until 07:00 local */
    t = T0 + 12 * HOUR + 59 * MIN;
    ck_assert_int_eq(quiet_until(t, "America/Sao_Paulo", 22 * 60, 7 * 60), T0 + 13 * HOUR);
    /* 07:00 local sharp is not */
    ck_assert_int_eq(quiet_until(T0 + 13 * HOUR, "America/Sao_Paulo", 22 * 60, 7 * 60),
                     T0 + 13 * HOUR);
}
END_TEST

START_TEST(quiet_hours_daytime_none_and_unknown)
{
    /* 13:00-14:00 UTC, inside at 13:30 */
    int64_t t = T0 - 8 * HOUR + 30 * MIN;
    ck_assert_int_eq(quiet_until(t, NULL, 13 * 60, 14 * 60), T0 - 7 * HOUR);
    ck_assert_int_eq(quiet_until(t, NULL, -1, -1), t);
    ck_assert_int_eq(quiet_until(t, NULL, 600, 600), t);
    /* an unknown zone is UTC */
    ck_assert_int_eq(quiet_until(t, "Nowhere/Atlantis", 13 * 60, 14 * 60), T0 - 7 * HOUR);
}
END_TEST

START_TEST(quiet_hours_across_a_dst_change)
{
    /* Lisbon leaves summer time on 2026-10-25 at 02:00 local (01:00Z): 00:30Z is 01:30 WEST;
     * quiet 01:00-08:00 ends at 08:00 WET = 08:00Z */
    int64_t t = 1792888200000LL; /* 2026-10-25T00:30:00Z */
    ck_assert_int_eq(quiet_until(t, "Europe/Lisbon", 60, 8 * 60), 1792915200000LL);
}
END_TEST

START_TEST(bucket_never_exceeds_and_meets_the_rate)
{
    struct rate_bucket b;
    int64_t now = T0;
    rate_init(&b, 50, 5, now);
    long sent = 0, per_second[61] = {0};
    while (now < T0 + 60000) {
        int64_t wait = rate_take(&b, now);
        if (wait == 0) {
            sent++;
            per_second[(now - T0) / 1000]++;
            continue;
        }
        ck_assert_int_gt(wait, 0);
        now += wait;
    }
    /* 60 s x 50/s plus the initial burst of 5 */
    ck_assert_int_ge(sent, (long)(3000 * 0.98));
    ck_assert_int_le(sent, 3000 + 5);
    for (int s = 1; s < 60; s++)
        ck_assert_int_le(per_second[s], 51);
}
END_TEST

/* The loop wakes a millisecond or two after the token is due: the schedule is kept, so the
 * rate is still met, and no second ever holds more than rate + burst. */
START_TEST(bucket_keeps_its_schedule_when_taken_late)
{
    struct rate_bucket b;
    int64_t now = T0;
    rate_init(&b, 200, 1, now);
    static int64_t at[20000];
    long sent = 0;
    while (now < T0 + 60000) {
        int64_t wait = rate_take(&b, now);
        if (wait == 0) {
            at[sent++] = now;
            now += 2; /* the round's Redis work before the next look */
            continue;
        }
        now += wait + 1; /* woken late */
    }
    ck_assert_int_ge(sent, (long)(12000 * 0.98));
    ck_assert_int_le(sent, 12000 + 1);
    for (long i = 0, j = 0; i < sent; i++) { /* sliding 1 s windows */
        while (at[i] - at[j] >= 1000)
            j++;
        ck_assert_int_le(i - j + 1, 201);
    }
    unsigned n = rate_available(&b, now, NULL);
    ck_assert_uint_le(n, 1);
}
END_TEST

START_TEST(bucket_burst_and_zero_rate)
{
    struct rate_bucket b;
    rate_init(&b, 1, 3, T0);
    ck_assert_int_eq(rate_take(&b, T0), 0);
    ck_assert_int_eq(rate_take(&b, T0), 0);
    ck_assert_int_eq(rate_take(&b, T0), 0);
    ck_assert_int_eq(rate_take(&b, T0), 1000);
    ck_assert_int_eq(rate_take(&b, T0 + 1000), 0);
    int64_t wait = 0;
    ck_assert_uint_eq(rate_available(&b, T0 + 1000, &wait), 0);
    ck_assert_int_eq(wait, 1000);
    ck_assert_uint_eq(rate_available(&b, T0 + 10 * 1000, NULL), 3);
    rate_init(&b, 0, 1, T0);
    ck_assert_int_eq(rate_take(&b, T0), 0);
    ck_assert_int_eq(rate_take(&b, T0 + HOUR), INT64_MAX);
}
END_TEST

START_TEST(spend_cap_per_utc_day)
{
    struct spend_cap s;
    spend_init(&s, 1.00);
    ck_assert(!spend_grant(&s, 3, 5, T0)); /* the store had room for 3 of 5 */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(spend_take(&s), 0);
    ck_assert_int_eq(spend_take(&s), -EDQUOT);
    ck_assert_int_eq(spend_wait_ms(&s, T0), 0); /* some were granted: not used up yet */
    spend_grant(&s, 2, 5, T0);
    ck_assert_int_eq(spend_take(&s), 0);
    ck_assert_uint_eq(spend_return(&s), 1); /* one reserved, not used: given back */
    ck_assert_uint_eq(spend_return(&s), 0);
    ck_assert(spend_grant(&s, 0, 5, T0)); /* none: used up, said once a day */
    ck_assert_int_eq(spend_take(&s), -EDQUOT);
    ck_assert_int_eq(spend_wait_ms(&s, T0), SPEND_RECHECK_MS); /* another instance may give back */
    ck_assert_int_eq(spend_wait_ms(&s, T0 + SPEND_RECHECK_MS), 0);
    ck_assert(!spend_grant(&s, 0, 5, T0 + SPEND_RECHECK_MS)); /* still used up: not said again */
    /* near midnight the next try is at 00:00Z (T0 is 21:00Z) */
    ck_assert(!spend_grant(&s, 0, 5, T0 + 3 * HOUR - 1000));
    ck_assert_int_eq(spend_wait_ms(&s, T0 + 3 * HOUR - 1000), 1000);
    ck_assert(spend_grant(&s, 0, 5, T0 + 3 * HOUR + 1000)); /* a new day, used up again: said */
    ck_assert(!spend_grant(&s, 0, 0, T0 + 4 * HOUR));       /* nothing wanted says nothing */
    spend_init(&s, 0);
    ck_assert_int_eq(spend_take(&s), 0); /* no cap */
    ck_assert_int_eq(spend_wait_ms(&s, T0), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("quiet_rate");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, quiet_hours_wrap_midnight_in_local_time);
    tcase_add_test(tc, quiet_hours_daytime_none_and_unknown);
    tcase_add_test(tc, quiet_hours_across_a_dst_change);
    tcase_add_test(tc, bucket_never_exceeds_and_meets_the_rate);
    tcase_add_test(tc, bucket_keeps_its_schedule_when_taken_late);
    tcase_add_test(tc, bucket_burst_and_zero_rate);
    tcase_add_test(tc, spend_cap_per_utc_day);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
