/* alarm_state: see alarm_state.h. Every change goes through Redis first (one Lua call, atomic
 * per alarm); its reply, success or failure, releases the event to the bus. Replies come back
 * in command order on the one connection, so events leave in the order they were observed. */
#include "collector/alarm_state.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/bus_outbox.h"
#include "core/event_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/strmap.h"
#include "core/xmalloc.h"

#define SCAN_COUNT "500"

/* The event also goes into the outbox list in the same call: it stays there until the bus
 * confirms it, and whatever a crash left there is published again at start-up. */
static const char raise_lua[] = "redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) "
                                "redis.call('sadd', KEYS[2], ARGV[3]) "
                                "redis.call('rpush', KEYS[3], ARGV[4]) return 1";
static const char clear_lua[] = "redis.call('hdel', KEYS[1], ARGV[1]) "
                                "if redis.call('hlen', KEYS[1]) == 0 then "
                                "redis.call('srem', KEYS[2], ARGV[2]) end "
                                "redis.call('rpush', KEYS[3], ARGV[3]) return 1";
/* The state alone, for writing it all again after Redis was away. */
static const char state_lua[] = "redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) "
                                "redis.call('sadd', KEYS[2], ARGV[3]) return 1";
/* Forget everything this collector wrote, before writing the live state again. */
static const char reset_lua[] = "for _, d in ipairs(redis.call('smembers', KEYS[1])) do "
                                "redis.call('del', ARGV[1] .. d) end "
                                "redis.call('del', KEYS[1]) return 1";

struct active {
    char *id;
    char *device, *object, *kind;
    enum alarm_severity severity;
    enum alarm_source source;
    int64_t raised_ms;
};

/* A Redis write in flight; outlives the state if the state is freed first. */
struct op {
    struct alarm_state *st;
    struct op *next, *prev;
    char *payload; /* the encoded event to publish after the write, or NULL */
    char *key;     /* its partition key */
    char *device;  /* loads: the device whose hash this reads */
};

struct held {
    struct alarm_report r;
};

struct alarm_state {
    struct loop *loop;
    struct bus *bus;
    struct store *store;
    struct strmap *active;
    int ready, dirty;
    struct op *ops; /* in flight */
    size_t n_ops;
    struct held *held;
    size_t n_held;
    struct bus_outbox *out;
    size_t loads; /* HGETALLs outstanding during the initial load */
};

static void state_key(char *buf, size_t sz, const char *dev, const char *obj, const char *kind)
{
    snprintf(buf, sz, "%s\x1f%s\x1f%s", dev, obj, kind);
}

static void field_name(char *buf, size_t sz, const char *obj, const char *kind)
{
    snprintf(buf, sz, "%s|%s", obj, kind);
}

static void active_free(void *p)
{
    struct active *a = p;
    if (a) {
        free(a->id);
        free(a->device);
        free(a->object);
        free(a->kind);
        free(a);
    }
}

/* ---- ops: Redis commands whose callbacks may run after alarm_state_free ---- */

static struct op *op_new(struct alarm_state *st)
{
    struct op *o = xcalloc(1, sizeof *o);
    o->st = st;
    o->next = st->ops;
    if (st->ops)
        st->ops->prev = o;
    st->ops = o;
    st->n_ops++;
    return o;
}

/* Unlink o from its state (if it still has one) and free it. */
static void op_done(struct op *o)
{
    struct alarm_state *st = o->st;
    if (st) {
        if (o->prev)
            o->prev->next = o->next;
        else
            st->ops = o->next;
        if (o->next)
            o->next->prev = o->prev;
        st->n_ops--;
    }
    free(o->payload);
    free(o->key);
    free(o->device);
    free(o);
}

/* ---- changes ---- */

static char *encode_alarm(const struct alarm_report *r, const struct active *a, int raise)
{
    struct event ev;
    char err[256];
    char *out = NULL;
    size_t len;
    event_init(&ev, EVENT_ALARM);
    ev.ts_ms = loop_wall_ms();
    struct alarm *al = &ev.u.alarm;
    al->id = xstrdup(a->id);
    al->action = raise ? ALARM_RAISE : ALARM_CLEAR;
    al->device = xstrdup(r->device);
    al->object = xstrdup(r->object ? r->object : "");
    al->kind = xstrdup(r->kind);
    al->severity = a->severity;
    al->source = r->source;
    al->observed_ms = r->observed_ms;
    al->has_value = r->has_value;
    al->value = r->value;
    al->text = r->text ? xstrdup(r->text) : NULL;
    if (event_encode(&ev, &out, &len, err, sizeof err) < 0)
        log_error("collector", "cannot encode alarm %s: %s", a->id, err);
    event_deinit(&ev);
    return out;
}

