/* Tests of the event types and their JSON wire format (core/event.c, core/event_json*.c). */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/event_json.h"
#include "core/xmalloc.h"

#include "tests/support/check_run.h"

#define T0 1795468089123LL /* 2026-11-23T21:08:09.123Z */

/* ---- fixtures: every field set, or only the required ones ---- */

static void fill_alarm(struct alarm *a, bool full)
{
    a->id = xstrdup("alm-1");
    a->action = ALARM_CLEAR;
    a->device = xstrdup("olt-sp-01");
    a->kind = xstrdup("onu-dying-gasp");
    a->severity = SEV_CRITICAL;
    a->source = SRC_SNMP_TRAP;
    a->observed_ms = T0 - 5;
    if (full) {
        a->object = xstrdup("onu:0/1/3:17");
        a->has_value = true;
        a->value = -27.25;
        a->text = xstrdup("ONU 17 dying gasp \"quoted\" \xc3\xa9");
    }
}

static void fill_outage(struct outage *o, bool full)
{
    o->id = xstrdup("out-42");
    o->seq = 4000000000u;
    o->phase = OUTAGE_RESOLVED;
    o->status = OUTAGE_CLOSED;
    o->cause = CAUSE_POWER_OUTAGE;
    o->root = xstrdup("olt-sp-01");
    o->started_ms = T0 - 3600000;
    if (!full)
        return;
    o->area = xstrdup("sp-centro");
    o->confirmed_ms = T0 - 3500000;
    o->resolved_ms = T0;
    id_list_add(&o->alarms, "alm-1");
    id_list_add(&o->alarms, "alm-2");
    o->affected = xcalloc(2, sizeof *o->affected);
    o->n_affected = 2;
    o->affected[0] = (struct kind_count){xstrdup("onu"), 12};
    o->affected[1] = (struct kind_count){xstrdup("subscriber"), 340};
    o->affected_subscribers = 340;
    id_list_add(&o->subscribers_added, "sub-1");
    id_list_add(&o->subscribers_restored, "sub-2");
    id_list_add(&o->subscribers_restored, "sub-3");
    o->maintenance_id = xstrdup("mw-7");
    o->merged_into = xstrdup("out-41");
    o->eta_ms = T0 + 7200000;
    o->public_message = xstrdup("Crews are on site.");
    o->acknowledged = true;
}

static void fill_maintenance(struct maintenance *m, bool full)
{
    m->id = xstrdup("mw-7");
    m->seq = 2;
    m->phase = MAINT_OVERRUN;
    m->start_ms = T0;
    m->end_ms = T0 + 7200000;
    if (!full)
        return;
    id_list_add(&m->nodes, "olt-sp-01");
    m->description = xstrdup("Line card swap");
    m->recurrence = xstrdup("FREQ=WEEKLY;BYDAY=TU");
    m->affected_subscribers = 1200;
    id_list_add(&m->subscribers, "sub-9");
}

static void fill_usage(struct usage_sample *u, bool full)
{
    u->subscriber = xstrdup("sub-1");
    u->observed_ms = T0;
    u->rx_octets = 9223372036854775807ULL;
    u->tx_octets = 0;
    u->interval_ms = 300000;
    if (full) {
        u->device = xstrdup("bng-1");
        u->object = xstrdup("if:12");
    }
}

static void fill_threshold(struct threshold *t)
{
    t->subscriber = xstrdup("sub-1");
    t->cycle = xstrdup("2026-11");
    t->percent = 80;
    t->used_octets = 80000000000ULL;
    t->cap_octets = 100000000000ULL;
    t->crossed_ms = T0;
}

static void fill_notification(struct notification *n, bool full)
{
    n->id = xstrdup("sub-1|out-42|outage-opened");
    n->kind = NOTIF_RESULT;
    n->subscriber = xstrdup("sub-1");
    n->ref = xstrdup("out-42");
    n->message_type = xstrdup("outage-opened");
    if (full) {
        n->channel = xstrdup("sms");
        n->locale = xstrdup("pt-BR");
        n->status = NOTIF_DEAD;
        n->attempts = 5;
        n->provider_id = xstrdup("gw-123");
        n->error = xstrdup("gateway timeout");
    }
}

