/* store_sync: the blocking Redis connection for command-line tools and bulk imports, with a
 * counting pipeline. Never used on the loop: every call may block up to command_timeout. */
#include "core/store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_impl.h"
#include "core/xmalloc.h"

struct store_sync {
    redisContext *c;
    char *prefix;
    size_t batch;   /* commands per automatic flush */
    size_t pending; /* appended, reply not read yet */
    struct store_pipe_stats stats;
    char errstr[256];
};

static struct timeval ms_to_tv(int64_t ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

static redisContext *open_ctx(const struct store_config *cfg, char *err, size_t errsz)
{
    struct store_addr a;
    if (store_addr_parse(cfg->address, &a, err, errsz) < 0)
        return NULL;
    struct timeval tv = ms_to_tv(cfg->connect_timeout_ms);
    redisContext *c = a.unix_path ? redisConnectUnixWithTimeout(a.unix_path, tv)
                                  : redisConnectWithTimeout(a.host, a.port, tv);
    store_addr_deinit(&a);
    if (!c)
        abort(); /* hiredis returns NULL only when out of memory */
    if (c->err) {
        snprintf(err, errsz, "cannot connect to %s: %s", cfg->address, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, ms_to_tv(cfg->command_timeout_ms)) != REDIS_OK) {
        snprintf(err, errsz, "%s: cannot set the command timeout: %s", cfg->address, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* One handshake step: 0 when the server accepted it, else a message in err. */
static int handshake_step(redisContext *c, const struct store_config *cfg, const char *what,
                          int argc, const char **argv, char *err, size_t errsz)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) {
        snprintf(err, errsz, "%s: %s failed: %s", cfg->address, what, c->errstr);
        return -EIO;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        char msg[160];
        store_scrub(r->str, cfg->password, msg, sizeof msg);
        snprintf(err, errsz, "%s: %s rejected by the server: %s", cfg->address, what, msg);
        rc = -EACCES;
    }
    freeReplyObject(r);
    return rc;
}

static int handshake(redisContext *c, const struct store_config *cfg, char *err, size_t errsz)
{
    if (cfg->password &&
        handshake_step(c, cfg, "AUTH", 2, (const char *[]){"AUTH", cfg->password}, err, errsz))
        return -1;
    char db[16];
    snprintf(db, sizeof db, "%d", cfg->db);
    if (cfg->db && handshake_step(c, cfg, "SELECT", 2, (const char *[]){"SELECT", db}, err, errsz))
        return -1;
    return handshake_step(c, cfg, "PING", 1, (const char *[]){"PING"}, err, errsz) ? -1 : 0;
}

struct store_sync *store_sync_connect(const struct store_config *cfg, char *err, size_t errsz)
{
    redisContext *c = open_ctx(cfg, err, errsz);
    if (!c)
        return NULL;
    if (handshake(c, cfg, err, errsz) < 0) {
        redisFree(c);
        return NULL;
    }
    struct store_sync *ss = xcalloc(1, sizeof *ss);
    ss->c = c;
    ss->prefix = xstrdup(cfg->prefix);
    ss->batch = 1000;
    return ss;
}

void store_sync_free(struct store_sync *ss)
{
    if (!ss)
        return;
    redisFree(ss->c);
    free(ss->prefix);
    free(ss);
}

static redisReply *checked(struct store_sync *ss, void *reply)
{
    if (!reply)
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
    return reply;
}

struct redisReply *store_sync_command(struct store_sync *ss, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    void *r = redisvCommand(ss->c, fmt, ap);
    va_end(ap);
    return checked(ss, r);
}

struct redisReply *store_sync_command_argv(struct store_sync *ss, int argc, const char **argv,
                                           const size_t *argvlen)
{
    return checked(ss, redisCommandArgv(ss->c, argc, argv, argvlen));
}

const char *store_sync_errstr(const struct store_sync *ss)
{
    return ss->errstr;
}

int store_sync_key(const struct store_sync *ss, char *buf, size_t bufsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = store_vkey(ss->prefix, buf, bufsz, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- pipeline ---- */

void store_pipe_set_batch(struct store_sync *ss, size_t n)
{
    ss->batch = n ? n : 1;
}

static void count_reply(struct store_sync *ss, const redisReply *r)
{
    uint64_t index = ss->stats.replies++;
    if (r->type != REDIS_REPLY_ERROR)
        return;
    if (ss->stats.errors++ == 0) {
        ss->stats.first_error_index = index;
        snprintf(ss->stats.first_error, sizeof ss->stats.first_error, "%s", r->str);
    }
}

int store_pipe_flush(struct store_sync *ss)
{
    while (ss->pending) {
        void *r;
        if (redisGetReply(ss->c, &r) != REDIS_OK) {
            snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
            return -EIO;
        }
        ss->pending--;
        count_reply(ss, r);
        freeReplyObject(r);
    }
    return 0;
}

static int appended(struct store_sync *ss, int rc)
{
    if (rc != REDIS_OK) { /* hiredis marks the context failed even for a bad format */
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return -EIO;
    }
    ss->pending++;
    ss->stats.sent++;
    return ss->pending >= ss->batch ? store_pipe_flush(ss) : 0;
}

int store_pipe_append_argv(struct store_sync *ss, int argc, const char **argv,
                           const size_t *argvlen)
{
    if (ss->c->err) {
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return -EIO;
    }
    return appended(ss, redisAppendCommandArgv(ss->c, argc, argv, argvlen));
}

int store_pipe_append(struct store_sync *ss, const char *fmt, ...)
{
    if (ss->c->err) {
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return -EIO;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(ss->c, fmt, ap);
    va_end(ap);
    return appended(ss, rc);
}

const struct store_pipe_stats *store_pipe_stats(const struct store_sync *ss)
{
    return &ss->stats;
}

void store_pipe_reset(struct store_sync *ss)
{
    memset(&ss->stats, 0, sizeof ss->stats);
}

/* ---- reply pipeline ---- */

int store_sync_queue(struct store_sync *ss, const char *fmt, ...)
{
    if (ss->c->err) {
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return -EIO;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(ss->c, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return -EIO;
    }
    return 0;
}

int store_sync_queue_argv(struct store_sync *ss, int argc, const char **argv, const size_t *argvlen)
{
    if (ss->c->err || redisAppendCommandArgv(ss->c, argc, argv, argvlen) != REDIS_OK) {
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return -EIO;
    }
    return 0;
}

struct redisReply *store_sync_take(struct store_sync *ss)
{
    void *r = NULL;
    if (redisGetReply(ss->c, &r) != REDIS_OK) {
        snprintf(ss->errstr, sizeof ss->errstr, "%s", ss->c->errstr);
        return NULL;
    }
    return r;
}

void store_batch_init(struct store_batch *b, struct store_sync *ss)
{
    b->ss = ss;
    b->pending = 0;
    b->failed = 0;
}

void store_batch_add(struct store_batch *b, int argc, const char **argv)
{
    if (b->failed)
        return;
    if (store_sync_queue_argv(b->ss, argc, argv, NULL) < 0)
        b->failed = 1;
    else
        b->pending++;
}

struct redisReply *store_batch_next(struct store_batch *b)
{
    if (b->failed || !b->pending)
        return NULL;
    b->pending--;
    redisReply *r = store_sync_take(b->ss);
    if (!r)
        b->failed = 1;
    return r;
}

int store_batch_end(struct store_batch *b)
{
    while (b->pending && !b->failed)
        freeReplyObject(store_batch_next(b));
    return b->failed ? -EIO : 0;
}
