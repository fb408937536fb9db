#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/strmap.h"
#include "tests/support/check_run.h"

#define N 50000

START_TEST(put_get_replace_remove)
{
    struct strmap *m = strmap_new();
    int a = 1, b = 2;
    ck_assert_ptr_null(strmap_put(m, "olt-1|onu:3|onu-los", &a));
    ck_assert_ptr_eq(strmap_get(m, "olt-1|onu:3|onu-los"), &a);
    ck_assert_ptr_eq(strmap_put(m, "olt-1|onu:3|onu-los", &b), &a);
    ck_assert_uint_eq(strmap_count(m), 1);
    ck_assert_ptr_null(strmap_get(m, "olt-1|onu:4|onu-los"));
    ck_assert_ptr_eq(strmap_remove(m, "olt-1|onu:3|onu-los"), &b);
    ck_assert_ptr_null(strmap_remove(m, "olt-1|onu:3|onu-los"));
    ck_assert_uint_eq(strmap_count(m), 0);
    strmap_free(m, NULL);
}
END_TEST

START_TEST(many_keys_survive_growth_and_interleaved_removal)
{
    struct strmap *m = strmap_new();
    char key[32];
    for (uintptr_t i = 1; i <= N; i++) {
        snprintf(key, sizeof key, "dev%lu", (unsigned long)i);
        strmap_put(m, key, (void *)i);
    }
    for (uintptr_t i = 1; i <= N; i += 2) { /* remove every odd key */
        snprintf(key, sizeof key, "dev%lu", (unsigned long)i);
        ck_assert_ptr_eq(strmap_remove(m, key), (void *)i);
    }
    ck_assert_uint_eq(strmap_count(m), N / 2);
    for (uintptr_t i = 1; i <= N; i++) {
        snprintf(key, sizeof key, "dev%lu", (unsigned long)i);
        ck_assert_ptr_eq(strmap_get(m, key), i % 2 ? NULL : (void *)i);
    }
    size_t cursor = 0, seen = 0;
    const char *k;
    void *v;
    while (strmap_next(m, &cursor, &k, &v)) {
        ck_assert_int_eq((uintptr_t)v % 2, 0);
        seen++;
    }
    ck_assert_uint_eq(seen, N / 2);
    strmap_free(m, NULL);
}
END_TEST

START_TEST(free_value_is_called_for_every_value)
{
    struct strmap *m = strmap_new();
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        strmap_put(m, key, malloc(8));
    }
    strmap_free(m, free); /* leaks show under ASan if a value is missed */
}
END_TEST

/* Borrowed keys are the caller's pointers: neither copied nor freed by the map. */
START_TEST(borrowed_keys_are_not_copied)
{
    struct strmap *m = strmap_new_borrowed();
    char *keys[N / 10];
    for (size_t i = 0; i < N / 10; i++) {
        keys[i] = malloc(16);
        snprintf(keys[i], 16, "k%zu", i);
        strmap_put(m, keys[i], keys[i]);
    }
    char probe[16];
    snprintf(probe, sizeof probe, "k%d", 77);
    ck_assert_ptr_eq(strmap_get(m, probe), keys[77]);
    ck_assert_ptr_eq(strmap_remove(m, probe), keys[77]);
    ck_assert_ptr_null(strmap_get(m, probe));
    ck_assert_uint_eq(strmap_count(m), N / 10 - 1);
    size_t cursor = 0;
    const char *k;
    void *v;
    while (strmap_next(m, &cursor, &k, &v))
        ck_assert_ptr_eq(k, v); /* the very pointer that was put */
    strmap_free(m, NULL);
    for (size_t i = 0; i < N / 10; i++) /* still the caller's to free, once (ASan checks) */
        free(keys[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, put_get_replace_remove);
    tcase_add_test(tc, many_keys_survive_growth_and_interleaved_removal);
    tcase_add_test(tc, free_value_is_called_for_every_value);
    tcase_add_test(tc, borrowed_keys_are_not_copied);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