static char *record_json(const struct active *a)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:I}", "id", a->id, "severity", alarm_severity_name(a->severity),
                  "source", alarm_source_name(a->source), "raised_ms", (json_int_t)a->raised_ms);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* A write whose reply changes nothing, tracked only so alarm_state_pending() counts it. */
static void write_finished(void *arg, struct redisReply *reply, int err)
{
    (void)reply;
    (void)err;
    op_done(arg);
}

/* The bus has the event (or never will): only a delivered one leaves the outbox. */
static void on_confirmed(void *arg, int status)
{
    struct op *o = arg;
    struct alarm_state *st = o->st;
    if (st && status == 0) {
        char okey[256];
        store_key(st->store, okey, sizeof okey, "alarm:outbox");
        store_command(st->store, write_finished, op_new(st), "LREM %s 1 %s", okey, o->payload);
    }
    op_done(o);
}

/* Publish payload (taken over); when recorded, it waits in the outbox until confirmed. */
static void publish(struct alarm_state *st, const char *key, char *payload, int recorded)
{
    if (!recorded) {
        bus_outbox_publish(st->out, BUS_ALARMS, key, payload);
        return;
    }
    struct op *c = op_new(st);
    c->payload = xstrdup(payload);
    bus_outbox_publish_confirmed(st->out, BUS_ALARMS, key, payload, on_confirmed, c);
}

static void write_done(void *arg, struct redisReply *reply, int err)
{
    struct op *o = arg;
    struct alarm_state *st = o->st;
    if (st) {
        int recorded = !err && reply && reply->type != REDIS_REPLY_ERROR;
        if (!recorded) {
            if (!st->dirty)
                log_warn("collector", "alarm state not saved in Redis (%s); alarms still flow",
                         err     ? strerror(-err)
                         : reply ? reply->str
                                 : "no reply");
            st->dirty = 1;
        }
        if (o->payload) {
            publish(st, o->key, o->payload, recorded);
            o->payload = NULL;
        }
    }
    op_done(o);
}

/* Write the change, then publish payload (owned) from the reply. */
static void write_change(struct alarm_state *st, const struct alarm_report *r,
                         const struct active *a, char *payload)
{
    char hkey[512], skey[256], okey[256], field[512];
    const char *obj = r->object ? r->object : "";
    store_key(st->store, hkey, sizeof hkey, "alarm:dev:%s", r->device);
    store_key(st->store, skey, sizeof skey, "alarm:devices");
    store_key(st->store, okey, sizeof okey, "alarm:outbox");
    field_name(field, sizeof field, obj, r->kind);
    struct op *o = op_new(st);
    o->payload = payload;
    o->key = xstrdup(r->device);
    if (r->active) {
        char *rec = record_json(a);
        store_command(st->store, write_done, o, "EVAL %s 3 %s %s %s %s %s %s %s", raise_lua, hkey,
                      skey, okey, field, rec, r->device, payload);
        free(rec);
    } else {
        store_command(st->store, write_done, o, "EVAL %s 3 %s %s %s %s %s %s", clear_lua, hkey,
                      skey, okey, field, r->device, payload);
    }
}

static void apply(struct alarm_state *st, const struct alarm_report *r)
{
    char key[768];
    const char *obj = r->object ? r->object : "";
    state_key(key, sizeof key, r->device, obj, r->kind);
    struct active *a = strmap_get(st->active, key);
    if (!!a == r->active)
        return; /* nothing changed: no event */
    if (r->active) {
        a = xcalloc(1, sizeof *a);
        a->id = xasprintf("%s/%s/%s/%lld", r->device, *obj ? obj : "-", r->kind,
                          (long long)r->observed_ms);
        a->device = xstrdup(r->device);
        a->object = xstrdup(obj);
        a->kind = xstrdup(r->kind);
        a->severity = r->severity;
        a->source = r->source;
        a->raised_ms = r->observed_ms;
        strmap_put(st->active, key, a);
    } else {
        strmap_remove(st->active, key);
    }
    char *payload = encode_alarm(r, a, r->active);
    if (payload)
        write_change(st, r, a, payload);
    if (!r->active)
        active_free(a);
}

