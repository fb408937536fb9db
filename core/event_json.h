/* event_json: the versioned JSON wire format of events (docs/events.md).
 * Decoding never trusts its input: size, depth, types, enums, required fields and string
 * lengths are checked, and failures are reported, never crashed on.
 * Owner: the event module (core/event_json.c, core/event_json_read.c). */
#ifndef FAROL_EVENT_JSON_H
#define FAROL_EVENT_JSON_H

#include <stddef.h>

#include "core/event.h"

/* Enough for any time event_format_time() writes, NUL included. */
#define EVENT_TIME_BUFSZ 32

/* Encode ev as one line of compact JSON (no trailing newline). *out is malloc'd and owned by
 * the caller; returns 0, -EINVAL for an event that breaks an invariant or would not decode
 * (message naming the field in err), or -EMSGSIZE when the result exceeds EVENT_MAX_BYTES.
 * On error *out is NULL. len may be NULL. */
int event_encode(const struct event *ev, char **out, size_t *len, char *err, size_t errsz);
/* Decode len bytes into ev (which the caller later event_deinit()s). Returns 0, -EMSGSIZE
 * for oversized input, or -EINVAL with a message naming the field in err; on error ev holds
 * nothing that needs freeing. */
int event_decode(const void *buf, size_t len, struct event *ev, char *err, size_t errsz);
/* Format ms since the epoch as RFC 3339 UTC with milliseconds ("2026-11-23T21:08:09.123Z");
 * bufsz of EVENT_TIME_BUFSZ always suffices. */
void event_format_time(int64_t ms, char *buf, size_t bufsz);
/* Parse RFC 3339 (Z or +hh:mm offset, optional fraction of 1-9 digits, truncated to ms) into
 * ms; returns 0 or -EINVAL (bad syntax, impossible dates, years outside 0000-9999 in UTC). */
int event_parse_time(const char *s, int64_t *ms);

#endif
