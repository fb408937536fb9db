/* topology_store_read: reading a topology version back from Redis (paged: one Lua call returns
 * 500 records), deleting a version, and the bounded queries of show and impact. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/xmalloc.h"
#include "correlator/topology_store.h"

#define PAGE 500
#define KEY_MAX 600

/* KEYS[1] list of ids; ARGV[1] record key prefix, ARGV[2..3] range, ARGV[4..] fields. */
static const char page_lua[] = "local ids = redis.call('LRANGE', KEYS[1], ARGV[2], ARGV[3])\n"
                               "local out = {}\n"
                               "for i, id in ipairs(ids) do\n"
                               "  out[i] = redis.call('HMGET', ARGV[1] .. id, unpack(ARGV, 4))\n"
                               "end\n"
                               "return out";

static int fail(struct store_sync *ss, redisReply *r, const char *what, char *err, size_t errsz)
{
    snprintf(err, errsz, "redis: %s: %s", what,
             !r                             ? store_sync_errstr(ss)
             : r->type == REDIS_REPLY_ERROR ? r->str
                                            : "unexpected reply");
    if (r)
        freeReplyObject(r);
    return -EIO;
}

/* LRANGE list [start, start + PAGE): the reply, or NULL (err set). */
static redisReply *lrange(struct store_sync *ss, const char *list, size_t start, size_t n,
                          char *err, size_t errsz)
{
    redisReply *r = store_sync_command(ss, "LRANGE %s %llu %llu", list, (unsigned long long)start,
                                       (unsigned long long)(start + n - 1));
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        fail(ss, r, "LRANGE", err, errsz);
        return NULL;
    }
    return r;
}

static int unlink_ids(struct store_sync *ss, const char *v, const char *list, const char *k1,
                      const char *k2, topology_store_progress_fn fn, void *arg, char *err,
                      size_t errsz)
{
    char lk[KEY_MAX], a[KEY_MAX], b[KEY_MAX];
    store_sync_key(ss, lk, sizeof lk, "topo:%s:%s", v, list);
    for (size_t start = 0;; start += PAGE) {
        redisReply *r = lrange(ss, lk, start, PAGE, err, errsz);
        if (!r)
            return -EIO;
        for (size_t i = 0; i < r->elements; i++) {
            store_sync_key(ss, a, sizeof a, "topo:%s:%s%s", v, k1, r->element[i]->str);
            if (k2)
                store_sync_key(ss, b, sizeof b, "topo:%s:%s%s", v, k2, r->element[i]->str);
            const char *argv[] = {"UNLINK", a, b};
            store_pipe_append_argv(ss, k2 ? 3 : 2, argv, NULL);
        }
        size_t got = r->elements;
        freeReplyObject(r);
        if (store_pipe_flush(ss) < 0)
            return fail(ss, NULL, "UNLINK", err, errsz);
        if (fn && got)
            fn(arg, "delete", start + got, 0);
        if (got < PAGE)
            return 0;
    }
}

static int unlink_binds(struct store_sync *ss, const char *v, char *err, size_t errsz)
{
    char dk[KEY_MAX], bk[KEY_MAX];
    store_sync_key(ss, dk, sizeof dk, "topo:%s:devices", v);
    unsigned long long cursor = 0;
    do {
        redisReply *r = store_sync_command(ss, "SSCAN %s %llu COUNT %d", dk, cursor, PAGE);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            return fail(ss, r, "SSCAN", err, errsz);
        cursor = strtoull(r->element[0]->str, NULL, 10);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            store_sync_key(ss, bk, sizeof bk, "topo:%s:bind:%s", v, r->element[1]->element[i]->str);
            store_pipe_append(ss, "UNLINK %s", bk);
        }
        freeReplyObject(r);
        if (store_pipe_flush(ss) < 0)
            return fail(ss, NULL, "UNLINK", err, errsz);
    } while (cursor);
    return 0;
}

