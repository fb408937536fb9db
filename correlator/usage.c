/* usage: sample -> subscriber -> cycle -> one Lua call that dedupes, counts and marks
 * thresholds atomically; then the events, then a second call that marks them emitted.
 * The Lua script is the whole Redis contract of this module (docs/usage.md). */
#include "correlator/usage.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/store.h"
#include "core/strmap.h"
#include "core/tz.h"
#include "core/xmalloc.h"

#define SUBSYS "usage"
#define DAY_S 86400
/* Cycles cached per (timezone, cycle_day): subscribers share a handful of them. */
#define CYCLE_CACHE 64
/* Distinct unattributed sources and unknown zones logged; beyond, they are only counted. */
#define WARN_MAX 10000

/* KEYS[1] the cycle hash. apply: ARGV = apply, source field, observed_ms, rx, tx, now_ms,
 * cap, expire_at (s), subscriber, cycle, token, then (percent, limit octets) pairs.
 * Returns {1 applied | 0 duplicate | -1 overflow, rx total, tx total, percents to emit...}:
 * those this sample crossed and are still pending (its own redelivery re-emits them).
 * No write precedes a check that can fail, and the rx increment is undone if tx overflows,
 * because Redis does not roll a script back on error.
 * ack: ARGV = ack, token, percents: pending markers of this token become "done". */
static const char SCRIPT[] =
    "local k = KEYS[1]\n"
    "if ARGV[1] == 'ack' then\n"
    "  for i = 3, #ARGV do\n"
    "    local f = 'th:' .. ARGV[i]\n"
    "    if redis.call('HGET', k, f) == ARGV[2] then redis.call('HSET', k, f, 'done') end\n"
    "  end\n"
    "  return 0\n"
    "end\n"
    "local status = 1\n"
    "local hw = redis.call('HGET', k, ARGV[2])\n"
    "if hw and tonumber(hw) >= tonumber(ARGV[3]) then\n"
    "  status = 0\n"
    "else\n"
    "  local r = redis.pcall('HINCRBY', k, 'rx_octets', ARGV[4])\n"
    "  if type(r) == 'table' and r.err then return {-1} end\n"
    "  r = redis.pcall('HINCRBY', k, 'tx_octets', ARGV[5])\n"
    "  if type(r) == 'table' and r.err then\n"
    "    if ARGV[4] ~= '0' then redis.call('HINCRBY', k, 'rx_octets', '-' .. ARGV[4]) end\n"
    "    return {-1}\n"
    "  end\n"
    "  redis.call('HSET', k, ARGV[2], ARGV[3], 'updated_ms', ARGV[6], 'cap_octets', ARGV[7],\n"
    "             'subscriber', ARGV[9], 'cycle', ARGV[10])\n"
    "  redis.call('EXPIREAT', k, ARGV[8])\n"
    "end\n"
    "local v = redis.call('HMGET', k, 'rx_octets', 'tx_octets')\n"
    "local rx, tx = v[1] or '0', v[2] or '0'\n"
    "local used = tonumber(rx) + tonumber(tx)\n"
    "local out = {status, rx, tx}\n"
    "for i = 12, #ARGV - 1, 2 do\n"
    "  local f = 'th:' .. ARGV[i]\n"
    "  local m = redis.call('HGET', k, f)\n"
    "  if status == 1 and not m and used >= tonumber(ARGV[i + 1]) then\n"
    "    redis.call('HSET', k, f, ARGV[11])\n"
    "    m = ARGV[11]\n"
    "  end\n"
    "  if m == ARGV[11] then out[#out + 1] = ARGV[i] end\n"
    "end\n"
    "return out\n";

struct cycle_entry {
    char *tz; /* NULL = UTC */
    int day;
    char id[USAGE_CYCLE_ID_MAX];
    int64_t start_ms, end_ms;
};

struct usage_acct {
    struct store_sync *ss;
    const struct topology *topo;
    uint32_t thr[USAGE_MAX_THRESHOLDS];
    size_t nthr;
    int64_t ttl_days;
    usage_emit_fn emit;
    void *arg;
    char sha[48]; /* "" until SCRIPT LOAD answered */
    struct usage_stats st;
    struct strmap *warned; /* sources and zones already logged */
    struct cycle_entry cache[CYCLE_CACHE];
    size_t ncache, next_evict;
};

