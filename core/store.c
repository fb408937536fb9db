/* store: the asynchronous Redis connection on the loop. The blocking variant is in
 * store_sync.c; configuration, addresses and keys in store_config.c.
 *
 * One hiredis async context at a time. Every request we hand to hiredis is also kept in our
 * own FIFO (hiredis answers in order), which tells the watchdog how old the oldest outstanding
 * reply is. hiredis itself calls every pending callback with a NULL reply when a context dies,
 * whoever killed it; s->dying_err tells those callbacks why. */
#include "core/store.h"

#include <assert.h>
#include <errno.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/store_impl.h"
#include "core/xmalloc.h"

#define SUBSYS "store"

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_READY };

struct req {
    struct req *next;
    store_reply_fn cb;
    void *arg;
    int64_t sent_ms; /* monotonic */
    int err;         /* fail-fast requests only */
};

struct req_list {
    struct req *head, *tail;
    size_t n;
};

struct watcher {
    store_state_fn fn;
    void *arg;
};

struct store {
    struct loop *loop;
    struct store_config cfg;
    struct store_addr addr;
    int addr_ok;
    redisAsyncContext *ac; /* NULL once we know it is dying */
    enum conn_state state;
    int closing;
    int dying_err;          /* handed to the NULL replies of the context being torn down */
    struct req_list sent;   /* handed to hiredis, oldest first */
    struct req_list failed; /* failed fast, delivered by fail_timer */
    struct loop_timer *connect_timer, *watchdog, *retry_timer, *fail_timer;
    int attempt;
    int64_t ready_ms;
    int64_t stall_ms;       /* the watchdog found the loop, not the server, was late */
    char last_failure[256]; /* the connect failure last logged at warn/error */
    struct watcher *watchers;
    size_t nwatchers;
    uint32_t rng;
};

/* Our own clock: the loop's cached time can be stale after a long callback, which would make
 * the watchdog declare a healthy connection hung. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void list_push(struct req_list *l, struct req *q)
{
    q->next = NULL;
    if (l->tail)
        l->tail->next = q;
    else
        l->head = q;
    l->tail = q;
    l->n++;
}

static struct req *list_pop(struct req_list *l)
{
    struct req *q = l->head;
    if (!q)
        return NULL;
    l->head = q->next;
    if (!l->head)
        l->tail = NULL;
    l->n--;
    return q;
}

static struct req *req_new(store_reply_fn cb, void *arg)
{
    struct req *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->arg = arg;
    q->sent_ms = mono_ms();
    return q;
}

static void fail_later(struct store *s, struct req *q, int err)
{
    q->err = err;
    list_push(&s->failed, q);
    if (!loop_timer_active(s->fail_timer))
        loop_timer_start(s->fail_timer, 0, 0);
}

static void deliver_failed(void *arg)
{
    struct store *s = arg;
    /* Take the whole list: callbacks may fail new commands, which then wait for the next tick. */
    struct req_list l = s->failed;
    s->failed = (struct req_list){0};
    struct req *q;
    while ((q = list_pop(&l))) {
        q->cb(q->arg, NULL, q->err);
        free(q);
    }
}

static void notify(struct store *s, int connected)
{
    for (size_t i = 0; i < s->nwatchers; i++)
        s->watchers[i].fn(s->watchers[i].arg, connected);
}

static uint32_t rng_next(struct store *s)
{
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return s->rng = x;
}

/* Exponential backoff with jitter: the delay for attempt n is drawn from [d/2, d] where
 * d = min(reconnect_max, reconnect_min * 2^n), so many clients do not reconnect in lockstep. */
static int64_t next_backoff(struct store *s)
{
    int64_t lo = s->cfg.reconnect_min_ms > 0 ? s->cfg.reconnect_min_ms : 1;
    int64_t hi = s->cfg.reconnect_max_ms > lo ? s->cfg.reconnect_max_ms : lo;
    int64_t d = lo;
    for (int i = 0; i < s->attempt && d < hi; i++)
        d *= 2;
    if (d > hi)
        d = hi;
    if (s->attempt < 62)
        s->attempt++;
    return d - (int64_t)(rng_next(s) % (uint64_t)(d / 2 + 1));
}

