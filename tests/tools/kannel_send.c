/* kannel_send: one message through farol's Kannel channel (notifier/channel_kannel.c), for the
 * integration test against a real Kannel.
 *   kannel_send URL USER PASS TO ID TEXT [DLR_URL]   prints "STATUS HTTP [error]"; exit 0 when
 *                                                  sent or queued
 *   kannel_send --dlr QUERY                         prints "ID delivered|failed|buffered|accepted"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "notifier/channel_kannel.h"
#include "notifier/http_client.h"

struct out {
    int done;
    enum channel_status status;
};

static void on_done(void *arg, const struct channel_result *r)
{
    struct out *o = arg;
    printf("%s %d%s%s\n", channel_status_name(r->status), r->http_status, r->error ? " " : "",
           r->error ? r->error : "");
    o->status = r->status;
    o->done = 1;
}

static int dlr(const char *query)
{
    static const char *const names[] = {"delivered", "failed", "buffered", "accepted"};
    char *id = NULL;
    enum kannel_dlr d;
    if (channel_kannel_dlr(query, &id, &d) < 0) {
        fprintf(stderr, "kannel_send: not a delivery report: %s\n", query);
        return 1;
    }
    printf("%s %s\n", id, names[d]);
    free(id);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--dlr"))
        return dlr(argv[2]);
    if (argc < 7) {
        fprintf(stderr, "usage: kannel_send URL USER PASS TO ID TEXT [DLR_URL] | --dlr QUERY\n");
        return 2;
    }
    struct loop *loop = loop_new();
    struct http_client *http = http_client_new(loop, NULL);
    struct channel_kannel_config c = {.name = "sms",
                                      .sendsms_url = argv[1],
                                      .username = argv[2],
                                      .password = argv[3],
                                      .from = "4040",
                                      .dlr_url = argc > 7 ? argv[7] : NULL};
    char err[256];
    struct channel *ch = channel_kannel_new(http, &c, err, sizeof err);
    struct out o = {0};
    struct channel_msg m = {.id = argv[5], .to = argv[4], .text = argv[6]};
    int rc = ch ? channel_send(ch, &m, on_done, &o) : -1;
    if (rc < 0)
        fprintf(stderr, "kannel_send: cannot send (%d) %s\n", rc, ch ? "" : err);
    while (rc == 0 && !o.done)
        loop_run_once(loop, 1);
    channel_free(ch);
    http_client_free(http);
    loop_free(loop);
    return rc == 0 && (o.status == CHANNEL_SENT || o.status == CHANNEL_QUEUED) ? 0 : 1;
}
