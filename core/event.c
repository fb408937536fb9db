/* event: ownership of the shared event types and the enum names used on the wire. */
#include "core/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The tables are indexed by enum value, so their order must follow the enum declarations. */
static const char *const type_names[] = {"alarm", "outage",    "maintenance",
                                         "usage", "threshold", "notification"};
static const char *const action_names[] = {"raise", "clear"};
static const char *const severity_names[] = {"info", "warning", "minor", "major", "critical"};
static const char *const source_names[] = {"icmp", "snmp-poll", "snmp-trap", "external"};
static const char *const ophase_names[] = {"opened", "updated", "resolved"};
static const char *const ostatus_names[] = {"suspected", "confirmed", "closed"};
static const char *const cause_names[] = {"unknown",      "device-down", "link-down", "fiber-cut",
                                          "power-outage", "planned",     "overrun"};
static const char *const mphase_names[] = {"scheduled", "updated", "cancelled",
                                           "started",   "ended",   "overrun"};
static const char *const nkind_names[] = {"request", "result"};
static const char *const nstatus_names[] = {"queued", "sent", "delivered",
                                            "failed", "dead", "opted-out"};

_Static_assert(COUNT(type_names) == EVENT_TYPE_COUNT, "type_names out of date");
_Static_assert(COUNT(cause_names) == CAUSE_OVERRUN + 1, "cause_names out of date");
_Static_assert(COUNT(mphase_names) == MAINT_OVERRUN + 1, "mphase_names out of date");
_Static_assert(COUNT(nstatus_names) == NOTIF_OPTED_OUT + 1, "nstatus_names out of date");
_Static_assert(COUNT(severity_names) == SEV_CRITICAL + 1, "severity_names out of date");

static const char *name_of(const char *const *tab, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? tab[v] : "?";
}

static int index_of(const char *const *tab, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(tab[i], s) == 0)
            return (int)i;
    return -1;
}

/* One name/parse pair per enum; parse leaves *out alone when s is not a known name. */
#define EVENT_ENUM_FUNCS(prefix, etype, tab)                                                       \
    const char *prefix##_name(etype v)                                                             \
    {                                                                                              \
        return name_of(tab, COUNT(tab), (int)v);                                                   \
    }                                                                                              \
    int prefix##_parse(const char *s, etype *out)                                                  \
    {                                                                                              \
        int i = index_of(tab, COUNT(tab), s);                                                      \
        if (i < 0)                                                                                 \
            return -EINVAL;                                                                        \
        *out = (etype)i;                                                                           \
        return 0;                                                                                  \
    }

EVENT_ENUM_FUNCS(event_type, enum event_type, type_names)
EVENT_ENUM_FUNCS(alarm_action, enum alarm_action, action_names)
EVENT_ENUM_FUNCS(alarm_severity, enum alarm_severity, severity_names)
EVENT_ENUM_FUNCS(alarm_source, enum alarm_source, source_names)
EVENT_ENUM_FUNCS(outage_phase, enum outage_phase, ophase_names)
EVENT_ENUM_FUNCS(outage_status, enum outage_status, ostatus_names)
EVENT_ENUM_FUNCS(outage_cause, enum outage_cause, cause_names)
EVENT_ENUM_FUNCS(maint_phase, enum maint_phase, mphase_names)
EVENT_ENUM_FUNCS(notif_kind, enum notif_kind, nkind_names)
EVENT_ENUM_FUNCS(notif_status, enum notif_status, nstatus_names)

void event_init(struct event *ev, enum event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
}

void id_list_add(struct id_list *list, const char *id)
{
    list->ids = xrealloc(list->ids, (list->n + 1) * sizeof *list->ids);
    list->ids[list->n++] = xstrdup(id);
}

void id_list_deinit(struct id_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->ids[i]);
    free(list->ids);
    list->ids = NULL;
    list->n = 0;
}

static void outage_deinit(struct outage *o)
{
    free(o->id);
    free(o->root);
    free(o->area);
    id_list_deinit(&o->alarms);
    for (size_t i = 0; i < o->n_affected; i++)
        free(o->affected[i].kind);
    free(o->affected);
    id_list_deinit(&o->subscribers_added);
    id_list_deinit(&o->subscribers_restored);
    free(o->maintenance_id);
    free(o->merged_into);
    free(o->public_message);
}

static void notification_deinit(struct notification *n)
{
    free(n->id);
    free(n->subscriber);
    free(n->ref);
    free(n->message_type);
    free(n->channel);
    free(n->locale);
    free(n->provider_id);
    free(n->error);
}

void event_deinit(struct event *ev)
{
    switch (ev->type) {
    case EVENT_ALARM:
        free(ev->u.alarm.id);
        free(ev->u.alarm.device);
        free(ev->u.alarm.object);
        free(ev->u.alarm.kind);
        free(ev->u.alarm.text);
        break;
    case EVENT_OUTAGE:
        outage_deinit(&ev->u.outage);
        break;
    case EVENT_MAINTENANCE:
        free(ev->u.maintenance.id);
        id_list_deinit(&ev->u.maintenance.nodes);
        free(ev->u.maintenance.description);
        free(ev->u.maintenance.recurrence);
        id_list_deinit(&ev->u.maintenance.subscribers);
        break;
    case EVENT_USAGE:
        free(ev->u.usage.device);
        free(ev->u.usage.object);
        free(ev->u.usage.subscriber);
        break;
    case EVENT_THRESHOLD:
        free(ev->u.threshold.subscriber);
        free(ev->u.threshold.cycle);
        break;
    case EVENT_NOTIFICATION:
        notification_deinit(&ev->u.notification);
        break;
    case EVENT_TYPE_COUNT:
        break;
    }
    event_init(ev, ev->type);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

const char *event_key(const struct event *ev)
{
    switch (ev->type) {
    case EVENT_ALARM:
        return or_empty(ev->u.alarm.device);
    case EVENT_OUTAGE:
        return or_empty(ev->u.outage.id);
    case EVENT_MAINTENANCE:
        return or_empty(ev->u.maintenance.id);
    case EVENT_USAGE:
        return or_empty(ev->u.usage.device ? ev->u.usage.device : ev->u.usage.subscriber);
    case EVENT_THRESHOLD:
        return or_empty(ev->u.threshold.subscriber);
    case EVENT_NOTIFICATION:
        return or_empty(ev->u.notification.subscriber);
    case EVENT_TYPE_COUNT:
        break;
    }
    return "";
}

/* ---- deep equality ---- */

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool ids_eq(const struct id_list *a, const struct id_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!str_eq(a->ids[i], b->ids[i]))
            return false;
    return true;
}

