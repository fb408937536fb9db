/* topology_store: writing a topology version to Redis, the atomic swap, and deleting versions.
 * Reading back and the planner queries: topology_store_read.c. */
#include "correlator/topology_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/store.h"
#include "core/xmalloc.h"

#define PUSH_BATCH 500
#define KEY_MAX 600

/* Set the pointer only if it still holds the version this import started from. */
static const char swap_lua[] = "local cur = redis.call('GET', KEYS[1]) or ''\n"
                               "if cur ~= ARGV[1] then return cur end\n"
                               "redis.call('SET', KEYS[1], ARGV[2])\n"
                               "return 'ok'";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct wr {
    struct store_sync *ss;
    const struct topology *t;
    const char *v;
    const struct topology_store_write_opts *o;
    char key[KEY_MAX];
    const char **argv; /* RPUSH batch */
    size_t argc;
    uint32_t *bind_first, *bind_next; /* bindings by node */
};

static const char *key(struct wr *w, const char *kind, const char *id)
{
    if (store_sync_key(w->ss, w->key, sizeof w->key, "topo:%s:%s%s", w->v, kind, id) < 0)
        w->key[0] = '\0'; /* ids are capped at 200 bytes: cannot happen */
    return w->key;
}

static void progress(struct wr *w, const char *phase, size_t done, size_t total)
{
    if (w->o && w->o->progress && (done % 100000 == 0 || done == total))
        w->o->progress(w->o->progress_arg, phase, done, total);
}

/* RPUSH ids to list in batches (argv[0..1] = RPUSH key). */
static void push_id(struct wr *w, const char *list, const char *id, int last)
{
    if (id) {
        if (!w->argc) {
            w->argv[0] = "RPUSH";
            w->argv[1] = xstrdup(key(w, list, ""));
            w->argc = 2;
        }
        w->argv[w->argc++] = id;
    }
    if (w->argc && (last || w->argc == PUSH_BATCH + 2)) {
        store_pipe_append_argv(w->ss, (int)w->argc, w->argv, NULL);
        free((char *)w->argv[1]);
        w->argc = 0;
    }
}