/* Failed connection attempts: each new reason once at level, repeats only at debug. */
static void note_failure(struct store *s, enum log_level level, const char *why)
{
    if (strcmp(why, s->last_failure) == 0) {
        log_debug(SUBSYS, "still cannot connect to %s: %s", s->cfg.address, why);
        return;
    }
    snprintf(s->last_failure, sizeof s->last_failure, "%s", why);
    log_kv(level, SUBSYS, NULL, "cannot connect to %s: %s (retrying, backoff up to %lld ms)",
           s->cfg.address, why, (long long)s->cfg.reconnect_max_ms);
}

static void schedule_retry(struct store *s)
{
    loop_timer_start(s->retry_timer, next_backoff(s), 0);
}

/* The current context is gone or going: forget it, fail what it carried, plan a retry. */
static void conn_lost(struct store *s, int err, const char *why, enum log_level level)
{
    int was_ready = s->state == CONN_READY;
    s->ac = NULL;
    s->state = CONN_DOWN;
    s->dying_err = err;
    loop_timer_stop(s->connect_timer);
    loop_timer_stop(s->watchdog);
    if (s->closing)
        return;
    if (was_ready) {
        log_warn(SUBSYS, "connection to %s lost (%s); reconnecting", s->cfg.address, why);
        s->attempt = 0;
        s->last_failure[0] = '\0';
        notify(s, 0);
    } else {
        note_failure(s, level, why);
    }
    schedule_retry(s);
}

/* Tear the context down ourselves. Inside a hiredis callback the free is deferred by hiredis
 * until that callback returns; either way every pending callback gets err. */
static void kill_conn(struct store *s, int err, const char *why, enum log_level level)
{
    redisAsyncContext *ac = s->ac;
    conn_lost(s, err, why, level);
    redisAsyncFree(ac);
}

static const char *ctx_error(const redisAsyncContext *ac)
{
    return ac->c.errstr[0] ? ac->c.errstr : "connection closed";
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct store *s = ac->data;
    struct req *q = list_pop(&s->sent);
    assert(q == privdata);
    (void)privdata; /* only checked by the assertion */
    int err = 0;
    if (!reply) {
        if (s->ac == ac)
            conn_lost(s, s->state == CONN_READY ? -ECONNRESET : -ENOTCONN, ctx_error(ac),
                      LOG_LEVEL_WARN);
        err = s->dying_err;
    }
    q->cb(q->arg, reply, err);
    free(q);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct store *s = ac->data;
    if (status != REDIS_OK && s->ac == ac)
        conn_lost(s, -ENOTCONN, ctx_error(ac), LOG_LEVEL_WARN);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct store *s = ac->data;
    if (s->ac == ac)
        conn_lost(s, s->state == CONN_READY ? -ECONNRESET : -ENOTCONN, ctx_error(ac),
                  LOG_LEVEL_WARN);
}

static void arm_watchdog(struct store *s)
{
    if (s->state == CONN_READY && s->sent.head && !loop_timer_active(s->watchdog))
        loop_timer_start(s->watchdog, s->cfg.command_timeout_ms, 0);
}

static void submit(struct store *s, struct req *q, const char *cmd, size_t len)
{
    if (!s->ac) {
        fail_later(s, q, s->closing ? -ECANCELED : -ENOTCONN);
        return;
    }
    if (redisAsyncFormattedCommand(s->ac, on_reply, q, cmd, len) != REDIS_OK) {
        fail_later(s, q, -ENOTCONN);
        return;
    }
    list_push(&s->sent, q);
    arm_watchdog(s);
}

static void submit_argv(struct store *s, store_reply_fn cb, void *arg, int argc, const char **argv,
                        const size_t *argvlen)
{
    char *cmd;
    int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0)
        abort(); /* only on out of memory */
    submit(s, req_new(cb, arg), cmd, (size_t)len);
    redisFreeCommand(cmd);
}

