/* outage_store: the correlator's restart state in Redis. Keys (docs/redis.md):
 *   farol:corr:alarms          hash  alarm id -> alarm event JSON (active ones only)
 *   farol:outage:{id}          hash  state (last event without id lists), seq, status, ...
 *   farol:outage:{id}:subs     set   published affected subscribers
 *   farol:outages:active       set   open outage ids
 *   farol:outage:root:{node}   str   the open outage rooted at node
 *   farol:corr:outbox          list  outage events not yet confirmed by the bus */
#include "correlator/outage_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_json.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define RESOLVED_TTL_S 2592000 /* resolved outages stay readable for 30 days */
#define PAGE 1000

static int fail(struct store_sync *ss, redisReply *r, const char *what, char *err, size_t errsz)
{
    if (r && r->type == REDIS_REPLY_ERROR)
        snprintf(err, errsz, "%s: %s", what, r->str);
    else
        snprintf(err, errsz, "%s: %s", what, r ? "unexpected reply" : store_sync_errstr(ss));
    if (r)
        freeReplyObject(r);
    return -EIO;
}

static int run(struct store_sync *ss, int argc, const char **argv, const char *what, char *err,
               size_t errsz)
{
    redisReply *r = store_sync_command_argv(ss, argc, argv, NULL);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, what, err, errsz);
    freeReplyObject(r);
    return 0;
}

int outage_store_alarm(struct store_sync *ss, const struct alarm *a, const char *json, size_t len,
                       enum corr_change ch, char *err, size_t errsz)
{
    char key[256];
    store_sync_key(ss, key, sizeof key, "corr:alarms");
    if (ch == CORR_CLEAR)
        return run(ss, 3, (const char *[]){"HDEL", key, a->id}, "HDEL alarm", err, errsz);
    if (ch != CORR_RAISE)
        return 0;
    /* the bytes as received: re-encoding would cost more than the write */
    const char *argv[] = {"HSET", key, a->id, json};
    const size_t lens[] = {4, strlen(key), strlen(a->id), len};
    redisReply *r = store_sync_command_argv(ss, 4, argv, lens);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, "HSET alarm", err, errsz);
    freeReplyObject(r);
    return 0;
}

/* The outage's state without its id lists: those live in the :subs set. */
static char *state_json(const struct event *ev, char *err, size_t errsz)
{
    struct event copy = *ev;
    copy.u.outage.subscribers_added = (struct id_list){0};
    copy.u.outage.subscribers_restored = (struct id_list){0};
    char *json = NULL;
    return event_encode(&copy, &json, NULL, err, errsz) < 0 ? NULL : json;
}

static int append_ids(struct store_sync *ss, const char *cmd, const char *key,
                      const struct id_list *ids)
{
    if (!ids->n)
        return 0;
    const char **argv = xmalloc((ids->n + 2) * sizeof *argv);
    argv[0] = cmd;
    argv[1] = key;
    for (size_t i = 0; i < ids->n; i++)
        argv[i + 2] = ids->ids[i];
    int rc = store_pipe_append_argv(ss, (int)ids->n + 2, argv, NULL);
    free(argv);
    return rc;
}

/* Inside the event's transaction, before the hash is rewritten: when the outage moved to
 * another root (re-rooting), its old root key goes. KEYS[1] the outage hash, ARGV[1] the new
 * root, ARGV[2] the root keys' prefix (a standalone-Redis script: it names a key it derives). */
static const char move_root_lua[] =
    "local r = redis.call('HGET', KEYS[1], 'root')\n"
    "if r and r ~= ARGV[1] then redis.call('DEL', ARGV[2] .. r) end\n"
    "return 0";

