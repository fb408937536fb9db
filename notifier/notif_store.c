#include "notifier/notif_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"

#define PROVIDER_TTL_S (7 * 86400)

/* Delete the key only while it is still a claim in flight. */
static const char release_lua[] = "local v = redis.call('GET', KEYS[1])\n"
                                  "if v and string.find(v, '\"status\": *\"sending\"') then\n"
                                  "  return redis.call('DEL', KEYS[1]) end\n"
                                  "return 0";

static int fail(struct store_sync *ss, redisReply *r, const char *what, char *err, size_t errsz)
{
    snprintf(err, errsz, "%s: %s", what,
             r && r->type == REDIS_REPLY_ERROR ? r->str
             : r                               ? "unexpected reply"
                                               : store_sync_errstr(ss));
    if (r)
        freeReplyObject(r);
    return -EIO;
}

int notif_store_id(char *buf, size_t bufsz, const char *subscriber, const char *ref,
                   const char *type)
{
    const char *parts[] = {subscriber, ref, type};
    for (size_t i = 0; i < 3; i++)
        if (!parts[i] || !*parts[i] || strchr(parts[i], ':'))
            return -EINVAL;
    int n = snprintf(buf, bufsz, "%s:%s:%s", subscriber, ref, type);
    return n < 0 || (size_t)n >= bufsz ? -EINVAL : 0;
}

static char *record_json_owned(const char *status, const char *channel, const char *provider_id,
                               const char *error, const char *owner)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(status));
    if (owner)
        json_object_set_new(o, "owner", json_string(owner));
    if (channel)
        json_object_set_new(o, "channel", json_string(channel));
    if (provider_id)
        json_object_set_new(o, "provider_id", json_string(provider_id));
    if (error)
        json_object_set_new(o, "error", json_string(error));
    json_object_set_new(o, "ts", json_integer(loop_wall_ms()));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s)
        abort(); /* only on OOM, fatal like xmalloc */
    char *copy = xstrdup(s);
    free(s);
    return copy;
}

static char *record_json(const char *status, const char *channel, const char *provider_id,
                         const char *error)
{
    return record_json_owned(status, channel, provider_id, error, NULL);
}

int notif_store_claim(struct store_sync *ss, const char *id, const char *channel, int64_t ttl_s,
                      char *err, size_t errsz)
{
    char key[512], ttl[24];
    store_sync_key(ss, key, sizeof key, "notif:%s", id);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(ttl_s > 0 ? ttl_s : 30 * 86400));
    char *v = record_json("sending", channel, NULL, NULL);
    redisReply *r =
        store_sync_command_argv(ss, 6, (const char *[]){"SET", key, v, "NX", "EX", ttl}, NULL);
    free(v);
    if (!r || (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_NIL))
        return fail(ss, r, "SET NX", err, errsz);
    int claimed = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return claimed;
}

int notif_store_outcome(struct store_sync *ss, const char *id, const char *status,
                        const char *channel, const char *provider_id, const char *error, char *err,
                        size_t errsz)
{
    char key[512];
    store_sync_key(ss, key, sizeof key, "notif:%s", id);
    char *v = record_json(status, channel, provider_id, error);
    redisReply *r =
        store_sync_command_argv(ss, 5, (const char *[]){"SET", key, v, "XX", "KEEPTTL"}, NULL);
    free(v);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, "SET XX", err, errsz);
    freeReplyObject(r);
    if (!provider_id || !channel)
        return 0;
    char pk[512], ttl[24];
    store_sync_key(ss, pk, sizeof pk, "notif:provider:%s:%s", channel, provider_id);
    snprintf(ttl, sizeof ttl, "%d", PROVIDER_TTL_S);
    r = store_sync_command_argv(ss, 5, (const char *[]){"SET", pk, id, "EX", ttl}, NULL);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, "SET provider", err, errsz);
    freeReplyObject(r);
    return 0;
}

int notif_store_release(struct store_sync *ss, const char *id, char *err, size_t errsz)
{
    char key[512];
    store_sync_key(ss, key, sizeof key, "notif:%s", id);
    redisReply *r =
        store_sync_command_argv(ss, 4, (const char *[]){"EVAL", release_lua, "1", key}, NULL);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, "release", err, errsz);
    freeReplyObject(r);
    return 0;
}

static char *field(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? xstrdup(s) : NULL;
}

