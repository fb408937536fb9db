/* event: the shared types that travel on the bus between stages.
 * Every event owns its strings and arrays (heap, via xmalloc); event_deinit() frees them.
 * The wire form is versioned JSON (core/event_json.h, documented in docs/events.md).
 * Ids are stable strings chosen by the producing stage so that replays and restarts can
 * recognise the same alarm, outage, window or message.
 * Owner: the event module (core/event.c, core/event_json*.c); other modules only read. */
#ifndef FAROL_EVENT_H
#define FAROL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_VERSION 1
/* Larger payloads are rejected on decode; producers chunk lists to stay well below it. */
#define EVENT_MAX_BYTES (256 * 1024)
/* Subscriber ids carried in one outage/maintenance event at most; more go in further events. */
#define EVENT_MAX_IDS 2000
/* Longest id, name or enum-like string on the wire, in bytes (UTF-8), without the NUL. */
#define EVENT_MAX_NAME 256
/* Longest free text (alarm text, descriptions, public messages, errors), in bytes. */
#define EVENT_MAX_TEXT 4096
/* Most distinct node kinds in an outage's "affected" counts. */
#define EVENT_MAX_KINDS 64

enum event_type {
    EVENT_ALARM,
    EVENT_OUTAGE,
    EVENT_MAINTENANCE,
    EVENT_USAGE,
    EVENT_THRESHOLD,
    EVENT_NOTIFICATION,
    EVENT_TYPE_COUNT
};

/* ---- alarm: collector -> correlator ---- */
enum alarm_action { ALARM_RAISE, ALARM_CLEAR };
enum alarm_severity { SEV_INFO, SEV_WARNING, SEV_MINOR, SEV_MAJOR, SEV_CRITICAL };
enum alarm_source { SRC_ICMP, SRC_SNMP_POLL, SRC_SNMP_TRAP, SRC_EXTERNAL };

struct alarm {
    char *id; /* one occurrence: the raise and its clear share it */
    enum alarm_action action;
    char *device; /* monitored device name, as in the topology bindings */
    char *object; /* "" for the device itself, "if:12", "onu:0/1/3:17", ... */
    char *kind;   /* "unreachable", "link-down", "onu-los", "onu-dying-gasp", "reboot", ... */
    enum alarm_severity severity;
    enum alarm_source source;
    int64_t observed_ms; /* when the collector saw it */
    bool has_value;
    double value; /* e.g. optical rx power in dBm, when has_value */
    char *text;   /* optional human detail, may be NULL */
};

/* ---- outage: correlator -> notifier, NOC ---- */
enum outage_phase { OUTAGE_OPENED, OUTAGE_UPDATED, OUTAGE_RESOLVED };
enum outage_status { OUTAGE_SUSPECTED, OUTAGE_CONFIRMED, OUTAGE_CLOSED };
enum outage_cause {
    CAUSE_UNKNOWN,
    CAUSE_DEVICE_DOWN,
    CAUSE_LINK_DOWN,
    CAUSE_FIBER_CUT,
    CAUSE_POWER_OUTAGE,
    CAUSE_PLANNED,
    CAUSE_OVERRUN
};

struct kind_count {
    char *kind; /* node kind: "olt", "onu", ... or "subscriber" */
    uint32_t count;
};

struct id_list {
    char **ids;
    size_t n;
};

struct outage {
    char *id;
    uint32_t seq; /* per-outage event sequence, increases by one per event */
    enum outage_phase phase;
    enum outage_status status;
    enum outage_cause cause;
    char *root;                                    /* node id of the root cause */
    char *area;                                    /* may be NULL */
    int64_t started_ms, confirmed_ms, resolved_ms; /* 0 when not (yet) */
    struct id_list alarms;                         /* member alarm ids */
    struct kind_count *affected;                   /* counts by kind */
    size_t n_affected;
    uint32_t affected_subscribers;       /* total currently affected */
    struct id_list subscribers_added;    /* newly affected in this event (chunked) */
    struct id_list subscribers_restored; /* restored in this event (chunked) */
    char *maintenance_id;                /* planned/overrun: the window; else NULL */
    char *merged_into;                   /* set when this outage was merged into another */
    bool flapping;                       /* its root changes state too often: damped */
    int64_t eta_ms;                      /* operator ETA, 0 = none */
    char *public_message;                /* operator text for subscribers, may be NULL */
    bool acknowledged;
};

/* ---- maintenance window lifecycle: correlator -> notifier ---- */
enum maint_phase {
    MAINT_SCHEDULED,
    MAINT_UPDATED,
    MAINT_CANCELLED,
    MAINT_STARTED,
    MAINT_ENDED,
    MAINT_OVERRUN
};

