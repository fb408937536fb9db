#include "notifier/notif_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "notifier/notif_store.h"

int notif_msg_parse(struct notif_msg *m, const char *id)
{
    size_t n = strlen(id);
    if (n >= sizeof m->id)
        return -EINVAL;
    memcpy(m->id, id, n + 1);
    memcpy(m->buf, id, n + 1);
    char *a = strchr(m->buf, ':');
    char *b = a ? strchr(a + 1, ':') : NULL;
    if (!a || !b || strchr(b + 1, ':') || a == m->buf || b == a + 1 || !b[1])
        return -EINVAL;
    *a = *b = '\0';
    m->sub = m->buf;
    m->ref = a + 1;
    if (template_type_parse(b + 1, &m->type) < 0)
        return -EINVAL;
    /* the base is the ref up to its phase detail; it lives after the type's NUL */
    size_t blen = strcspn(m->ref, "#@");
    char *base = b + 1 + strlen(b + 1) + 1;
    if ((size_t)(base - m->buf) + blen + 1 > sizeof m->buf)
        return -EINVAL;
    memcpy(base, m->ref, blen);
    base[blen] = '\0';
    m->base = base;
    return blen ? 0 : -EINVAL;
}

int notif_msg_make(struct notif_msg *m, const char *sub, const char *ref, enum template_type type)
{
    char id[NOTIF_ID_MAX];
    if (notif_store_id(id, sizeof id, sub, ref, template_type_name(type)) < 0)
        return -EINVAL;
    return notif_msg_parse(m, id);
}

enum notif_prio notif_msg_prio(enum template_type type)
{
    switch (type) {
    case TEMPLATE_OUTAGE_OPENED:
    case TEMPLATE_OUTAGE_UPDATED:
    case TEMPLATE_RESTORED:
        return NOTIF_PRIO_OUTAGE;
    case TEMPLATE_USAGE_THRESHOLD:
        return NOTIF_PRIO_USAGE;
    default:
        return NOTIF_PRIO_MAINT;
    }
}