int topology_store_delete(struct store_sync *ss, const char *v, topology_store_progress_fn fn,
                          void *arg, char *err, size_t errsz)
{
    if (unlink_ids(ss, v, "nodes", "node:", "children:", fn, arg, err, errsz) < 0 ||
        unlink_ids(ss, v, "subs", "sub:", NULL, fn, arg, err, errsz) < 0 ||
        unlink_binds(ss, v, err, errsz) < 0)
        return -EIO;
    static const char *const tails[] = {"nodes", "subs", "devices", "meta"};
    char k[KEY_MAX];
    for (int i = 0; i < 4; i++) {
        store_sync_key(ss, k, sizeof k, "topo:%s:%s", v, tails[i]);
        store_pipe_append(ss, "UNLINK %s", k);
    }
    return store_pipe_flush(ss) < 0 ? fail(ss, NULL, "UNLINK", err, errsz) : 0;
}

/* ---- reading a version back ---- */

static const char *const node_fields[] = {"id", "kind", "name", "area", "parents", NULL};
static const char *const sub_fields[] = {
    "id",       "node",        "name",    "phones", "telegram", "channels",  "locale",
    "timezone", "quiet_hours", "opt_out", "plan",   "cap",      "cycle_day", NULL};
/* What correlation needs of a subscriber: no contacts, no preferences. */
static const char *const sub_fields_lean[] = {"id", "node", "cap", "cycle_day", "timezone", NULL};

struct rd {
    struct topology *t;
    struct topology_errs errs;
    const char *file;
    size_t line;
    struct topology_field f[64];
    size_t n;
    json_t *json[8];
    size_t njson;
    char *split;
};

static void put(struct rd *d, const char *key, const char *value)
{
    if (d->n < sizeof d->f / sizeof d->f[0])
        d->f[d->n++] = (struct topology_field){key, value, (int)d->line};
}

/* A record's fields as topology_add takes them: JSON arrays and comma lists repeat the key. */
static void fields(struct rd *d, const char *const *names, const redisReply *rec)
{
    d->n = 0;
    for (size_t i = 0; i < rec->elements && names[i]; i++) {
        const redisReply *e = rec->element[i];
        if (e->type != REDIS_REPLY_STRING || !e->len)
            continue;
        if (!strcmp(names[i], "parents") || !strcmp(names[i], "phones")) {
            json_t *a = json_loads(e->str, 0, NULL);
            for (size_t j = 0; a && j < json_array_size(a); j++)
                if (json_is_string(json_array_get(a, j)))
                    put(d, names[i], json_string_value(json_array_get(a, j)));
            if (a && d->njson < 8)
                d->json[d->njson++] = a;
            else
                json_decref(a);
        } else if (!strcmp(names[i], "channels")) {
            d->split = xstrdup(e->str);
            for (char *s = strtok(d->split, ","); s; s = strtok(NULL, ","))
                put(d, names[i], s);
        } else {
            put(d, names[i], e->str);
        }
    }
}

static void release(struct rd *d)
{
    while (d->njson)
        json_decref(d->json[--d->njson]);
    free(d->split), d->split = NULL;
}

static int read_list(struct store_sync *ss, struct rd *d, const char *v, const char *list,
                     const char *prefix, const char *const *names, enum topology_rec type,
                     char *err, size_t errsz)
{
    char lk[KEY_MAX], pk[KEY_MAX], a[24], b[24];
    store_sync_key(ss, lk, sizeof lk, "topo:%s:%s", v, list);
    store_sync_key(ss, pk, sizeof pk, "topo:%s:%s", v, prefix);
    const char *argv[32] = {"EVAL", page_lua, "1", lk, pk, a, b};
    int argc = 7;
    for (size_t i = 0; names[i]; i++)
        argv[argc++] = names[i];
    for (size_t start = 0;; start += PAGE) {
        snprintf(a, sizeof a, "%zu", start);
        snprintf(b, sizeof b, "%zu", start + PAGE - 1);
        redisReply *r = store_sync_command_argv(ss, argc, argv, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY)
            return fail(ss, r, "reading the topology", err, errsz);
        for (size_t i = 0; i < r->elements; i++) {
            d->line++;
            fields(d, names, r->element[i]);
            topology_add(d->t, type, d->f, d->n, d->file, (int)d->line, &d->errs);
            release(d);
        }
        size_t got = r->elements;
        freeReplyObject(r);
        if (got < PAGE)
            return 0;
    }
}

