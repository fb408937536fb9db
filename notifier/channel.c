#include "notifier/channel.h"

#include <stddef.h>

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
