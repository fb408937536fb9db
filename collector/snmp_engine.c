/* snmp_engine: devices, their net-snmp single sessions, sockets on the loop, timers, queues and
 * limits. Design notes in docs/collector-snmp.md. */
#include "collector/snmp_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/snmp_engine_impl.h"
#include "collector/snmp_netsnmp.h"
#include <net-snmp/library/large_fd_set.h>
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define SLACK_MS 2 /* our timers fire a little after net-snmp's deadlines, never before */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct snmp_engine *snmp_engine_new(struct loop *loop, const struct snmp_engine_opts *opts)
{
    snmp_netsnmp_init();
    struct snmp_engine *e = xcalloc(1, sizeof *e);
    e->loop = loop;
    e->queue_limit = opts && opts->queue_limit ? opts->queue_limit : 10000;
    e->fds_size = 1024;
    netsnmp_large_fd_set_init(&e->fds, e->fds_size);
    e->keys = snmp_v3_keys_new();
    return e;
}

/* "a.b.c.d[:port]", "v6", "[v6][:port]" -> net-snmp peer name. Literals only: a name would make
 * net-snmp resolve it synchronously, on the loop. */
static char *peer_name(const char *addr, char *err, size_t errsz)
{
    char host[64], port[8] = "161";
    unsigned char buf[16];
    const char *colon = strchr(addr, ':');
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || (size_t)(end - addr - 1) >= sizeof host || (end[1] && end[1] != ':'))
            goto bad;
        snprintf(host, sizeof host, "%.*s", (int)(end - addr - 1), addr + 1);
        if (end[1])
            snprintf(port, sizeof port, "%s", end + 2);
    } else if (colon && strchr(colon + 1, ':')) {
        snprintf(host, sizeof host, "%s", addr);
    } else {
        snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - addr) : (int)strlen(addr), addr);
        if (colon)
            snprintf(port, sizeof port, "%s", colon + 1);
    }
    char *endp;
    long p = strtol(port, &endp, 10);
    if (*endp || p <= 0 || p > 65535)
        goto bad;
    if (inet_pton(AF_INET, host, buf) == 1)
        return xasprintf("udp:%s:%ld", host, p);
    if (inet_pton(AF_INET6, host, buf) == 1)
        return xasprintf("udp6:[%s]:%ld", host, p);
bad:
    snprintf(err, errsz, "bad address '%s' (want an IP literal with optional :port)", addr);
    return NULL;
}

static void on_readable(void *arg, int revents);

static void close_session(struct snmp_device *d)
{
    if (!d->sess)
        return;
    loop_io_free(d->io);
    d->io = NULL;
    d->closing = 1; /* net-snmp calls back for every pending request while closing */
    snmp_sess_close(d->sess);
    d->closing = 0;
    d->sess = NULL;
}

/* Open d's session: the real one, or for v3 without a known engine id a probe session. */
static int open_session(struct snmp_device *d, char *err, size_t errsz)
{
    netsnmp_session s;
    snmp_sess_init(&s);
    s.peername = d->peer;
    s.timeout = (long)d->cfg.timeout_ms * 1000;
    s.retries = d->cfg.retries;
    s.flags |= SNMP_FLAGS_DONT_PROBE;
    d->sess_is_probe = 0;
    if (d->cfg.version == SNMP_V3) {
        s.version = SNMP_VERSION_3;
        if (!d->engine_id_len) {
            d->sess_is_probe = 1;
            s.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
            s.securityModel = SNMP_SEC_MODEL_USM;
        } else {
            if (snmp_v3_session(d->eng->keys, &d->cfg, &s, err, errsz))
                return -EINVAL;
            s.securityEngineID = d->engine_id;
            s.securityEngineIDLen = d->engine_id_len;
            s.contextEngineID = d->engine_id;
            s.contextEngineIDLen = d->engine_id_len;
        }
    } else {
        s.version = d->cfg.version == SNMP_V1 ? SNMP_VERSION_1 : SNMP_VERSION_2c;
        s.community = (u_char *)d->cfg.community;
        s.community_len = strlen(d->cfg.community);
    }
    d->sess = snmp_sess_open(&s);
    if (!d->sess) {
        char *msg = NULL;
        int cerr, serr;
        snmp_error(&s, &cerr, &serr, &msg);
        snprintf(err, errsz, "%s: %s", d->cfg.name, msg ? msg : "cannot open session");
        free(msg);
        return -EIO;
    }
    /* net-snmp clears this after opening; without it the first send would probe synchronously */
    snmp_sess_session(d->sess)->flags |= SNMP_FLAGS_DONT_PROBE;
    d->fd = snmp_sess_transport(d->sess)->sock;
    d->io = loop_io_new(d->eng->loop, d->fd, LOOP_READ, on_readable, d);
    return 0;
}