/* Handshake replies. An error reply is a configuration problem: log it at error level (the
 * server's message, never the password) and retry with backoff. */
static int handshake_ok(struct store *s, const redisReply *r, int err, const char *what)
{
    if (err)
        return 0; /* the context is already being torn down */
    if (r->type != REDIS_REPLY_ERROR)
        return 1;
    char msg[160], why[200];
    store_scrub(r->str, s->cfg.password, msg, sizeof msg);
    snprintf(why, sizeof why, "%s rejected by the server: %s", what, msg);
    kill_conn(s, -ENOTCONN, why, LOG_LEVEL_ERROR);
    return 0;
}

static void on_auth(void *arg, redisReply *r, int err)
{
    handshake_ok(arg, r, err, "AUTH");
}

static void on_select(void *arg, redisReply *r, int err)
{
    handshake_ok(arg, r, err, "SELECT");
}

static void on_ping(void *arg, redisReply *r, int err)
{
    struct store *s = arg;
    if (!handshake_ok(s, r, err, "PING"))
        return;
    loop_timer_stop(s->connect_timer);
    s->state = CONN_READY;
    s->attempt = 0;
    s->last_failure[0] = '\0';
    s->ready_ms = mono_ms();
    log_info(SUBSYS, "connected to %s (db %d)", s->cfg.address, s->cfg.db);
    arm_watchdog(s);
    notify(s, 1);
}

/* AUTH and SELECT go first on the wire; commands issued while connecting queue behind them.
 * PING always ends the handshake so "ready" means the server really answers. */
static void send_handshake(struct store *s)
{
    if (s->cfg.password)
        submit_argv(s, on_auth, s, 2, (const char *[]){"AUTH", s->cfg.password}, NULL);
    if (s->cfg.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", s->cfg.db);
        submit_argv(s, on_select, s, 2, (const char *[]){"SELECT", db}, NULL);
    }
    submit_argv(s, on_ping, s, 1, (const char *[]){"PING"}, NULL);
}

