#include "notifier/channel.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

int channel_send(struct channel *ch, const struct channel_msg *m, channel_done_fn cb, void *arg)
{
    return ch->ops->send(ch, m, cb, arg);
}

void channel_free(struct channel *ch)
{
    if (ch)
        ch->ops->free(ch);
}

const char *channel_status_name(enum channel_status s)
{
    static const char *const names[] = {"sent", "queued", "retry", "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void channel_mask_digits(char *s)
{
    for (char *p = s; *p;) {
        size_t n = strspn(p, "0123456789");
        if (n >= 7)
            memset(p + 2, '*', n - 4);
        p += n ? n : 1;
    }
}

int channel_attempt_send(struct http_client *http, const struct http_request *rq, const char *to,
                         channel_done_fn cb, void *arg,
                         void (*answer)(void *attempt, const struct http_response *r))
{
    char masked[64];
    struct channel_attempt *a = xcalloc(1, sizeof *a);
    *a = (struct channel_attempt){cb, arg, xstrdup(log_mask_phone(to, masked, sizeof masked))};
    int rc = http_client_send(http, rq, answer, a);
    if (rc < 0)
        free(a->to_masked), free(a);
    return rc;
}

void channel_attempt_done(struct channel_attempt *a, const char *subsys, const char *what,
                          const struct channel_result *r)
{
    if (r->error)
        log_warn(subsys, "%s to %s: %s (%s)", what, a->to_masked, channel_status_name(r->status),
                 r->error);
    a->cb(a->arg, r);
    free(a->to_masked);
    free(a);
}

char *channel_opt_dup(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}
