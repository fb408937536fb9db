/* notif_msg: what one queued message is. A message is named by its idempotency id
 * "{subscriber}:{ref}:{type}" (notif_store_id): ref is the outage, window occurrence or billing
 * cycle, optionally followed by '#' and a phase detail ("o-olt1-17#u4" for the fourth ETA
 * update, "w-9@1764000000000#n48" for the 48-hour notice of one occurrence, "2026-11#80" for the
 * 80 % threshold), so every (subscriber, outage or window, phase) has exactly one id. The part of
 * ref before '#' and '@' is the base whose context (notif_queue) the message is rendered from.
 * struct notif_msg is caller-owned and holds its own copy of the id; its parts point into itself,
 * so copy one with notif_msg_parse(&copy, m.id), never by assignment. */
#ifndef FAROL_NOTIF_MSG_H
#define FAROL_NOTIF_MSG_H

#include <stddef.h>

#include "notifier/template.h"

/* Sending order: restorations and outages first, then maintenance, then usage. */
enum notif_prio { NOTIF_PRIO_OUTAGE, NOTIF_PRIO_MAINT, NOTIF_PRIO_USAGE, NOTIF_PRIO_COUNT };

#define NOTIF_ID_MAX 400

struct notif_msg {
    char id[NOTIF_ID_MAX];
    char buf[NOTIF_ID_MAX]; /* the parts below point into it */
    const char *sub, *ref, *base;
    enum template_type type;
};

/* Parse id into m. Returns 0, or -EINVAL when it is not three non-empty parts with a known
 * message type. */
int notif_msg_parse(struct notif_msg *m, const char *id);
/* Build "{sub}:{ref}:{type}" into m (and parse it). -EINVAL as notif_store_id. */
int notif_msg_make(struct notif_msg *m, const char *sub, const char *ref, enum template_type type);
/* The queue a message type goes to. */
enum notif_prio notif_msg_prio(enum template_type type);

#endif
