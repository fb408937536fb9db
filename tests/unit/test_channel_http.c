/* test_channel_http: a gateway described by templates: placeholders escaped for the URL, a
 * JSON body and a form body; unknown placeholders refused when the channel is made; a 200 that
 * lacks the success marker is a failure; the provider id read from the answer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/channel_http.h"
#include "notifier/http_client.h"
#include "tests/support/check_run.h"
#include "tests/support/http_server.h"

START_TEST(expansion_escapes_by_context)
{
    char err[128];
    char *u =
        channel_http_expand("/send?to={{to}}&msg={{text}}", CHANNEL_HTTP_FORM, "+5511987654321",
                            "Olá \"mundo\" & tal", "m1", NULL, err, sizeof err);
    ck_assert_str_eq(u, "/send?to=%2B5511987654321&msg=Ol%C3%A1%20%22mundo%22%20%26%20tal");
    free(u);
    char *j = channel_http_expand("{\"to\":\"{{to}}\",\"text\":\"{{text}}\",\"ref\":\"{{id}}\"}",
                                  CHANNEL_HTTP_JSON, "+5511987654321", "Olá \"mundo\"\n",
                                  "s1:o1:opened", NULL, err, sizeof err);
    ck_assert_str_eq(j, "{\"to\":\"+5511987654321\",\"text\":\"Olá \\\"mundo\\\"\\n\",\"ref\":"
                        "\"s1:o1:opened\"}");
    free(j);
    ck_assert_ptr_null(
        channel_http_expand("{{phone}}", CHANNEL_HTTP_RAW, "a", "b", "c", NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "unknown placeholder '{{phone}}'"));
}
END_TEST

struct fix {
    struct loop *loop;
    struct http_server *srv;
    struct http_client *http;
    int done;
    enum channel_status status;
    char provider[64];
};

static void on_done(void *arg, const struct channel_result *r)
{
    struct fix *f = arg;
    f->status = r->status;
    snprintf(f->provider, sizeof f->provider, "%s", r->provider_id ? r->provider_id : "");
    f->done = 1;
}

static enum channel_status run(struct fix *f, struct channel *ch,
                               const struct http_server_reply *reply)
{
    http_server_set(f->srv, "/api/sms", reply);
    struct channel_msg m = {.id = "s1:o1:opened", .to = "+5511987654321", .text = "Falha"};
    f->done = 0;
    ck_assert_int_eq(channel_send(ch, &m, on_done, f), 0);
    while (!f->done)
        loop_run_once(f->loop, 1);
    return f->status;
}

START_TEST(json_gateway)
{
    char err[256], url[256];
    struct fix f = {.loop = loop_new()};
    f.srv = http_server_start(err, sizeof err);
    ck_assert_msg(f.srv, "%s", err);
    f.http = http_client_new(f.loop, NULL);
    snprintf(url, sizeof url, "%s/api/sms", http_server_url(f.srv));
    const char *headers[] = {"Content-Type: application/json", "X-Api-Key: k123", NULL};
    struct channel_http_config c = {.name = "local",
                                    .url = url,
                                    .headers = headers,
                                    .body = "{\"dest\":\"{{to}}\",\"msg\":\"{{text}}\"}",
                                    .encoding = CHANNEL_HTTP_JSON,
                                    .success_contains = "\"ok\":true",
                                    .id_field = "message_id"};
    struct channel *ch = channel_http_new(f.http, &c, err, sizeof err);
    ck_assert_msg(ch, "%s", err);
    ck_assert_int_eq(run(&f, ch,
                         &(struct http_server_reply){
                             .status = 200, .body = "{\"ok\":true,\"message_id\":\"g-9\"}"}),
                     CHANNEL_SENT);
    ck_assert_str_eq(f.provider, "g-9");
    char *req = http_server_last_request(f.srv);
    ck_assert_ptr_nonnull(strstr(req, "POST /api/sms HTTP/1.1"));
    ck_assert_ptr_nonnull(strstr(req, "X-Api-Key: k123"));
    ck_assert_ptr_nonnull(strstr(req, "{\"dest\":\"+5511987654321\",\"msg\":\"Falha\"}"));
    free(req);
    ck_assert_int_eq(run(&f, ch,
                         &(struct http_server_reply){
                             .status = 200, .body = "{\"ok\":false,\"error\":\"credit\"}"}),
                     CHANNEL_FAILED);
    ck_assert_int_eq(run(&f, ch, &(struct http_server_reply){.status = 502, .body = "x"}),
                     CHANNEL_RETRY);
    channel_free(ch);
    struct channel_http_config bad = {.url = url, .body = "{{msisdn}}"};
    ck_assert_ptr_null(channel_http_new(f.http, &bad, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "{{msisdn}}"));
    http_client_free(f.http);
    http_server_stop(f.srv);
    loop_free(f.loop);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("channel_http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, expansion_escapes_by_context);
    tcase_add_test(tc, json_gateway);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
