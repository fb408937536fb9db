#include "tests/support/channel_fix.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/http_client.h"

#define DEADLINE_MS 5000

void channel_fix_done(void *arg, const struct channel_result *r)
{
    struct channel_fix *f = arg;
    f->res = *r;
    snprintf(f->error, sizeof f->error, "%s", r->error ? r->error : "");
    snprintf(f->provider, sizeof f->provider, "%s", r->provider_id ? r->provider_id : "");
    /* the channel's strings live only during the callback */
    f->res.error = r->error ? f->error : NULL;
    f->res.provider_id = r->provider_id ? f->provider : NULL;
    f->done++;
}

static void expire(void *arg)
{
    *(int *)arg = 1;
}

void channel_fix_start(struct channel_fix *f, bool with_server)
{
    char err[256];
    memset(f, 0, sizeof *f);
    f->loop = loop_new();
    if (with_server) {
        f->srv = http_server_start(err, sizeof err);
        ck_assert_msg(f->srv, "%s", err);
    }
    f->http = http_client_new(f->loop, NULL);
}

void channel_fix_stop(struct channel_fix *f)
{
    channel_free(f->ch);
    http_client_free(f->http);
    http_server_stop(f->srv);
    loop_free(f->loop);
}

void channel_fix_send(struct channel_fix *f, const char *path, const struct http_server_reply *r,
                      const struct channel_msg *m)
{
    if (r)
        http_server_set(f->srv, path, r);
    f->done = 0;
    f->expired = 0;
    ck_assert_int_eq(channel_send(f->ch, m, channel_fix_done, f), 0);
    struct loop_timer *t = loop_timer_new(f->loop, expire, &f->expired);
    loop_timer_start(t, DEADLINE_MS, 0);
    while (!f->done && !f->expired)
        loop_run_once(f->loop, 1);
    loop_timer_free(t);
    ck_assert_int_eq(f->done, 1);
}

json_t *channel_fix_json_body(struct channel_fix *f, char **head)
{
    char *req = http_server_last_request(f->srv);
    char *sep = strstr(req, "\r\n\r\n");
    ck_assert_ptr_nonnull(sep);
    json_error_t e;
    json_t *j = json_loads(sep + 4, 0, &e);
    ck_assert_msg(j, "body: %s", e.text);
    *head = req;
    return j;
}
