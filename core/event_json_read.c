/* event_json_read: the decoder of the wire format (docs/events.md). Input is untrusted: it
 * may come from outside producers (RADIUS exporters) through Kafka, so every field is checked
 * against the same table the encoder uses, and nothing is kept when any check fails. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/event_json.h"
#include "core/event_json_fields.h"
#include "core/xmalloc.h"

struct dec {
    const char *type; /* prefix of error paths, NULL for the envelope */
    char *err;
    size_t errsz;
};

static int dec_fail(const struct dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dec_fail(const struct dec *d, const char *field, const char *fmt, ...)
{
    if (!d->err || d->errsz == 0)
        return -EINVAL;
    int n = d->type ? snprintf(d->err, d->errsz, "%s.%s: ", d->type, field)
                    : snprintf(d->err, d->errsz, "%s: ", field);
    if (n >= 0 && (size_t)n < d->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err + n, d->errsz - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Input is echoed in errors (which reach logs) only as a short printable-ASCII excerpt. */
static const char *excerpt(const char *s, char *buf, size_t bufsz)
{
    size_t i = 0;
    for (; s[i] && i + 4 < bufsz; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (s[i])
        memcpy(buf + i, "...", 3), i += 3;
    buf[i] = '\0';
    return buf;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* Fetches a member; NULL when absent or null. A required absent member is an error (*rc). */
static json_t *member(const struct dec *d, json_t *obj, const char *key, bool required,
                      const char *what, int *rc)
{
    json_t *j = json_object_get(obj, key);
    *rc = 0;
    if (j && json_is_null(j))
        j = NULL;
    if (!j && required)
        *rc = dec_fail(d, key, "required %s missing", what);
    return j;
}

/* A string no longer than max bytes; empty ones are refused where a name is required. */
static int dec_string(const struct dec *d, const char *path, const json_t *j, size_t max,
                      bool nonempty, const char **out)
{
    if (!json_is_string(j))
        return dec_fail(d, path, "expected string, got %s", json_kind(j));
    size_t len = json_string_length(j);
    if (len > max)
        return dec_fail(d, path, "string longer than %zu bytes", max);
    if (nonempty && len == 0)
        return dec_fail(d, path, "must not be empty");
    *out = json_string_value(j);
    return 0;
}

static int dec_int(const struct dec *d, const char *path, const json_t *j, json_int_t max,
                   json_int_t *out)
{
    if (!json_is_integer(j))
        return dec_fail(d, path, "expected integer, got %s", json_kind(j));
    json_int_t v = json_integer_value(j);
    if (v < 0)
        return dec_fail(d, path, "must not be negative");
    if (v > max)
        return dec_fail(d, path, "must be at most %lld", (long long)max);
    *out = v;
    return 0;
}

static int dec_time(const struct dec *d, const char *path, const json_t *j, int64_t *out)
{
    const char *s = NULL;
    char ex[48];
    int rc = dec_string(d, path, j, 64, true, &s);
    if (rc < 0)
        return rc;
    if (event_parse_time(s, out) < 0)
        return dec_fail(d, path, "invalid RFC 3339 time \"%s\"", excerpt(s, ex, sizeof ex));
    return 0;
}

static int dec_enum(const struct dec *d, const struct event_json_field *f, const json_t *j,
                    int *out)
{
    const char *s;
    char ex[48];
    int rc = dec_string(d, f->name, j, EVENT_MAX_NAME, true, &s);
    if (rc < 0)
        return rc;
    for (int v = 0; v < f->enum_count; v++) {
        if (strcmp(f->enum_name(v), s) == 0) {
            *out = v;
            return 0;
        }
    }
    return dec_fail(d, f->name, "unknown value \"%s\"", excerpt(s, ex, sizeof ex));
}

static int dec_ids(const struct dec *d, const struct event_json_field *f, const json_t *j,
                   struct id_list *out)
{
    if (!json_is_array(j))
        return dec_fail(d, f->name, "expected array, got %s", json_kind(j));
    size_t n = json_array_size(j);
    if (n > EVENT_MAX_IDS)
        return dec_fail(d, f->name, "more than %d ids (%zu)", EVENT_MAX_IDS, n);
    for (size_t i = 0; i < n; i++) {
        char path[64];
        const char *s;
        snprintf(path, sizeof path, "%s[%zu]", f->name, i);
        int rc = dec_string(d, path, json_array_get(j, i), EVENT_MAX_NAME, true, &s);
        if (rc < 0)
            return rc;
        id_list_add(out, s);
    }
    return 0;
}

static int dec_kinds(const struct dec *d, const struct event_json_field *f, const json_t *j,
                     char *body)
{
    if (!json_is_object(j))
        return dec_fail(d, f->name, "expected object, got %s", json_kind(j));
    size_t n = json_object_size(j);
    if (n > EVENT_MAX_KINDS)
        return dec_fail(d, f->name, "more than %d kinds (%zu)", EVENT_MAX_KINDS, n);
    struct kind_count **kc = (struct kind_count **)(body + f->off);
    size_t *count = (size_t *)(body + f->off2);
    if (n > 0)
        *kc = xcalloc(n, sizeof **kc);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        char path[EVENT_MAX_NAME + 64], ex[48];
        json_int_t c;
        snprintf(path, sizeof path, "%s.%s", f->name, excerpt(key, ex, sizeof ex));
        if (key[0] == '\0' || strlen(key) > EVENT_MAX_NAME)
            return dec_fail(d, f->name, "kind empty or longer than %d bytes", EVENT_MAX_NAME);
        int rc = dec_int(d, path, v, UINT32_MAX, &c);
        if (rc < 0)
            return rc;
        (*kc)[*count].kind = xstrdup(key);
        (*kc)[(*count)++].count = (uint32_t)c;
    }
    return 0;
}

static int dec_str_field(const struct dec *d, const struct event_json_field *f, const json_t *j,
                         char **out)
{
    const char *s;
    size_t max = f->kind == EJ_TEXT ? EVENT_MAX_TEXT : EVENT_MAX_NAME;
    int rc = dec_string(d, f->name, j, max, f->flags & EJ_REQ, &s);
    if (rc == 0)
        *out = xstrdup(s);
    return rc;
}

static int dec_number(const struct dec *d, const struct event_json_field *f, const json_t *j,
                      char *body)
{
    void *p = body + f->off;
    json_int_t v;
    int rc = 0;
    if (f->kind == EJ_REAL) {
        if (!json_is_number(j))
            return dec_fail(d, f->name, "expected number, got %s", json_kind(j));
        *(double *)p = json_number_value(j);
        *(bool *)(body + f->off2) = true;
    } else if (f->kind == EJ_U32) {
        if ((rc = dec_int(d, f->name, j, UINT32_MAX, &v)) == 0)
            *(uint32_t *)p = (uint32_t)v;
    } else if (f->kind == EJ_U64) {
        if ((rc = dec_int(d, f->name, j, INT64_MAX, &v)) == 0)
            *(uint64_t *)p = (uint64_t)v;
    } else if ((rc = dec_int(d, f->name, j, INT64_MAX, &v)) == 0) { /* EJ_MS */
        *(int64_t *)p = v;
    }
    return rc;
}

/* j is non-NULL (present and not null). */
static int dec_field(const struct dec *d, const struct event_json_field *f, const json_t *j,
                     char *body)
{
    switch (f->kind) {
    case EJ_NAME:
    case EJ_TEXT:
        return dec_str_field(d, f, j, (char **)(body + f->off));
    case EJ_ENUM:
        return dec_enum(d, f, j, (int *)(body + f->off));
    case EJ_TIME:
        return dec_time(d, f->name, j, (int64_t *)(body + f->off));
    case EJ_U32:
    case EJ_U64:
    case EJ_MS:
    case EJ_REAL:
        return dec_number(d, f, j, body);
    case EJ_BOOL:
        if (!json_is_boolean(j))
            return dec_fail(d, f->name, "expected boolean, got %s", json_kind(j));
        *(bool *)(body + f->off) = json_is_true(j);
        return 0;
    case EJ_IDS:
        return dec_ids(d, f, j, (struct id_list *)(body + f->off));
    case EJ_KINDS:
        return dec_kinds(d, f, j, body);
    }
    return dec_fail(d, f->name, "unknown field kind");
}

static const char *required_what(const struct event_json_field *f)
{
    switch (f->kind) {
    case EJ_NAME:
    case EJ_TEXT:
        return "string";
    case EJ_ENUM:
        return "enum string";
    case EJ_TIME:
        return "RFC 3339 time";
    case EJ_BOOL:
        return "boolean";
    case EJ_REAL:
        return "number";
    default:
        return "integer";
    }
}

static int dec_data(const struct dec *d, json_t *data, struct event *ev)
{
    size_t nf;
    const struct event_json_field *fields = event_json_fields(ev->type, &nf);
    char *body = event_json_body(ev);
    for (size_t i = 0; i < nf; i++) {
        const struct event_json_field *f = &fields[i];
        int rc;
        json_t *j = member(d, data, f->name, f->flags & EJ_REQ, required_what(f), &rc);
        if (rc < 0)
            return rc;
        if (j)
            rc = dec_field(d, f, j, body);
        else if (f->flags & EJ_EMPTY_DEFAULT)
            *(char **)(body + f->off) = xstrdup("");
        if (rc < 0)
            return rc;
    }
    if (ev->type == EVENT_USAGE && !ev->u.usage.device && !ev->u.usage.subscriber)
        return dec_fail(d, "device", "required string missing (or usage.subscriber)");
    if (ev->type == EVENT_MAINTENANCE && ev->u.maintenance.end_ms < ev->u.maintenance.start_ms)
        return dec_fail(d, "ends_at", "before starts_at");
    return 0;
}

/* The envelope: version first, so that a newer producer gets a clear version error rather
 * than complaints about fields it may have renamed. */
static int dec_envelope(const struct dec *d, json_t *root, struct event *ev, json_t **data)
{
    int rc;
    json_int_t v;
    const char *type;
    char ex[48];
    json_t *j = member(d, root, "v", true, "integer", &rc);
    if (rc < 0 || (rc = dec_int(d, "v", j, INT32_MAX, &v)) < 0)
        return rc;
    if (v > EVENT_VERSION)
        return dec_fail(d, "v", "version %lld is newer than the supported %d", (long long)v,
                        EVENT_VERSION);
    if (v < 1)
        return dec_fail(d, "v", "version must be at least 1");
    j = member(d, root, "type", true, "string", &rc);
    if (rc < 0 || (rc = dec_string(d, "type", j, EVENT_MAX_NAME, true, &type)) < 0)
        return rc;
    enum event_type t;
    if (event_type_parse(type, &t) < 0)
        return dec_fail(d, "type", "unknown event type \"%s\"", excerpt(type, ex, sizeof ex));
    event_init(ev, t);
    j = member(d, root, "ts", true, "RFC 3339 time", &rc);
    if (rc < 0 || (rc = dec_time(d, "ts", j, &ev->ts_ms)) < 0)
        return rc;
    *data = member(d, root, "data", true, "object", &rc);
    if (rc < 0)
        return rc;
    if (!json_is_object(*data))
        return dec_fail(d, "data", "expected object, got %s", json_kind(*data));
    return 0;
}

static json_t *dec_parse(const struct dec *d, const void *buf, size_t len, int *rc)
{
    json_error_t jerr;
    char ex[sizeof jerr.text];
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    *rc = 0;
    if (!root) {
        *rc = dec_fail(d, "json", "%s (line %d, column %d)", excerpt(jerr.text, ex, sizeof ex),
                       jerr.line, jerr.column);
    } else if (!json_is_object(root)) {
        *rc = dec_fail(d, "json", "top level must be an object, got %s", json_kind(root));
        json_decref(root);
        root = NULL;
    }
    return root;
}

int event_decode(const void *buf, size_t len, struct event *ev, char *err, size_t errsz)
{
    struct dec top = {NULL, err, errsz};
    int rc;
    event_init(ev, EVENT_ALARM);
    if (len > EVENT_MAX_BYTES) {
        dec_fail(&top, "input", "%zu bytes exceed the limit of %d", len, EVENT_MAX_BYTES);
        return -EMSGSIZE;
    }
    if (!buf || len == 0)
        return dec_fail(&top, "input", "empty");
    json_t *root = dec_parse(&top, buf, len, &rc);
    if (!root)
        return rc;
    json_t *data = NULL;
    rc = dec_envelope(&top, root, ev, &data);
    if (rc == 0) {
        struct dec d = {event_type_name(ev->type), err, errsz};
        rc = dec_data(&d, data, ev);
    }
    json_decref(root);
    if (rc < 0)
        event_deinit(ev);
    return rc;
}
