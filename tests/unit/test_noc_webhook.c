/* test_noc_webhook: outage summaries for NOC tools in the three formats (farol's event JSON,
 * Slack, Alertmanager webhook v4), and their delivery to a scripted HTTP server. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_json.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"
#include "notifier/noc_webhook.h"
#include "tests/support/check_run.h"
#include "tests/support/http_server.h"

/* 2026-11-23T21:00:00Z */
#define T0 1795467600000LL

static void outage(struct event *ev, enum outage_phase phase, enum outage_cause cause)
{
    event_init(ev, EVENT_OUTAGE);
    ev->ts_ms = T0 + 60000;
    struct outage *o = &ev->u.outage;
    o->id = xstrdup("o-pon-3-1795467600000");
    o->seq = 1;
    o->phase = phase;
    o->status = phase == OUTAGE_RESOLVED ? OUTAGE_CLOSED : OUTAGE_CONFIRMED;
    o->cause = cause;
    o->root = xstrdup("pon-3");
    o->area = xstrdup("centro");
    o->started_ms = T0;
    o->confirmed_ms = T0 + 60000;
    o->resolved_ms = phase == OUTAGE_RESOLVED ? T0 + 3600000 : 0;
    o->affected_subscribers = phase == OUTAGE_RESOLVED ? 0 : 32;
}

static json_t *body_json(enum noc_format f, const struct event *ev)
{
    char *b = noc_webhook_body(f, ev);
    ck_assert_ptr_nonnull(b);
    json_t *j = json_loads(b, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", b);
    free(b);
    return j;
}

static const char *str(json_t *j, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = j;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur =
            json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
    return json_string_value(cur);
}

START_TEST(json_is_the_event_itself)
{
    struct event ev, back;
    outage(&ev, OUTAGE_OPENED, CAUSE_FIBER_CUT);
    char *b = noc_webhook_body(NOC_JSON, &ev), err[128];
    ck_assert_int_eq(event_decode(b, strlen(b), &back, err, sizeof err), 0);
    ck_assert(event_equal(&ev, &back));
    free(b);
    event_deinit(&back);
    event_deinit(&ev);
}
END_TEST

START_TEST(slack_text)
{
    struct event ev;
    outage(&ev, OUTAGE_OPENED, CAUSE_FIBER_CUT);
    json_t *j = body_json(NOC_SLACK, &ev);
    ck_assert_str_eq(str(j, "text"), "Outage o-pon-3-1795467600000 opened: fiber-cut at pon-3 in "
                                     "centro, 32 subscribers affected");
    json_decref(j);
    event_deinit(&ev);
}
END_TEST

START_TEST(alertmanager_v4_firing_then_resolved)
{
    struct event ev;
    outage(&ev, OUTAGE_OPENED, CAUSE_FIBER_CUT);
    json_t *j = body_json(NOC_ALERTMANAGER, &ev);
    ck_assert_str_eq(str(j, "version"), "4");
    ck_assert_str_eq(str(j, "status"), "firing");
    ck_assert_str_eq(str(j, "groupLabels.alertname"), "FarolOutage");
    ck_assert_str_eq(str(j, "alerts.0.labels.alertname"), "FarolOutage");
    ck_assert_str_eq(str(j, "alerts.0.labels.severity"), "critical");
    ck_assert_str_eq(str(j, "alerts.0.labels.cause"), "fiber-cut");
    ck_assert_str_eq(str(j, "alerts.0.labels.area"), "centro");
    ck_assert_str_eq(str(j, "alerts.0.annotations.affected_subscribers"), "32");
    ck_assert_str_eq(str(j, "alerts.0.startsAt"), "2026-11-23T21:00:00.000Z");
    ck_assert_str_eq(str(j, "alerts.0.endsAt"), "0001-01-01T00:00:00Z");
    ck_assert_int_eq(strlen(str(j, "alerts.0.fingerprint")), 16);
    char fp[17];
    snprintf(fp, sizeof fp, "%s", str(j, "alerts.0.fingerprint"));
    json_decref(j);
    event_deinit(&ev);
    outage(&ev, OUTAGE_RESOLVED, CAUSE_FIBER_CUT);
    j = body_json(NOC_ALERTMANAGER, &ev);
    ck_assert_str_eq(str(j, "status"), "resolved");
    ck_assert_str_eq(str(j, "alerts.0.status"), "resolved");
    ck_assert_str_eq(str(j, "alerts.0.endsAt"), "2026-11-23T22:00:00.000Z");
    ck_assert_str_eq(str(j, "alerts.0.fingerprint"), fp); /* same alert */
    json_decref(j);
    event_deinit(&ev);
}
END_TEST

START_TEST(planned_does_not_page_and_merged_resolves)
{
    struct event ev;
    outage(&ev, OUTAGE_OPENED, CAUSE_PLANNED);
    json_t *j = body_json(NOC_ALERTMANAGER, &ev);
    ck_assert_str_eq(str(j, "alerts.0.labels.severity"), "info");
    json_decref(j);
    event_deinit(&ev);
    outage(&ev, OUTAGE_UPDATED, CAUSE_FIBER_CUT);
    ev.u.outage.merged_into = xstrdup("o-olt-1-17");
    j = body_json(NOC_ALERTMANAGER, &ev);
    ck_assert_str_eq(str(j, "status"), "resolved");
    json_decref(j);
    event_deinit(&ev);
}
END_TEST

struct sent {
    int done;
    struct channel_result r;
};

static void on_done(void *arg, const struct channel_result *r)
{
    struct sent *s = arg;
    s->r = *r;
    s->r.error = NULL;
    s->done = 1;
}

static enum channel_status post(struct http_server *srv, int status, char **request)
{
    struct loop *loop = loop_new();
    struct http_client *http = http_client_new(loop, NULL);
    http_server_set(srv, "/hook", &(struct http_server_reply){.status = status, .body = "x"});
    char url[256];
    snprintf(url, sizeof url, "%s/hook", http_server_url(srv));
    struct event ev;
    outage(&ev, OUTAGE_OPENED, CAUSE_FIBER_CUT);
    struct sent s = {0};
    ck_assert_int_eq(noc_webhook_send(http, url, NOC_SLACK, &ev, 2000, on_done, &s), 0);
    while (!s.done)
        loop_run_once(loop, 1);
    *request = http_server_last_request(srv);
    event_deinit(&ev);
    http_client_free(http);
    loop_free(loop);
    return s.r.status;
}

START_TEST(delivery_to_a_webhook)
{
    char err[256], *req;
    struct http_server *srv = http_server_start(err, sizeof err);
    ck_assert_msg(srv, "%s", err);
    ck_assert_int_eq(post(srv, 200, &req), CHANNEL_SENT);
    ck_assert_ptr_nonnull(strstr(req, "POST /hook"));
    ck_assert_ptr_nonnull(strstr(req, "Content-Type: application/json"));
    ck_assert_ptr_nonnull(strstr(req, "{\"text\":\"Outage o-pon-3-1795467600000 opened"));
    free(req);
    ck_assert_int_eq(post(srv, 503, &req), CHANNEL_RETRY);
    free(req);
    ck_assert_int_eq(post(srv, 404, &req), CHANNEL_FAILED);
    free(req);
    http_server_stop(srv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("noc_webhook");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, json_is_the_event_itself);
    tcase_add_test(tc, slack_text);
    tcase_add_test(tc, alertmanager_v4_firing_then_resolved);
    tcase_add_test(tc, planned_does_not_page_and_merged_resolves);
    tcase_add_test(tc, delivery_to_a_webhook);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
