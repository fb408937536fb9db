/* event_json: field tables, RFC 3339 times and the encoder of the wire format
 * (docs/events.md). The decoder lives in core/event_json_read.c. */
#include "core/event_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/event_json_fields.h"
#include "core/xmalloc.h"

/* ---- field tables ---- */

/* Adapters so that one function pointer type serves every enum. */
#define EJ_ENUM_ADAPTER(fn, etype)                                                                 \
    static const char *fn##_i(int v)                                                               \
    {                                                                                              \
        return fn((etype)v);                                                                       \
    }
EJ_ENUM_ADAPTER(alarm_action_name, enum alarm_action)
EJ_ENUM_ADAPTER(alarm_severity_name, enum alarm_severity)
EJ_ENUM_ADAPTER(alarm_source_name, enum alarm_source)
EJ_ENUM_ADAPTER(outage_phase_name, enum outage_phase)
EJ_ENUM_ADAPTER(outage_status_name, enum outage_status)
EJ_ENUM_ADAPTER(outage_cause_name, enum outage_cause)
EJ_ENUM_ADAPTER(maint_phase_name, enum maint_phase)
EJ_ENUM_ADAPTER(notif_kind_name, enum notif_kind)
EJ_ENUM_ADAPTER(notif_status_name, enum notif_status)

#define F(st, wire, kind, flags, member)                                                           \
    {                                                                                              \
        wire, kind, flags, offsetof(st, member), 0, NULL, 0                                        \
    }
#define FE(st, wire, flags, member, fn, count)                                                     \
    {                                                                                              \
        wire, EJ_ENUM, flags, offsetof(st, member), 0, fn##_i, count                               \
    }
#define F2(st, wire, kind, member, member2)                                                        \
    {                                                                                              \
        wire, kind, 0, offsetof(st, member), offsetof(st, member2), NULL, 0                        \
    }

static const struct event_json_field alarm_fields[] = {
    F(struct alarm, "id", EJ_NAME, EJ_REQ, id),
    FE(struct alarm, "action", EJ_REQ, action, alarm_action_name, ALARM_CLEAR + 1),
    F(struct alarm, "device", EJ_NAME, EJ_REQ, device),
    F(struct alarm, "object", EJ_NAME, EJ_EMPTY_DEFAULT, object),
    F(struct alarm, "kind", EJ_NAME, EJ_REQ, kind),
    FE(struct alarm, "severity", EJ_REQ, severity, alarm_severity_name, SEV_CRITICAL + 1),
    FE(struct alarm, "source", EJ_REQ, source, alarm_source_name, SRC_EXTERNAL + 1),
    F(struct alarm, "observed_at", EJ_TIME, EJ_REQ, observed_ms),
    F2(struct alarm, "value", EJ_REAL, value, has_value),
    F(struct alarm, "text", EJ_TEXT, 0, text),
};

static const struct event_json_field outage_fields[] = {
    F(struct outage, "id", EJ_NAME, EJ_REQ, id),
    F(struct outage, "seq", EJ_U32, EJ_REQ, seq),
    FE(struct outage, "phase", EJ_REQ, phase, outage_phase_name, OUTAGE_RESOLVED + 1),
    FE(struct outage, "status", EJ_REQ, status, outage_status_name, OUTAGE_CLOSED + 1),
    FE(struct outage, "cause", EJ_REQ, cause, outage_cause_name, CAUSE_OVERRUN + 1),
    F(struct outage, "root", EJ_NAME, EJ_REQ, root),
    F(struct outage, "area", EJ_NAME, 0, area),
    F(struct outage, "started_at", EJ_TIME, EJ_REQ, started_ms),
    F(struct outage, "confirmed_at", EJ_TIME, EJ_ZERO_NONE, confirmed_ms),
    F(struct outage, "resolved_at", EJ_TIME, EJ_ZERO_NONE, resolved_ms),
    F(struct outage, "alarms", EJ_IDS, 0, alarms),
    F2(struct outage, "affected", EJ_KINDS, affected, n_affected),
    F(struct outage, "affected_subscribers", EJ_U32, 0, affected_subscribers),
    F(struct outage, "subscribers_added", EJ_IDS, 0, subscribers_added),
    F(struct outage, "subscribers_restored", EJ_IDS, 0, subscribers_restored),
    F(struct outage, "maintenance_id", EJ_NAME, 0, maintenance_id),
    F(struct outage, "merged_into", EJ_NAME, 0, merged_into),
    F(struct outage, "flapping", EJ_BOOL, EJ_ZERO_NONE, flapping),
    F(struct outage, "eta", EJ_TIME, EJ_ZERO_NONE, eta_ms),
    F(struct outage, "public_message", EJ_TEXT, 0, public_message),
    F(struct outage, "acknowledged", EJ_BOOL, 0, acknowledged),
};

