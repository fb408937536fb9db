/* test_channel_whatsapp: the WhatsApp Cloud API channel against a local server answering in the
 * Graph API's format: the template request (path with version and number id, Bearer auth, the
 * number without '+', the locale as the template language, farol's text as the one body
 * parameter, cleaned of newlines), a 200 with a wamid, Graph errors by code (rate limits and 5xx
 * retried, undeliverable / missing template / bad token permanent), timeouts, dropped
 * connections and unparsable answers (retried), and the status webhook. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/channel_whatsapp.h"
#include "notifier/http_client.h"
#include "tests/support/check_run.h"
#include "tests/support/channel_fix.h"

#define PATH "/v21.0/106540352242922/messages"

static void setup(struct channel_fix *f, int64_t timeout_ms)
{
    char err[256];
    channel_fix_start(f, true);
    struct channel_whatsapp_config c = {.name = "whatsapp",
                                        .base_url = http_server_url(f->srv),
                                        .phone_number_id = "106540352242922",
                                        .token = "EAAG-s3cret-token",
                                        .template_name = "farol_notice",
                                        .language = "es",
                                        .timeout_ms = timeout_ms};
    f->ch = channel_whatsapp_new(f->http, &c, err, sizeof err);
    ck_assert_msg(f->ch, "%s", err);
}

static void send_msg(struct channel_fix *f, const struct http_server_reply *r,
                     const struct channel_msg *m)
{
    channel_fix_send(f, PATH, r, m);
}

static void send_one(struct channel_fix *f, const struct http_server_reply *r)
{
    struct channel_msg m = {.id = "s1:o1:outage-opened",
                            .to = "+5511987654321",
                            .text = "Falha na fibra.\nPrevisão: 22h",
                            .locale = "pt-BR",
                            .type = "outage-opened"};
    send_msg(f, r, &m);
}

/* The string at a dotted path ("template.components.0.type") in j, or NULL. */
static const char *str_at(json_t *j, const char *path)
{
    char p[128];
    snprintf(p, sizeof p, "%s", path);
    for (char *save, *tok = strtok_r(p, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save))
        j = *tok >= '0' && *tok <= '9' ? json_array_get(j, strtoul(tok, NULL, 10))
                                       : json_object_get(j, tok);
    return json_string_value(j);
}

#define ACCEPTED                                                                                   \
    "{\"messaging_product\": \"whatsapp\", \"contacts\": [{\"input\": \"5511987654321\", "         \
    "\"wa_id\": \"5511987654321\"}], \"messages\": [{\"id\": "                                     \
    "\"wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjRBMEQ5QjM2\", \"message_status\": \"accepted\"}]}"

#define GRAPH_ERROR(code, msg)                                                                     \
    "{\"error\": {\"message\": \"" msg "\", \"type\": \"OAuthException\", \"code\": " #code        \
    ", \"error_data\": {\"messaging_product\": \"whatsapp\"}, \"fbtrace_id\": "                    \
    "\"AazWQ5a8sB4n9xke\"}}"

