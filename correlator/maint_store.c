/* maint_store: windows as farol:maint:{id} (hash), farol:maint:{id}:nodes (set) and
 * farol:maint:schedule (sorted set by start). A write is one MULTI/EXEC: the commands are
 * pipelined, then EXEC runs alone so that an error inside the transaction is seen too. */
#include "correlator/maint_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/store.h"
#include "core/xmalloc.h"

#define PAGE 500
#define RETAIN_MS (30LL * 24 * 60 * 60 * 1000)
#define SADD_BATCH 500

struct keys {
    char hash[512], nodes[512], sched[512];
};

static int keys_for(struct store_sync *ss, const char *id, struct keys *k, char *err, size_t errsz)
{
    if (!id || !*id) {
        snprintf(err, errsz, "maintenance: a window without id cannot be stored");
        return -EINVAL;
    }
    if (store_sync_key(ss, k->hash, sizeof k->hash, "maint:%s", id) < 0 ||
        store_sync_key(ss, k->nodes, sizeof k->nodes, "maint:%s:nodes", id) < 0 ||
        store_sync_key(ss, k->sched, sizeof k->sched, "maint:schedule") < 0) {
        snprintf(err, errsz, "maintenance: window id too long for a key");
        return -EINVAL;
    }
    return 0;
}

static int redis_fail(struct store_sync *ss, const redisReply *r, char *err, size_t errsz)
{
    snprintf(err, errsz, "redis: %s",
             !r                             ? store_sync_errstr(ss)
             : r->type == REDIS_REPLY_ERROR ? r->str
                                            : "unexpected reply");
    return -EIO;
}

/* Send the pipelined MULTI and commands, then EXEC; every reply inside must be a success. */
static int exec_checked(struct store_sync *ss, char *err, size_t errsz)
{
    if (store_pipe_flush(ss) < 0)
        return redis_fail(ss, NULL, err, errsz);
    const struct store_pipe_stats *st = store_pipe_stats(ss);
    if (st->errors) {
        snprintf(err, errsz, "redis: %s", st->first_error);
        redisReply *d = store_sync_command(ss, "DISCARD");
        if (d)
            freeReplyObject(d);
        return -EIO;
    }
    redisReply *r = store_sync_command(ss, "EXEC");
    int rc = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        rc = redis_fail(ss, r, err, errsz);
    for (size_t i = 0; rc == 0 && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ERROR)
            rc = redis_fail(ss, r->element[i], err, errsz);
    if (r)
        freeReplyObject(r);
    return rc;
}

static void append_hash(struct store_sync *ss, const struct keys *k, const struct maintenance *w)
{
    char seq[16], start[24], end[24], aff[16];
    snprintf(seq, sizeof seq, "%" PRIu32, w->seq);
    snprintf(start, sizeof start, "%" PRId64, w->start_ms);
    snprintf(end, sizeof end, "%" PRId64, w->end_ms);
    snprintf(aff, sizeof aff, "%" PRIu32, w->affected_subscribers);
    const char *argv[16] = {
        "HSET", k->hash,  "phase", maint_phase_name(w->phase), "seq", seq, "start_ms",
        start,  "end_ms", end,     "affected_subscribers",     aff};
    int argc = 12;
    if (w->description)
        argv[argc++] = "description", argv[argc++] = w->description;
    if (w->recurrence)
        argv[argc++] = "recurrence", argv[argc++] = w->recurrence;
    store_pipe_append_argv(ss, argc, argv, NULL);
}

static void append_nodes(struct store_sync *ss, const struct keys *k, const struct id_list *l)
{
    const char *argv[SADD_BATCH + 2] = {"SADD", k->nodes};
    for (size_t i = 0; i < l->n;) {
        int argc = 2;
        while (i < l->n && argc < SADD_BATCH + 2)
            argv[argc++] = l->ids[i++];
        store_pipe_append_argv(ss, argc, argv, NULL);
    }
}

int maint_store_save(struct store_sync *ss, const struct maintenance *w, char *err, size_t errsz)
{
    struct keys k;
    int rc = keys_for(ss, w->id, &k, err, errsz);
    if (rc < 0)
        return rc;
    bool live =
        w->phase == MAINT_SCHEDULED || w->phase == MAINT_UPDATED || w->phase == MAINT_STARTED;
    char score[24], expire[24];
    snprintf(score, sizeof score, "%" PRId64, w->start_ms);
    snprintf(expire, sizeof expire, "%" PRId64, (int64_t)(w->end_ms + RETAIN_MS));
    store_pipe_reset(ss);
    store_pipe_append(ss, "MULTI");
    store_pipe_append(ss, "DEL %s %s", k.hash, k.nodes);
    append_hash(ss, &k, w);
    append_nodes(ss, &k, &w->nodes);
    if (live) {
        store_pipe_append(ss, "ZADD %s %s %s", k.sched, score, w->id);
    } else {
        store_pipe_append(ss, "ZREM %s %s", k.sched, w->id);
        store_pipe_append(ss, "PEXPIREAT %s %s", k.hash, expire);
        if (w->nodes.n)
            store_pipe_append(ss, "PEXPIREAT %s %s", k.nodes, expire);
    }
    return exec_checked(ss, err, errsz);
}