static void make_event(struct event *ev, enum event_type t, bool full)
{
    event_init(ev, t);
    ev->ts_ms = T0;
    switch (t) {
    case EVENT_ALARM:
        fill_alarm(&ev->u.alarm, full);
        break;
    case EVENT_OUTAGE:
        fill_outage(&ev->u.outage, full);
        break;
    case EVENT_MAINTENANCE:
        fill_maintenance(&ev->u.maintenance, full);
        break;
    case EVENT_USAGE:
        fill_usage(&ev->u.usage, full);
        break;
    case EVENT_THRESHOLD:
        fill_threshold(&ev->u.threshold);
        break;
    case EVENT_NOTIFICATION:
        fill_notification(&ev->u.notification, full);
        break;
    default:
        ck_abort();
    }
}

/* Encodes a fixture to a string the test owns. */
static char *encode_fixture(enum event_type t, bool full)
{
    struct event ev;
    char *out = NULL, err[256];
    make_event(&ev, t, full);
    ck_assert_msg(event_encode(&ev, &out, NULL, err, sizeof err) == 0, "%s", err);
    event_deinit(&ev);
    return out;
}

static void roundtrip(enum event_type t, bool full)
{
    struct event a, b;
    char *out, *out2, err[256] = "";
    size_t len, len2;
    make_event(&a, t, full);
    ck_assert_msg(event_encode(&a, &out, &len, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(len, strlen(out));
    ck_assert_ptr_null(strchr(out, '\n'));
    ck_assert_msg(event_decode(out, len, &b, err, sizeof err) == 0, "%s: %s", err, out);
    ck_assert_msg(event_equal(&a, &b), "decoded event differs: %s", out);
    ck_assert_int_eq(event_encode(&b, &out2, &len2, err, sizeof err), 0);
    ck_assert_str_eq(out, out2);
    free(out);
    free(out2);
    event_deinit(&a);
    event_deinit(&b);
}

START_TEST(roundtrip_all_fields)
{
    roundtrip((enum event_type)_i, true);
}
END_TEST

START_TEST(roundtrip_required_only)
{
    roundtrip((enum event_type)_i, false);
}
END_TEST

START_TEST(required_only_reads_defaults)
{
    struct event ev;
    char *s = encode_fixture(EVENT_ALARM, false), err[256];
    ck_assert_int_eq(event_decode(s, strlen(s), &ev, err, sizeof err), 0);
    ck_assert_str_eq(ev.u.alarm.object, ""); /* the device itself */
    ck_assert_ptr_null(ev.u.alarm.text);
    ck_assert(!ev.u.alarm.has_value);
    ck_assert_ptr_null(strstr(s, "\"object\""));
    event_deinit(&ev);
    free(s);
}
END_TEST

START_TEST(wire_shape_is_documented_envelope)
{
    char *s = encode_fixture(EVENT_OUTAGE, true);
    const char *want = "{\"v\":1,\"type\":\"outage\",\"ts\":\"2026-11-23T21:08:09.123Z\","
                       "\"data\":{\"id\":\"out-42\",\"seq\":4000000000,";
    ck_assert_msg(strncmp(s, want, strlen(want)) == 0, "%s", s);
    ck_assert_ptr_nonnull(strstr(s, "\"cause\":\"power-outage\""));
    ck_assert_ptr_nonnull(strstr(s, "\"affected\":{\"onu\":12,\"subscriber\":340}"));
    ck_assert_ptr_nonnull(strstr(s, "\"eta\":\"2026-11-23T23:08:09.123Z\""));
    free(s);
}
END_TEST

/* Every ```json block of docs/events.md is a valid event, and every type has one. */
START_TEST(docs_examples_decode)
{
    const char *src = getenv("FAROL_SRCDIR");
    char path[4096], line[8192];
    snprintf(path, sizeof path, "%s/docs/events.md", src ? src : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    bool in_block = false, seen[EVENT_TYPE_COUNT] = {false};
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "```", 3) == 0) {
            in_block = !in_block && strncmp(line, "```json", 7) == 0;
            continue;
        }
        if (!in_block)
            continue;
        struct event ev;
        char err[256];
        ck_assert_msg(event_decode(line, strlen(line), &ev, err, sizeof err) == 0, "%s: %s", err,
                      line);
        seen[ev.type] = true;
        n++;
        event_deinit(&ev);
    }
    fclose(f);
    for (int t = 0; t < EVENT_TYPE_COUNT; t++)
        ck_assert_msg(seen[t], "no example for %s", event_type_name((enum event_type)t));
    ck_assert_int_ge(n, EVENT_TYPE_COUNT);
}
END_TEST

