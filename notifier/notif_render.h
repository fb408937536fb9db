/* notif_render: the text of one queued message, from its template (per type and the
 * subscriber's locale), the subscriber's topology record, the outage or window context and the
 * message's own variables. Times are shown in the subscriber's timezone. */
#ifndef FAROL_NOTIF_RENDER_H
#define FAROL_NOTIF_RENDER_H

#include <stddef.h>

#include "notifier/notif_msg.h"

struct template_file;
struct redisReply;

/* Field/value pairs of a Redis hash as returned by HGETALL (borrowed; may be NULL). */
struct notif_hash {
    const struct redisReply *r;
};

/* Value of field in h, or NULL when h is NULL, not a hash reply, or lacks it. */
const char *notif_hash_get(struct notif_hash h, const char *field);

struct notif_render_in {
    const struct notif_msg *msg;
    struct notif_hash sub;  /* farol:topo:{v}:sub:{id} */
    struct notif_hash ctx;  /* farol:notif:ctx:{base} */
    struct notif_hash vars; /* farol:notif:vars:{id} */
};

/* Render into *out (caller frees). Returns 0, -ENOENT when no template exists for the type in
 * any fallback locale, or -EINVAL for values that are not UTF-8. */
int notif_render(const struct template_file *tf, const struct notif_render_in *in, char **out);

#endif
