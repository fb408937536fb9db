/* noc_webhook: outages for the NOC's own tools, one summary per outage event (never one per
 * alarm): plain JSON (farol's outage event as is), a Slack-compatible {"text": ...}, or the
 * Alertmanager webhook payload (version 4), so anything that already consumes Alertmanager
 * notifications (pagers, chat bridges, ticketing) takes farol's outages unchanged. Planned
 * outages carry severity "info" so routing can keep them from paging anyone. */
#ifndef FAROL_NOC_WEBHOOK_H
#define FAROL_NOC_WEBHOOK_H

#include "core/event.h"
#include "notifier/channel.h"

struct http_client;

enum noc_format { NOC_JSON, NOC_SLACK, NOC_ALERTMANAGER };

/* Parse "json", "slack" or "alertmanager"; 0 or -EINVAL. */
int noc_format_parse(const char *s, enum noc_format *out);
/* The request body for outage event ev (type EVENT_OUTAGE) in format f; caller frees. NULL
 * only when ev cannot be encoded. */
char *noc_webhook_body(enum noc_format f, const struct event *ev);
/* POST the body for ev to url (JSON, timeout_ms, 0 = 10 s) and report like a channel: sent on
 * 2xx, retry on no answer, 5xx and 429, failed on other 4xx. 0, or a negative errno (cb never
 * called). */
int noc_webhook_send(struct http_client *http, const char *url, enum noc_format f,
                     const struct event *ev, int64_t timeout_ms, channel_done_fn cb, void *arg);

#endif