static int read_binds(struct store_sync *ss, struct rd *d, const char *v, char *err, size_t errsz)
{
    char dk[KEY_MAX], bk[KEY_MAX];
    store_sync_key(ss, dk, sizeof dk, "topo:%s:devices", v);
    unsigned long long dc = 0, hc;
    do {
        redisReply *r = store_sync_command(ss, "SSCAN %s %llu COUNT %d", dk, dc, PAGE);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            return fail(ss, r, "SSCAN", err, errsz);
        dc = strtoull(r->element[0]->str, NULL, 10);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *dev = r->element[1]->element[i]->str;
            store_sync_key(ss, bk, sizeof bk, "topo:%s:bind:%s", v, dev);
            hc = 0;
            do {
                redisReply *h = store_sync_command(ss, "HSCAN %s %llu COUNT %d", bk, hc, PAGE);
                if (!h || h->type != REDIS_REPLY_ARRAY || h->elements != 2) {
                    freeReplyObject(r);
                    return fail(ss, h, "HSCAN", err, errsz);
                }
                hc = strtoull(h->element[0]->str, NULL, 10);
                for (size_t j = 0; j + 1 < h->element[1]->elements; j += 2) {
                    struct topology_field f[3] = {
                        {"device", dev, (int)++d->line},
                        {"object", h->element[1]->element[j]->str, (int)d->line},
                        {"node", h->element[1]->element[j + 1]->str, (int)d->line}};
                    topology_add(d->t, TOPOLOGY_REC_BIND, f, 3, d->file, (int)d->line, &d->errs);
                }
                freeReplyObject(h);
            } while (hc);
        }
        freeReplyObject(r);
    } while (dc);
    return 0;
}

static struct topology *load(struct store_sync *ss, const char *const *subf, char *version,
                             size_t vsz, char *err, size_t errsz)
{
    char v[64], file[96];
    if (topology_store_current(ss, v, sizeof v, err, errsz) < 0)
        return NULL;
    struct rd d = {.t = topology_new()};
    snprintf(file, sizeof file, "redis:topo:%s", v);
    d.file = topology_file(d.t, file);
    int rc = read_list(ss, &d, v, "nodes", "node:", node_fields, TOPOLOGY_REC_NODE, err, errsz);
    if (!rc)
        rc = read_list(ss, &d, v, "subs", "sub:", subf, TOPOLOGY_REC_SUB, err, errsz);
    if (!rc)
        rc = read_binds(ss, &d, v, err, errsz);
    if (!rc && (topology_finish(d.t, &d.errs) < 0 || d.errs.n)) {
        /* a replaced version vanishing under us shows up as dangling references */
        snprintf(err, errsz, "version %s is inconsistent (%zu problems, the first: %s)", v,
                 d.errs.n, d.errs.n ? d.errs.msgs[0] : "?");
        rc = -EIO;
    }
    topology_errs_deinit(&d.errs);
    if (rc) {
        topology_free(d.t);
        return NULL;
    }
    snprintf(version, vsz, "%s", v);
    return d.t;
}

struct topology *topology_store_load(struct store_sync *ss, char *version, size_t vsz, char *err,
                                     size_t errsz)
{
    return load(ss, sub_fields, version, vsz, err, errsz);
}

struct topology *topology_store_load_lean(struct store_sync *ss, char *version, size_t vsz,
                                          char *err, size_t errsz)
{
    return load(ss, sub_fields_lean, version, vsz, err, errsz);
}

/* ---- planner queries: bounded by the answer ---- */

static char *dupfield(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING ? xstrdup(e->str) : NULL;
}