static char *json_ids(const struct topology *t, const uint32_t *v, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(topology_node(t, v[i])->id));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static char *json_binds(struct wr *w, uint32_t node)
{
    json_t *a = json_array();
    for (uint32_t b = w->bind_first[node]; b != TOPOLOGY_NONE; b = w->bind_next[b]) {
        const struct topology_binding *bd = topology_binding(w->t, b);
        json_array_append_new(a,
                              json_pack("{s:s,s:s}", "device", bd->device, "object", bd->object));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* Per node, nodes by kind in what it dominates (itself included): bottom-up over preorder. */
static uint32_t *kind_counts(const struct topology *t)
{
    size_t nn = topology_node_count(t);
    uint32_t *c = xcalloc(nn * TOPOLOGY_KINDS + 1, sizeof(uint32_t));
    const uint32_t *order = topology_node_order(t);
    for (size_t p = nn; p-- > 0;) {
        const struct topology_node *n = topology_node(t, order[p]);
        c[(size_t)order[p] * TOPOLOGY_KINDS + n->kind]++;
        if (n->idom != TOPOLOGY_NONE)
            for (int k = 0; k < TOPOLOGY_KINDS; k++)
                c[(size_t)n->idom * TOPOLOGY_KINDS + k] += c[(size_t)order[p] * TOPOLOGY_KINDS + k];
    }
    return c;
}

static void write_node(struct wr *w, uint32_t idx, const uint32_t *counts)
{
    const struct topology_node *n = topology_node(w->t, idx);
    char nums[6][24], cnt[TOPOLOGY_KINDS][24], kind[48], ckey[TOPOLOGY_KINDS][24];
    char *parents = json_ids(w->t, n->parents, n->nparents), *binds = json_binds(w, idx);
    const char *argv[64] = {"HSET", key(w, "node:", n->id), "id", n->id, "kind", kind};
    int argc = 6;
    snprintf(kind, sizeof kind, "%s%s%s", topology_kind_name(n->kind), n->label ? ":" : "",
             n->label ? n->label : "");
    snprintf(nums[0], 24, "%u", n->sub_hi - n->sub_lo);
    snprintf(nums[1], 24, "%u", n->nsubs);
    snprintf(nums[2], 24, "%u", n->sub_lo);
    snprintf(nums[3], 24, "%u", n->nchildren);
    const char *fixed[][2] = {{"subs", nums[0]},     {"direct_subs", nums[1]}, {"sub_lo", nums[2]},
                              {"children", nums[3]}, {"parents", parents},     {"bindings", binds},
                              {"name", n->name},     {"area", n->area}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i][1])
            argv[argc++] = fixed[i][0], argv[argc++] = fixed[i][1];
    for (int k = 0; k < TOPOLOGY_KINDS; k++)
        if (counts[(size_t)idx * TOPOLOGY_KINDS + k]) {
            snprintf(ckey[k], 24, "n:%s", topology_kind_name(k));
            snprintf(cnt[k], 24, "%u", counts[(size_t)idx * TOPOLOGY_KINDS + k]);
            argv[argc++] = ckey[k], argv[argc++] = cnt[k];
        }
    store_pipe_append_argv(w->ss, argc, argv, NULL);
    free(parents), free(binds);
    if (n->nchildren) {
        const char **cv = xmalloc((n->nchildren + 2) * sizeof(char *));
        cv[0] = "SADD", cv[1] = key(w, "children:", n->id);
        for (uint32_t i = 0; i < n->nchildren; i++)
            cv[i + 2] = topology_node(w->t, n->children[i])->id;
        store_pipe_append_argv(w->ss, (int)n->nchildren + 2, cv, NULL);
        free(cv);
    }
}

static void write_sub(struct wr *w, const struct topology_sub *s)
{
    char quiet[48] = "", cap[24], day[8], optout[2] = {s->opt_out ? '1' : '0', 0};
    json_t *ph = json_array();
    for (uint32_t i = 0; i < s->nphones; i++)
        json_array_append_new(ph, json_string(s->phones[i]));
    char *phones = json_dumps(ph, JSON_COMPACT);
    json_decref(ph);
    if (s->quiet_start >= 0)
        snprintf(quiet, sizeof quiet, "%02d:%02d-%02d:%02d", s->quiet_start / 60,
                 s->quiet_start % 60, s->quiet_end / 60, s->quiet_end % 60);
    snprintf(cap, sizeof cap, "%llu", (unsigned long long)s->cap_bytes);
    snprintf(day, sizeof day, "%d", s->cycle_day);
    const char *f[][2] = {{"id", s->id},
                          {"node", topology_node(w->t, s->node)->id},
                          {"name", s->name},
                          {"phones", phones},
                          {"telegram", s->telegram},
                          {"channels", s->channels},
                          {"locale", s->locale},
                          {"timezone", s->timezone},
                          {"quiet_hours", quiet[0] ? quiet : NULL},
                          {"opt_out", optout},
                          {"plan", s->plan},
                          {"cap", cap},
                          {"cycle_day", day}};
    const char *argv[2 + 2 * 13] = {"HSET", key(w, "sub:", s->id)};
    int argc = 2;
    for (size_t i = 0; i < 13; i++)
        if (f[i][1] && f[i][1][0])
            argv[argc++] = f[i][0], argv[argc++] = f[i][1];
    store_pipe_append_argv(w->ss, argc, argv, NULL);
    free(phones);
}

static void write_binds(struct wr *w)
{
    size_t nb = topology_binding_count(w->t);
    for (size_t i = 0; i < nb; i++) {
        const struct topology_binding *b = topology_binding(w->t, (uint32_t)i);
        const char *hs[] = {"HSET", key(w, "bind:", b->device), b->object,
                            topology_node(w->t, b->node)->id};
        store_pipe_append_argv(w->ss, 4, hs, NULL);
        const char *sa[] = {"SADD", key(w, "devices", ""), b->device};
        store_pipe_append_argv(w->ss, 3, sa, NULL);
        w->bind_next[i] = w->bind_first[b->node]; /* a node's bindings, newest first */
        w->bind_first[b->node] = (uint32_t)i;
    }
}

static void write_meta(struct wr *w, const char *state)
{
    char nodes[24], subs[24], binds[24], ms[24];
    snprintf(nodes, sizeof nodes, "%zu", topology_node_count(w->t));
    snprintf(subs, sizeof subs, "%zu", topology_sub_count(w->t));
    snprintf(binds, sizeof binds, "%zu", topology_binding_count(w->t));
    snprintf(ms, sizeof ms, "%lld", (long long)now_ms());
    const char *argv[] = {"HSET",        key(w, "meta", ""),
                          "state",       state,
                          "loaded_ms",   ms,
                          "nodes",       nodes,
                          "subscribers", subs,
                          "bindings",    binds,
                          "source",      w->o && w->o->source ? w->o->source : ""};
    store_pipe_append_argv(w->ss, 14, argv, NULL);
}

static int write_all(struct wr *w)
{
    const struct topology *t = w->t;
    size_t nn = topology_node_count(t), ns = topology_sub_count(t), nb = topology_binding_count(t);
    w->bind_first = xmalloc((nn + 1) * sizeof(uint32_t));
    w->bind_next = xmalloc((nb + 1) * sizeof(uint32_t));
    memset(w->bind_first, 0xff, (nn + 1) * sizeof(uint32_t));
    w->argv = xmalloc((PUSH_BATCH + 2) * sizeof(char *));
    write_meta(w, "writing");
    write_binds(w);
    uint32_t *counts = kind_counts(t);
    const uint32_t *order = topology_node_order(t);
    for (size_t p = 0; p < nn; p++) {
        write_node(w, order[p], counts);
        push_id(w, "nodes", topology_node(t, order[p])->id, p + 1 == nn);
        progress(w, "nodes", p + 1, nn);
    }
    free(counts);
    const uint32_t *sorder = topology_sub_order(t);
    for (size_t i = 0; i < ns; i++) {
        write_sub(w, topology_sub(t, sorder[i]));
        push_id(w, "subs", topology_sub(t, sorder[i])->id, i + 1 == ns);
        progress(w, "subscribers", i + 1, ns);
    }
    write_meta(w, "complete");
    free(w->argv), free(w->bind_first), free(w->bind_next);
    return store_pipe_flush(w->ss);
}

int topology_store_current(struct store_sync *ss, char *v, size_t vsz, char *err, size_t errsz)
{
    char k[KEY_MAX];
    store_sync_key(ss, k, sizeof k, "topo:current");
    redisReply *r = store_sync_command(ss, "GET %s", k);
    if (!r) {
        snprintf(err, errsz, "redis: %s", store_sync_errstr(ss));
        return -EIO;
    }
    int rc = r->type == REDIS_REPLY_STRING ? 0 : r->type == REDIS_REPLY_NIL ? -ENOENT : -EIO;
    if (rc == 0)
        snprintf(v, vsz, "%s", r->str);
    else if (rc == -EIO)
        snprintf(err, errsz, "redis: GET %s: %s", k, r->type == REDIS_REPLY_ERROR ? r->str : "?");
    else
        snprintf(err, errsz, "no topology loaded (import one with farol topology import)");
    freeReplyObject(r);
    return rc;
}

/* INCR the version counter; the new id into v. */
static int new_version(struct store_sync *ss, char *v, size_t vsz, char *err, size_t errsz)
{
    char k[KEY_MAX];
    store_sync_key(ss, k, sizeof k, "topo:seq");
    redisReply *r = store_sync_command(ss, "INCR %s", k);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    if (ok)
        snprintf(v, vsz, "%lld", r->integer);
    else
        snprintf(err, errsz, "redis: INCR %s: %s", k,
                 !r                             ? store_sync_errstr(ss)
                 : r->type == REDIS_REPLY_ERROR ? r->str
                                                : "?");
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -EIO;
}

static int swap(struct store_sync *ss, const char *prev, const char *v, char *err, size_t errsz)
{
    char k[KEY_MAX];
    store_sync_key(ss, k, sizeof k, "topo:current");
    const char *argv[] = {"EVAL", swap_lua, "1", k, prev, v};
    redisReply *r = store_sync_command_argv(ss, 6, argv, NULL);
    int rc = 0;
    if (!r || r->type != REDIS_REPLY_STRING) {
        snprintf(err, errsz, "redis: swap failed: %s",
                 !r                             ? store_sync_errstr(ss)
                 : r->type == REDIS_REPLY_ERROR ? r->str
                                                : "?");
        rc = -EIO;
    } else if (strcmp(r->str, "ok")) {
        snprintf(err, errsz,
                 "another import made version %s current meanwhile; this one was "
                 "discarded",
                 r->str);
        rc = -EAGAIN;
    }
    if (r)
        freeReplyObject(r);
    return rc;
}

int topology_store_write(struct store_sync *ss, const struct topology *t,
                         const struct topology_store_write_opts *o, char *version, size_t vsz,
                         char *err, size_t errsz)
{
    char prev[64] = "", v[64];
    int rc = topology_store_current(ss, prev, sizeof prev, err, errsz);
    if (rc == -EIO || new_version(ss, v, sizeof v, err, errsz) < 0)
        return -EIO;
    store_pipe_reset(ss);
    struct wr w = {.ss = ss, .t = t, .v = v, .o = o};
    rc = write_all(&w);
    const struct store_pipe_stats *st = store_pipe_stats(ss);
    if (rc < 0)
        snprintf(err, errsz, "redis: %s", store_sync_errstr(ss));
    else if (st->errors)
        snprintf(err, errsz, "redis: %llu commands failed, the first: %s",
                 (unsigned long long)st->errors, st->first_error),
            rc = -EIO;
    else
        rc = swap(ss, prev, v, err, errsz);
    if (rc < 0) {
        char e2[256];
        topology_store_delete(ss, v, NULL, NULL, e2, sizeof e2); /* best effort */
        return rc;
    }
    snprintf(version, vsz, "%s", v);
    if (prev[0] && topology_store_delete(ss, prev, o ? o->progress : NULL,
                                         o ? o->progress_arg : NULL, err, errsz) < 0)
        return 0; /* the new version is current; the old one's keys stay (err says why) */
    err[0] = '\0';
    return 0;
}