/* What one sample resolved to, for the script and the events. */
struct target {
    const struct topology_sub *sub;
    char cycle[USAGE_CYCLE_ID_MAX];
    int64_t expire_at; /* seconds */
    char key[600];
    char source[560]; /* hash field of the dedupe high-water mark */
    char token[600];  /* this sample's identity: source@observed_ms */
};

void usage_params_default(struct usage_params *p)
{
    static const uint32_t def[] = {80, 100};
    *p = (struct usage_params){.thresholds = def, .nthresholds = 2, .ttl_days = 90};
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void set_params(struct usage_acct *u, const struct usage_params *p)
{
    struct usage_params def;
    usage_params_default(&def);
    if (!p)
        p = &def;
    u->ttl_days = p->ttl_days > 0 ? p->ttl_days : def.ttl_days;
    uint32_t tmp[USAGE_MAX_THRESHOLDS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < p->nthresholds && n < USAGE_MAX_THRESHOLDS; i++)
        if (p->thresholds[i] > 0)
            tmp[n++] = p->thresholds[i];
    if (n)
        qsort(tmp, n, sizeof tmp[0], cmp_u32);
    for (size_t i = 0; i < n; i++)
        if (!u->nthr || u->thr[u->nthr - 1] != tmp[i])
            u->thr[u->nthr++] = tmp[i];
}

struct usage_acct *usage_new(struct store_sync *ss, const struct topology *topo,
                             const struct usage_params *p, usage_emit_fn emit, void *arg)
{
    struct usage_acct *u = xcalloc(1, sizeof *u);
    u->ss = ss;
    u->topo = topo;
    u->emit = emit;
    u->arg = arg;
    u->warned = strmap_new();
    set_params(u, p);
    return u;
}

void usage_free(struct usage_acct *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->ncache; i++)
        free(u->cache[i].tz);
    strmap_free(u->warned, NULL);
    free(u);
}

void usage_set_topology(struct usage_acct *u, const struct topology *topo)
{
    u->topo = topo;
}

void usage_set_store(struct usage_acct *u, struct store_sync *ss)
{
    u->ss = ss;
}

void usage_get_stats(const struct usage_acct *u, struct usage_stats *out)
{
    *out = u->st;
}

/* ---- mapping ---- */

/* True the first time key is seen (up to WARN_MAX keys), so each problem is logged once. */
static bool first_warning(struct usage_acct *u, const char *kind, const char *a, const char *b)
{
    if (strmap_count(u->warned) >= WARN_MAX)
        return false;
    char *key = xasprintf("%s %s %s", kind, a ? a : "", b ? b : "");
    bool first = !strmap_get(u->warned, key);
    if (first)
        strmap_put(u->warned, key, u);
    free(key);
    return first;
}

static void unattributed(struct usage_acct *u, const struct usage_sample *s, const char *why)
{
    u->st.unattributed++;
    const char *a = s->subscriber && *s->subscriber ? s->subscriber : s->device;
    const char *b = s->subscriber && *s->subscriber ? "" : s->object;
    if (first_warning(u, "src", a, b))
        log_kv(LOG_LEVEL_WARN, SUBSYS,
               (const char *[]){"subscriber", s->subscriber ? s->subscriber : "", "device",
                                s->device ? s->device : "", "object", s->object ? s->object : "",
                                NULL},
               "usage sample not attributed (%s); further samples from it are only counted", why);
}

/* The subscriber the sample belongs to, or NULL (counted and logged as unattributed). */
static const struct topology_sub *attribute(struct usage_acct *u, const struct usage_sample *s)
{
    if (s->subscriber && *s->subscriber) {
        uint32_t i = topology_find_sub(u->topo, s->subscriber);
        if (i != TOPOLOGY_NONE)
            return topology_sub(u->topo, i);
        unattributed(u, s, "unknown subscriber");
        return NULL;
    }
    uint32_t n = topology_bind_lookup(u->topo, s->device, s->object);
    if (n == TOPOLOGY_NONE) {
        unattributed(u, s, "no binding for device and object");
        return NULL;
    }
    const struct topology_node *node = topology_node(u->topo, n);
    if (node->nsubs != 1) {
        unattributed(u, s, node->nsubs ? "several subscribers on the node" : "no subscriber");
        return NULL;
    }
    return topology_sub(u->topo, node->subs[0]);
}