static void copy_cfg(struct snmp_device_cfg *c, const struct snmp_device_cfg *in)
{
    *c = *in;
    c->address = xstrdup(in->address);
    c->name = xstrdup(in->name && *in->name ? in->name : in->address);
    c->community = xstrdup(in->community ? in->community : "public");
    c->user = xstrdup(in->user);
    c->auth_proto = xstrdup(in->auth_proto);
    c->auth_pass = xstrdup(in->auth_pass);
    c->priv_proto = xstrdup(in->priv_proto);
    c->priv_pass = xstrdup(in->priv_pass);
    if (c->timeout_ms <= 0)
        c->timeout_ms = 1000;
    if (c->retries < 0)
        c->retries = 1;
    if (c->max_repetitions <= 0)
        c->max_repetitions = 25;
    if (c->max_in_flight <= 0)
        c->max_in_flight = 1;
}

static void free_secret(const char *s)
{
    if (s)
        explicit_bzero((char *)s, strlen(s));
    free((char *)s);
}

static void free_cfg(struct snmp_device_cfg *c)
{
    free((char *)c->address);
    free((char *)c->name);
    free((char *)c->community);
    free((char *)c->user);
    free((char *)c->auth_proto);
    free_secret(c->auth_pass);
    free((char *)c->priv_proto);
    free_secret(c->priv_pass);
}

static void on_timer(void *arg);
static void device_destroy(struct snmp_device *d);

struct snmp_device *snmp_engine_add(struct snmp_engine *e, const struct snmp_device_cfg *cfg,
                                    char *err, size_t errsz)
{
    if (!cfg->address)
        return snprintf(err, errsz, "device without an address"), NULL;
    if (cfg->version != SNMP_V1 && cfg->version != SNMP_V2C && cfg->version != SNMP_V3)
        return snprintf(err, errsz, "%s: bad SNMP version", cfg->address), NULL;
    if (cfg->version == SNMP_V3 && snmp_v3_check(cfg, err, errsz))
        return NULL;
    char *peer = peer_name(cfg->address, err, errsz);
    if (!peer)
        return NULL;
    struct snmp_device *d = xcalloc(1, sizeof *d);
    d->eng = e;
    d->peer = peer;
    d->fd = -1;
    copy_cfg(&d->cfg, cfg);
    d->timer = loop_timer_new(e->loop, on_timer, d);
    d->next = e->devices;
    if (e->devices)
        e->devices->prev = d;
    e->devices = d;
    if (open_session(d, err, errsz)) {
        device_destroy(d);
        return NULL;
    }
    return d;
}

const char *snmp_device_name(const struct snmp_device *d)
{
    return d->cfg.name;
}

void snmp_device_stats(const struct snmp_device *d, struct snmp_device_stats *out)
{
    *out = d->st;
    out->queued = d->queued;
}

/* -- queue, limits, sending ---------------------------------------------------------------- */

static void enqueue(struct snmp_device *d, struct snmp_op *op, int front)
{
    op->next = NULL;
    if (!d->q_head) {
        d->q_head = d->q_tail = op;
    } else if (front) {
        op->next = d->q_head;
        d->q_head = op;
    } else {
        d->q_tail->next = op;
        d->q_tail = op;
    }
    d->queued++;
}

static struct snmp_op *dequeue(struct snmp_device *d)
{
    struct snmp_op *op = d->q_head;
    d->q_head = op->next;
    if (!d->q_head)
        d->q_tail = NULL;
    d->queued--;
    return op;
}