static int append_state(struct store_sync *ss, const struct outage *o, const char *state)
{
    char hk[512], sk[512], ak[256], rk[512], seq[16];
    store_sync_key(ss, hk, sizeof hk, "outage:%s", o->id);
    store_sync_key(ss, sk, sizeof sk, "outage:%s:subs", o->id);
    store_sync_key(ss, ak, sizeof ak, "outages:active");
    store_sync_key(ss, rk, sizeof rk, "outage:root:%s", o->root);
    snprintf(seq, sizeof seq, "%u", o->seq);
    bool closed = o->phase == OUTAGE_RESOLVED || o->merged_into;
    int rc = store_pipe_append_argv(
        ss, 14,
        (const char *[]){"HSET", hk, "state", state, "seq", seq, "status",
                         outage_status_name(closed ? OUTAGE_CLOSED : o->status), "cause",
                         outage_cause_name(o->cause), "root", o->root, "merged_into",
                         o->merged_into ? o->merged_into : ""},
        NULL);
    if (rc == 0)
        rc = append_ids(ss, "SADD", sk, &o->subscribers_added);
    if (rc == 0)
        rc = append_ids(ss, "SREM", sk, &o->subscribers_restored);
    if (rc == 0 && !closed) {
        rc = store_pipe_append_argv(ss, 3, (const char *[]){"SADD", ak, o->id}, NULL);
        if (rc == 0)
            rc = store_pipe_append_argv(ss, 3, (const char *[]){"SET", rk, o->id}, NULL);
    } else if (rc == 0) {
        rc = store_pipe_append_argv(ss, 3, (const char *[]){"SREM", ak, o->id}, NULL);
        if (rc == 0)
            rc = store_pipe_append(ss, "DEL %s", rk);
        if (rc == 0)
            rc = store_pipe_append(ss, "EXPIRE %s %d", hk, RESOLVED_TTL_S);
        if (rc == 0)
            rc = store_pipe_append(ss, "EXPIRE %s %d", sk, RESOLVED_TTL_S);
    }
    return rc;
}

int outage_store_event(struct store_sync *ss, const struct event *ev, const char *json, char *err,
                       size_t errsz)
{
    char *state = state_json(ev, err, errsz);
    if (!state)
        return -EINVAL;
    char ok[256];
    store_sync_key(ss, ok, sizeof ok, "corr:outbox");
    char hk[512], rp[256];
    store_sync_key(ss, hk, sizeof hk, "outage:%s", ev->u.outage.id);
    store_sync_key(ss, rp, sizeof rp, "outage:root:");
    store_pipe_reset(ss);
    int rc = store_pipe_append(ss, "MULTI");
    if (rc == 0)
        rc = store_pipe_append_argv(
            ss, 6, (const char *[]){"EVAL", move_root_lua, "1", hk, ev->u.outage.root, rp}, NULL);
    if (rc == 0)
        rc = append_state(ss, &ev->u.outage, state);
    if (rc == 0)
        rc = store_pipe_append_argv(ss, 3, (const char *[]){"RPUSH", ok, json}, NULL);
    if (rc == 0)
        rc = store_pipe_append(ss, "EXEC");
    if (rc == 0)
        rc = store_pipe_flush(ss);
    free(state);
    const struct store_pipe_stats *st = store_pipe_stats(ss);
    if (rc < 0 || st->errors) {
        snprintf(err, errsz, "outage %s: %s", ev->u.outage.id,
                 rc < 0 ? store_sync_errstr(ss) : st->first_error);
        return -EIO;
    }
    return 0;
}

int outage_store_outbox_done(struct store_sync *ss, const char *json, char *err, size_t errsz)
{
    char ok[256];
    store_sync_key(ss, ok, sizeof ok, "corr:outbox");
    return run(ss, 4, (const char *[]){"LREM", ok, "1", json}, "LREM outbox", err, errsz);
}

/* HSCAN/SSCAN pages of key; fn gets each element (HSCAN: the values). */
static int scan(struct store_sync *ss, const char *cmd, const char *key, int step,
                void (*fn)(void *, const char *, size_t), void *arg, char *err, size_t errsz)
{
    unsigned long long cursor = 0;
    do {
        redisReply *r = store_sync_command(ss, "%s %s %llu COUNT %d", cmd, key, cursor, PAGE);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            return fail(ss, r, cmd, err, errsz);
        cursor = strtoull(r->element[0]->str, NULL, 10);
        const redisReply *v = r->element[1];
        for (size_t i = step - 1; i < v->elements; i += (size_t)step)
            fn(arg, v->element[i]->str, v->element[i]->len);
        freeReplyObject(r);
    } while (cursor != 0);
    return 0;
}

