/* channel_fix: what every channel test needs around the channel under test: a loop, a local
 * scripted HTTP server (tests/support/http_server.h) playing the provider, an HTTP client, and
 * a send that waits for its one result (at most 5 s). The test builds its channel on f->http
 * and stores it in f->ch; channel_fix_stop frees it with the rest.
 * Caller-owned (channel_fix_start / channel_fix_stop); Check assertions on failure. */
#ifndef FAROL_TESTS_CHANNEL_FIX_H
#define FAROL_TESTS_CHANNEL_FIX_H

#include <jansson.h>
#include <stdbool.h>

#include "notifier/channel.h"
#include "tests/support/http_server.h"

struct channel_fix {
    struct loop *loop;
    struct http_server *srv; /* NULL when started without one */
    struct http_client *http;
    struct channel *ch; /* the test's */
    int done, expired;
    struct channel_result res; /* the last result; error and provider_id point into the copies */
    char error[400], provider[128];
};

/* The result callback channel_fix_send uses (arg: the fix), for tests that call channel_send
 * themselves. */
void channel_fix_done(void *arg, const struct channel_result *r);
/* Zero f, then a loop, an HTTP client and (with_server) the scripted server. */
void channel_fix_start(struct channel_fix *f, bool with_server);
/* Free the channel, the client, the server and the loop. */
void channel_fix_stop(struct channel_fix *f);
/* Script path's answer (unless r is NULL), send m and run the loop until its result arrives;
 * asserts exactly one result within the deadline. */
void channel_fix_send(struct channel_fix *f, const char *path, const struct http_server_reply *r,
                      const struct channel_msg *m);
/* The JSON body of the last request the server received (caller json_decref); *head gets the
 * whole request (caller frees). */
json_t *channel_fix_json_body(struct channel_fix *f, char **head);

#endif
