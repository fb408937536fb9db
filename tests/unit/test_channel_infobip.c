/* test_channel_infobip: the Infobip channel against a local server answering in the format of
 * Infobip's SMS API v3: the request (path, "App" auth, JSON body with farol's id as messageId
 * and the delivery-report URL), a 200 with the message's status, REJECTED in a 200 (permanent),
 * requestError bodies (401: permanent, numbers masked), 429 with Retry-After and 5xx (retried),
 * timeouts, dropped connections and unparsable answers (retried), and delivery reports. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/channel_infobip.h"
#include "notifier/http_client.h"
#include "tests/support/check_run.h"
#include "tests/support/channel_fix.h"

#define PATH "/sms/3/messages"

static void setup(struct channel_fix *f, int64_t timeout_ms)
{
    char err[256];
    channel_fix_start(f, true);
    struct channel_infobip_config c = {.name = "sms-infobip",
                                       .base_url = http_server_url(f->srv),
                                       .api_key = "ib-s3cret-key",
                                       .from = "ISP",
                                       .dlr_url = "http://127.0.0.1:9/infobip/dlr",
                                       .timeout_ms = timeout_ms};
    f->ch = channel_infobip_new(f->http, &c, err, sizeof err);
    ck_assert_msg(f->ch, "%s", err);
}

static void send_one(struct channel_fix *f, const struct http_server_reply *r)
{
    struct channel_msg m = {.id = "s1:o1:outage-opened",
                            .to = "+5511987654321",
                            .text = "Falha na fibra: previsão 22h"};
    channel_fix_send(f, PATH, r, &m);
}

#define ACCEPTED                                                                                   \
    "{\"bulkId\": \"2034072219640523072\", \"messages\": [{\"messageId\": "                        \
    "\"s1:o1:outage-opened\", \"status\": {\"groupId\": 1, \"groupName\": \"PENDING\", \"id\": "   \
    "26, \"name\": \"PENDING_ACCEPTED\", \"description\": \"Message sent to next instance\"}, "    \
    "\"destination\": \"5511987654321\", \"details\": {\"messageCount\": 1}}]}"

START_TEST(accepted_with_farol_id)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 200,
                                             .headers = "Content-Type: application/json\r\n",
                                             .body = ACCEPTED});
    ck_assert_int_eq(f.res.status, CHANNEL_SENT);
    ck_assert_int_eq(f.res.http_status, 200);
    ck_assert_str_eq(f.provider, "s1:o1:outage-opened");
    char *head;
    json_t *j = channel_fix_json_body(&f, &head);
    ck_assert_ptr_nonnull(strstr(head, "POST " PATH " HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "\r\nAuthorization: App ib-s3cret-key\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Type: application/json\r\n"));
    json_t *m = json_array_get(json_object_get(j, "messages"), 0);
    json_t *d = json_array_get(json_object_get(m, "destinations"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "messages")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(m, "sender")), "ISP");
    ck_assert_str_eq(json_string_value(json_object_get(d, "to")), "5511987654321");
    ck_assert_str_eq(json_string_value(json_object_get(d, "messageId")), "s1:o1:outage-opened");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "content"), "text")),
                     "Falha na fibra: previsão 22h");
    json_t *hook = json_object_get(json_object_get(m, "webhooks"), "delivery");
    ck_assert_str_eq(json_string_value(json_object_get(hook, "url")),
                     "http://127.0.0.1:9/infobip/dlr");
    json_decref(j);
    free(head);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(rejected_in_the_answer_is_permanent)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){
                     .status = 200,
                     .body = "{\"messages\": [{\"messageId\": \"s1\", \"status\": {\"groupId\": 5, "
                             "\"groupName\": \"REJECTED\", \"id\": 12, \"name\": "
                             "\"REJECTED_NOT_ENOUGH_CREDITS\", \"description\": \"Not enough "
                             "credits\"}, \"destination\": \"5511987654321\"}]}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_str_eq(
        f.error, "HTTP 200: Infobip REJECTED: REJECTED_NOT_ENOUGH_CREDITS (Not enough credits)");
    channel_fix_stop(&f);
}
END_TEST

START_TEST(request_errors_are_permanent_and_masked)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){
                     .status = 401,
                     .body = "{\"requestError\": {\"serviceException\": {\"messageId\": "
                             "\"UNAUTHORIZED\", \"text\": \"Invalid login details\"}}}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_int_eq(f.res.http_status, 401);
    ck_assert_str_eq(f.error, "HTTP 401: Infobip error UNAUTHORIZED: Invalid login details");
    send_one(&f, &(struct http_server_reply){
                     .status = 400,
                     .body = "{\"requestError\": {\"serviceException\": {\"messageId\": "
                             "\"BAD_REQUEST\", \"text\": \"Invalid destination address "
                             "5511987654321\"}}}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_str_eq(
        f.error, "HTTP 400: Infobip error BAD_REQUEST: Invalid destination address 55*********21");
    ck_assert_ptr_null(strstr(f.error, "s3cret"));
    channel_fix_stop(&f);
}
END_TEST

START_TEST(rate_limits_and_outages_are_retried)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){
                     .status = 429,
                     .headers = "Retry-After: 3\r\n",
                     .body = "{\"requestError\": {\"serviceException\": {\"messageId\": "
                             "\"TOO_MANY_REQUESTS\", \"text\": \"Too many requests\"}}}"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 3000);
    ck_assert_ptr_nonnull(strstr(f.error, "TOO_MANY_REQUESTS"));
    send_one(&f, &(struct http_server_reply){
                     .status = 500,
                     .body = "{\"requestError\": {\"serviceException\": {\"messageId\": "
                             "\"GENERAL_ERROR\", \"text\": \"Something went wrong\"}}}"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 0);
    send_one(&f, &(struct http_server_reply){.status = 200, .body = "<html>captive</html>"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_ptr_nonnull(strstr(f.error, "captive"));
    send_one(&f, &(struct http_server_reply){.status = 200, .body = "{\"messages\": []}"});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(timeouts_and_dropped_connections_are_retried)
{
    struct channel_fix f;
    setup(&f, 200);
    send_one(&f, &(struct http_server_reply){.status = 200, .body = ACCEPTED, .delay_ms = 1500});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.http_status, 0);
    ck_assert_ptr_nonnull(strstr(f.error, "no answer"));
    send_one(&f, &(struct http_server_reply){.close_without_answer = 1});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.http_status, 0);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(bad_messages_and_settings_refused)
{
    struct channel_fix f;
    setup(&f, 0);
    struct channel_msg empty = {.id = "x", .to = "", .text = "a"};
    ck_assert_int_eq(channel_send(f.ch, &empty, channel_fix_done, &f), -EINVAL);
    struct channel_msg bad = {.id = "x", .to = "+5511987654321", .text = "\xff\xfe"};
    ck_assert_int_eq(channel_send(f.ch, &bad, channel_fix_done, &f), -EINVAL);
    ck_assert_int_eq(f.done, 0);
    channel_fix_stop(&f);
    char err[128];
    struct channel_infobip_config nokey = {.name = "ib", .base_url = "https://x.api.infobip.com"};
    ck_assert_ptr_null(channel_infobip_new(NULL, &nokey, err, sizeof err));
    ck_assert_str_eq(err, "channel ib: the base URL and the API key are required");
}
END_TEST

START_TEST(delivery_reports)
{
    const char *body =
        "{\"results\": ["
        "{\"bulkId\": \"b1\", \"messageId\": \"s1:o1:outage-opened\", \"to\": \"5511987654321\", "
        "\"sentAt\": \"2024-05-01T10:00:00.000+0000\", \"doneAt\": "
        "\"2024-05-01T10:00:03.000+0000\", "
        "\"status\": {\"groupId\": 3, \"groupName\": \"DELIVERED\", \"id\": 5, \"name\": "
        "\"DELIVERED_TO_HANDSET\", \"description\": \"Message delivered to handset\"}, "
        "\"error\": {\"groupId\": 0, \"groupName\": \"OK\", \"id\": 0, \"name\": \"NO_ERROR\", "
        "\"description\": \"No Error\", \"permanent\": false}},"
        "{\"messageId\": \"s2\", \"status\": {\"groupName\": \"UNDELIVERABLE\", \"name\": "
        "\"UNDELIVERABLE_NOT_DELIVERED\"}, \"error\": {\"id\": 27, \"name\": "
        "\"EC_ABSENT_SUBSCRIBER\", \"permanent\": false}},"
        "{\"messageId\": \"s3\", \"status\": {\"groupName\": \"EXPIRED\"}},"
        "{\"messageId\": \"s4\", \"status\": {\"groupName\": \"REJECTED\"}},"
        "{\"messageId\": \"s5\", \"status\": {\"groupName\": \"PENDING\"}},"
        "{\"messageId\": \"s6\", \"status\": {\"groupName\": \"SOMETHING_NEW\"}},"
        "{\"status\": {\"groupName\": \"DELIVERED\"}}]}";
    struct infobip_report *r;
    size_t n;
    ck_assert_int_eq(channel_infobip_report(body, strlen(body), &r, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(r[0].message_id, "s1:o1:outage-opened");
    ck_assert_int_eq(r[0].dlr, INFOBIP_DLR_DELIVERED);
    ck_assert_str_eq(r[0].detail, "DELIVERED_TO_HANDSET");
    ck_assert_int_eq(r[1].dlr, INFOBIP_DLR_UNDELIVERABLE);
    ck_assert_str_eq(r[1].detail, "UNDELIVERABLE_NOT_DELIVERED (EC_ABSENT_SUBSCRIBER)");
    ck_assert_int_eq(r[2].dlr, INFOBIP_DLR_EXPIRED);
    ck_assert_ptr_null(r[2].detail);
    ck_assert_int_eq(r[3].dlr, INFOBIP_DLR_REJECTED);
    ck_assert_str_eq(r[4].message_id, "s5");
    ck_assert_int_eq(r[4].dlr, INFOBIP_DLR_PENDING);
    channel_infobip_report_free(r, n);
    ck_assert_int_eq(channel_infobip_report("{\"res\": []}", 11, &r, &n), -EINVAL);
    ck_assert_int_eq(channel_infobip_report("id=1&type=1", 11, &r, &n), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("channel_infobip");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, accepted_with_farol_id);
    tcase_add_test(tc, rejected_in_the_answer_is_permanent);
    tcase_add_test(tc, request_errors_are_permanent_and_masked);
    tcase_add_test(tc, rate_limits_and_outages_are_retried);
    tcase_add_test(tc, timeouts_and_dropped_connections_are_retried);
    tcase_add_test(tc, bad_messages_and_settings_refused);
    tcase_add_test(tc, delivery_reports);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