/* ---- names and keys ---- */

START_TEST(enum_names_parse_back)
{
    enum event_type t;
    enum outage_cause c;
    enum alarm_source src;
    for (int i = 0; i < EVENT_TYPE_COUNT; i++) {
        ck_assert_int_eq(event_type_parse(event_type_name((enum event_type)i), &t), 0);
        ck_assert_int_eq(t, i);
    }
    const char *causes[] = {"unknown",      "device-down", "link-down", "fiber-cut",
                            "power-outage", "planned",     "overrun"};
    for (int i = 0; i <= CAUSE_OVERRUN; i++) {
        ck_assert_str_eq(outage_cause_name((enum outage_cause)i), causes[i]);
        ck_assert_int_eq(outage_cause_parse(causes[i], &c), 0);
        ck_assert_int_eq(c, i);
    }
    ck_assert_int_eq(alarm_source_parse("snmp-trap", &src), 0);
    ck_assert_int_eq(src, SRC_SNMP_TRAP);
    ck_assert_int_eq(outage_cause_parse("Fiber-Cut", &c), -EINVAL);
    ck_assert_int_eq(event_type_parse(NULL, &t), -EINVAL);
    ck_assert_str_eq(outage_cause_name((enum outage_cause)99), "?");
}
END_TEST

START_TEST(keys_follow_partitioning_rules)
{
    const char *want[] = {"olt-sp-01", "out-42", "mw-7", "bng-1", "sub-1", "sub-1"};
    struct event ev;
    for (int t = 0; t < EVENT_TYPE_COUNT; t++) {
        make_event(&ev, (enum event_type)t, true);
        ck_assert_str_eq(event_key(&ev), want[t]);
        event_deinit(&ev);
    }
    make_event(&ev, EVENT_USAGE, false); /* no device: the subscriber */
    ck_assert_str_eq(event_key(&ev), "sub-1");
    event_deinit(&ev);
    event_init(&ev, EVENT_ALARM);
    ck_assert_str_eq(event_key(&ev), "");
}
END_TEST

/* ---- rejections ---- */