static void flight_remove(struct snmp_device *d, struct snmp_op *op)
{
    for (struct snmp_op **p = &d->flight; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            d->st.in_flight--;
            return;
        }
}

static int on_response(int what, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic);
static void fail_queue(struct snmp_device *d, int status, const char *msg);

static void send_op(struct snmp_device *d, struct snmp_op *op)
{
    netsnmp_pdu *pdu = snmp_request_pdu(d, op);
    /* net-snmp may call back from inside a failing send: on_response leaves that op to us */
    d->sending = op;
    int ok = pdu && snmp_sess_async_send(d->sess, pdu, on_response, op);
    d->sending = NULL;
    if (!ok) {
        char *detail = NULL;
        const char *msg;
        int cerr, serr;
        snmp_sess_error(d->sess, &cerr, &serr, &detail);
        int status = snmp_v3_send_status(serr, &msg);
        char buf[256];
        snprintf(buf, sizeof buf, "send failed: %s (%s)", msg, detail ? detail : "?");
        free(detail);
        if (pdu)
            snmp_free_pdu(pdu);
        if (op->kind == SNMP_OP_PROBE) {
            d->probing = 0;
            fail_queue(d, status, buf);
        }
        snmp_request_finish(op, status, buf);
        return;
    }
    op->deadline_ms = mono_us() / 1000 + d->cfg.timeout_ms + SLACK_MS;
    op->next = d->flight;
    d->flight = op;
    d->st.sent++;
    if (++d->st.in_flight > d->st.peak_in_flight)
        d->st.peak_in_flight = d->st.in_flight;
}

/* Microseconds until the rate limit allows the next send (0 = now). */
static int64_t rate_wait(struct snmp_device *d, int64_t now)
{
    if (d->cfg.max_rate <= 0 || d->tat_us <= now)
        return 0;
    return d->tat_us - now;
}

static void rate_take(struct snmp_device *d, int64_t now)
{
    if (d->cfg.max_rate > 0)
        d->tat_us = (d->tat_us > now ? d->tat_us : now) + (int64_t)(1e6 / d->cfg.max_rate);
}

static int needs_probe(const struct snmp_device *d)
{
    return d->cfg.version == SNMP_V3 && !d->engine_id_len;
}

static void arm_timer(struct snmp_device *d, int64_t rate_at_ms)
{
    int64_t at = rate_at_ms;
    for (struct snmp_op *op = d->flight; op; op = op->next)
        if (at < 0 || op->deadline_ms < at)
            at = op->deadline_ms;
    if (at < 0) {
        loop_timer_stop(d->timer);
        return;
    }
    int64_t wait = at - mono_us() / 1000;
    loop_timer_start(d->timer, wait > 1 ? wait : 1, 0);
}

/* Send what the limits allow, then arm the timer for the next deadline or rate slot. */
static void pump(struct snmp_device *d)
{
    int64_t rate_at = -1;
    if (d->busy || d->dead)
        return;
    while (d->q_head && d->st.in_flight < (unsigned)d->cfg.max_in_flight && d->sess) {
        if (needs_probe(d) && d->probing)
            break;
        int64_t now = mono_us(), wait = rate_wait(d, now);
        if (wait > 0) {
            rate_at = (now + wait) / 1000 + 1;
            break;
        }
        rate_take(d, now);
        struct snmp_op *op;
        if (needs_probe(d)) {
            op = xcalloc(1, sizeof *op);
            op->dev = d;
            op->kind = SNMP_OP_PROBE;
            d->probing = 1;
        } else {
            op = dequeue(d);
        }
        send_op(d, op);
    }
    arm_timer(d, rate_at);
}

/* Fail every queued request (after a failed discovery or on removal). */
static void fail_queue(struct snmp_device *d, int status, const char *msg)
{
    while (d->q_head)
        snmp_request_finish(dequeue(d), status, msg);
}

static void bury(struct snmp_device *d)
{
    while (d->graveyard) {
        struct snmp_op *op = d->graveyard;
        d->graveyard = op->next;
        free(op);
    }
}

static void device_after(struct snmp_device *d)
{
    bury(d);
    if (d->dead) {
        device_destroy(d);
        return;
    }
    if (d->reopen) {
        char err[256];
        d->reopen = 0;
        close_session(d);
        if (open_session(d, err, sizeof err)) {
            log_warn("snmp", "%s", err);
            fail_queue(d, -EIO, err);
        }
    }
    pump(d);
}

