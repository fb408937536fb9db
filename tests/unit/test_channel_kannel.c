/* test_channel_kannel: the Kannel channel against a scripted HTTP server speaking sendsms's
 * answers: the request it builds (coding, charset, escaped number, delivery-report URL), the
 * mapping of every kind of answer to sent / queued / retry / failed, and delivery reports. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/channel_kannel.h"
#include "notifier/http_client.h"
#include "tests/support/check_run.h"
#include "tests/support/channel_fix.h"

static void setup(struct channel_fix *f, int64_t timeout_ms)
{
    char err[256], url[256], dlr[256];
    channel_fix_start(f, true);
    snprintf(url, sizeof url, "%s/cgi-bin/sendsms", http_server_url(f->srv));
    snprintf(dlr, sizeof dlr, "http://127.0.0.1:9/kannel/dlr");
    struct channel_kannel_config c = {.name = "sms",
                                      .sendsms_url = url,
                                      .username = "farol",
                                      .password = "s3cret-pw",
                                      .from = "ISP",
                                      .dlr_url = dlr,
                                      .timeout_ms = timeout_ms};
    f->ch = channel_kannel_new(f->http, &c, err, sizeof err);
    ck_assert_msg(f->ch, "%s", err);
}

/* Script the answer, send one message, wait for its result. */
static void send_one(struct channel_fix *f, const struct http_server_reply *r, const char *text)
{
    struct channel_msg m = {.id = "sub-1|o-1|opened", .to = "+5511987654321", .text = text};
    channel_fix_send(f, "/cgi-bin/sendsms", r, &m);
}

START_TEST(gsm_text_request_and_accepted)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 202, .body = "0: Accepted for delivery"},
             "Service restored. Thank you!");
    ck_assert_int_eq(f.res.status, CHANNEL_SENT);
    ck_assert_int_eq(f.res.http_status, 202);
    char *req = http_server_last_request(f.srv);
    ck_assert_ptr_nonnull(strstr(req, "GET /cgi-bin/sendsms?username=farol&password=s3cret-pw"));
    ck_assert_ptr_nonnull(strstr(req, "&to=%2B5511987654321&"));
    ck_assert_ptr_nonnull(strstr(req, "&text=Service%20restored.%20Thank%20you%21&"));
    ck_assert_ptr_nonnull(strstr(req, "&charset=UTF-8&coding=0&from=ISP&dlr-mask=31&"));
    /* dlr-url: farol's id in hex (Kannel expands '%' escapes), %d for the report type */
    ck_assert_ptr_nonnull(strstr(req, "&dlr-url=http%3A%2F%2F127.0.0.1%3A9%2Fkannel%2Fdlr%3Fid%3D"
                                      "7375622d317c6f2d317c6f70656e6564%26type%3D%25d"));
    free(req);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(portuguese_goes_as_ucs2)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 202, .body = "0: Accepted for delivery"},
             "Manutenção programada às 02:00");
    char *req = http_server_last_request(f.srv);
    ck_assert_ptr_nonnull(strstr(req, "&coding=2&"));
    ck_assert_ptr_nonnull(strstr(req, "&text=Manuten%C3%A7%C3%A3o%20programada"));
    free(req);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(queued_when_the_smsc_is_away)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 202, .body = "3: Queued for later delivery"},
             "hello");
    ck_assert_int_eq(f.res.status, CHANNEL_QUEUED);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(auth_failure_is_permanent_and_hides_the_password)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f,
             &(struct http_server_reply){.status = 403, .body = "Authorization failed for sendsms"},
             "hello");
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_ptr_nonnull(strstr(f.error, "HTTP 403: Authorization failed"));
    ck_assert_ptr_null(strstr(f.error, "s3cret"));
    channel_fix_stop(&f);
}
END_TEST

START_TEST(server_errors_and_429_are_retried)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 503, .body = "Sendsms disabled"}, "a");
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    f.done = 0;
    send_one(&f,
             &(struct http_server_reply){
                 .status = 429, .headers = "Retry-After: 7\r\n", .body = "slow down"},
             "a");
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 7000);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(unparsable_answer_is_a_failed_attempt)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 200, .body = "<html>proxy</html>"}, "a");
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_ptr_nonnull(strstr(f.error, "<html>proxy</html>"));
    channel_fix_stop(&f);
}
END_TEST

START_TEST(timeout_is_retried)
{
    struct channel_fix f;
    setup(&f, 200);
    send_one(&f,
             &(struct http_server_reply){.status = 202, .body = "0: Accepted", .delay_ms = 1500},
             "a");
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.http_status, 0);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(bad_messages_refused_at_send)
{
    struct channel_fix f;
    setup(&f, 0);
    struct channel_msg m = {.id = "x", .to = "", .text = "a"};
    ck_assert_int_eq(channel_send(f.ch, &m, channel_fix_done, &f), -EINVAL);
    struct channel_msg bad = {.id = "x", .to = "+5511987654321", .text = "\xff\xfe"};
    ck_assert_int_eq(channel_send(f.ch, &bad, channel_fix_done, &f), -EINVAL);
    ck_assert_int_eq(f.done, 0);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(delivery_reports)
{
    char *id = NULL;
    enum kannel_dlr d;
    ck_assert_int_eq(channel_kannel_dlr("id=7375622d31&type=1", &id, &d), 0);
    ck_assert_str_eq(id, "sub-1");
    ck_assert_int_eq(d, KANNEL_DLR_DELIVERED);
    free(id);
    const struct {
        const char *q;
        enum kannel_dlr want;
    } cases[] = {{"type=2&id=61", KANNEL_DLR_FAILED},
                 {"id=61&type=16", KANNEL_DLR_FAILED},
                 {"id=61&type=4", KANNEL_DLR_BUFFERED},
                 {"id=61&type=8", KANNEL_DLR_ACCEPTED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(channel_kannel_dlr(cases[i].q, &id, &d), 0);
        ck_assert_int_eq(d, cases[i].want);
        ck_assert_str_eq(id, "a");
        free(id);
    }
    ck_assert_int_eq(channel_kannel_dlr("id=61&type=3", &id, &d), -EINVAL);
    ck_assert_int_eq(channel_kannel_dlr("id=6&type=1", &id, &d), -EINVAL);
    ck_assert_int_eq(channel_kannel_dlr("id=zz&type=1", &id, &d), -EINVAL);
    ck_assert_int_eq(channel_kannel_dlr("type=1", &id, &d), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("channel_kannel");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, gsm_text_request_and_accepted);
    tcase_add_test(tc, portuguese_goes_as_ucs2);
    tcase_add_test(tc, queued_when_the_smsc_is_away);
    tcase_add_test(tc, auth_failure_is_permanent_and_hides_the_password);
    tcase_add_test(tc, server_errors_and_429_are_retried);
    tcase_add_test(tc, unparsable_answer_is_a_failed_attempt);
    tcase_add_test(tc, timeout_is_retried);
    tcase_add_test(tc, bad_messages_refused_at_send);
    tcase_add_test(tc, delivery_reports);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