int notif_store_parse(const char *json, size_t len, struct notif_record *out)
{
    memset(out, 0, sizeof *out);
    json_t *o = json_loadb(json, len, 0, NULL);
    if (!o)
        return -EINVAL;
    *out = (struct notif_record){.status = field(o, "status"),
                                 .channel = field(o, "channel"),
                                 .provider_id = field(o, "provider_id"),
                                 .error = field(o, "error"),
                                 .owner = field(o, "owner"),
                                 .ts_ms = json_integer_value(json_object_get(o, "ts"))};
    json_decref(o);
    return out->status ? 0 : -EINVAL;
}

int notif_store_get(struct store_sync *ss, const char *id, struct notif_record *out, char *err,
                    size_t errsz)
{
    char key[512];
    memset(out, 0, sizeof *out);
    store_sync_key(ss, key, sizeof key, "notif:%s", id);
    redisReply *r = store_sync_command(ss, "GET %s", key);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        return fail(ss, r, "GET", err, errsz);
    json_t *o = r->type == REDIS_REPLY_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
    int found = r->type == REDIS_REPLY_STRING;
    freeReplyObject(r);
    if (!found)
        return -ENOENT;
    if (!o) {
        snprintf(err, errsz, "record of %s is not JSON", id);
        return -EIO;
    }
    *out = (struct notif_record){.status = field(o, "status"),
                                 .channel = field(o, "channel"),
                                 .provider_id = field(o, "provider_id"),
                                 .error = field(o, "error"),
                                 .ts_ms = json_integer_value(json_object_get(o, "ts"))};
    json_decref(o);
    return 0;
}

int notif_store_by_provider(struct store_sync *ss, const char *channel, const char *provider_id,
                            char **id, char *err, size_t errsz)
{
    char pk[512];
    store_sync_key(ss, pk, sizeof pk, "notif:provider:%s:%s", channel, provider_id);
    redisReply *r = store_sync_command(ss, "GET %s", pk);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        return fail(ss, r, "GET provider", err, errsz);
    int rc = r->type == REDIS_REPLY_STRING ? 0 : -ENOENT;
    if (rc == 0)
        *id = xstrndup(r->str, r->len);
    freeReplyObject(r);
    return rc;
}

void notif_record_deinit(struct notif_record *r)
{
    free(r->status), free(r->channel), free(r->provider_id), free(r->error), free(r->owner);
    memset(r, 0, sizeof *r);
}

/* ---- the same operations queued on a batch, for the dispatcher's rounds ---- */

/* Overwrite only a claim still in flight: a delivery report that came first is kept. */
static const char settle_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and not string.find(v, '\"status\": *\"sending\"') then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')\n"
    "if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end\n"
    "return 1";

/* Take over a dead instance's claim: only while it is still exactly what was read. */
static const char takeover_lua[] = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
                                   "redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')\n"
                                   "return 1";

void notif_store_claim_add(struct store_batch *b, const char *id, const char *channel,
                           const char *owner, int64_t ttl_s)
{
    char key[512], ttl[24];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(ttl_s > 0 ? ttl_s : 30 * 86400));
    char *v = record_json_owned("sending", channel, NULL, NULL, owner);
    store_batch_add(b, 6, (const char *[]){"SET", key, v, "NX", "EX", ttl});
    free(v);
}

void notif_store_takeover_add(struct store_batch *b, const char *id, const char *old,
                              const char *channel, const char *owner)
{
    char key[512];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    char *v = record_json_owned("sending", channel, NULL, NULL, owner);
    store_batch_add(b, 6, (const char *[]){"EVAL", takeover_lua, "1", key, old, v});
    free(v);
}

void notif_store_settle_add(struct store_batch *b, const char *id, const char *status,
                            const char *channel, const char *provider_id, const char *error)
{
    char key[512], pk[512] = "", ttl[24];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    if (provider_id && channel)
        store_sync_key(b->ss, pk, sizeof pk, "notif:provider:%s:%s", channel, provider_id);
    snprintf(ttl, sizeof ttl, "%d", PROVIDER_TTL_S);
    char *v = record_json(status, channel, provider_id, error);
    store_batch_add(
        b, 8,
        (const char *[]){"EVAL", settle_lua, "2", key, pk[0] ? pk : key, v, pk[0] ? id : "", ttl});
    free(v);
}

void notif_store_release_add(struct store_batch *b, const char *id)
{
    char key[512];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    store_batch_add(b, 4, (const char *[]){"EVAL", release_lua, "1", key});
}