int topology_store_node_get(struct store_sync *ss, const char *v, const char *id,
                            struct topology_store_node *out, char *err, size_t errsz)
{
    char k[KEY_MAX];
    memset(out, 0, sizeof *out);
    if (store_sync_key(ss, k, sizeof k, "topo:%s:node:%s", v, id) < 0) {
        snprintf(err, errsz, "node id too long");
        return -ENOENT;
    }
    /* a fixed set of fields: HGETALL is bounded */
    redisReply *r = store_sync_command(ss, "HGETALL %s", k);
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return fail(ss, r, "HGETALL", err, errsz);
    if (!r->elements) {
        freeReplyObject(r);
        snprintf(err, errsz, "no node '%s' in topology version %s", id, v);
        return -ENOENT;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *f = r->element[i]->str;
        const redisReply *val = r->element[i + 1];
        uint64_t num = strtoull(val->str, NULL, 10);
        char **s = !strcmp(f, "id")         ? &out->id
                   : !strcmp(f, "kind")     ? &out->kind
                   : !strcmp(f, "name")     ? &out->name
                   : !strcmp(f, "area")     ? &out->area
                   : !strcmp(f, "parents")  ? &out->parents
                   : !strcmp(f, "bindings") ? &out->bindings
                                            : NULL;
        if (s)
            *s = dupfield(val);
        else if (!strcmp(f, "subs"))
            out->subs = num;
        else if (!strcmp(f, "direct_subs"))
            out->direct_subs = num;
        else if (!strcmp(f, "sub_lo"))
            out->sub_lo = num;
        else if (!strcmp(f, "children"))
            out->nchildren = num;
        else if (!strncmp(f, "n:", 2)) {
            enum topology_kind kd;
            const char *label;
            if (topology_kind_parse(f + 2, &kd, &label) == 0)
                out->count[kd] = num;
        }
    }
    freeReplyObject(r);
    return 0;
}

void topology_store_node_deinit(struct topology_store_node *n)
{
    free(n->id), free(n->kind), free(n->name), free(n->area), free(n->parents);
    free(n->bindings);
    memset(n, 0, sizeof *n);
}

static int take_strings(const redisReply *arr, char ***ids, size_t *n)
{
    *ids = xcalloc(arr->elements + 1, sizeof(char *));
    *n = 0;
    for (size_t i = 0; i < arr->elements; i++)
        if (arr->element[i]->type == REDIS_REPLY_STRING)
            (*ids)[(*n)++] = xstrdup(arr->element[i]->str);
    return 0;
}

int topology_store_impact_subs(struct store_sync *ss, const char *v,
                               const struct topology_store_node *node, uint64_t offset,
                               uint64_t limit, char ***ids, size_t *n, char *err, size_t errsz)
{
    *ids = NULL, *n = 0;
    if (offset >= node->subs || !limit)
        return 0;
    uint64_t count = node->subs - offset < limit ? node->subs - offset : limit;
    char lk[KEY_MAX];
    store_sync_key(ss, lk, sizeof lk, "topo:%s:subs", v);
    redisReply *r = lrange(ss, lk, (size_t)(node->sub_lo + offset), (size_t)count, err, errsz);
    if (!r)
        return -EIO;
    take_strings(r, ids, n);
    freeReplyObject(r);
    return 0;
}

int topology_store_children(struct store_sync *ss, const char *v, const char *id,
                            unsigned long long *cursor, char ***ids, size_t *n, char *err,
                            size_t errsz)
{
    char k[KEY_MAX];
    *ids = NULL, *n = 0;
    store_sync_key(ss, k, sizeof k, "topo:%s:children:%s", v, id);
    redisReply *r = store_sync_command(ss, "SSCAN %s %llu COUNT %d", k, *cursor, PAGE);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return fail(ss, r, "SSCAN", err, errsz);
    *cursor = strtoull(r->element[0]->str, NULL, 10);
    take_strings(r->element[1], ids, n);
    freeReplyObject(r);
    return 0;
}
