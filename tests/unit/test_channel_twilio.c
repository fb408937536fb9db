/* test_channel_twilio: the Twilio channel against a local server answering in Twilio's
 * documented format: the request (path with the account, Basic auth, form fields), 201 with a
 * message sid, Twilio's JSON errors (400 invalid number: permanent; 429 with Retry-After and
 * 503: retried), an unparsable 2xx (retried), and the messaging-service variant. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/channel_twilio.h"
#include "notifier/http_client.h"
#include "tests/support/check_run.h"
#include "tests/support/channel_fix.h"

#define PATH "/2010-04-01/Accounts/AC123/Messages.json"

static void setup(struct channel_fix *f, const char *service)
{
    char err[256];
    channel_fix_start(f, true);
    struct channel_twilio_config c = {.name = "twilio",
                                      .base_url = http_server_url(f->srv),
                                      .account_sid = "AC123",
                                      .auth_token = "tok",
                                      .from = service ? NULL : "+15550001111",
                                      .messaging_service_sid = service,
                                      .status_callback = "http://127.0.0.1:9/twilio/status"};
    f->ch = channel_twilio_new(f->http, &c, err, sizeof err);
    ck_assert_msg(f->ch, "%s", err);
}

static void send_one(struct channel_fix *f, const struct http_server_reply *r)
{
    struct channel_msg m = {.id = "s1:o1:outage-opened",
                            .to = "+5511987654321",
                            .text = "Falha na fibra: previsão 22h"};
    channel_fix_send(f, PATH, r, &m);
}

START_TEST(created_with_a_sid)
{
    struct channel_fix f;
    setup(&f, NULL);
    send_one(&f, &(struct http_server_reply){
                     .status = 201,
                     .headers = "Content-Type: application/json\r\n",
                     .body = "{\"sid\": \"SM0123456789abcdef0123456789abcdef\", \"status\": "
                             "\"queued\", \"to\": \"+5511987654321\", \"error_code\": null}"});
    ck_assert_int_eq(f.res.status, CHANNEL_SENT);
    ck_assert_str_eq(f.provider, "SM0123456789abcdef0123456789abcdef");
    char *req = http_server_last_request(f.srv);
    ck_assert_ptr_nonnull(strstr(req, "POST " PATH " HTTP/1.1"));
    ck_assert_ptr_nonnull(strstr(req, "Authorization: Basic QUMxMjM6dG9r"));
    ck_assert_ptr_nonnull(strstr(req, "Content-Type: application/x-www-form-urlencoded"));
    ck_assert_ptr_nonnull(strstr(req, "To=%2B5511987654321&From=%2B15550001111&Body=Falha%20na"
                                      "%20fibra%3A%20previs%C3%A3o%2022h&StatusCallback=http%3A"));
    /* the callback names farol's message: ...status?farol_id=s1%3Ao1%3Aoutage-opened, encoded
     * once more as a form value */
    ck_assert_ptr_nonnull(
        strstr(req, "%2Ftwilio%2Fstatus%3Ffarol_id%3Ds1%253Ao1%253Aoutage-opened"));
    free(req);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(invalid_number_is_permanent)
{
    struct channel_fix f;
    setup(&f, NULL);
    send_one(&f, &(struct http_server_reply){
                     .status = 400,
                     .body = "{\"code\": 21211, \"message\": \"The 'To' number is not a valid "
                             "phone number.\", \"more_info\": "
                             "\"https://www.twilio.com/docs/errors/21211\", \"status\": 400}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_str_eq(f.error,
                     "HTTP 400: Twilio error 21211: The 'To' number is not a valid phone number.");
    ck_assert_ptr_null(strstr(f.error, "tok"));
    /* Twilio's message may quote the number: it reaches logs and records masked */
    send_one(&f, &(struct http_server_reply){
                     .status = 400,
                     .body = "{\"code\": 21211, \"message\": \"The 'To' number +15005550001 is "
                             "not a valid phone number.\", \"status\": 400}"});
    ck_assert_str_eq(f.error, "HTTP 400: Twilio error 21211: The 'To' number +15*******01 is not "
                              "a valid phone number.");
    channel_fix_stop(&f);
}
END_TEST

START_TEST(too_many_requests_and_outages_are_retried)
{
    struct channel_fix f;
    setup(&f, NULL);
    send_one(&f, &(struct http_server_reply){.status = 429,
                                             .headers = "Retry-After: 2\r\n",
                                             .body = "{\"code\": 20429, \"message\": \"Too Many "
                                                     "Requests\", \"status\": 429}"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 2000);
    f.done = 0;
    send_one(&f, &(struct http_server_reply){.status = 503, .body = "upstream"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    f.done = 0;
    send_one(&f, &(struct http_server_reply){.status = 201, .body = "<html>captive</html>"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_ptr_nonnull(strstr(f.error, "captive"));
    channel_fix_stop(&f);
}
END_TEST

START_TEST(messaging_service_instead_of_from)
{
    struct channel_fix f;
    setup(&f, "MG42");
    send_one(&f, &(struct http_server_reply){.status = 201, .body = "{\"sid\": \"SM1\"}"});
    char *req = http_server_last_request(f.srv);
    ck_assert_ptr_nonnull(strstr(req, "&MessagingServiceSid=MG42&"));
    ck_assert_ptr_null(strstr(req, "From="));
    free(req);
    channel_fix_stop(&f);
    char err[128];
    struct channel_twilio_config bad = {.account_sid = "AC1", .auth_token = "t"};
    ck_assert_ptr_null(channel_twilio_new(NULL, &bad, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "sender"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("channel_twilio");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, created_with_a_sid);
    tcase_add_test(tc, invalid_number_is_permanent);
    tcase_add_test(tc, too_many_requests_and_outages_are_retried);
    tcase_add_test(tc, messaging_service_instead_of_from);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
