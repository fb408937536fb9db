#include "notifier/notif_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"

#define PROVIDER_TTL_S (7 * 86400)

/* Delete the key only while it is still a claim in flight, and (ARGV[1], when given) the
 * releasing instance's own: another may have taken it over meanwhile. */
static const char release_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v or not string.find(v, '\"status\": *\"sending\"') then return 0 end\n"
    "if ARGV[1] ~= '' and not string.find(v, ARGV[1], 1, true) then return 0 end\n"
    "return redis.call('DEL', KEYS[1])";

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

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one (stray or missing
 * continuation bytes, overlong forms, surrogates, beyond U+10FFFF: what JSON parsers refuse). */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] > 0xf4)
        return 0;
    uint32_t cp = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* A JSON string: quotes, backslashes and control characters escaped, UTF-8 passed through, and
 * a byte that is no UTF-8 (a gateway answering in Latin-1) replaced by U+FFFD, so the record
 * always parses back. */
static void put_json_string(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_add(sb, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t run = 0, n;
        while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        strbuf_add(sb, (const char *)p, run);
        p += run;
        if (!*p)
            break;
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p++};
            strbuf_add(sb, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            strbuf_add(sb, esc, 6);
            p++;
        } else if ((n = utf8_len(p)) > 0) {
            strbuf_add(sb, (const char *)p, n);
            p += n;
        } else {
            strbuf_adds(sb, "\\ufffd");
            p++;
        }
    }
    strbuf_add(sb, "\"", 1);
}

static void put_field(struct strbuf *sb, const char *key, const char *value)
{
    if (!value)
        return;
    strbuf_add(sb, sb->len > 1 ? "," : "", sb->len > 1);
    put_json_string(sb, key);
    strbuf_add(sb, ":", 1);
    put_json_string(sb, value);
}

/* The record, keys in sorted order and compact, as jansson's JSON_SORT_KEYS wrote it before:
 * written by hand because every message writes two of them. Caller frees. */
static char *record_json_owned(const char *status, const char *channel, const char *provider_id,
                               const char *error, const char *owner)
{
    struct strbuf sb = {0};
    char ts[40];
    strbuf_add(&sb, "{", 1);
    put_field(&sb, "channel", channel);
    put_field(&sb, "error", error);
    put_field(&sb, "owner", owner);
    put_field(&sb, "provider_id", provider_id);
    put_field(&sb, "status", status);
    snprintf(ts, sizeof ts, ",\"ts\":%lld}", (long long)loop_wall_ms());
    strbuf_adds(&sb, ts);
    return strbuf_take(&sb);
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
        store_sync_command_argv(ss, 5, (const char *[]){"EVAL", release_lua, "1", key, ""}, NULL);
    if (!r || r->type == REDIS_REPLY_ERROR)
        return fail(ss, r, "release", err, errsz);
    freeReplyObject(r);
    return 0;
}

/* A report for a provider id not mapped yet: the mapped message id when it exists by now, else
 * park the record it should become, keeping the higher-ranked of two (the ranks of
 * inbound_api: sent/queued < delivered/failed < read). */
static const char park_lua[] =
    "local id = redis.call('GET', KEYS[1])\n"
    "if id then return id end\n"
    "local rank = {sent = 1, queued = 1, delivered = 2, failed = 2, read = 3}\n"
    "local old = redis.call('GET', KEYS[2])\n"
    "if old and (rank[string.match(old, '\"status\":\"([^\"]*)\"')] or 0) > "
    "(rank[ARGV[2]] or 0) then return 0 end\n"
    "redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])\n"
    "return 0";

int notif_store_park(struct store_sync *ss, const char *channel, const char *provider_id,
                     const char *status, const char *error, char **id, char *err, size_t errsz)
{
    char pk[512], ek[512], ttl[24];
    store_sync_key(ss, pk, sizeof pk, "notif:provider:%s:%s", channel, provider_id);
    store_sync_key(ss, ek, sizeof ek, "notif:early:%s:%s", channel, provider_id);
    snprintf(ttl, sizeof ttl, "%d", NOTIF_STORE_PARK_S);
    char *v = record_json(status, channel, provider_id, error);
    redisReply *r = store_sync_command_argv(
        ss, 8, (const char *[]){"EVAL", park_lua, "2", pk, ek, v, status, ttl}, NULL);
    free(v);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_INTEGER))
        return fail(ss, r, "park", err, errsz);
    int mapped = r->type == REDIS_REPLY_STRING;
    if (mapped)
        *id = xstrndup(r->str, r->len);
    freeReplyObject(r);
    return mapped;
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

/* Providers send out of order and retry late. Equal ranks overwrite (failed after delivered is
 * the carrier's last word); dead and opted-out records sent nothing a report could be about. */
int notif_store_rank(const char *status)
{
    if (!status || !strcmp(status, "dead") || !strcmp(status, "opted-out"))
        return 0;
    if (!strcmp(status, "read"))
        return 3;
    return !strcmp(status, "delivered") || !strcmp(status, "failed") ? 2 : 1;
}

void notif_record_deinit(struct notif_record *r)
{
    free(r->status), free(r->channel), free(r->provider_id), free(r->error), free(r->owner);
    memset(r, 0, sizeof *r);
}

/* ---- the same operations queued on a batch, for the dispatcher's rounds ---- */

