#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "collector/counter.h"
#include "tests/support/check_run.h"

#define GBPS10 10000000000ull

START_TEST(first_reading_is_a_baseline_then_differences)
{
    struct counter c;
    uint64_t d = 0;
    counter_init(&c);
    ck_assert_int_eq(counter_update(&c, 1000, 64, 0, 100, GBPS10, &d), COUNTER_BASELINE);
    ck_assert_int_eq(counter_update(&c, 1500, 64, 60000, 6100, GBPS10, &d), COUNTER_DELTA);
    ck_assert_uint_eq(d, 500);
    ck_assert_int_eq(counter_update(&c, 1500, 64, 120000, 12100, GBPS10, &d), COUNTER_DELTA);
    ck_assert_uint_eq(d, 0);
}
END_TEST

START_TEST(counter32_wrap_is_corrected)
{
    struct counter c;
    uint64_t d = 0;
    counter_init(&c);
    counter_update(&c, UINT32_MAX - 99, 32, 0, 100, GBPS10, &d);
    ck_assert_int_eq(counter_update(&c, 400, 32, 10000, 1100, GBPS10, &d), COUNTER_WRAPPED);
    ck_assert_uint_eq(d, 500);
}
END_TEST

START_TEST(reboot_counts_what_came_since_the_reboot)
{
    struct counter c;
    uint64_t d = 0;
    counter_init(&c);
    counter_update(&c, 5000000000ull, 64, 0, 90000000, GBPS10, &d);
    /* sysUpTime went from 10 days to 30 s: rebooted; 1 MB since then */
    ck_assert_int_eq(counter_update(&c, 1000000, 64, 300000, 3000, GBPS10, &d), COUNTER_REBOOTED);
    ck_assert_uint_eq(d, 1000000);
}
END_TEST

START_TEST(counter64_going_backwards_without_reboot_is_discarded)
{
    struct counter c;
    uint64_t d = 0;
    counter_init(&c);
    counter_update(&c, 5000000000ull, 64, 0, 1000, GBPS10, &d);
    ck_assert_int_eq(counter_update(&c, 10, 64, 300000, 31000, GBPS10, &d), COUNTER_DISCARDED);
    /* and the reading is the new baseline */
    ck_assert_int_eq(counter_update(&c, 110, 64, 600000, 61000, GBPS10, &d), COUNTER_DELTA);
    ck_assert_uint_eq(d, 100);
}
END_TEST

START_TEST(implausible_jump_is_discarded)
{
    struct counter c;
    uint64_t d = 0;
    counter_init(&c);
    counter_update(&c, 0, 64, 0, 100, GBPS10, &d);
    /* 1 TB in 60 s on a 10 Gb/s port cannot be real */
    ck_assert_int_eq(counter_update(&c, 1000000000000ull, 64, 60000, 6100, GBPS10, &d),
                     COUNTER_DISCARDED);
    /* 60 GB in 60 s is 8 Gb/s: plausible */
    counter_init(&c);
    counter_update(&c, 0, 64, 0, 100, GBPS10, &d);
    ck_assert_int_eq(counter_update(&c, 60000000000ull, 64, 60000, 6100, GBPS10, &d),
                     COUNTER_DELTA);
}
END_TEST

START_TEST(counter32_wrap_with_an_implausible_rate_is_discarded)
{
    struct counter c;
    uint64_t d = 0;
    counter_init(&c);
    counter_update(&c, 4000000000u, 32, 0, 100, 1000000 /* 1 Mb/s */, &d);
    /* a "wrap" implying ~4 GB in 1 s on a 1 Mb/s line is a reset */
    ck_assert_int_eq(counter_update(&c, 100, 32, 1000, 200, 1000000, &d), COUNTER_DISCARDED);
    ck_assert_str_eq(counter_outcome_name(COUNTER_DISCARDED), "discarded");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("counter");
    TCase *tc = tcase_create("collector");
    tcase_add_test(tc, first_reading_is_a_baseline_then_differences);
    tcase_add_test(tc, counter32_wrap_is_corrected);
    tcase_add_test(tc, reboot_counts_what_came_since_the_reboot);
    tcase_add_test(tc, counter64_going_backwards_without_reboot_is_discarded);
    tcase_add_test(tc, implausible_jump_is_discarded);
    tcase_add_test(tc, counter32_wrap_with_an_implausible_rate_is_discarded);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