static void start_connect(void *arg)
{
    struct store *s = arg;
    if (!s->addr_ok) {
        note_failure(s, LOG_LEVEL_ERROR, "invalid address");
        schedule_retry(s);
        return;
    }
    redisAsyncContext *ac = s->addr.unix_path ? redisAsyncConnectUnix(s->addr.unix_path)
                                              : redisAsyncConnect(s->addr.host, s->addr.port);
    if (!ac)
        abort(); /* hiredis returns NULL only when out of memory */
    if (ac->c.err) {
        char why[160];
        snprintf(why, sizeof why, "%s", ctx_error(ac));
        redisAsyncFree(ac);
        note_failure(s, LOG_LEVEL_WARN, why);
        schedule_retry(s);
        return;
    }
    ac->data = s;
    redisLibevAttach(loop_ev(s->loop), ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    s->ac = ac;
    s->state = CONN_CONNECTING;
    loop_timer_start(s->connect_timer, s->cfg.connect_timeout_ms, 0);
    send_handshake(s);
}

static void connect_timed_out(void *arg)
{
    struct store *s = arg;
    if (s->state != CONN_CONNECTING)
        return;
    char why[96];
    snprintf(why, sizeof why, "no answer within the connect timeout (%lld ms)",
             (long long)s->cfg.connect_timeout_ms);
    kill_conn(s, -ENOTCONN, why, LOG_LEVEL_WARN);
}

/* An overdue reply may only mean that this process was too busy to look (libev runs expired
 * timers before pending I/O): a reply waiting to be read, or output waiting while the socket
 * can take it, shows the server is alive. */
static int socket_busy(const redisAsyncContext *ac)
{
    struct pollfd p = {.fd = ac->c.fd, .events = POLLIN};
    if (sdslen(ac->c.obuf))
        p.events |= POLLOUT;
    return poll(&p, 1, 0) == 1 && p.revents;
}

static int64_t max3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* A pipelined connection cannot drop one late reply: the next reply would be taken for the
 * wrong command. So an overdue oldest reply condemns the whole connection. */
static void watchdog_fired(void *arg)
{
    struct store *s = arg;
    if (s->state != CONN_READY || !s->sent.head)
        return;
    int64_t since = max3(s->sent.head->sent_ms, s->ready_ms, s->stall_ms);
    int64_t now = mono_ms();
    int64_t left = since + s->cfg.command_timeout_ms - now;
    if (left > 0) {
        loop_timer_start(s->watchdog, left, 0);
        return;
    }
    if (socket_busy(s->ac)) {
        s->stall_ms = now;
        loop_timer_start(s->watchdog, s->cfg.command_timeout_ms, 0);
        return;
    }
    char why[96];
    snprintf(why, sizeof why, "no reply for %lld ms, connection considered hung",
             (long long)(now - since));
    kill_conn(s, -ETIMEDOUT, why, LOG_LEVEL_WARN);
}

struct store *store_new(struct loop *loop, const struct store_config *cfg)
{
    struct store *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    store_config_copy(&s->cfg, cfg);
    char err[256];
    s->addr_ok = store_addr_parse(cfg->address, &s->addr, err, sizeof err) == 0;
    if (!s->addr_ok)
        log_error(SUBSYS, "%s", err);
    s->connect_timer = loop_timer_new(loop, connect_timed_out, s);
    s->watchdog = loop_timer_new(loop, watchdog_fired, s);
    s->retry_timer = loop_timer_new(loop, start_connect, s);
    s->fail_timer = loop_timer_new(loop, deliver_failed, s);
    s->rng = (uint32_t)getpid() ^ (uint32_t)mono_ms() ^ (uint32_t)(uintptr_t)s;
    if (!s->rng)
        s->rng = 1;
    start_connect(s);
    return s;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    s->closing = 1;
    if (s->ac)
        kill_conn(s, -ECANCELED, "closing", LOG_LEVEL_DEBUG);
    while (s->failed.head)
        deliver_failed(s);
    loop_timer_free(s->connect_timer);
    loop_timer_free(s->watchdog);
    loop_timer_free(s->retry_timer);
    loop_timer_free(s->fail_timer);
    free(s->watchers);
    store_addr_deinit(&s->addr);
    store_config_deinit(&s->cfg);
    free(s);
}

int store_connected(const struct store *s)
{
    return s->state == CONN_READY;
}

size_t store_outstanding(const struct store *s)
{
    return s->sent.n;
}

void store_watch(struct store *s, store_state_fn fn, void *arg)
{
    s->watchers = xrealloc(s->watchers, (s->nwatchers + 1) * sizeof *s->watchers);
    s->watchers[s->nwatchers++] = (struct watcher){fn, arg};
}

void store_unwatch(struct store *s, store_state_fn fn, void *arg)
{
    for (size_t i = 0; i < s->nwatchers; i++) {
        if (s->watchers[i].fn == fn && s->watchers[i].arg == arg) {
            memmove(&s->watchers[i], &s->watchers[i + 1],
                    (s->nwatchers - i - 1) * sizeof *s->watchers);
            s->nwatchers--;
            return;
        }
    }
}

int store_vcommand(struct store *s, store_reply_fn cb, void *arg, const char *fmt, va_list ap)
{
    char *cmd;
    int len = redisvFormatCommand(&cmd, fmt, ap);
    if (len < 0)
        return -EINVAL;
    submit(s, req_new(cb, arg), cmd, (size_t)len);
    redisFreeCommand(cmd);
    return 0;
}

int store_command(struct store *s, store_reply_fn cb, void *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = store_vcommand(s, cb, arg, fmt, ap);
    va_end(ap);
    return rc;
}

int store_command_argv(struct store *s, store_reply_fn cb, void *arg, int argc, const char **argv,
                       const size_t *argvlen)
{
    if (argc < 1 || !argv)
        return -EINVAL;
    submit_argv(s, cb, arg, argc, argv, argvlen);
    return 0;
}

int store_key(const struct store *s, char *buf, size_t bufsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = store_vkey(s->cfg.prefix, buf, bufsz, fmt, ap);
    va_end(ap);
    return rc;
}