static const struct event_json_field maintenance_fields[] = {
    F(struct maintenance, "id", EJ_NAME, EJ_REQ, id),
    F(struct maintenance, "seq", EJ_U32, EJ_REQ, seq),
    FE(struct maintenance, "phase", EJ_REQ, phase, maint_phase_name, MAINT_OVERRUN + 1),
    F(struct maintenance, "nodes", EJ_IDS, 0, nodes),
    F(struct maintenance, "starts_at", EJ_TIME, EJ_REQ, start_ms),
    F(struct maintenance, "ends_at", EJ_TIME, EJ_REQ, end_ms),
    F(struct maintenance, "description", EJ_TEXT, 0, description),
    F(struct maintenance, "recurrence", EJ_TEXT, 0, recurrence),
    F(struct maintenance, "affected_subscribers", EJ_U32, 0, affected_subscribers),
    F(struct maintenance, "subscribers", EJ_IDS, 0, subscribers),
};

static const struct event_json_field usage_fields[] = {
    F(struct usage_sample, "device", EJ_NAME, 0, device),
    F(struct usage_sample, "object", EJ_NAME, 0, object),
    F(struct usage_sample, "subscriber", EJ_NAME, 0, subscriber),
    F(struct usage_sample, "observed_at", EJ_TIME, EJ_REQ, observed_ms),
    F(struct usage_sample, "rx_octets", EJ_U64, EJ_REQ, rx_octets),
    F(struct usage_sample, "tx_octets", EJ_U64, EJ_REQ, tx_octets),
    F(struct usage_sample, "interval_ms", EJ_MS, EJ_REQ, interval_ms),
};

static const struct event_json_field threshold_fields[] = {
    F(struct threshold, "subscriber", EJ_NAME, EJ_REQ, subscriber),
    F(struct threshold, "cycle", EJ_NAME, EJ_REQ, cycle),
    F(struct threshold, "percent", EJ_U32, EJ_REQ, percent),
    F(struct threshold, "used_octets", EJ_U64, EJ_REQ, used_octets),
    F(struct threshold, "cap_octets", EJ_U64, EJ_REQ, cap_octets),
    F(struct threshold, "crossed_at", EJ_TIME, EJ_REQ, crossed_ms),
};

static const struct event_json_field notification_fields[] = {
    F(struct notification, "id", EJ_NAME, EJ_REQ, id),
    FE(struct notification, "kind", EJ_REQ, kind, notif_kind_name, NOTIF_RESULT + 1),
    F(struct notification, "subscriber", EJ_NAME, EJ_REQ, subscriber),
    F(struct notification, "ref", EJ_NAME, EJ_REQ, ref),
    F(struct notification, "message_type", EJ_NAME, EJ_REQ, message_type),
    F(struct notification, "channel", EJ_NAME, 0, channel),
    F(struct notification, "locale", EJ_NAME, 0, locale),
    FE(struct notification, "status", 0, status, notif_status_name, NOTIF_OPTED_OUT + 1),
    F(struct notification, "attempts", EJ_U32, 0, attempts),
    F(struct notification, "provider_id", EJ_NAME, 0, provider_id),
    F(struct notification, "error", EJ_TEXT, 0, error),
};

#define TABLE(t)                                                                                   \
    {                                                                                              \
        t, sizeof(t) / sizeof((t)[0])                                                              \
    }
