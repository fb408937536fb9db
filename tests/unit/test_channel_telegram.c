/* test_channel_telegram: the Telegram channel against a local server answering in the Bot API's
 * format: the request (token in the path, JSON chat_id as a number or "@name", text), ok:true
 * with a message_id, 429 with parameters.retry_after or only Retry-After, 403 "bot was blocked"
 * and 400 "chat not found" (permanent), 5xx, timeouts, dropped connections and unparsable
 * answers (retried), and the token kept out of every error and log line, debug included. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "notifier/channel_telegram.h"
#include "notifier/http_client.h"
#include "tests/support/check_run.h"
#include "tests/support/channel_fix.h"

#define TOKEN "123456:ABC-s3cret"
#define PATH "/bot" TOKEN "/sendMessage"

static void setup_at(struct channel_fix *f, const char *base, int64_t timeout_ms)
{
    char err[256];
    struct channel_telegram_config c = {
        .name = "telegram", .base_url = base, .token = TOKEN, .timeout_ms = timeout_ms};
    f->ch = channel_telegram_new(f->http, &c, err, sizeof err);
    ck_assert_msg(f->ch, "%s", err);
}

static void setup(struct channel_fix *f, int64_t timeout_ms)
{
    channel_fix_start(f, true);
    setup_at(f, http_server_url(f->srv), timeout_ms);
}

static void send_to(struct channel_fix *f, const struct http_server_reply *r, const char *to)
{
    struct channel_msg m = {.id = "s1:o1:outage-opened", .to = to, .text = "Falha na fibra"};
    channel_fix_send(f, PATH, r, &m);
}

static void send_one(struct channel_fix *f, const struct http_server_reply *r)
{
    send_to(f, r, "123456789");
}

#define SENT                                                                                       \
    "{\"ok\": true, \"result\": {\"message_id\": 4711, \"from\": {\"id\": 123456, \"is_bot\": "    \
    "true, \"first_name\": \"ISP\"}, \"chat\": {\"id\": 123456789, \"type\": \"private\"}, "       \
    "\"date\": 1750263773, \"text\": \"Falha na fibra\"}}"

START_TEST(sent_with_message_id)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){
                     .status = 200, .headers = "Content-Type: application/json\r\n", .body = SENT});
    ck_assert_int_eq(f.res.status, CHANNEL_SENT);
    ck_assert_str_eq(f.provider, "4711");
    char *head;
    json_t *j = channel_fix_json_body(&f, &head);
    ck_assert_ptr_nonnull(strstr(head, "POST " PATH " HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Type: application/json\r\n"));
    ck_assert(json_is_integer(json_object_get(j, "chat_id")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "chat_id")), 123456789);
    ck_assert_str_eq(json_string_value(json_object_get(j, "text")), "Falha na fibra");
    json_decref(j), free(head);
    send_to(&f, NULL, "-1001234567890"); /* a supergroup */
    j = channel_fix_json_body(&f, &head);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "chat_id")), -1001234567890LL);
    json_decref(j), free(head);
    send_to(&f, NULL, "@isp_status"); /* a public channel */
    j = channel_fix_json_body(&f, &head);
    ck_assert_str_eq(json_string_value(json_object_get(j, "chat_id")), "@isp_status");
    json_decref(j), free(head);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(flood_control_waits_as_told)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){
                     .status = 429,
                     .headers = "Retry-After: 17\r\n",
                     .body = "{\"ok\": false, \"error_code\": 429, \"description\": \"Too Many "
                             "Requests: retry after 17\", \"parameters\": {\"retry_after\": 17}}"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 17000);
    ck_assert_str_eq(f.error, "HTTP 429: Telegram error 429: Too Many Requests: retry after 17");
    send_one(&f, &(struct http_server_reply){
                     .status = 429,
                     .body = "{\"ok\": false, \"error_code\": 429, \"description\": \"Too Many "
                             "Requests: retry after 9\", \"parameters\": {\"retry_after\": 9}}"});
    ck_assert_int_eq(f.res.retry_after_ms, 9000);
    send_one(&f, &(struct http_server_reply){
                     .status = 429, .headers = "Retry-After: 5\r\n", .body = "slow down"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 5000);
    /* an absurd wait is a day at most (and never an overflow) */
    send_one(&f,
             &(struct http_server_reply){
                 .status = 429,
                 .body = "{\"ok\": false, \"error_code\": 429, \"description\": \"Too Many "
                         "Requests\", \"parameters\": {\"retry_after\": 9223372036854775807}}"});
    ck_assert_int_eq(f.res.retry_after_ms, 86400000);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(blocked_and_unknown_chats_are_permanent)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){
                     .status = 403,
                     .body = "{\"ok\": false, \"error_code\": 403, \"description\": \"Forbidden: "
                             "bot was blocked by the user\"}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_int_eq(f.res.http_status, 403);
    ck_assert_str_eq(f.error,
                     "HTTP 403: Telegram error 403: Forbidden: bot was blocked by the user");
    send_one(&f, &(struct http_server_reply){.status = 400,
                                             .body = "{\"ok\": false, \"error_code\": 400, "
                                                     "\"description\": \"Bad Request: chat not "
                                                     "found\"}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_str_eq(f.error, "HTTP 400: Telegram error 400: Bad Request: chat not found");
    channel_fix_stop(&f);
}
END_TEST

START_TEST(outages_and_odd_answers_are_retried)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 502, .body = "<html>Bad Gateway</html>"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.http_status, 502);
    send_one(&f, &(struct http_server_reply){.status = 200, .body = "<html>captive</html>"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    send_one(&f, &(struct http_server_reply){.status = 200, .body = "{\"ok\": true}"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(timeouts_and_dropped_connections_are_retried)
{
    struct channel_fix f;
    setup(&f, 200);
    send_one(&f, &(struct http_server_reply){.status = 200, .body = SENT, .delay_ms = 1500});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.http_status, 0);
    send_one(&f, &(struct http_server_reply){.close_without_answer = 1});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_ptr_nonnull(strstr(f.error, "no answer"));
    ck_assert_ptr_null(strstr(f.error, "s3cret"));
    channel_fix_stop(&f);
}
END_TEST

/* Every way an attempt can end, with debug logging on and stderr captured. */
static void token_scenarios(char *errors, size_t errsz)
{
    struct channel_fix f;
    setup(&f, 0);
    http_server_set(f.srv, PATH, &(struct http_server_reply){.status = 200, .body = SENT});
    send_one(&f, NULL);
    /* a proxy that echoes the path it could not find */
    send_one(&f, &(struct http_server_reply){.status = 404, .body = "Not Found: " PATH});
    snprintf(errors, errsz, "%s\n", f.error);
    char url[128];
    snprintf(url, sizeof url, "%s", http_server_url(f.srv));
    channel_fix_stop(&f);
    channel_fix_start(&f, false); /* nobody listens there any more: connection refused */
    setup_at(&f, url, 0);
    send_one(&f, NULL);
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    size_t n = strlen(errors);
    snprintf(errors + n, errsz - n, "%s\n", f.error);
    channel_fix_stop(&f);
}

START_TEST(token_never_in_errors_or_logs)
{
    char path[] = "/tmp/farol-tg-logXXXXXX", errors[1024] = "";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);
    token_scenarios(errors, sizeof errors);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char logs[16384];
    ssize_t n = pread(fd, logs, sizeof logs - 1, 0);
    logs[n > 0 ? n : 0] = '\0';
    close(fd);
    ck_assert_ptr_nonnull(strstr(logs, "host=127.0.0.1")); /* debug lines were written */
    ck_assert_ptr_nonnull(strstr(errors, "Not Found: /bot***/sendMessage"));
    ck_assert_ptr_nonnull(strstr(errors, "no answer"));
    ck_assert_msg(!strstr(logs, "s3cret") && !strstr(logs, "123456:"), "%s", logs);
    ck_assert_msg(!strstr(errors, "s3cret"), "%s", errors);
}
END_TEST

START_TEST(bad_messages_and_settings_refused)
{
    struct channel_fix f;
    setup(&f, 0);
    struct channel_msg empty = {.id = "x", .to = "123", .text = ""};
    ck_assert_int_eq(channel_send(f.ch, &empty, channel_fix_done, &f), -EINVAL);
    struct channel_msg bad = {.id = "x", .to = "123", .text = "\xff\xfe"};
    ck_assert_int_eq(channel_send(f.ch, &bad, channel_fix_done, &f), -EINVAL);
    ck_assert_int_eq(f.done, 0);
    channel_fix_stop(&f);
    char err[128];
    struct channel_telegram_config c = {.name = "tg"};
    ck_assert_ptr_null(channel_telegram_new(NULL, &c, err, sizeof err));
    ck_assert_str_eq(err, "channel tg: the bot token is required");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("channel_telegram");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, sent_with_message_id);
    tcase_add_test(tc, flood_control_waits_as_told);
    tcase_add_test(tc, blocked_and_unknown_chats_are_permanent);
    tcase_add_test(tc, outages_and_odd_answers_are_retried);
    tcase_add_test(tc, timeouts_and_dropped_connections_are_retried);
    tcase_add_test(tc, token_never_in_errors_or_logs);
    tcase_add_test(tc, bad_messages_and_settings_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
