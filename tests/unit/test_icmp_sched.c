#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "collector/icmp_sched.h"

#include "tests/support/check_run.h"

enum { TARGETS = 10000, BUCKETS = 100 };
static const uint64_t interval_us = 10000000; /* 10 s */

START_TEST(first_probes_spread_evenly_over_the_interval)
{
    struct icmp_sched *s = icmp_sched_new();
    for (uint32_t id = 0; id < TARGETS; id++)
        icmp_sched_set(s, id, icmp_sched_phase(id, interval_us));
    unsigned bucket[BUCKETS] = {0};
    uint64_t prev = 0;
    uint32_t id;
    uint64_t due;
    while (icmp_sched_peek(s, &id, &due) == 0) {
        ck_assert(due >= prev); /* the heap hands them out in time order */
        ck_assert(due < interval_us);
        ck_assert(due == icmp_sched_phase(id, interval_us)); /* stable per target */
        bucket[due * BUCKETS / interval_us]++;
        prev = due;
        icmp_sched_del(s, id);
    }
    ck_assert_uint_eq(icmp_sched_count(s), 0);
    /* 100 per 100 ms bucket on average; a burst would show as a full bucket. */
    for (int b = 0; b < BUCKETS; b++) {
        ck_assert_uint_le(bucket[b], TARGETS / BUCKETS + 3);
        ck_assert_uint_ge(bucket[b], TARGETS / BUCKETS - 3);
    }
    icmp_sched_free(s);
}
END_TEST

START_TEST(updates_and_deletes_keep_heap_order)
{
    struct icmp_sched *s = icmp_sched_new();
    enum { N = 50000 };
    uint64_t *due = calloc(N, sizeof *due);
    srand(7);
    for (uint32_t i = 0; i < N; i++)
        icmp_sched_set(s, i, due[i] = (uint64_t)rand());
    for (uint32_t i = 0; i < N; i += 3) /* move entries both ways */
        icmp_sched_set(s, i, due[i] = i % 2 ? due[i] / 2 : due[i] + 12345);
    for (uint32_t i = 1; i < N; i += 5) {
        icmp_sched_del(s, i);
        due[i] = UINT64_MAX;
    }
    icmp_sched_del(s, 1);       /* twice: harmless */
    icmp_sched_del(s, N + 100); /* never scheduled: harmless */
    uint32_t id, expect = 0;
    uint64_t d, prev = 0;
    for (uint32_t i = 0; i < N; i++)
        expect += due[i] != UINT64_MAX;
    ck_assert_uint_eq(icmp_sched_count(s), expect);
    while (icmp_sched_peek(s, &id, &d) == 0) {
        ck_assert(d >= prev);
        ck_assert(d == due[id]);
        prev = d;
        icmp_sched_del(s, id);
        expect--;
    }
    ck_assert_uint_eq(expect, 0);
    ck_assert_int_eq(icmp_sched_peek(s, &id, &d), -ENOENT);
    free(due);
    icmp_sched_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("icmp_sched");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, first_probes_spread_evenly_over_the_interval);
    tcase_add_test(tc, updates_and_deletes_keep_heap_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