static void on_readable(void *arg, int revents)
{
    struct snmp_device *d = arg;
    struct snmp_engine *e = d->eng;
    (void)revents;
    if (d->fd >= e->fds_size) {
        e->fds_size = d->fd + 1024;
        netsnmp_large_fd_set_resize(&e->fds, e->fds_size);
    }
    NETSNMP_LARGE_FD_SET(d->fd, &e->fds);
    d->busy = 1;
    snmp_sess_read2(d->sess, &e->fds);
    d->busy = 0;
    NETSNMP_LARGE_FD_CLR(d->fd, &e->fds);
    device_after(d);
}

static void probe_done(struct snmp_device *d, struct snmp_op *op, int what, netsnmp_pdu *pdu);

static void on_timer(void *arg)
{
    struct snmp_device *d = arg;
    if (d->flight && d->sess) {
        d->busy = 1;
        snmp_sess_timeout(d->sess);
        /* net-snmp's clock may trail ours by a hair: leave those for the next round. One it
         * forgot (a notInTimeWindow Report after the last retry) ends here. */
        int64_t now = mono_us() / 1000;
        for (struct snmp_op *op = d->flight, *next; op; op = next) {
            next = op->next;
            if (op->deadline_ms + d->cfg.timeout_ms < now) {
                flight_remove(d, op);
                d->st.timeouts++;
                if (op->kind == SNMP_OP_PROBE)
                    probe_done(d, op, NETSNMP_CALLBACK_OP_TIMED_OUT, NULL);
                else
                    snmp_request_finish(op, -ETIMEDOUT, "timeout (not in time window)");
            } else if (op->deadline_ms <= now) {
                op->deadline_ms = now + 1;
            }
        }
        d->busy = 0;
    }
    device_after(d);
}

/* -- answers ---------------------------------------------------------------------------------- */

static void probe_done(struct snmp_device *d, struct snmp_op *op, int what, netsnmp_pdu *pdu)
{
    d->probing = 0;
    if (what == NETSNMP_CALLBACK_OP_SEC_ERROR && pdu && pdu->securityEngineIDLen &&
        pdu->securityEngineIDLen <= sizeof d->engine_id) {
        memcpy(d->engine_id, pdu->securityEngineID, pdu->securityEngineIDLen);
        d->engine_id_len = pdu->securityEngineIDLen;
        d->reopen = 1;
        log_debug("snmp", "%s: engine id discovered (%zu bytes)", d->cfg.name, d->engine_id_len);
    } else if (what == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        fail_queue(d, -ETIMEDOUT, "timeout (no answer to engine-id discovery)");
    } else {
        fail_queue(d, -EPROTO, "engine-id discovery failed");
    }
    snmp_request_finish(op, 0, NULL);
}

/* A Report to a real request: a changed engine id is rediscovered once, the rest are errors. */
static void report_error(struct snmp_device *d, struct snmp_op *op, netsnmp_pdu *pdu)
{
    const char *msg = "security error";
    int status = pdu ? snmp_v3_report_status(pdu, &msg) : -EPROTO;
    if (pdu && snmpv3_get_report_type(pdu) == SNMPERR_UNKNOWN_ENG_ID && !op->rediscovered) {
        op->rediscovered = 1;
        d->engine_id_len = 0;
        d->reopen = 1;
        enqueue(d, op, 1);
        return;
    }
    snmp_request_finish(op, status, msg);
}

