#include "notifier/channel.h"

#include <stddef.h>
#include <string.h>

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