int maint_store_delete(struct store_sync *ss, const char *id, char *err, size_t errsz)
{
    struct keys k;
    int rc = keys_for(ss, id, &k, err, errsz);
    if (rc < 0)
        return rc;
    store_pipe_reset(ss);
    store_pipe_append(ss, "MULTI");
    store_pipe_append(ss, "DEL %s %s", k.hash, k.nodes);
    store_pipe_append(ss, "ZREM %s %s", k.sched, id);
    return exec_checked(ss, err, errsz);
}

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* One field of the hash into w; unknown fields are ignored (newer writers). */
static void field(struct maintenance *w, const char *f, const char *v)
{
    if (!strcmp(f, "phase"))
        maint_phase_parse(v, &w->phase);
    else if (!strcmp(f, "seq"))
        w->seq = (uint32_t)num(v);
    else if (!strcmp(f, "start_ms"))
        w->start_ms = num(v);
    else if (!strcmp(f, "end_ms"))
        w->end_ms = num(v);
    else if (!strcmp(f, "affected_subscribers"))
        w->affected_subscribers = (uint32_t)num(v);
    else if (!strcmp(f, "description") && !w->description)
        w->description = xstrdup(v);
    else if (!strcmp(f, "recurrence") && !w->recurrence)
        w->recurrence = xstrdup(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read window id into w (the caller deinits). Returns 0, -ENOENT (hash gone) or -EIO. */
static int load_one(struct store_sync *ss, const char *id, struct maintenance *w, char *err,
                    size_t errsz)
{
    struct keys k;
    int rc = keys_for(ss, id, &k, err, errsz);
    if (rc < 0)
        return -ENOENT;
    redisReply *r = store_sync_command(ss, "HGETALL %s", k.hash);
    if (!r || r->type != REDIS_REPLY_ARRAY)
        rc = redis_fail(ss, r, err, errsz);
    else if (r->elements == 0)
        rc = -ENOENT;
    for (size_t i = 0; rc == 0 && i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING &&
            r->element[i + 1]->type == REDIS_REPLY_STRING)
            field(w, r->element[i]->str, r->element[i + 1]->str);
    if (r)
        freeReplyObject(r);
    if (rc < 0)
        return rc;
    w->id = xstrdup(id);
    r = store_sync_command(ss, "SMEMBERS %s", k.nodes); /* at most EVENT_MAX_IDS */
    if (!r || r->type != REDIS_REPLY_ARRAY)
        rc = redis_fail(ss, r, err, errsz);
    for (size_t i = 0; rc == 0 && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            id_list_add(&w->nodes, r->element[i]->str);
    if (r)
        freeReplyObject(r);
    if (w->nodes.n) /* sets have no order: sorted, as the correlator keeps them */
        qsort(w->nodes.ids, w->nodes.n, sizeof *w->nodes.ids, cmp_str);
    return rc;
}

/* Load the ids of one page; returns how many the page had, or -EIO / fn's value. */
static long load_page(struct store_sync *ss, const struct keys *k, long off, maint_store_fn fn,
                      void *arg, char *err, size_t errsz)
{
    redisReply *r = store_sync_command(ss, "ZRANGE %s %ld %ld", k->sched, off, off + PAGE - 1);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        redis_fail(ss, r, err, errsz);
        if (r)
            freeReplyObject(r);
        return -EIO;
    }
    long rc = (long)r->elements;
    for (size_t i = 0; rc >= 0 && i < r->elements; i++) {
        struct event ev;
        event_init(&ev, EVENT_MAINTENANCE);
        int one = load_one(ss, r->element[i]->str, &ev.u.maintenance, err, errsz);
        if (one == -ENOENT)
            log_warn("maint", "window %s is scheduled but its record is gone; skipped",
                     r->element[i]->str);
        else if (one < 0 || (one = fn(arg, &ev.u.maintenance)) < 0)
            rc = one;
        event_deinit(&ev);
    }
    freeReplyObject(r);
    return rc;
}

int maint_store_load(struct store_sync *ss, maint_store_fn fn, void *arg, char *err, size_t errsz)
{
    struct keys k;
    int rc = keys_for(ss, "schedule", &k, err, errsz);
    if (rc < 0)
        return -EIO;
    for (long off = 0;; off += PAGE) {
        long n = load_page(ss, &k, off, fn, arg, err, errsz);
        if (n < 0)
            return (int)n;
        if (n < PAGE)
            return 0;
    }
}
