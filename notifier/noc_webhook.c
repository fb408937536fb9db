#include "notifier/noc_webhook.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_json.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

int noc_format_parse(const char *s, enum noc_format *out)
{
    static const char *const names[] = {"json", "slack", "alertmanager"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (enum noc_format)i;
            return 0;
        }
    return -EINVAL;
}

static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        abort(); /* only on OOM, fatal like xmalloc */
    char *copy = xstrdup(s);
    free(s);
    return copy;
}

static char *summary(const struct outage *o)
{
    const char *what = o->phase == OUTAGE_RESOLVED ? "resolved"
                       : o->phase == OUTAGE_OPENED ? "opened"
                                                   : "updated";
    return xasprintf("Outage %s %s: %s at %s%s%s, %u subscribers affected%s%s", o->id, what,
                     outage_cause_name(o->cause), o->root, o->area ? " in " : "",
                     o->area ? o->area : "", o->affected_subscribers,
                     o->merged_into ? ", merged into " : "", o->merged_into ? o->merged_into : "");
}

static char *slack(const struct outage *o)
{
    char *text = summary(o);
    json_t *j = json_pack("{s:s}", "text", text);
    free(text);
    return dump(j);
}

/* A stable 64-bit FNV-1a of the outage id, as Alertmanager's 16-hex-digit fingerprint. */
static void fingerprint(const char *id, char *out)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static json_t *am_alert(const struct outage *o, const char *status)
{
    char start[EVENT_TIME_BUFSZ], end[EVENT_TIME_BUFSZ] = "0001-01-01T00:00:00Z", fp[17], subs[16];
    event_format_time(o->started_ms, start, sizeof start);
    if (o->resolved_ms)
        event_format_time(o->resolved_ms, end, sizeof end);
    fingerprint(o->id, fp);
    snprintf(subs, sizeof subs, "%u", o->affected_subscribers);
    char *text = summary(o);
    json_t *labels = json_pack("{s:s, s:s, s:s, s:s, s:s}", "alertname", "FarolOutage", "outage_id",
                               o->id, "root", o->root, "cause", outage_cause_name(o->cause),
                               "severity", o->cause == CAUSE_PLANNED ? "info" : "critical");
    if (o->area)
        json_object_set_new(labels, "area", json_string(o->area));
    json_t *a =
        json_pack("{s:s, s:o, s:{s:s, s:s}, s:s, s:s, s:s, s:s}", "status", status, "labels",
                  labels, "annotations", "summary", text, "affected_subscribers", subs, "startsAt",
                  start, "endsAt", end, "generatorURL", "", "fingerprint", fp);
    free(text);
    return a;
}

static char *alertmanager(const struct outage *o)
{
    const char *status = o->phase == OUTAGE_RESOLVED || o->merged_into ? "resolved" : "firing";
    json_t *alert = am_alert(o, status);
    json_t *labels = json_deep_copy(json_object_get(alert, "labels"));
    json_t *j =
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s}, s:o, s:{}, s:s, s:[o]}", "version", "4",
                  "groupKey", "{}:{alertname=\"FarolOutage\"}", "truncatedAlerts", 0, "status",
                  status, "receiver", "farol", "groupLabels", "alertname", "FarolOutage",
                  "commonLabels", labels, "commonAnnotations", "externalURL", "", "alerts", alert);
    return dump(j);
}

char *noc_webhook_body(enum noc_format f, const struct event *ev)
{
    if (ev->type != EVENT_OUTAGE)
        return NULL;
    if (f == NOC_SLACK)
        return slack(&ev->u.outage);
    if (f == NOC_ALERTMANAGER)
        return alertmanager(&ev->u.outage);
    char *out = NULL, err[128];
    return event_encode(ev, &out, NULL, err, sizeof err) < 0 ? NULL : out;
}

struct post {
    channel_done_fn cb;
    void *arg;
};

static void on_answer(void *arg, const struct http_response *r)
{
    struct post *p = arg;
    char buf[256] = "";
    struct channel_result res = {.status = CHANNEL_RETRY, .http_status = r->status};
    if (!r->err && r->status >= 200 && r->status < 300)
        res.status = CHANNEL_SENT;
    else if (!r->err && r->status >= 400 && r->status < 500 && r->status != 429)
        res.status = CHANNEL_FAILED;
    if (res.status != CHANNEL_SENT) {
        snprintf(buf, sizeof buf, "%s%.200s", r->err ? "no answer: " : "HTTP ",
                 r->err ? (r->errmsg ? r->errmsg : "error") : r->body);
        res.error = buf;
        if (r->retry_after)
            res.retry_after_ms = http_retry_after_ms(r->retry_after, loop_wall_ms());
    }
    p->cb(p->arg, &res);
    free(p);
}

int noc_webhook_send(struct http_client *http, const char *url, enum noc_format f,
                     const struct event *ev, int64_t timeout_ms, channel_done_fn cb, void *arg)
{
    char *body = noc_webhook_body(f, ev);
    if (!body)
        return -EINVAL;
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct http_request rq = {.method = "POST",
                              .url = url,
                              .headers = headers,
                              .body = body,
                              .body_len = strlen(body),
                              .timeout_ms = timeout_ms > 0 ? timeout_ms : 10000};
    struct post *p = xcalloc(1, sizeof *p);
    *p = (struct post){cb, arg};
    int rc = http_client_send(http, &rq, on_answer, p);
    if (rc < 0)
        free(p);
    free(body);
    return rc;
}