START_TEST(template_request_and_wamid)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f, &(struct http_server_reply){.status = 200,
                                             .headers = "Content-Type: application/json\r\n",
                                             .body = ACCEPTED});
    ck_assert_int_eq(f.res.status, CHANNEL_SENT);
    ck_assert_str_eq(f.provider, "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjRBMEQ5QjM2");
    char *head;
    json_t *j = channel_fix_json_body(&f, &head);
    ck_assert_ptr_nonnull(strstr(head, "POST " PATH " HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "\r\nAuthorization: Bearer EAAG-s3cret-token\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Type: application/json\r\n"));
    ck_assert_str_eq(str_at(j, "messaging_product"), "whatsapp");
    ck_assert_str_eq(str_at(j, "to"), "5511987654321");
    /* farol's id travels with the message and comes back in every status webhook */
    ck_assert_str_eq(str_at(j, "biz_opaque_callback_data"), "s1:o1:outage-opened");
    ck_assert_str_eq(str_at(j, "type"), "template");
    ck_assert_str_eq(str_at(j, "template.name"), "farol_notice");
    ck_assert_str_eq(str_at(j, "template.language.code"), "pt_BR");
    ck_assert_str_eq(str_at(j, "template.components.0.type"), "body");
    ck_assert_str_eq(str_at(j, "template.components.0.parameters.0.type"), "text");
    ck_assert_str_eq(str_at(j, "template.components.0.parameters.0.text"),
                     "Falha na fibra. Previsão: 22h");
    json_decref(j);
    free(head);
    /* no locale: the configured language */
    struct channel_msg m = {.id = "x", .to = "5511987654321", .text = "hola"};
    send_msg(&f, &(struct http_server_reply){.status = 200, .body = ACCEPTED}, &m);
    j = channel_fix_json_body(&f, &head);
    ck_assert_str_eq(str_at(j, "template.language.code"), "es");
    ck_assert_str_eq(str_at(j, "to"), "5511987654321");
    json_decref(j);
    free(head);
    channel_fix_stop(&f);
}
END_TEST

START_TEST(parameters_lose_newlines_tabs_and_long_gaps)
{
    const struct {
        const char *in, *out;
    } cases[] = {{"a\nb", "a b"},
                 {"a\r\n\r\nb", "a b"},
                 {"a\tb", "a b"},
                 {"a    b", "a    b"},
                 {"a     b", "a b"},
                 {"  lead and trail \n", "lead and trail"},
                 {"Manutenção às 02:00", "Manutenção às 02:00"},
                 {"", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = channel_whatsapp_param(cases[i].in);
        ck_assert_str_eq(p, cases[i].out);
        free(p);
    }
}
END_TEST

START_TEST(permanent_errors_by_code)
{
    struct channel_fix f;
    setup(&f, 0);
    send_one(&f,
             &(struct http_server_reply){
                 .status = 400,
                 .body = "{\"error\": {\"message\": \"(#132001) Template name does not exist in "
                         "the translation\", \"type\": \"OAuthException\", \"code\": 132001, "
                         "\"error_subcode\": 2494073, \"fbtrace_id\": \"A1b2C3\"}}"});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_str_eq(f.error,
                     "HTTP 400: WhatsApp error 132001 (subcode 2494073): (#132001) "
                     "Template name does not exist in the translation [fbtrace_id A1b2C3]");
    send_one(&f, &(struct http_server_reply){
                     .status = 401, .body = GRAPH_ERROR(190, "Error validating access token")});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_ptr_nonnull(strstr(f.error, "WhatsApp error 190: Error validating access token"));
    ck_assert_ptr_null(strstr(f.error, "s3cret"));
    send_one(&f, &(struct http_server_reply){
                     .status = 400,
                     .body = GRAPH_ERROR(131026, "Message undeliverable to 5511987654321")});
    ck_assert_int_eq(f.res.status, CHANNEL_FAILED);
    ck_assert_ptr_nonnull(strstr(f.error, "WhatsApp error 131026: Message undeliverable to "
                                          "55*********21"));
    channel_fix_stop(&f);
}
END_TEST

START_TEST(rate_limits_and_outages_are_retried)
{
    struct channel_fix f;
    setup(&f, 0);
    const struct {
        int status;
        const char *body;
    } cases[] = {{400, GRAPH_ERROR(130429, "Rate limit hit")},
                 {400, GRAPH_ERROR(131056, "(Business Account, Consumer Account) pair rate limit")},
                 {403, GRAPH_ERROR(4, "Application request limit reached")},
                 {400, GRAPH_ERROR(80007, "Rate limit issues")},
                 {500, GRAPH_ERROR(131000, "Something went wrong")},
                 {503, "upstream connect error"},
                 {200, "<html>captive</html>"},
                 {200, "{\"messaging_product\": \"whatsapp\", \"messages\": []}"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        send_one(&f, &(struct http_server_reply){.status = cases[i].status, .body = cases[i].body});
        ck_assert_msg(f.res.status == CHANNEL_RETRY, "case %zu: %s", i, f.error);
        ck_assert_int_eq(f.res.http_status, cases[i].status);
    }
    send_one(&f, &(struct http_server_reply){.status = 429,
                                             .headers = "Retry-After: 4\r\n",
                                             .body = GRAPH_ERROR(130429, "Rate limit hit")});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_int_eq(f.res.retry_after_ms, 4000);
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
    send_one(&f, &(struct http_server_reply){.close_without_answer = 1});
    ck_assert_int_eq(f.res.status, CHANNEL_RETRY);
    ck_assert_ptr_nonnull(strstr(f.error, "no answer"));
    channel_fix_stop(&f);
}
END_TEST

START_TEST(bad_messages_and_settings_refused)
{
    struct channel_fix f;
    setup(&f, 0);
    struct channel_msg blank = {.id = "x", .to = "+5511987654321", .text = " \n\t "};
    ck_assert_int_eq(channel_send(f.ch, &blank, channel_fix_done, &f), -EINVAL);
    struct channel_msg bad = {.id = "x", .to = "+5511987654321", .text = "\xff\xfe"};
    ck_assert_int_eq(channel_send(f.ch, &bad, channel_fix_done, &f), -EINVAL);
    ck_assert_int_eq(f.done, 0);
    channel_fix_stop(&f);
    char err[128];
    struct channel_whatsapp_config c = {.name = "wa", .phone_number_id = "1", .token = "t"};
    ck_assert_ptr_null(channel_whatsapp_new(NULL, &c, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "template name"));
}
END_TEST

START_TEST(status_webhook)
{
    const char *body =
        "{\"object\": \"whatsapp_business_account\", \"entry\": [{\"id\": \"102290129340398\", "
        "\"changes\": [{\"field\": \"messages\", \"value\": {\"messaging_product\": \"whatsapp\", "
        "\"metadata\": {\"display_phone_number\": \"15550783881\", \"phone_number_id\": "
        "\"106540352242922\"}, \"statuses\": ["
        "{\"id\": \"wamid.A\", \"status\": \"delivered\", \"timestamp\": \"1750263773\", "
        "\"recipient_id\": \"5511987654321\", \"biz_opaque_callback_data\": \"s1:o1:t\"},"
        "{\"id\": \"wamid.B\", \"status\": \"failed\", \"timestamp\": \"1750263774\", "
        "\"recipient_id\": \"5511987654321\", \"errors\": [{\"code\": 131026, \"title\": "
        "\"Message undeliverable\", \"message\": \"Message undeliverable\", \"error_data\": "
        "{\"details\": \"Receiver 5511987654321 is incapable of receiving this message\"}}]},"
        "{\"id\": \"wamid.C\", \"status\": \"deleted\"}]}}]},"
        "{\"id\": \"2\", \"changes\": [{\"value\": {\"statuses\": [{\"id\": \"wamid.D\", "
        "\"status\": \"read\"}, {\"id\": \"wamid.E\", \"status\": \"sent\"}]}}, "
        "{\"value\": {\"messages\": [{\"from\": \"5511987654321\", \"type\": \"text\"}]}}]}]}";
    struct whatsapp_update *u;
    size_t n;
    ck_assert_int_eq(channel_whatsapp_status(body, strlen(body), &u, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(u[0].id, "wamid.A");
    ck_assert_str_eq(u[0].ref, "s1:o1:t");
    ck_assert_ptr_null(u[1].ref);
    ck_assert_int_eq(u[0].state, WHATSAPP_DELIVERED);
    ck_assert_ptr_null(u[0].error);
    ck_assert_int_eq(u[0].error_code, 0);
    ck_assert_str_eq(u[1].id, "wamid.B");
    ck_assert_int_eq(u[1].state, WHATSAPP_FAILED);
    ck_assert_int_eq(u[1].error_code, 131026);
    ck_assert_str_eq(u[1].error, "Message undeliverable: Receiver 55*********21 is incapable of "
                                 "receiving this message");
    ck_assert_int_eq(u[2].state, WHATSAPP_READ);
    ck_assert_str_eq(u[3].id, "wamid.E");
    ck_assert_int_eq(u[3].state, WHATSAPP_SENT);
    channel_whatsapp_status_free(u, n);
    ck_assert_int_eq(channel_whatsapp_status("{\"object\": \"page\"}", 17, &u, &n), -EINVAL);
    ck_assert_int_eq(channel_whatsapp_status("not json", 8, &u, &n), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("channel_whatsapp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, template_request_and_wamid);
    tcase_add_test(tc, parameters_lose_newlines_tabs_and_long_gaps);
    tcase_add_test(tc, permanent_errors_by_code);
    tcase_add_test(tc, rate_limits_and_outages_are_retried);
    tcase_add_test(tc, timeouts_and_dropped_connections_are_retried);
    tcase_add_test(tc, bad_messages_and_settings_refused);
    tcase_add_test(tc, status_webhook);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
