#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#include "tests/support/check_run.h"

/* Capture what the logger writes to stderr during fn. */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/farol-logXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return buf;
}

static void write_text(void)
{
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
    log_debug("bus", "hidden");
    log_kv(LOG_LEVEL_WARN, "bus", (const char *const[]){"topic", "alarms", "why", "bad json", NULL},
           "dropped %d", 3);
}

START_TEST(text_lines_have_level_subsystem_and_fields)
{
    char *out = capture(write_text);
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_ptr_nonnull(strstr(out, " warn  bus: dropped 3 topic=alarms why=\"bad json\"\n"));
}
END_TEST

static void write_json(void)
{
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
    log_kv(LOG_LEVEL_ERROR, "store", (const char *const[]){"addr", "a\"b", NULL}, "line\nbreak");
}

START_TEST(json_lines_are_escaped_objects)
{
    char *out = capture(write_json);
    ck_assert_ptr_nonnull(strstr(out, "\"level\":\"error\",\"subsys\":\"store\""));
    ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"line\\nbreak\",\"addr\":\"a\\\"b\"}\n"));
    ck_assert_int_eq(out[0], '{');
}
END_TEST

START_TEST(phone_numbers_are_masked)
{
    char buf[32];
    ck_assert_str_eq(log_mask_phone("+5511987654321", buf, sizeof buf), "+55*********21");
    ck_assert_str_eq(log_mask_phone("+79", buf, sizeof buf), "***");
    ck_assert_str_eq(log_mask_phone("", buf, sizeof buf), "");
    ck_assert_str_eq(log_mask_phone("+989121234567", buf, 6), "+98**");
}
END_TEST

START_TEST(levels_parse)
{
    enum log_level l;
    ck_assert_int_eq(log_level_parse("warn", &l), 0);
    ck_assert_int_eq(l, LOG_LEVEL_WARN);
    ck_assert_int_lt(log_level_parse("verbose", &l), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, text_lines_have_level_subsystem_and_fields);
    tcase_add_test(tc, json_lines_are_escaped_objects);
    tcase_add_test(tc, phone_numbers_are_masked);
    tcase_add_test(tc, levels_parse);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