/* Decodes s expecting failure with rc and an error containing want. */
static void expect_reject(const char *s, size_t len, int rc, const char *want)
{
    struct event ev;
    char err[512] = "";
    ck_assert_int_eq(event_decode(s, len, &ev, err, sizeof err), rc);
    ck_assert_msg(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
    /* nothing is held on failure */
    ck_assert_ptr_null(ev.u.outage.id);
    ck_assert_ptr_null(ev.u.outage.alarms.ids);
}

/* Re-encodes a fixture after setting (or, with value NULL, deleting) data.<field>. */
static char *mutate(enum event_type t, const char *field, json_t *value)
{
    char *s = encode_fixture(t, true);
    json_t *root = json_loads(s, 0, NULL);
    json_t *data = json_object_get(root, "data");
    if (value)
        json_object_set_new(data, field, value);
    else
        json_object_del(data, field);
    free(s);
    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static void expect_mutation_rejected(enum event_type t, const char *field, json_t *value,
                                     const char *want)
{
    char *s = mutate(t, field, value);
    expect_reject(s, strlen(s), -EINVAL, want);
    free(s);
}

START_TEST(reject_oversize_before_parsing)
{
    size_t n = EVENT_MAX_BYTES + 1;
    char *big = xmalloc(n);
    memset(big, ' ', n); /* whitespace would parse: the size check must come first */
    big[0] = '{';
    big[n - 1] = '}';
    expect_reject(big, n, -EMSGSIZE, "input:");
    free(big);
}
END_TEST

START_TEST(reject_bad_json)
{
    expect_reject("", 0, -EINVAL, "input: empty");
    expect_reject(NULL, 0, -EINVAL, "input: empty");
    expect_reject("{\"v\":1,", 7, -EINVAL, "json:");
    expect_reject("[1]", 3, -EINVAL, "json: top level must be an object");
    expect_reject("{\"v\":1} x", 9, -EINVAL, "json:");
    expect_reject("{\"v\":\"\xff\"}", 9, -EINVAL, "json:");
}
END_TEST

START_TEST(reject_newer_and_bad_version)
{
    const char *v2 = "{\"v\":2,\"type\":\"alarm\",\"ts\":\"2026-11-23T21:08:09Z\",\"data\":{}}";
    expect_reject(v2, strlen(v2), -EINVAL, "v: version 2 is newer than the supported 1");
    expect_reject("{\"v\":0}", 7, -EINVAL, "v: version must be at least 1");
    expect_reject("{\"v\":\"1\"}", 9, -EINVAL, "v: expected integer, got string");
    expect_reject("{\"type\":\"alarm\"}", 16, -EINVAL, "v: required integer missing");
}
END_TEST

START_TEST(reject_bad_envelope)
{
    const char *t = "{\"v\":1,\"type\":\"deadletter\",\"ts\":\"2026-11-23T21:08:09Z\",\"data\":{}}";
    expect_reject(t, strlen(t), -EINVAL, "type: unknown event type \"deadletter\"");
    const char *nd = "{\"v\":1,\"type\":\"alarm\",\"ts\":\"2026-11-23T21:08:09Z\"}";
    expect_reject(nd, strlen(nd), -EINVAL, "data: required object missing");
    const char *nt = "{\"v\":1,\"type\":\"alarm\",\"ts\":null,\"data\":{}}";
    expect_reject(nt, strlen(nt), -EINVAL, "ts: required RFC 3339 time missing");
}
END_TEST

/* Independent of the codec's own tables: the contract in docs/events.md. */
static const char *const required_fields[EVENT_TYPE_COUNT][8] = {
    [EVENT_ALARM] = {"id", "action", "device", "kind", "severity", "source", "observed_at"},
    [EVENT_OUTAGE] = {"id", "seq", "phase", "status", "cause", "root", "started_at"},
    [EVENT_MAINTENANCE] = {"id", "seq", "phase", "starts_at", "ends_at"},
    [EVENT_USAGE] = {"observed_at", "rx_octets", "tx_octets", "interval_ms"},
    [EVENT_THRESHOLD] = {"subscriber", "cycle", "percent", "used_octets", "cap_octets",
                         "crossed_at"},
    [EVENT_NOTIFICATION] = {"id", "kind", "subscriber", "ref", "message_type"},
};

START_TEST(reject_missing_or_null_required_field)
{
    enum event_type t = (enum event_type)_i;
    for (int i = 0; required_fields[t][i]; i++) {
        char want[128];
        snprintf(want, sizeof want, "%s.%s: required ", event_type_name(t), required_fields[t][i]);
        expect_mutation_rejected(t, required_fields[t][i], NULL, want);
        expect_mutation_rejected(t, required_fields[t][i], json_null(), want);
    }
}
END_TEST

START_TEST(reject_usage_without_device_or_subscriber)
{
    char *s = mutate(EVENT_USAGE, "subscriber", NULL);
    json_t *root = json_loads(s, 0, NULL);
    json_object_del(json_object_get(root, "data"), "device");
    free(s);
    s = json_dumps(root, JSON_COMPACT);
    expect_reject(s, strlen(s), -EINVAL, "usage.device: required string missing");
    free(s);
    json_decref(root);
}
END_TEST

START_TEST(reject_wrong_type)
{
    expect_mutation_rejected(EVENT_OUTAGE, "seq", json_string("1"),
                             "outage.seq: expected integer, got string");
    expect_mutation_rejected(EVENT_OUTAGE, "seq", json_real(1.0), "outage.seq: expected integer");
    expect_mutation_rejected(EVENT_ALARM, "device", json_integer(3),
                             "alarm.device: expected string, got integer");
    expect_mutation_rejected(EVENT_OUTAGE, "acknowledged", json_integer(1),
                             "outage.acknowledged: expected boolean");
    expect_mutation_rejected(EVENT_OUTAGE, "alarms", json_string("a"),
                             "outage.alarms: expected array, got string");
    expect_mutation_rejected(EVENT_OUTAGE, "alarms", json_pack("[s,i]", "a", 2),
                             "outage.alarms[1]: expected string, got integer");
    expect_mutation_rejected(EVENT_OUTAGE, "affected", json_pack("[]"),
                             "outage.affected: expected object, got array");
    expect_mutation_rejected(EVENT_ALARM, "value", json_string("-3"),
                             "alarm.value: expected number");
}
END_TEST

START_TEST(reject_bad_enum)
{
    expect_mutation_rejected(EVENT_OUTAGE, "cause", json_string("alien-attack"),
                             "outage.cause: unknown value \"alien-attack\"");
    expect_mutation_rejected(EVENT_ALARM, "severity", json_string("MAJOR"),
                             "alarm.severity: unknown value");
    expect_mutation_rejected(EVENT_NOTIFICATION, "status", json_string(""),
                             "notification.status: must not be empty");
}
END_TEST

START_TEST(reject_bad_time)
{
    expect_mutation_rejected(EVENT_ALARM, "observed_at", json_string("2026-02-30T00:00:00Z"),
                             "alarm.observed_at: invalid RFC 3339 time \"2026-02-30T00:00:00Z\"");
    expect_mutation_rejected(EVENT_OUTAGE, "eta", json_integer(1795468089),
                             "outage.eta: expected string, got integer");
    expect_mutation_rejected(EVENT_MAINTENANCE, "ends_at", json_string("2026-01-01T00:00:00Z"),
                             "maintenance.ends_at: before starts_at");
}
END_TEST

START_TEST(reject_overlong_string)
{
    char name[EVENT_MAX_NAME + 2], text[EVENT_MAX_TEXT + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(text, 't', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    expect_mutation_rejected(EVENT_ALARM, "id", json_string(name),
                             "alarm.id: string longer than 256 bytes");
    expect_mutation_rejected(EVENT_ALARM, "text", json_string(text),
                             "alarm.text: string longer than 4096 bytes");
    expect_mutation_rejected(EVENT_OUTAGE, "alarms", json_pack("[s]", name),
                             "outage.alarms[0]: string longer");
    /* exactly at the limits is fine */
    name[EVENT_MAX_NAME] = '\0';
    text[EVENT_MAX_TEXT] = '\0';
    struct event ev;
    char err[256];
    char *s = mutate(EVENT_ALARM, "id", json_string(name));
    ck_assert_msg(event_decode(s, strlen(s), &ev, err, sizeof err) == 0, "%s", err);
    event_deinit(&ev);
    free(s);
    s = mutate(EVENT_ALARM, "text", json_string(text));
    ck_assert_msg(event_decode(s, strlen(s), &ev, err, sizeof err) == 0, "%s", err);
    event_deinit(&ev);
    free(s);
}
END_TEST

START_TEST(reject_too_many_ids)
{
    json_t *ids = json_array();
    for (int i = 0; i <= EVENT_MAX_IDS; i++)
        json_array_append_new(ids, json_sprintf("s%d", i));
    json_t *ok = json_deep_copy(ids);
    json_array_remove(ok, 0);
    char *s = mutate(EVENT_OUTAGE, "subscribers_added", ok);
    struct event ev;
    char err[256];
    ck_assert_msg(event_decode(s, strlen(s), &ev, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ev.u.outage.subscribers_added.n, EVENT_MAX_IDS);
    event_deinit(&ev);
    free(s);
    expect_mutation_rejected(EVENT_OUTAGE, "subscribers_added", ids,
                             "outage.subscribers_added: more than 2000 ids");
}
END_TEST

START_TEST(reject_duplicate_key)
{
    char *s = encode_fixture(EVENT_ALARM, false);
    char *p = strstr(s, "\"data\":{") + 8;
    char *dup = xasprintf("%.*s\"device\":\"x\",%s", (int)(p - s), s, p);
    expect_reject(dup, strlen(dup), -EINVAL, "duplicate object key near '\"device\"'");
    free(dup);
    free(s);
}
END_TEST

START_TEST(reject_negative_or_too_big_count)
{
    expect_mutation_rejected(EVENT_OUTAGE, "affected_subscribers", json_integer(-1),
                             "outage.affected_subscribers: must not be negative");
    expect_mutation_rejected(EVENT_OUTAGE, "affected", json_pack("{s:i}", "onu", -4),
                             "outage.affected.onu: must not be negative");
    expect_mutation_rejected(EVENT_USAGE, "rx_octets", json_integer(-1),
                             "usage.rx_octets: must not be negative");
    expect_mutation_rejected(EVENT_OUTAGE, "seq", json_integer(4294967296LL),
                             "outage.seq: must be at most 4294967295");
    const char *huge = "{\"v\":1,\"type\":\"usage\",\"ts\":\"2026-11-23T21:08:09Z\","
                       "\"data\":{\"rx_octets\":18446744073709551615}}";
    expect_reject(huge, strlen(huge), -EINVAL, "json: too big integer");
}
END_TEST

START_TEST(reject_nul_in_string)
{
    const char *s = "{\"v\":1,\"type\":\"alarm\",\"ts\":\"2026-11-23T21:08:09Z\","
                    "\"data\":{\"id\":\"a\\u0000b\"}}";
    expect_reject(s, strlen(s), -EINVAL, "json:");
}
END_TEST

START_TEST(unknown_fields_and_nulls_are_accepted)
{
    char *s = encode_fixture(EVENT_ALARM, false);
    json_t *root = json_loads(s, 0, NULL);
    json_object_set_new(root, "trace", json_pack("{s:[i,{}]}", "x", 1));
    json_t *data = json_object_get(root, "data");
    json_object_set_new(data, "future_field", json_string("y"));
    json_object_set_new(data, "text", json_null());
    json_object_set_new(data, "value", json_integer(-20));
    free(s);
    s = json_dumps(root, JSON_COMPACT);
    struct event ev;
    char err[256];
    ck_assert_msg(event_decode(s, strlen(s), &ev, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_null(ev.u.alarm.text);
    ck_assert(ev.u.alarm.has_value);
    ck_assert(ev.u.alarm.value == -20.0);
    event_deinit(&ev);
    free(s);
    json_decref(root);
}
END_TEST

/* ---- encoder invariants ---- */

static void expect_encode_fails(struct event *ev, int rc, const char *want)
{
    char *out = (char *)1, err[256] = "";
    ck_assert_int_eq(event_encode(ev, &out, NULL, err, sizeof err), rc);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
    event_deinit(ev);
}

START_TEST(encode_checks_invariants)
{
    struct event ev;
    make_event(&ev, EVENT_ALARM, true);
    free(ev.u.alarm.device);
    ev.u.alarm.device = NULL;
    expect_encode_fails(&ev, -EINVAL, "alarm.device: required string missing");
    make_event(&ev, EVENT_ALARM, true);
    ev.u.alarm.value = NAN;
    expect_encode_fails(&ev, -EINVAL, "alarm.value: must be a finite number");
    make_event(&ev, EVENT_OUTAGE, true);
    ev.u.outage.cause = (enum outage_cause)42;
    expect_encode_fails(&ev, -EINVAL, "outage.cause: enum value 42 out of range");
    make_event(&ev, EVENT_OUTAGE, true);
    free(ev.u.outage.affected[1].kind);
    ev.u.outage.affected[1].kind = xstrdup("onu");
    expect_encode_fails(&ev, -EINVAL, "outage.affected: kind \"onu\" repeated");
    make_event(&ev, EVENT_USAGE, false);
    free(ev.u.usage.subscriber);
    ev.u.usage.subscriber = NULL;
    expect_encode_fails(&ev, -EINVAL, "usage.device: required string missing");
    make_event(&ev, EVENT_USAGE, false);
    ev.u.usage.rx_octets = UINT64_MAX;
    expect_encode_fails(&ev, -EINVAL, "usage.rx_octets: value above");
    make_event(&ev, EVENT_NOTIFICATION, true);
    free(ev.u.notification.error);
    ev.u.notification.error = xstrdup("bad \xff utf8");
    expect_encode_fails(&ev, -EINVAL, "notification.error: invalid UTF-8");
    make_event(&ev, EVENT_THRESHOLD, true);
    ev.ts_ms = INT64_MAX;
    expect_encode_fails(&ev, -EINVAL, "ts: time");
}
END_TEST

START_TEST(encode_refuses_oversize_and_too_many_ids)
{
    struct event ev;
    char id[EVENT_MAX_NAME + 1];
    memset(id, 'x', EVENT_MAX_NAME);
    id[EVENT_MAX_NAME] = '\0';
    make_event(&ev, EVENT_MAINTENANCE, false);
    for (int i = 0; i < EVENT_MAX_IDS; i++)
        id_list_add(&ev.u.maintenance.subscribers, id); /* 2000 * 259 bytes > 256 KiB */
    expect_encode_fails(&ev, -EMSGSIZE, "split");
    make_event(&ev, EVENT_MAINTENANCE, false);
    for (int i = 0; i <= EVENT_MAX_IDS; i++)
        id_list_add(&ev.u.maintenance.nodes, "n");
    expect_encode_fails(&ev, -EINVAL, "maintenance.nodes: more than 2000 ids");
}
END_TEST

/* ---- times ---- */

static int64_t parse_ok(const char *s)
{
    int64_t ms = 0;
    ck_assert_msg(event_parse_time(s, &ms) == 0, "rejected %s", s);
    return ms;
}

START_TEST(time_format)
{
    char buf[EVENT_TIME_BUFSZ];
    event_format_time(T0, buf, sizeof buf);
    ck_assert_str_eq(buf, "2026-11-23T21:08:09.123Z");
    event_format_time(0, buf, sizeof buf);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    event_format_time(-1, buf, sizeof buf);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    event_format_time(1709208000000LL, buf, sizeof buf);
    ck_assert_str_eq(buf, "2024-02-29T12:00:00.000Z");
    event_format_time(INT64_MIN, buf, sizeof buf); /* must not overflow the buffer */
    ck_assert_uint_lt(strlen(buf), sizeof buf);
}
END_TEST

START_TEST(time_parse_offsets_and_fractions)
{
    ck_assert_int_eq(parse_ok("2026-11-23T21:08:09.123Z"), T0);
    ck_assert_int_eq(parse_ok("2026-11-23t21:08:09.123z"), T0);
    ck_assert_int_eq(parse_ok("2026-11-23T18:08:09.123-03:00"), T0);
    ck_assert_int_eq(parse_ok("2026-11-24T02:38:09.123+05:30"), T0);
    ck_assert_int_eq(parse_ok("2026-11-23T21:08:09.123-00:00"), T0);
    ck_assert_int_eq(parse_ok("2026-11-23T21:08:09Z"), T0 - 123);
    ck_assert_int_eq(parse_ok("2026-11-23T21:08:09.1Z"), T0 - 23);
    ck_assert_int_eq(parse_ok("2026-11-23T21:08:09.123999999Z"), T0); /* truncated */
    ck_assert_int_eq(parse_ok("2024-02-29T12:00:00Z"), 1709208000000LL);
    ck_assert_int_eq(parse_ok("2000-02-29T00:00:00Z") % 86400000, 0);
    ck_assert_int_eq(parse_ok("2026-11-23T21:08:60Z"), T0 - 123 + 51000); /* leap second */
    ck_assert_int_eq(parse_ok("1969-12-31T23:59:59.999Z"), -1);
}
END_TEST

START_TEST(time_parse_rejects_invalid)
{
    const char *bad[] = {
        "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T21:60:00Z",
        "2026-11-23T21:08:61Z",
        "2026-11-23T21:08:09",
        "2026-11-23 21:08:09Z",
        "2026-11-23T21:08:09.Z",
        "2026-11-23T21:08:09.1234567890Z",
        "2026-11-23T21:08:09+0530",
        "2026-11-23T21:08:09+24:00",
        "2026-11-23T21:08:09+05:60",
        "2026-11-23T21:08:09Zx",
        "2026-11-23T21:08:09+05",
        "2026-11-23T21:08:09+",
        "26-11-23T21:08:09Z",
        "2026-1-23T21:08:09Z",
        "",
        "0000-01-01T00:00:00+00:01",
        "+2026-11-23T21:08:09Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 77;
        ck_assert_msg(event_parse_time(bad[i], &ms) == -EINVAL, "accepted %s", bad[i]);
        ck_assert_int_eq(ms, 77);
    }
    ck_assert_int_eq(event_parse_time(NULL, &(int64_t){0}), -EINVAL);
    ck_assert_int_eq(parse_ok("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    ck_assert_int_eq(parse_ok("0000-01-01T00:00:00Z"), -62167219200000LL);
}
END_TEST

static Suite *event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, roundtrip_all_fields, 0, EVENT_TYPE_COUNT);
    tcase_add_loop_test(tc, roundtrip_required_only, 0, EVENT_TYPE_COUNT);
    tcase_add_test(tc, required_only_reads_defaults);
    tcase_add_test(tc, wire_shape_is_documented_envelope);
    tcase_add_test(tc, docs_examples_decode);
    tcase_add_test(tc, enum_names_parse_back);
    tcase_add_test(tc, keys_follow_partitioning_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("reject");
    tcase_add_test(tc, reject_oversize_before_parsing);
    tcase_add_test(tc, reject_bad_json);
    tcase_add_test(tc, reject_newer_and_bad_version);
    tcase_add_test(tc, reject_bad_envelope);
    tcase_add_loop_test(tc, reject_missing_or_null_required_field, 0, EVENT_TYPE_COUNT);
    tcase_add_test(tc, reject_usage_without_device_or_subscriber);
    tcase_add_test(tc, reject_wrong_type);
    tcase_add_test(tc, reject_bad_enum);
    tcase_add_test(tc, reject_bad_time);
    tcase_add_test(tc, reject_overlong_string);
    tcase_add_test(tc, reject_too_many_ids);
    tcase_add_test(tc, reject_duplicate_key);
    tcase_add_test(tc, reject_negative_or_too_big_count);
    tcase_add_test(tc, reject_nul_in_string);
    tcase_add_test(tc, unknown_fields_and_nulls_are_accepted);
    tcase_add_test(tc, encode_checks_invariants);
    tcase_add_test(tc, encode_refuses_oversize_and_too_many_ids);
    suite_add_tcase(s, tc);
    tc = tcase_create("time");
    tcase_add_test(tc, time_format);
    tcase_add_test(tc, time_parse_offsets_and_fractions);
    tcase_add_test(tc, time_parse_rejects_invalid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(event_suite(), CK_FORK_GETENV);
}