static int on_response(int what, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
    struct snmp_op *op = magic;
    struct snmp_device *d = op->dev;
    (void)s;
    (void)reqid;
    if (d->closing || op == d->sending || op->finished)
        return 1;
    if (what == NETSNMP_CALLBACK_OP_RESEND) {
        op->deadline_ms = mono_us() / 1000 + d->cfg.timeout_ms + SLACK_MS;
        return 1;
    }
    /* net-snmp retries a notInTimeWindow Report itself (the first request after discovery
     * learns the agent's boots and time that way); other Reports end the request, whichever of
     * RECEIVED_MESSAGE and SEC_ERROR brings them first. */
    if (pdu && pdu->command == SNMP_MSG_REPORT) {
        if (snmpv3_get_report_type(pdu) == SNMPERR_NOT_IN_TIME_WINDOW)
            return 1;
        what = NETSNMP_CALLBACK_OP_SEC_ERROR;
    }
    flight_remove(d, op);
    if (what == NETSNMP_CALLBACK_OP_TIMED_OUT)
        d->st.timeouts++;
    else if (what == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
        d->st.received++;
    if (op->kind == SNMP_OP_PROBE) {
        probe_done(d, op, what, pdu);
        return 1;
    }
    switch (what) {
    case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
        if (!snmp_request_response(d, op, pdu))
            enqueue(d, op, 1); /* the walk goes on before anything queued after it */
        break;
    case NETSNMP_CALLBACK_OP_TIMED_OUT:
        snmp_request_finish(op, -ETIMEDOUT, "timeout");
        break;
    case NETSNMP_CALLBACK_OP_SEC_ERROR:
        report_error(d, op, pdu);
        break;
    default:
        snmp_request_finish(op, -EIO, "send failed");
        break;
    }
    return 1;
}

/* -- requests --------------------------------------------------------------------------------- */

static int submit(struct snmp_device *d, struct snmp_op *op)
{
    if (d->dead) {
        free(op->oids);
        free(op);
        return -ESHUTDOWN;
    }
    if (d->queued >= d->eng->queue_limit) {
        free(op->oids);
        free(op);
        return -ENOBUFS;
    }
    op->dev = d;
    enqueue(d, op, 0);
    pump(d);
    return 0;
}

int snmp_get(struct snmp_device *d, const struct snmp_oid *oids, size_t n, snmp_result_fn cb,
             void *arg)
{
    if (!n || !cb)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!oids[i].len || oids[i].len > SNMP_OID_MAX)
            return -EINVAL;
    struct snmp_op *op = xcalloc(1, sizeof *op);
    op->kind = SNMP_OP_GET;
    op->oids = xmalloc(n * sizeof *oids);
    memcpy(op->oids, oids, n * sizeof *oids);
    op->n = n;
    op->result = cb;
    op->arg = arg;
    return submit(d, op);
}

int snmp_walk(struct snmp_device *d, const struct snmp_oid *root, snmp_varbind_fn each,
              snmp_done_fn done, void *arg)
{
    if (!root || !root->len || root->len > SNMP_OID_MAX || !done)
        return -EINVAL;
    struct snmp_op *op = xcalloc(1, sizeof *op);
    op->kind = SNMP_OP_WALK;
    op->root = *root;
    op->cursor = *root;
    op->each = each;
    op->done = done;
    op->arg = arg;
    return submit(d, op);
}

/* -- teardown --------------------------------------------------------------------------------- */

static void device_destroy(struct snmp_device *d)
{
    struct snmp_engine *e = d->eng;
    d->dead = 1;
    d->busy = 1; /* ops stay allocated until net-snmp's close-time callbacks are over */
    while (d->flight) {
        struct snmp_op *op = d->flight;
        d->flight = op->next;
        d->st.in_flight--;
        snmp_request_finish(op, op->kind == SNMP_OP_PROBE ? 0 : -ECANCELED, "cancelled");
    }
    fail_queue(d, -ECANCELED, "cancelled");
    close_session(d);
    d->busy = 0;
    bury(d);
    loop_timer_free(d->timer);
    if (d->prev)
        d->prev->next = d->next;
    else
        e->devices = d->next;
    if (d->next)
        d->next->prev = d->prev;
    free_cfg(&d->cfg);
    free(d->peer);
    free(d);
}

void snmp_engine_remove(struct snmp_device *d)
{
    if (!d || d->dead)
        return;
    if (d->busy) {
        d->dead = 1; /* freed once net-snmp has returned */
        return;
    }
    device_destroy(d);
}

void snmp_engine_free(struct snmp_engine *e)
{
    if (!e)
        return;
    while (e->devices)
        device_destroy(e->devices);
    snmp_v3_keys_free(e->keys);
    netsnmp_large_fd_set_cleanup(&e->fds);
    free(e);
}