/* ---- cycles ---- */

static bool same_tz(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static const struct cycle_entry *cache_find(const struct usage_acct *u, const char *tz, int day,
                                            int64_t t)
{
    for (size_t i = 0; i < u->ncache; i++) {
        const struct cycle_entry *c = &u->cache[i];
        if (c->day == day && t >= c->start_ms && t < c->end_ms && same_tz(c->tz, tz))
            return c;
    }
    return NULL;
}

/* The cycle of t for sub, through the cache; an unknown zone falls back to UTC (logged). */
static int cycle_of(struct usage_acct *u, const struct topology_sub *sub, int64_t t,
                    const struct cycle_entry **out)
{
    const char *tz = sub->timezone && strcmp(sub->timezone, "UTC") ? sub->timezone : NULL;
    if (tz && !tz_known(tz)) {
        if (first_warning(u, "tz", tz, NULL))
            log_warn(SUBSYS, "timezone %s is not in the tz database: using UTC cycles", tz);
        tz = NULL;
    }
    int day = sub->cycle_day >= 1 && sub->cycle_day <= 28 ? sub->cycle_day : 1;
    if ((*out = cache_find(u, tz, day, t)))
        return 0;
    struct cycle_entry e = {.day = day};
    int rc = usage_cycle(t, day, tz, e.id, sizeof e.id, &e.start_ms, &e.end_ms);
    if (rc < 0)
        return rc;
    size_t slot = u->ncache < CYCLE_CACHE ? u->ncache++ : u->next_evict++ % CYCLE_CACHE;
    free(u->cache[slot].tz);
    e.tz = xstrdup(tz);
    u->cache[slot] = e;
    *out = &u->cache[slot];
    return 0;
}

/* ---- Redis ---- */

static int fail(struct usage_acct *u, int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(struct usage_acct *u, int rc, char *err, size_t errsz, const char *fmt, ...)
{
    if (rc == -EAGAIN)
        u->st.errors++;
    else
        u->st.invalid++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return rc;
}

static bool is_error(const redisReply *r, const char *prefix)
{
    return r->type == REDIS_REPLY_ERROR && !strncmp(r->str, prefix, strlen(prefix));
}

/* SCRIPT LOAD once per accountant: 0 loaded, -EIO connection lost, -EPROTO with the
 * server's error reply in *refused (caller frees). */
static int load_script(struct usage_acct *u, redisReply **refused)
{
    const char *argv[] = {"SCRIPT", "LOAD", SCRIPT};
    redisReply *r = store_sync_command_argv(u->ss, 3, argv, NULL);
    if (!r)
        return -EIO;
    if (r->type != REDIS_REPLY_STRING) {
        *refused = r;
        return -EPROTO;
    }
    snprintf(u->sha, sizeof u->sha, "%s", r->str);
    freeReplyObject(r);
    return 0;
}

/* Run the script with argv[3..] as KEYS/ARGV (argv[0..2] are filled here): EVALSHA, and EVAL
 * when the server has lost its script cache (restart, SCRIPT FLUSH). NULL = connection lost. */
static redisReply *run_script(struct usage_acct *u, int argc, const char **argv)
{
    redisReply *refused = NULL;
    if (!u->sha[0] && load_script(u, &refused) < 0)
        return refused; /* NULL when the connection failed; else the caller reports it */
    argv[0] = "EVALSHA", argv[1] = u->sha, argv[2] = "1";
    redisReply *r = store_sync_command_argv(u->ss, argc, argv, NULL);
    if (r && is_error(r, "NOSCRIPT")) {
        freeReplyObject(r);
        argv[0] = "EVAL", argv[1] = SCRIPT;
        r = store_sync_command_argv(u->ss, argc, argv, NULL);
    }
    return r;
}

/* Ceil(cap * pct / 100) without overflow (saturating). */
static uint64_t limit_of(uint64_t cap, uint32_t pct)
{
    uint64_t whole = cap / 100, rest = (cap % 100) * pct;
    if (whole && whole > UINT64_MAX / pct)
        return UINT64_MAX;
    uint64_t a = whole * pct, b = rest / 100 + (rest % 100 != 0);
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#define NUM 24
#define FIXED_ARGS 15 /* EVALSHA sha 1 key + 11 ARGV */

static redisReply *apply(struct usage_acct *u, const struct usage_sample *s,
                         const struct target *tg, int64_t now_ms)
{
    char nums[6 + 2 * USAGE_MAX_THRESHOLDS][NUM];
    const char *argv[FIXED_ARGS + 2 * USAGE_MAX_THRESHOLDS];
    snprintf(nums[0], NUM, "%" PRId64, s->observed_ms);
    snprintf(nums[1], NUM, "%" PRIu64, s->rx_octets);
    snprintf(nums[2], NUM, "%" PRIu64, s->tx_octets);
    snprintf(nums[3], NUM, "%" PRId64, now_ms);
    snprintf(nums[4], NUM, "%" PRIu64, tg->sub->cap_bytes);
    snprintf(nums[5], NUM, "%" PRId64, tg->expire_at);
    const char *fixed[] = {NULL,       NULL,    NULL,        tg->key,   "apply",
                           tg->source, nums[0], nums[1],     nums[2],   nums[3],
                           nums[4],    nums[5], tg->sub->id, tg->cycle, tg->token};
    memcpy(argv, fixed, sizeof fixed);
    int argc = FIXED_ARGS;
    for (size_t i = 0; tg->sub->cap_bytes && i < u->nthr; i++) {
        snprintf(nums[6 + 2 * i], NUM, "%" PRIu32, u->thr[i]);
        snprintf(nums[7 + 2 * i], NUM, "%" PRIu64, limit_of(tg->sub->cap_bytes, u->thr[i]));
        argv[argc++] = nums[6 + 2 * i];
        argv[argc++] = nums[7 + 2 * i];
    }
    return run_script(u, argc, argv);
}

/* Mark the emitted thresholds done; a failure only risks a repeat on redelivery. */
static void ack(struct usage_acct *u, const struct target *tg, const redisReply *r)
{
    const char *argv[6 + USAGE_MAX_THRESHOLDS] = {NULL, NULL, NULL, tg->key, "ack", tg->token};
    int argc = 6;
    for (size_t i = 3; i < r->elements && argc < (int)(sizeof argv / sizeof argv[0]); i++)
        argv[argc++] = r->element[i]->str;
    redisReply *a = run_script(u, argc, argv);
    if (!a || a->type == REDIS_REPLY_ERROR)
        log_warn(SUBSYS, "cannot mark thresholds of %s emitted: %s", tg->sub->id,
                 a ? a->str : store_sync_errstr(u->ss));
    if (a)
        freeReplyObject(a);
}

/* ---- events ---- */

/* The wire carries octets as u63; a topology cap can be larger (up to ~1.8e19). */
static uint64_t cap_u63(uint64_t cap)
{
    return cap > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : cap;
}

static void emit_threshold(struct usage_acct *u, const struct target *tg, uint32_t pct,
                           uint64_t used, int64_t crossed_ms, int64_t now_ms)
{
    char p[16];
    snprintf(p, sizeof p, "%" PRIu32, pct);
    log_kv(LOG_LEVEL_INFO, SUBSYS,
           (const char *[]){"subscriber", tg->sub->id, "cycle", tg->cycle, "percent", p, NULL},
           "data-cap threshold crossed");
    u->st.thresholds++;
    if (!u->emit)
        return;
    struct event ev;
    event_init(&ev, EVENT_THRESHOLD);
    ev.ts_ms = now_ms;
    ev.u.threshold = (struct threshold){.subscriber = xstrdup(tg->sub->id),
                                        .cycle = xstrdup(tg->cycle),
                                        .percent = pct,
                                        .used_octets = used,
                                        .cap_octets = cap_u63(tg->sub->cap_bytes),
                                        .crossed_ms = crossed_ms};
    u->emit(u->arg, &ev);
    event_deinit(&ev);
}

static bool reply_ok(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER)
        return false;
    if (r->element[0]->integer < 0)
        return true;
    if (r->elements < 3)
        return false;
    for (size_t i = 1; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

/* Count the outcome, emit what the script returned, mark it done. */
static int settle(struct usage_acct *u, const struct usage_sample *s, const struct target *tg,
                  const redisReply *r, int64_t now_ms, char *err, size_t errsz)
{
    if (r->element[0]->integer < 0)
        return fail(u, -EINVAL, err, errsz, "usage of %s would overflow the cycle counters",
                    tg->sub->id);
    if (r->element[0]->integer == 1)
        u->st.applied++;
    else
        u->st.duplicates++;
    uint64_t rx = strtoull(r->element[1]->str, NULL, 10);
    uint64_t tx = strtoull(r->element[2]->str, NULL, 10);
    uint64_t used = rx > (uint64_t)INT64_MAX - tx ? (uint64_t)INT64_MAX : rx + tx;
    for (size_t i = 3; i < r->elements; i++)
        emit_threshold(u, tg, (uint32_t)strtoul(r->element[i]->str, NULL, 10), used, s->observed_ms,
                       now_ms);
    if (r->elements > 3)
        ack(u, tg, r);
    return 0;
}

/* ---- one sample ---- */

static int target_of(struct usage_acct *u, const struct usage_sample *s,
                     const struct topology_sub *sub, struct target *tg)
{
    const struct cycle_entry *c;
    int rc = cycle_of(u, sub, s->observed_ms, &c);
    if (rc < 0)
        return rc;
    tg->sub = sub;
    memcpy(tg->cycle, c->id, sizeof tg->cycle);
    tg->expire_at = c->end_ms / 1000 + u->ttl_days * DAY_S;
    /* Device ids never contain spaces, so "device object" cannot be read two ways. */
    if (s->device && *s->device)
        snprintf(tg->source, sizeof tg->source, "hw:%s %s", s->device, s->object ? s->object : "");
    else
        snprintf(tg->source, sizeof tg->source, "hw:");
    snprintf(tg->token, sizeof tg->token, "%s@%" PRId64, tg->source + 3, s->observed_ms);
    if (store_sync_key(u->ss, tg->key, sizeof tg->key, "usage:%s:%s", tg->cycle, sub->id) < 0)
        return -ENAMETOOLONG;
    return 0;
}

static int check_sample(const struct usage_sample *s)
{
    bool named = (s->subscriber && *s->subscriber) || (s->device && *s->device);
    bool sized = s->rx_octets <= (uint64_t)INT64_MAX && s->tx_octets <= (uint64_t)INT64_MAX;
    return named && sized ? 0 : -EINVAL;
}

int usage_sample(struct usage_acct *u, const struct usage_sample *s, int64_t now_ms, char *err,
                 size_t errsz)
{
    u->st.samples++;
    if (check_sample(s) < 0)
        return fail(u, -EINVAL, err, errsz,
                    "usage sample without subscriber or device, or octets beyond 2^63-1");
    if (!u->topo)
        return fail(u, -EAGAIN, err, errsz, "no topology loaded yet");
    const struct topology_sub *sub = attribute(u, s);
    if (!sub)
        return 0;
    struct target tg;
    int rc = target_of(u, s, sub, &tg);
    if (rc < 0)
        return fail(u, -EINVAL, err, errsz, "usage sample time or names out of range (%s)",
                    sub->id);
    if (tg.expire_at <= now_ms / 1000) {
        u->st.stale++;
        return 0;
    }
    redisReply *r = apply(u, s, &tg, now_ms);
    if (!r)
        return fail(u, -EAGAIN, err, errsz, "redis: %s", store_sync_errstr(u->ss));
    if (!reply_ok(r)) {
        rc = fail(u, -EAGAIN, err, errsz, "redis: unexpected reply to the usage script: %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
        freeReplyObject(r);
        return rc;
    }
    rc = settle(u, s, &tg, r, now_ms, err, errsz);
    freeReplyObject(r);
    return rc;
}