struct maintenance {
    char *id;
    uint32_t seq;
    enum maint_phase phase;
    struct id_list nodes;
    int64_t start_ms, end_ms;
    char *description;
    char *recurrence; /* NULL for one-off */
    uint32_t affected_subscribers;
    struct id_list subscribers; /* affected ids carried by this event (chunked) */
};

/* ---- usage sample: collector or outside systems -> correlator ---- */
struct usage_sample {
    char *device;     /* where it was counted (NULL when subscriber is given) */
    char *object;     /* "if:12", "onu:0/1/3:17" */
    char *subscriber; /* set by outside systems (RADIUS) that know it, else NULL */
    int64_t observed_ms;
    uint64_t rx_octets, tx_octets; /* octets since the previous sample (deltas) */
    int64_t interval_ms;
};

/* ---- data-cap threshold crossed: correlator -> notifier ---- */
struct threshold {
    char *subscriber;
    char *cycle;          /* billing cycle id, e.g. "2026-11" */
    uint32_t percent;     /* threshold crossed: 80, 100, ... */
    uint64_t used_octets; /* in this cycle so far */
    uint64_t cap_octets;
    int64_t crossed_ms;
};

/* ---- notification request/result: notifier internal and audit ---- */
enum notif_kind { NOTIF_REQUEST, NOTIF_RESULT };
enum notif_status {
    NOTIF_QUEUED,
    NOTIF_SENT,
    NOTIF_DELIVERED,
    NOTIF_FAILED,
    NOTIF_DEAD,
    NOTIF_OPTED_OUT /* not sent: the subscriber or number opted out */
};

struct notification {
    char *id; /* idempotency key: subscriber|ref|message type */
    enum notif_kind kind;
    char *subscriber;
    char *ref;          /* outage id, window id or cycle id */
    char *message_type; /* "outage-opened", "restored", "maintenance-notice", "usage-80", ... */
    char *channel;      /* channel name from the config, may be NULL on requests */
    char *locale;       /* may be NULL */
    enum notif_status status; /* results only */
    uint32_t attempts;
    char *provider_id; /* gateway message id, may be NULL */
    char *error;       /* may be NULL */
};

struct event {
    enum event_type type;
    int64_t ts_ms; /* when the event was emitted */
    union {
        struct alarm alarm;
        struct outage outage;
        struct maintenance maintenance;
        struct usage_sample usage;
        struct threshold threshold;
        struct notification notification;
    } u;
};

/* Zero an event of the given type (all strings NULL, lists empty). */
void event_init(struct event *ev, enum event_type type);
/* Free everything the event owns and zero it. */
void event_deinit(struct event *ev);
/* The bus partition key: device for alarms and usage, outage id, window id, subscriber for
 * thresholds and notifications. Never NULL (falls back to ""). */
const char *event_key(const struct event *ev);
/* Append a copy of id to list. */
void id_list_add(struct id_list *list, const char *id);
/* Free the ids and zero the list. */
void id_list_deinit(struct id_list *list);

/* Deep comparison of two events (strings by content, NULL only equals NULL); used by the
 * round-trip tests and the fuzzer. */
bool event_equal(const struct event *a, const struct event *b);

/* Names used on the wire and in logs ("?" for an out-of-range value); *_parse return 0 or
 * -EINVAL and leave *out untouched on failure. */
const char *event_type_name(enum event_type t);
int event_type_parse(const char *s, enum event_type *out);
const char *alarm_action_name(enum alarm_action a);
const char *alarm_severity_name(enum alarm_severity s);
const char *alarm_source_name(enum alarm_source s);
const char *outage_phase_name(enum outage_phase p);
const char *outage_status_name(enum outage_status s);
const char *outage_cause_name(enum outage_cause c);
const char *maint_phase_name(enum maint_phase p);
const char *notif_kind_name(enum notif_kind k);
const char *notif_status_name(enum notif_status s);
int alarm_action_parse(const char *s, enum alarm_action *out);
int alarm_severity_parse(const char *s, enum alarm_severity *out);
int alarm_source_parse(const char *s, enum alarm_source *out);
int outage_phase_parse(const char *s, enum outage_phase *out);
int outage_status_parse(const char *s, enum outage_status *out);
int outage_cause_parse(const char *s, enum outage_cause *out);
int maint_phase_parse(const char *s, enum maint_phase *out);
int notif_kind_parse(const char *s, enum notif_kind *out);
int notif_status_parse(const char *s, enum notif_status *out);

#endif