static const struct {
    const struct event_json_field *f;
    size_t n;
} tables[EVENT_TYPE_COUNT] = {
    [EVENT_ALARM] = TABLE(alarm_fields),
    [EVENT_OUTAGE] = TABLE(outage_fields),
    [EVENT_MAINTENANCE] = TABLE(maintenance_fields),
    [EVENT_USAGE] = TABLE(usage_fields),
    [EVENT_THRESHOLD] = TABLE(threshold_fields),
    [EVENT_NOTIFICATION] = TABLE(notification_fields),
};

const struct event_json_field *event_json_fields(enum event_type type, size_t *n)
{
    if ((unsigned)type >= EVENT_TYPE_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = tables[type].n;
    return tables[type].f;
}

void *event_json_body(struct event *ev)
{
    /* Every member of the union starts at the union's address. */
    return &ev->u;
}

/* ---- RFC 3339 times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void event_format_time(int64_t ms, char *buf, size_t bufsz)
{
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    snprintf(buf, bufsz, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, mo, d,
             (unsigned)(rem / 3600000), (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
             (unsigned)(rem % 1000));
}

/* Read exactly n decimal digits. */
static int digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (unsigned)(**p - '0');
    }
    *out = v;
    return 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Fraction digits beyond milliseconds are truncated, not rounded, so that a time never moves
 * into the next second. */
static int parse_fraction(const char **p, unsigned *msec)
{
    *msec = 0;
    if (**p != '.')
        return 0;
    (*p)++;
    int n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++)
        if (n < 3)
            *msec = *msec * 10 + (unsigned)(**p - '0');
    if (n == 0 || n > 9)
        return -1;
    for (int i = n; i < 3; i++)
        *msec *= 10;
    return 0;
}

/* Returns the offset east of UTC in minutes. */
static int parse_offset(const char *p, int *minutes)
{
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *minutes = 0;
        return 0;
    }
    unsigned oh, om;
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p == '-' ? -1 : 1;
    p++;
    if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || *p != '\0')
        return -1;
    if (oh > 23 || om > 59)
        return -1;
    *minutes = sign * (int)(oh * 60 + om);
    return 0;
}

int event_parse_time(const char *s, int64_t *ms)
{
    unsigned y, mo, d, h, mi, sec, msec;
    int off;
    const char *p = s;
    if (!s || strnlen(s, 65) > 64)
        return -EINVAL;
    if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
        digits(&p, 2, &d) < 0 || (*p != 'T' && *p != 't'))
        return -EINVAL;
    p++;
    if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 || *p++ != ':' ||
        digits(&p, 2, &sec) < 0 || parse_fraction(&p, &msec) < 0 || parse_offset(p, &off) < 0)
        return -EINVAL;
    /* Second 60 is a leap second (RFC 3339 allows it); it folds into the next second. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off * 60;
    t = t * 1000 + msec;
    if (t < EVENT_JSON_TIME_MIN || t > EVENT_JSON_TIME_MAX)
        return -EINVAL;
    *ms = t;
    return 0;
}

/* ---- encoder ---- */

struct enc {
    const char *type; /* prefix of error paths */
    char *err;
    size_t errsz;
};

static void put_err(char *err, size_t errsz, const char *prefix, const char *fmt, va_list ap)
{
    if (!err || errsz == 0)
        return;
    int n = snprintf(err, errsz, "%s", prefix);
    if (n >= 0 && (size_t)n < errsz)
        vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
}