/* Overwrite only a claim still in flight: a delivery report that came first is kept. With a
 * provider id, map it back, and apply a report parked before the mapping existed. */
static const char settle_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and not string.find(v, '\"status\": *\"sending\"') then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')\n"
    "if ARGV[2] ~= '' then\n"
    "  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])\n"
    "  local e = redis.call('GET', KEYS[3])\n"
    "  if e then redis.call('SET', KEYS[1], e, 'KEEPTTL'); redis.call('DEL', KEYS[3]) end\n"
    "end\n"
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
    char key[512], pk[512] = "", ek[512] = "", ttl[24];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    if (provider_id && channel) {
        store_sync_key(b->ss, pk, sizeof pk, "notif:provider:%s:%s", channel, provider_id);
        store_sync_key(b->ss, ek, sizeof ek, "notif:early:%s:%s", channel, provider_id);
    }
    snprintf(ttl, sizeof ttl, "%d", PROVIDER_TTL_S);
    char *v = record_json(status, channel, provider_id, error);
    store_batch_add(b, 9,
                    (const char *[]){"EVAL", settle_lua, "3", key, pk[0] ? pk : key,
                                     ek[0] ? ek : key, v, pk[0] ? id : "", ttl});
    free(v);
}

/* A message that will never be sent (dead, opted out): its record, only when nobody holds it
 * (a live claim elsewhere means another instance is sending it) or when it is still exactly
 * the dead instance's claim that was read (ARGV[6]); then out of its queue and, when dead,
 * into the dead letters (KEYS[3], ARGV[3]). */
static const char final_lua[] =
    "local ok\n"
    "if ARGV[6] == '' then ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])\n"
    "elseif redis.call('GET', KEYS[1]) == ARGV[6] then\n"
    "  ok = redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end\n"
    "if not ok then return 0 end\n"
    "redis.call('ZREM', KEYS[2], ARGV[4])\n"
    "if ARGV[3] ~= '' then\n"
    "  redis.call('LPUSH', KEYS[3], ARGV[3]); redis.call('LTRIM', KEYS[3], 0, ARGV[5])\n"
    "end\n"
    "return 1";

void notif_store_final_add(struct store_batch *b, const char *id, const char *old,
                           const char *status, const char *channel, const char *reason,
                           int64_t ttl_s, const char *queue, const char *dead_letter,
                           long dead_keep)
{
    char key[512], dk[512], ttl[24], keep[24];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    store_sync_key(b->ss, dk, sizeof dk, "notif:%s", "dead");
    snprintf(ttl, sizeof ttl, "%lld", (long long)(ttl_s > 0 ? ttl_s : 30 * 86400));
    snprintf(keep, sizeof keep, "%ld", dead_keep);
    char *v = record_json(status, channel, NULL, reason);
    store_batch_add(b, 12,
                    (const char *[]){"EVAL", final_lua, "3", key, queue, dk, v, ttl,
                                     dead_letter ? dead_letter : "", id, keep, old ? old : ""});
    free(v);
}

void notif_store_release_add(struct store_batch *b, const char *id, const char *owner)
{
    char key[512], mine[128];
    store_sync_key(b->ss, key, sizeof key, "notif:%s", id);
    snprintf(mine, sizeof mine, "\"owner\":\"%s\"", owner); /* as record_json_owned writes it */
    store_batch_add(b, 5, (const char *[]){"EVAL", release_lua, "1", key, mine});
}

/* ---- the daily spend of capped channels, shared by instances and restarts ---- */

/* Reserve up to ARGV[3] sends costing ARGV[1] each under the day's cap ARGV[2]; reply: how
 * many. The key outlives its day by one, for the operator who wants to read it. */
static const char spend_lua[] =
    "local spent = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local cost, cap = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local n = math.min(tonumber(ARGV[3]), math.floor((cap - spent) / cost + 1e-9))\n"
    "if n <= 0 then return 0 end\n"
    "redis.call('INCRBYFLOAT', KEYS[1], n * cost)\n"
    "redis.call('EXPIRE', KEYS[1], 172800)\n"
    "return n";

static void spend_key(struct store_sync *ss, char *buf, size_t bufsz, const char *channel,
                      int64_t now_ms)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    char day[16];
    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    store_sync_key(ss, buf, bufsz, "notif:spend:%s:%s", channel, day);
}

void notif_store_spend_reserve_add(struct store_batch *b, const char *channel, int64_t now_ms,
                                   double cost, double cap, unsigned wanted)
{
    char key[512], c[32], m[32], w[16];
    spend_key(b->ss, key, sizeof key, channel, now_ms);
    snprintf(c, sizeof c, "%.17g", cost);
    snprintf(m, sizeof m, "%.17g", cap);
    snprintf(w, sizeof w, "%u", wanted);
    store_batch_add(b, 7, (const char *[]){"EVAL", spend_lua, "1", key, c, m, w});
}

void notif_store_spend_return_add(struct store_batch *b, const char *channel, int64_t now_ms,
                                  double amount)
{
    char key[512], a[40];
    spend_key(b->ss, key, sizeof key, channel, now_ms);
    snprintf(a, sizeof a, "%.17g", -amount);
    store_batch_add(b, 3, (const char *[]){"INCRBYFLOAT", key, a});
}