/* ---- reports that arrive before the load has finished ---- */

static void hold(struct alarm_state *st, const struct alarm_report *r)
{
    st->held = xrealloc(st->held, (st->n_held + 1) * sizeof *st->held);
    struct alarm_report *c = &st->held[st->n_held++].r;
    *c = *r;
    c->device = xstrdup(r->device);
    c->object = xstrdup(r->object ? r->object : "");
    c->kind = xstrdup(r->kind);
    c->text = r->text ? xstrdup(r->text) : NULL;
}

static void release_held(struct alarm_state *st, int apply_them)
{
    for (size_t i = 0; i < st->n_held; i++) {
        struct alarm_report *r = &st->held[i].r;
        if (apply_them)
            apply(st, r);
        free((char *)r->device);
        free((char *)r->object);
        free((char *)r->kind);
        free((char *)r->text);
    }
    free(st->held);
    st->held = NULL;
    st->n_held = 0;
}

/* ---- loading what Redis remembers ---- */

static void ready(struct alarm_state *st)
{
    st->ready = 1;
    log_info("collector", "alarm state loaded: %zu active", strmap_count(st->active));
    release_held(st, 1);
}

/* Events a crash left unconfirmed go out again, before anything new (at least once: a
 * consumer may see an alarm event twice and treats (id, action) as idempotent). */
static void replay_done(void *arg, struct redisReply *reply, int err)
{
    struct op *o = arg;
    struct alarm_state *st = o->st;
    op_done(o);
    if (!st)
        return;
    size_t n = !err && reply && reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
    for (size_t i = 0; i < n; i++) {
        struct event ev;
        char why[128];
        const struct redisReply *e = reply->element[i];
        if (event_decode(e->str, e->len, &ev, why, sizeof why) < 0)
            continue; /* not ours to judge: it stays for an operator to look at */
        publish(st, event_key(&ev), xstrndup(e->str, e->len), 1);
        event_deinit(&ev);
    }
    if (n)
        log_info("collector", "published again %zu alarm events left unconfirmed", n);
    ready(st);
}

static void finish_load(struct alarm_state *st)
{
    char okey[256];
    store_key(st->store, okey, sizeof okey, "alarm:outbox");
    store_command(st->store, replay_done, op_new(st), "LRANGE %s 0 -1", okey);
}

static void restore_field(struct alarm_state *st, const char *device, const char *field,
                          const char *json)
{
    const char *bar = strrchr(field, '|');
    json_t *o = json_loads(json, 0, NULL);
    const char *id = NULL, *sev = NULL, *src = NULL;
    json_int_t raised = 0;
    if (!bar || !o ||
        json_unpack(o, "{s:s, s:s, s:s, s:I}", "id", &id, "severity", &sev, "source", &src,
                    "raised_ms", &raised) < 0) {
        log_warn("collector", "ignoring unreadable alarm state %s/%s", device, field);
        json_decref(o);
        return;
    }
    struct active *a = xcalloc(1, sizeof *a);
    a->id = xstrdup(id);
    a->raised_ms = raised;
    if (alarm_severity_parse(sev, &a->severity) < 0)
        a->severity = SEV_MAJOR;
    if (alarm_source_parse(src, &a->source) < 0)
        a->source = SRC_EXTERNAL;
    a->device = xstrdup(device);
    a->object = xstrndup(field, (size_t)(bar - field));
    a->kind = xstrdup(bar + 1);
    char key[768];
    state_key(key, sizeof key, device, a->object, a->kind);
    active_free(strmap_put(st->active, key, a));
    json_decref(o);
}

static void hgetall_done(void *arg, struct redisReply *reply, int err)
{
    struct op *o = arg;
    struct alarm_state *st = o->st;
    if (st) {
        if (!err && reply && reply->type == REDIS_REPLY_ARRAY)
            for (size_t i = 0; i + 1 < reply->elements; i += 2)
                restore_field(st, o->device, reply->element[i]->str, reply->element[i + 1]->str);
        if (--st->loads == 0 && st->ready < 0)
            finish_load(st);
    }
    op_done(o);
}