/* Fails with "<type>.<field>: <message>", or "<field>: ..." for envelope fields (no type). */
static int enc_fail(struct enc *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int enc_fail(struct enc *e, const char *field, const char *fmt, ...)
{
    char prefix[EVENT_MAX_NAME];
    if (e->type)
        snprintf(prefix, sizeof prefix, "%s.%s: ", e->type, field);
    else
        snprintf(prefix, sizeof prefix, "%s: ", field);
    va_list ap;
    va_start(ap, fmt);
    put_err(e->err, e->errsz, prefix, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Checks s against the bounds the decoder enforces, then adds it under key. */
static int enc_string(struct enc *e, json_t *obj, const char *key, const char *field, const char *s,
                      size_t max)
{
    size_t len = strlen(s);
    if (len > max)
        return enc_fail(e, field, "string longer than %zu bytes", max);
    json_t *js = json_stringn(s, len);
    if (!js)
        return enc_fail(e, field, "invalid UTF-8");
    json_object_set_new(obj, key, js);
    return 0;
}

static int enc_ids(struct enc *e, json_t *data, const struct event_json_field *f,
                   const struct id_list *l)
{
    if (l->n == 0)
        return 0;
    if (l->n > EVENT_MAX_IDS)
        return enc_fail(e, f->name, "more than %d ids (%zu); split into further events",
                        EVENT_MAX_IDS, l->n);
    json_t *arr = json_array();
    json_object_set_new(data, f->name, arr);
    for (size_t i = 0; i < l->n; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s[%zu]", f->name, i);
        if (!l->ids[i] || !l->ids[i][0])
            return enc_fail(e, path, "id missing or empty");
        size_t len = strlen(l->ids[i]);
        if (len > EVENT_MAX_NAME)
            return enc_fail(e, path, "string longer than %d bytes", EVENT_MAX_NAME);
        json_t *js = json_stringn(l->ids[i], len);
        if (!js)
            return enc_fail(e, path, "invalid UTF-8");
        json_array_append_new(arr, js);
    }
    return 0;
}

static int enc_kinds(struct enc *e, json_t *data, const struct event_json_field *f,
                     const char *body)
{
    const struct kind_count *kc = *(struct kind_count *const *)(body + f->off);
    size_t n = *(const size_t *)(body + f->off2);
    if (n == 0)
        return 0;
    if (n > EVENT_MAX_KINDS || !kc)
        return enc_fail(e, f->name, "more than %d kinds or no array", EVENT_MAX_KINDS);
    json_t *obj = json_object();
    json_object_set_new(data, f->name, obj);
    for (size_t i = 0; i < n; i++) {
        const char *k = kc[i].kind;
        if (!k || !k[0])
            return enc_fail(e, f->name, "kind %zu missing or empty", i);
        if (json_object_get(obj, k))
            return enc_fail(e, f->name, "kind \"%.64s\" repeated", k);
        if (strlen(k) > EVENT_MAX_NAME)
            return enc_fail(e, f->name, "kind longer than %d bytes", EVENT_MAX_NAME);
        if (json_object_set_new(obj, k, json_integer(kc[i].count)) < 0)
            return enc_fail(e, f->name, "kind %zu is not valid UTF-8", i);
    }
    return 0;
}

static int enc_str_field(struct enc *e, json_t *data, const struct event_json_field *f,
                         const char *s)
{
    if (!s || ((f->flags & EJ_EMPTY_DEFAULT) && !s[0])) {
        if (f->flags & EJ_REQ)
            return enc_fail(e, f->name, "required string missing");
        return 0;
    }
    if ((f->flags & EJ_REQ) && !s[0])
        return enc_fail(e, f->name, "required string is empty");
    return enc_string(e, data, f->name, f->name, s,
                      f->kind == EJ_TEXT ? EVENT_MAX_TEXT : EVENT_MAX_NAME);
}

static int enc_time(struct enc *e, json_t *data, const struct event_json_field *f, int64_t ms)
{
    if (ms == 0 && (f->flags & EJ_ZERO_NONE))
        return 0;
    if (ms < EVENT_JSON_TIME_MIN || ms > EVENT_JSON_TIME_MAX)
        return enc_fail(e, f->name, "time %lld ms out of range", (long long)ms);
    char buf[EVENT_TIME_BUFSZ];
    event_format_time(ms, buf, sizeof buf);
    json_object_set_new(data, f->name, json_string(buf));
    return 0;
}

static int enc_number(struct enc *e, json_t *data, const struct event_json_field *f,
                      const char *body)
{
    const void *p = body + f->off;
    if (f->kind == EJ_U32) {
        json_object_set_new(data, f->name, json_integer(*(const uint32_t *)p));
    } else if (f->kind == EJ_U64) {
        uint64_t v = *(const uint64_t *)p;
        if (v > INT64_MAX)
            return enc_fail(e, f->name, "value above %lld", (long long)INT64_MAX);
        json_object_set_new(data, f->name, json_integer((json_int_t)v));
    } else if (f->kind == EJ_MS) {
        int64_t v = *(const int64_t *)p;
        if (v < 0)
            return enc_fail(e, f->name, "must not be negative");
        json_object_set_new(data, f->name, json_integer(v));
    } else if (*(const bool *)(body + f->off2)) { /* EJ_REAL */
        json_t *r = json_real(*(const double *)p);
        if (!r)
            return enc_fail(e, f->name, "must be a finite number");
        json_object_set_new(data, f->name, r);
    }
    return 0;
}

static int enc_enum(struct enc *e, json_t *data, const struct event_json_field *f, int v)
{
    if (v < 0 || v >= f->enum_count)
        return enc_fail(e, f->name, "enum value %d out of range", v);
    json_object_set_new(data, f->name, json_string(f->enum_name(v)));
    return 0;
}

static int enc_field(struct enc *e, json_t *data, const struct event_json_field *f,
                     const char *body)
{
    switch (f->kind) {
    case EJ_NAME:
    case EJ_TEXT:
        return enc_str_field(e, data, f, *(char *const *)(body + f->off));
    case EJ_ENUM:
        return enc_enum(e, data, f, *(const int *)(body + f->off));
    case EJ_TIME:
        return enc_time(e, data, f, *(const int64_t *)(body + f->off));
    case EJ_U32:
    case EJ_U64:
    case EJ_MS:
    case EJ_REAL:
        return enc_number(e, data, f, body);
    case EJ_BOOL:
        if (!*(const bool *)(body + f->off) && (f->flags & EJ_ZERO_NONE))
            return 0;
        json_object_set_new(data, f->name, json_boolean(*(const bool *)(body + f->off)));
        return 0;
    case EJ_IDS:
        return enc_ids(e, data, f, (const struct id_list *)(body + f->off));
    case EJ_KINDS:
        return enc_kinds(e, data, f, body);
    }
    return enc_fail(e, f->name, "unknown field kind");
}

/* Invariants that span fields; the decoder checks the same ones. */
static int enc_cross_checks(struct enc *e, const struct event *ev)
{
    if (ev->type == EVENT_USAGE && !ev->u.usage.device && !ev->u.usage.subscriber)
        return enc_fail(e, "device", "required string missing (or usage.subscriber)");
    if (ev->type == EVENT_MAINTENANCE && ev->u.maintenance.end_ms < ev->u.maintenance.start_ms)
        return enc_fail(e, "ends_at", "before starts_at");
    return 0;
}

static int enc_dump(struct enc *e, json_t *root, char **out, size_t *len)
{
    size_t n = json_dumpb(root, NULL, 0, JSON_COMPACT);
    if (n == 0)
        return enc_fail(e, "event", "JSON serialisation failed");
    if (n > EVENT_MAX_BYTES) {
        enc_fail(e, "event", "%zu bytes exceed %d; split the id lists", n, EVENT_MAX_BYTES);
        return -EMSGSIZE;
    }
    char *buf = xmalloc(n + 1);
    json_dumpb(root, buf, n, JSON_COMPACT);
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

int event_encode(const struct event *ev, char **out, size_t *len, char *err, size_t errsz)
{
    size_t nf;
    const struct event_json_field *fields = event_json_fields(ev->type, &nf);
    struct enc top = {NULL, err, errsz};
    struct enc e = {event_type_name(ev->type), err, errsz};
    *out = NULL;
    if (!fields)
        return enc_fail(&top, "type", "unknown event type %d", (int)ev->type);
    if (ev->ts_ms < EVENT_JSON_TIME_MIN || ev->ts_ms > EVENT_JSON_TIME_MAX)
        return enc_fail(&top, "ts", "time %lld ms out of range", (long long)ev->ts_ms);
    char ts[EVENT_TIME_BUFSZ];
    event_format_time(ev->ts_ms, ts, sizeof ts);
    json_t *data = json_object();
    json_t *root = json_pack("{s:i, s:s, s:s, s:o}", "v", EVENT_VERSION, "type", e.type, "ts", ts,
                             "data", data);
    const char *body = event_json_body((struct event *)ev);
    int rc = enc_cross_checks(&e, ev);
    for (size_t i = 0; rc == 0 && i < nf; i++)
        rc = enc_field(&e, data, &fields[i], body);
    if (rc == 0)
        rc = enc_dump(&top, root, out, len);
    json_decref(root);
    return rc;
}