struct alarm_ctx {
    outage_store_alarm_fn fn;
    void *arg;
};

static void one_alarm(void *arg, const char *json, size_t len)
{
    struct alarm_ctx *c = arg;
    struct event ev;
    char err[256];
    if (event_decode(json, len, &ev, err, sizeof err) < 0) {
        log_warn("correlator", "stored alarm skipped: %s", err);
        return;
    }
    if (ev.type != EVENT_ALARM) {
        log_warn("correlator", "stored alarm skipped: a %s event", event_type_name(ev.type));
        event_deinit(&ev);
        return;
    }
    c->fn(c->arg, &ev.u.alarm);
    event_deinit(&ev);
}

int outage_store_load_alarms(struct store_sync *ss, outage_store_alarm_fn fn, void *arg, char *err,
                             size_t errsz)
{
    char key[256];
    store_sync_key(ss, key, sizeof key, "corr:alarms");
    struct alarm_ctx c = {fn, arg};
    return scan(ss, "HSCAN", key, 2, one_alarm, &c, err, errsz);
}

struct ids {
    char **v;
    size_t n;
};

static void collect(void *arg, const char *s, size_t len)
{
    struct ids *ids = arg;
    ids->v = xrealloc(ids->v, (ids->n + 1) * sizeof *ids->v);
    ids->v[ids->n++] = xstrndup(s, len);
}

static void ids_free(struct ids *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        free(ids->v[i]);
    free(ids->v);
    *ids = (struct ids){0};
}

static int load_one(struct store_sync *ss, const char *id, outage_store_outage_fn fn, void *arg,
                    char *err, size_t errsz)
{
    char hk[512], sk[512];
    store_sync_key(ss, hk, sizeof hk, "outage:%s", id);
    store_sync_key(ss, sk, sizeof sk, "outage:%s:subs", id);
    redisReply *r = store_sync_command(ss, "HGET %s state", hk);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, "HGET outage", err, errsz);
    struct event ev;
    char derr[256];
    int bad =
        r->type != REDIS_REPLY_STRING || event_decode(r->str, r->len, &ev, derr, sizeof derr) < 0;
    freeReplyObject(r);
    if (bad || ev.type != EVENT_OUTAGE) {
        log_warn("correlator", "stored outage %s has no readable state; skipped", id);
        if (!bad)
            event_deinit(&ev);
        return 0;
    }
    struct ids subs = {0};
    int rc = scan(ss, "SSCAN", sk, 1, collect, &subs, err, errsz);
    if (rc == 0)
        fn(arg, &ev.u.outage, (const char *const *)subs.v, subs.n);
    ids_free(&subs);
    event_deinit(&ev);
    return rc;
}

int outage_store_load_outages(struct store_sync *ss, outage_store_outage_fn fn, void *arg,
                              char *err, size_t errsz)
{
    char ak[256];
    store_sync_key(ss, ak, sizeof ak, "outages:active");
    struct ids ids = {0};
    int rc = scan(ss, "SSCAN", ak, 1, collect, &ids, err, errsz);
    for (size_t i = 0; rc == 0 && i < ids.n; i++)
        rc = load_one(ss, ids.v[i], fn, arg, err, errsz);
    ids_free(&ids);
    return rc;
}

int outage_store_load_outbox(struct store_sync *ss, outage_store_json_fn fn, void *arg, char *err,
                             size_t errsz)
{
    char ok[256];
    store_sync_key(ss, ok, sizeof ok, "corr:outbox");
    redisReply *r = store_sync_command(ss, "LRANGE %s 0 -1", ok);
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return fail(ss, r, "LRANGE outbox", err, errsz);
    for (size_t i = 0; i < r->elements; i++)
        fn(arg, r->element[i]->str);
    freeReplyObject(r);
    return 0;
}