/* An alarm's object NULL and "" both mean the device itself. */
static bool alarm_eq(const struct alarm *a, const struct alarm *b)
{
    return str_eq(a->id, b->id) && a->action == b->action && str_eq(a->device, b->device) &&
           str_eq(or_empty(a->object), or_empty(b->object)) && str_eq(a->kind, b->kind) &&
           a->severity == b->severity && a->source == b->source &&
           a->observed_ms == b->observed_ms && a->has_value == b->has_value &&
           (!a->has_value || a->value == b->value) && str_eq(a->text, b->text);
}

static bool affected_eq(const struct outage *a, const struct outage *b)
{
    if (a->n_affected != b->n_affected)
        return false;
    for (size_t i = 0; i < a->n_affected; i++)
        if (!str_eq(a->affected[i].kind, b->affected[i].kind) ||
            a->affected[i].count != b->affected[i].count)
            return false;
    return true;
}

static bool outage_eq(const struct outage *a, const struct outage *b)
{
    return str_eq(a->id, b->id) && a->seq == b->seq && a->phase == b->phase &&
           a->status == b->status && a->cause == b->cause && str_eq(a->root, b->root) &&
           str_eq(a->area, b->area) && a->started_ms == b->started_ms &&
           a->confirmed_ms == b->confirmed_ms && a->resolved_ms == b->resolved_ms &&
           ids_eq(&a->alarms, &b->alarms) && affected_eq(a, b) &&
           a->affected_subscribers == b->affected_subscribers &&
           ids_eq(&a->subscribers_added, &b->subscribers_added) &&
           ids_eq(&a->subscribers_restored, &b->subscribers_restored) &&
           str_eq(a->maintenance_id, b->maintenance_id) && str_eq(a->merged_into, b->merged_into) &&
           a->flapping == b->flapping && a->eta_ms == b->eta_ms &&
           str_eq(a->public_message, b->public_message) && a->acknowledged == b->acknowledged;
}

static bool maintenance_eq(const struct maintenance *a, const struct maintenance *b)
{
    return str_eq(a->id, b->id) && a->seq == b->seq && a->phase == b->phase &&
           ids_eq(&a->nodes, &b->nodes) && a->start_ms == b->start_ms && a->end_ms == b->end_ms &&
           str_eq(a->description, b->description) && str_eq(a->recurrence, b->recurrence) &&
           a->affected_subscribers == b->affected_subscribers &&
           ids_eq(&a->subscribers, &b->subscribers);
}

static bool usage_eq(const struct usage_sample *a, const struct usage_sample *b)
{
    return str_eq(a->device, b->device) && str_eq(a->object, b->object) &&
           str_eq(a->subscriber, b->subscriber) && a->observed_ms == b->observed_ms &&
           a->rx_octets == b->rx_octets && a->tx_octets == b->tx_octets &&
           a->interval_ms == b->interval_ms;
}

static bool threshold_eq(const struct threshold *a, const struct threshold *b)
{
    return str_eq(a->subscriber, b->subscriber) && str_eq(a->cycle, b->cycle) &&
           a->percent == b->percent && a->used_octets == b->used_octets &&
           a->cap_octets == b->cap_octets && a->crossed_ms == b->crossed_ms;
}

static bool notification_eq(const struct notification *a, const struct notification *b)
{
    return str_eq(a->id, b->id) && a->kind == b->kind && str_eq(a->subscriber, b->subscriber) &&
           str_eq(a->ref, b->ref) && str_eq(a->message_type, b->message_type) &&
           str_eq(a->channel, b->channel) && str_eq(a->locale, b->locale) &&
           a->status == b->status && a->attempts == b->attempts &&
           str_eq(a->provider_id, b->provider_id) && str_eq(a->error, b->error);
}

bool event_equal(const struct event *a, const struct event *b)
{
    if (a->type != b->type || a->ts_ms != b->ts_ms)
        return false;
    switch (a->type) {
    case EVENT_ALARM:
        return alarm_eq(&a->u.alarm, &b->u.alarm);
    case EVENT_OUTAGE:
        return outage_eq(&a->u.outage, &b->u.outage);
    case EVENT_MAINTENANCE:
        return maintenance_eq(&a->u.maintenance, &b->u.maintenance);
    case EVENT_USAGE:
        return usage_eq(&a->u.usage, &b->u.usage);
    case EVENT_THRESHOLD:
        return threshold_eq(&a->u.threshold, &b->u.threshold);
    case EVENT_NOTIFICATION:
        return notification_eq(&a->u.notification, &b->u.notification);
    case EVENT_TYPE_COUNT:
        break;
    }
    return true;
}
