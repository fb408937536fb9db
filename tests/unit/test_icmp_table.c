#include <check.h>
#include <errno.h>

#include "collector/icmp_table.h"

#include "tests/support/check_run.h"

enum { N = 200000 };

/* Tokens as the prober makes them: sequential from a random start, wrapping past 0. */
static uint32_t token_at(uint32_t i)
{
    uint32_t t = 0xfffff000u + i;
    return t ? t : 0x5a5a5a5a;
}

START_TEST(insert_lookup_remove_200k)
{
    struct icmp_table *t = icmp_table_new(16); /* grows many times on the way */
    for (uint32_t i = 0; i < N; i++)
        ck_assert_int_eq(icmp_table_put(t, token_at(i), i), 0);
    ck_assert_uint_eq(icmp_table_count(t), N);
    ck_assert_int_eq(icmp_table_put(t, token_at(7), 1), -EEXIST);
    uint32_t v;
    for (uint32_t i = 0; i < N; i++) {
        ck_assert_int_eq(icmp_table_get(t, token_at(i), &v), 0);
        ck_assert_uint_eq(v, i);
    }
    /* Remove every other entry: backward shifts must keep the rest reachable. */
    for (uint32_t i = 0; i < N; i += 2)
        ck_assert_int_eq(icmp_table_del(t, token_at(i)), 0);
    ck_assert_uint_eq(icmp_table_count(t), N / 2);
    for (uint32_t i = 0; i < N; i++) {
        int rc = icmp_table_get(t, token_at(i), &v);
        ck_assert_int_eq(rc, i % 2 ? 0 : -ENOENT);
        if (i % 2)
            ck_assert_uint_eq(v, i);
    }
    ck_assert_int_eq(icmp_table_del(t, token_at(0)), -ENOENT);
    for (uint32_t i = 1; i < N; i += 2)
        ck_assert_int_eq(icmp_table_del(t, token_at(i)), 0);
    ck_assert_uint_eq(icmp_table_count(t), 0);
    icmp_table_free(t);
}
END_TEST

START_TEST(churn_keeps_the_table_consistent)
{
    /* A sliding window of in-flight tokens, as a long-running prober produces. */
    struct icmp_table *t = icmp_table_new(1024);
    uint32_t v;
    for (uint32_t i = 0; i < 1000000; i++) {
        ck_assert_int_eq(icmp_table_put(t, token_at(i), i), 0);
        if (i >= 5000)
            ck_assert_int_eq(icmp_table_del(t, token_at(i - 5000)), 0);
    }
    ck_assert_uint_eq(icmp_table_count(t), 5000);
    for (uint32_t i = 1000000 - 5000; i < 1000000; i++) {
        ck_assert_int_eq(icmp_table_get(t, token_at(i), &v), 0);
        ck_assert_uint_eq(v, i);
    }
    icmp_table_free(t);
}
END_TEST

START_TEST(token_zero_is_reserved)
{
    struct icmp_table *t = icmp_table_new(0);
    uint32_t v;
    ck_assert_int_eq(icmp_table_put(t, 0, 1), -EINVAL);
    ck_assert_int_eq(icmp_table_get(t, 0, &v), -ENOENT);
    ck_assert_int_eq(icmp_table_del(t, 0), -ENOENT);
    icmp_table_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("icmp_table");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, insert_lookup_remove_200k);
    tcase_add_test(tc, churn_keeps_the_table_consistent);
    tcase_add_test(tc, token_zero_is_reserved);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
