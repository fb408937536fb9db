/* event_json_fields: internal to the event_json module (core/event_json.c encodes,
 * core/event_json_read.c decodes). One table per event type describes the "data" object, so
 * that the encoder and the decoder cannot disagree about names, bounds or optionality. */
#ifndef FAROL_EVENT_JSON_FIELDS_H
#define FAROL_EVENT_JSON_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

enum event_json_kind {
    EJ_NAME,  /* char *, at most EVENT_MAX_NAME bytes */
    EJ_TEXT,  /* char *, at most EVENT_MAX_TEXT bytes */
    EJ_ENUM,  /* an enum stored as int, lowercase-hyphenated name on the wire */
    EJ_TIME,  /* int64_t ms since the epoch, RFC 3339 string on the wire */
    EJ_U32,   /* uint32_t */
    EJ_U64,   /* uint64_t limited to 0..INT64_MAX (JSON integers are signed 64-bit) */
    EJ_MS,    /* int64_t duration in ms, not negative */
    EJ_BOOL,  /* bool */
    EJ_IDS,   /* struct id_list, at most EVENT_MAX_IDS non-empty names */
    EJ_REAL,  /* double at off, bool "present" flag at off2 */
    EJ_KINDS, /* struct kind_count * at off, size_t count at off2: {"kind": count, ...} */
};

/* Required: must be present and non-null (strings also non-empty). */
#define EJ_REQ 1u
/* Optional time (or bool) where 0 (false) means "not set": omitted on encode, 0 when absent. */
#define EJ_ZERO_NONE 2u
/* Optional string that reads as "" (not NULL) when absent, and is omitted when empty. */
#define EJ_EMPTY_DEFAULT 4u

/* Time range the wire accepts: years 0000 to 9999 in UTC. */
#define EVENT_JSON_TIME_MIN (-62167219200000LL)
#define EVENT_JSON_TIME_MAX (253402300799999LL)

struct event_json_field {
    const char *name;
    enum event_json_kind kind;
    unsigned flags;
    size_t off;
    size_t off2;
    const char *(*enum_name)(int v); /* EJ_ENUM: returns "?" out of range */
    int enum_count;
};

/* The field table of a type's "data" object; *n gets its length (0 for an invalid type). */
const struct event_json_field *event_json_fields(enum event_type type, size_t *n);
/* The struct inside ev that the field offsets of its type refer to. */
void *event_json_body(struct event *ev);

#endif