static void load_scan(struct alarm_state *st, const char *cursor);

static void scan_done(void *arg, struct redisReply *reply, int err)
{
    struct op *o = arg;
    struct alarm_state *st = o->st;
    op_done(o);
    if (!st)
        return;
    if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        log_warn("collector", "cannot load alarm state from Redis (%s): starting empty",
                 err ? strerror(-err) : "unexpected reply");
        st->dirty = 1; /* written in full once Redis answers */
        finish_load(st);
        return;
    }
    struct redisReply *members = reply->element[1];
    for (size_t i = 0; i < members->elements; i++) {
        char hkey[512];
        struct op *h = op_new(st);
        h->device = xstrdup(members->element[i]->str);
        store_key(st->store, hkey, sizeof hkey, "alarm:dev:%s", h->device);
        st->loads++;
        store_command(st->store, hgetall_done, h, "HGETALL %s", hkey);
    }
    if (strcmp(reply->element[0]->str, "0") != 0) {
        load_scan(st, reply->element[0]->str);
    } else if (st->loads == 0) {
        finish_load(st);
    } else {
        st->ready = -1; /* scan finished; the last HGETALL finishes the load */
    }
}

static void load_scan(struct alarm_state *st, const char *cursor)
{
    char skey[256];
    store_key(st->store, skey, sizeof skey, "alarm:devices");
    store_command(st->store, scan_done, op_new(st), "SSCAN %s %s COUNT " SCAN_COUNT, skey, cursor);
}

/* ---- writing everything again after Redis was unreachable ---- */

static void resync(struct alarm_state *st)
{
    char skey[256], prefix[256];
    store_key(st->store, skey, sizeof skey, "alarm:devices");
    store_key(st->store, prefix, sizeof prefix, "alarm:dev:");
    st->dirty = 0;
    store_command(st->store, write_done, op_new(st), "EVAL %s 1 %s %s", reset_lua, skey, prefix);
    size_t cursor = 0;
    const char *key;
    void *v;
    while (strmap_next(st->active, &cursor, &key, &v)) {
        const struct active *a = v;
        char hkey[512], field[512];
        store_key(st->store, hkey, sizeof hkey, "alarm:dev:%s", a->device);
        field_name(field, sizeof field, a->object, a->kind);
        char *rec = record_json(a);
        store_command(st->store, write_done, op_new(st), "EVAL %s 2 %s %s %s %s %s", state_lua,
                      hkey, skey, field, rec, a->device);
        free(rec);
    }
    log_info("collector", "alarm state written to Redis again (%zu active)",
             strmap_count(st->active));
}

static void on_store_state(void *arg, int connected)
{
    struct alarm_state *st = arg;
    if (connected && st->dirty && st->ready > 0)
        resync(st);
}

/* ---- public ---- */

struct alarm_state *alarm_state_new(struct loop *loop, struct bus *bus, struct store *store)
{
    struct alarm_state *st = xcalloc(1, sizeof *st);
    st->loop = loop;
    st->bus = bus;
    st->store = store;
    st->active = strmap_new();
    st->out = bus_outbox_new(loop, bus);
    store_watch(store, on_store_state, st);
    load_scan(st, "0");
    return st;
}

void alarm_state_report(struct alarm_state *st, const struct alarm_report *r)
{
    if (st->ready > 0)
        apply(st, r);
    else
        hold(st, r);
}

int alarm_state_ready(const struct alarm_state *st)
{
    return st->ready > 0;
}

size_t alarm_state_active(const struct alarm_state *st)
{
    return strmap_count(st->active);
}

size_t alarm_state_pending(const struct alarm_state *st)
{
    return bus_outbox_pending(st->out) + st->n_ops;
}

void alarm_state_free(struct alarm_state *st)
{
    if (!st)
        return;
    for (struct op *o = st->ops; o; o = o->next)
        o->st = NULL; /* their callbacks still come, and only free them */
    store_unwatch(st->store, on_store_state, st);
    release_held(st, 0);
    bus_outbox_free(st->out);
    strmap_free(st->active, active_free);
    free(st);
}
