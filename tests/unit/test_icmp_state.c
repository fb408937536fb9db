#include <check.h>
#include <string.h>

#include "collector/icmp_state.h"

#include "tests/support/check_run.h"

/* Feed outcomes ('1' answered, '0' lost); return the states after each as a string of
 * 'u'nknown, 'U'p, 'D'own, and count transitions. */
static const char *run(const char *outcomes, unsigned down, unsigned up, int *transitions)
{
    static char out[128];
    struct icmp_state_ctr c = {0};
    enum icmp_state prev = c.state;
    size_t i;
    *transitions = 0;
    for (i = 0; outcomes[i]; i++) {
        enum icmp_state s = icmp_state_step(&c, outcomes[i] == '1', down, up);
        out[i] = s == ICMP_STATE_UP ? 'U' : s == ICMP_STATE_DOWN ? 'D' : 'u';
        *transitions += s != prev;
        prev = s;
    }
    out[i] = '\0';
    return out;
}

START_TEST(unknown_goes_up_on_first_answer)
{
    int n;
    ck_assert_str_eq(run("111", 3, 2, &n), "UUU");
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(unknown_goes_down_after_n_lost)
{
    int n;
    ck_assert_str_eq(run("0001", 3, 2, &n), "uuDD");
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(down_after_n_consecutive_up_after_m_consecutive)
{
    int n;
    /* Isolated losses never take it down; a lone answer never brings it up. */
    ck_assert_str_eq(run("1001000011011", 3, 2, &n), "UUUUUUDDDUUUU");
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(run("10001011", 3, 2, &n), "UUUDDDDU");
    ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(thresholds_are_exact)
{
    int n;
    ck_assert_str_eq(run("1000011111", 4, 5, &n), "UUUUDDDDDU");
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(run("10000101010111", 4, 3, &n), "UUUUDDDDDDDDDU");
    ck_assert_int_eq(n, 3);
    /* Thresholds of 0 behave as 1: every round decides. */
    ck_assert_str_eq(run("1010", 0, 0, &n), "UDUD");
    ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(icmp_state_name(ICMP_STATE_UNKNOWN), "unknown");
    ck_assert_str_eq(icmp_state_name(ICMP_STATE_UP), "up");
    ck_assert_str_eq(icmp_state_name(ICMP_STATE_DOWN), "down");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("icmp_state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, unknown_goes_up_on_first_answer);
    tcase_add_test(tc, unknown_goes_down_after_n_lost);
    tcase_add_test(tc, down_after_n_consecutive_up_after_m_consecutive);
    tcase_add_test(tc, thresholds_are_exact);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
