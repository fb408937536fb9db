/* icmp_prober: the engine. One heap entry per target says when it next needs attention: its
 * next send when idle, its probe's timeout when one is in flight. */
#include "collector/icmp_prober.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "collector/icmp_packet.h"
#include "collector/icmp_sched.h"
#include "collector/icmp_table.h"
#include "core/loop.h"
#include "core/xmalloc.h"

enum {
    SEND_BUDGET = 1024,   /* probes per timer callback before the loop reads replies */
    RX_BATCH = 64,        /* datagrams per recvmmsg */
    RX_BUDGET = 64 * 256, /* datagrams per readable callback */
    PAUSE_US = 1000,      /* back-off when the socket buffer is full */
    SLACK_US = 2000,      /* work due this soon is done now: fewer wakeups, same spread */
    DEFAULT_BUF = 16 << 20,
};

union addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

struct target {
    union addr addr;
    socklen_t addrlen;
    int in_use;
    char *name;
    void *user;
    struct icmp_target_opts o;
    int inflight;        /* a probe is out: the heap entry is its timeout */
    uint32_t token;      /* its token, 0 when idle or when the send failed */
    uint32_t last_token; /* the last answered probe, to tell duplicates from late replies */
    uint16_t seq;
    uint64_t sent_ns;
    unsigned attempt;   /* probes sent in the current round */
    uint64_t round_due; /* planned start of the current or next round, monotonic us */
    struct icmp_state_ctr st;
    struct icmp_target_stats s;
};

struct icmp_prober {
    struct loop *loop;
    struct icmp_prober_opts o;
    struct icmp_sock sock[2]; /* [0] IPv4, [1] IPv6 */
    struct loop_io *io[2];
    struct loop_timer *timer;
    struct icmp_sched *sched;
    struct icmp_table *table;
    struct target *t;
    size_t nt, capt;
    uint32_t *free_ids;
    size_t nfree;
    size_t unfinished; /* targets with a round limit still running */
    size_t forever;    /* targets without one */
    uint32_t cookie, next_token;
    uint16_t ident, next_seq;
    uint64_t pause_until;
    uint64_t armed_due; /* when the timer fires next, UINT64_MAX when stopped */
    uint8_t pkt[ICMP_PACKET_MAX];
    struct icmp_rx rx[RX_BATCH];
    uint8_t *rxbuf;
    struct icmp_prober_stats s;
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int fam_index(int family)
{
    return family == AF_INET6;
}

static void rearm(struct icmp_prober *p, uint64_t now)
{
    uint32_t id;
    uint64_t due;
    if (icmp_sched_peek(p->sched, &id, &due) < 0) {
        loop_timer_stop(p->timer);
        p->armed_due = UINT64_MAX;
        return;
    }
    if (due < p->pause_until)
        due = p->pause_until;
    p->armed_due = due;
    loop_timer_start(p->timer, due > now ? (int64_t)((due - now + 999) / 1000) : 0, 0);
}

static void finish(struct icmp_prober *p, struct target *t, uint32_t id)
{
    t->s.finished = 1;
    icmp_sched_del(p->sched, id);
    if (--p->unfinished == 0 && p->forever == 0 && p->o.on_done)
        p->o.on_done(p->o.arg);
}

/* Close the round, update the state machine, schedule the next round. */
static void round_end(struct icmp_prober *p, struct target *t, uint32_t id, int answered,
                      uint64_t now)
{
    t->s.rounds++;
    t->s.lost_rounds += !answered;
    t->attempt = 0;
    enum icmp_state old = t->st.state;
    enum icmp_state cur = icmp_state_step(&t->st, answered, t->o.down_after, t->o.up_after);
    t->s.state = cur;
    if (t->o.rounds && t->s.rounds >= t->o.rounds)
        finish(p, t, id);
    else {
        t->round_due += (uint64_t)t->o.interval_ms * 1000u;
        if (t->round_due < now)
            t->round_due = now;
        icmp_sched_set(p->sched, id, t->round_due);
    }
    if (cur != old && p->o.on_state)
        p->o.on_state(p->o.arg, id, old, cur, t->user);
}

static uint32_t new_token(struct icmp_prober *p)
{
    do
        p->next_token++;
    while (p->next_token == 0);
    return p->next_token;
}

/* 1 when sent or failed for good, 0 when the socket is full (try again shortly). */
static int send_probe(struct icmp_prober *p, struct target *t, uint32_t id, uint64_t now)
{
    const struct icmp_sock *sk = &p->sock[fam_index(t->addr.sa.sa_family)];
    struct icmp_probe pr = {.ident = p->ident,
                            .seq = p->next_seq,
                            .cookie = p->cookie,
                            .target = id,
                            .token = new_token(p),
                            .sent_ns = icmp_sock_now_ns()};
    icmp_packet_encode(t->addr.sa.sa_family, &pr, p->pkt, p->o.packet_size);
    int rc = icmp_sock_send(sk, p->pkt, p->o.packet_size, &t->addr.sa, t->addrlen);
    if (rc == -EAGAIN || rc == -ENOBUFS) {
        p->s.send_deferred++;
        p->pause_until = now + PAUSE_US;
        return 0;
    }
    p->next_seq++;
    t->seq = pr.seq;
    t->sent_ns = pr.sent_ns;
    t->attempt++;
    t->s.xmt++;
    if (rc < 0) {
        p->s.send_errors++; /* no reply can come: the timeout makes it a lost probe */
        t->token = 0;
    } else {
        p->s.sent++;
        t->token = pr.token;
        while (icmp_table_put(p->table, t->token, id) == -EEXIST)
            t->token = new_token(p); /* only after 2^32 tokens with one still in flight */
    }
    t->inflight = 1;
    icmp_sched_set(p->sched, id, now + (uint64_t)t->o.timeout_ms * 1000u);
    return 1;
}

static void probe_timed_out(struct icmp_prober *p, struct target *t, uint32_t id, uint64_t now)
{
    if (t->token)
        icmp_table_del(p->table, t->token);
    t->token = 0;
    t->inflight = 0;
    p->s.timeouts++;
    if (p->o.on_lost)
        p->o.on_lost(p->o.arg, id, t->user);
    if (t->attempt <= t->o.retries)
        icmp_sched_set(p->sched, id, now); /* retry within the round, right away */
    else
        round_end(p, t, id, 0, now);
}

static void on_timer(void *arg)
{
    struct icmp_prober *p = arg;
    uint64_t now = mono_us();
    uint32_t id;
    uint64_t due;
    for (int budget = SEND_BUDGET; budget > 0 && now >= p->pause_until; budget--) {
        if (icmp_sched_peek(p->sched, &id, &due) < 0 || due > now + SLACK_US)
            break;
        struct target *t = &p->t[id];
        if (t->inflight)
            probe_timed_out(p, t, id, now);
        else if (!send_probe(p, t, id, now))
            break;
    }
    rearm(p, now);
}

static int same_addr(const union addr *a, const struct sockaddr_storage *from)
{
    if (a->sa.sa_family != from->ss_family)
        return 0;
    if (a->sa.sa_family == AF_INET)
        return a->in.sin_addr.s_addr == ((const struct sockaddr_in *)from)->sin_addr.s_addr;
    return !memcmp(&a->in6.sin6_addr, &((const struct sockaddr_in6 *)from)->sin6_addr,
                   sizeof a->in6.sin6_addr);
}

/* The reply matched no probe in flight: a duplicate of an answered one, or a late one. */
static void unmatched(struct icmp_prober *p, const struct icmp_probe *pr)
{
    if (pr->target < p->nt && p->t[pr->target].in_use && p->t[pr->target].last_token == pr->token)
        p->s.duplicates++;
    else
        p->s.late++;
}

static void answered(struct icmp_prober *p, struct target *t, uint32_t id, uint64_t rx_ns)
{
    uint64_t rtt = rx_ns > t->sent_ns ? (rx_ns - t->sent_ns) / 1000u : 0;
    icmp_table_del(p->table, t->token);
    t->last_token = t->token;
    t->token = 0;
    t->inflight = 0;
    p->s.received++;
    t->s.rcv++;
    t->s.rtt_last_us = rtt;
    t->s.rtt_sum_us += rtt;
    if (t->s.rcv == 1 || rtt < t->s.rtt_min_us)
        t->s.rtt_min_us = rtt;
    if (rtt > t->s.rtt_max_us)
        t->s.rtt_max_us = rtt;
    if (p->o.on_reply)
        p->o.on_reply(p->o.arg, id, rtt, t->user);
    round_end(p, t, id, 1, mono_us());
}

static void handle_packet(struct icmp_prober *p, const struct icmp_sock *sk,
                          const struct icmp_rx *rx)
{
    struct icmp_probe pr;
    int ip_header = sk->raw && sk->family == AF_INET;
    switch (icmp_packet_parse(sk->family, ip_header, rx->buf, rx->len, &pr)) {
    case ICMP_PARSE_MALFORMED:
        p->s.malformed++;
        return;
    case ICMP_PARSE_OTHER:
        p->s.other++;
        return;
    case ICMP_PARSE_FOREIGN:
        p->s.foreign++;
        return;
    case ICMP_PARSE_REPLY:
        break;
    }
    /* Datagram sockets rewrite the identifier (the kernel demultiplexes on it for us). */
    if (pr.cookie != p->cookie || (sk->raw && pr.ident != p->ident)) {
        p->s.foreign++;
        return;
    }
    uint32_t id;
    if (icmp_table_get(p->table, pr.token, &id) < 0) {
        unmatched(p, &pr);
        return;
    }
    struct target *t = &p->t[id];
    if (id != pr.target || pr.seq != t->seq || !same_addr(&t->addr, &rx->from)) {
        p->s.not_target++;
        return;
    }
    answered(p, t, id, rx->rx_ns);
}

static void on_readable(struct icmp_prober *p, int fam)
{
    const struct icmp_sock *sk = &p->sock[fam];
    for (int total = 0; total < RX_BUDGET;) {
        int n = icmp_sock_recv(sk, p->rx, RX_BATCH);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            handle_packet(p, sk, &p->rx[i]);
        total += n;
        if (n < RX_BATCH)
            break; /* drained: the next call would say EAGAIN */
    }
    rearm(p, mono_us());
}

static void on_readable4(void *arg, int revents)
{
    (void)revents;
    on_readable(arg, 0);
}

static void on_readable6(void *arg, int revents)
{
    (void)revents;
    on_readable(arg, 1);
}

struct icmp_prober *icmp_prober_new(struct loop *loop, const struct icmp_prober_opts *opts,
                                    char *err, size_t errsz)
{
    struct icmp_prober_opts o = *opts;
    if (!o.packet_size)
        o.packet_size = ICMP_PACKET_DEFAULT;
    if (o.packet_size < ICMP_PACKET_MIN || o.packet_size > ICMP_PACKET_MAX) {
        snprintf(err, errsz, "packet size %u is outside %d..%d", o.packet_size, ICMP_PACKET_MIN,
                 ICMP_PACKET_MAX);
        return NULL;
    }
    if (o.bufsize <= 0)
        o.bufsize = DEFAULT_BUF;
    struct icmp_prober *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->o = o;
    p->sock[0].fd = p->sock[1].fd = -1;
    p->timer = loop_timer_new(loop, on_timer, p);
    p->armed_due = UINT64_MAX;
    p->sched = icmp_sched_new();
    p->table = icmp_table_new(1024);
    p->rxbuf = xmalloc((size_t)RX_BATCH * ICMP_RX_BUF);
    for (int i = 0; i < RX_BATCH; i++)
        p->rx[i].buf = p->rxbuf + (size_t)i * ICMP_RX_BUF;
    uint32_t rnd[3] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
        rnd[0] = (uint32_t)mono_us(), rnd[1] = (uint32_t)icmp_sock_now_ns(), rnd[2] = rnd[0] >> 7;
    p->cookie = rnd[0];
    p->next_token = rnd[1];
    p->ident = (uint16_t)rnd[2];
    p->next_seq = (uint16_t)(rnd[2] >> 16);
    return p;
}

void icmp_prober_free(struct icmp_prober *p)
{
    if (!p)
        return;
    for (int i = 0; i < 2; i++) {
        loop_io_free(p->io[i]);
        icmp_sock_close(&p->sock[i]);
    }
    loop_timer_free(p->timer);
    for (size_t i = 0; i < p->nt; i++)
        free(p->t[i].name);
    free(p->t);
    free(p->free_ids);
    free(p->rxbuf);
    icmp_sched_free(p->sched);
    icmp_table_free(p->table);
    free(p);
}

static int open_family(struct icmp_prober *p, int family, char *err, size_t errsz)
{
    int i = fam_index(family);
    if (p->sock[i].fd >= 0)
        return 0;
    int rc = icmp_sock_open(&p->sock[i], family, p->o.socket_mode, p->o.bufsize, err, errsz);
    if (rc < 0)
        return rc;
    p->io[i] = loop_io_new(p->loop, p->sock[i].fd, LOOP_READ, i ? on_readable6 : on_readable4, p);
    return 0;
}

static uint32_t alloc_id(struct icmp_prober *p)
{
    if (p->nfree)
        return p->free_ids[--p->nfree];
    if (p->nt == p->capt) {
        p->capt = p->capt ? p->capt * 2 : 256;
        p->t = xrealloc(p->t, p->capt * sizeof *p->t);
        p->free_ids = xrealloc(p->free_ids, p->capt * sizeof *p->free_ids);
    }
    return (uint32_t)p->nt++;
}

static void fill_defaults(struct icmp_target_opts *o)
{
    if (!o->interval_ms)
        o->interval_ms = 10000;
    if (!o->timeout_ms)
        o->timeout_ms = 1000;
    if (!o->down_after)
        o->down_after = 3;
    if (!o->up_after)
        o->up_after = 2;
}

int icmp_prober_add(struct icmp_prober *p, const char *name, const struct sockaddr *addr,
                    socklen_t len, const struct icmp_target_opts *opts, void *user, char *err,
                    size_t errsz)
{
    int fam = addr->sa_family;
    if ((fam != AF_INET || len < sizeof(struct sockaddr_in)) &&
        (fam != AF_INET6 || len < sizeof(struct sockaddr_in6))) {
        snprintf(err, errsz, "%s: not an IPv4 or IPv6 address", name);
        return -EAFNOSUPPORT;
    }
    int rc = open_family(p, fam, err, errsz);
    if (rc < 0)
        return rc;
    uint32_t id = alloc_id(p);
    struct target *t = &p->t[id];
    *t = (struct target){.in_use = 1, .name = xstrdup(name), .user = user, .o = *opts};
    memcpy(&t->addr, addr, fam == AF_INET ? sizeof t->addr.in : sizeof t->addr.in6);
    t->addrlen = fam == AF_INET ? sizeof t->addr.in : sizeof t->addr.in6;
    t->addr.in.sin_port = 0;
    fill_defaults(&t->o);
    uint64_t now = mono_us();
    t->round_due = now + (p->o.no_spread ? 0 : icmp_sched_phase(id, t->o.interval_ms * 1000ull));
    icmp_sched_set(p->sched, id, t->round_due);
    if (t->o.rounds)
        p->unfinished++;
    else
        p->forever++;
    p->s.targets++;
    if (t->round_due < p->armed_due)
        rearm(p, now);
    return (int)id;
}

int icmp_prober_remove(struct icmp_prober *p, uint32_t id)
{
    if (id >= p->nt || !p->t[id].in_use)
        return -ENOENT;
    struct target *t = &p->t[id];
    if (t->token)
        icmp_table_del(p->table, t->token);
    icmp_sched_del(p->sched, id);
    if (!t->o.rounds)
        p->forever--;
    else if (!t->s.finished)
        p->unfinished--;
    free(t->name);
    memset(t, 0, sizeof *t);
    p->free_ids[p->nfree++] = id;
    p->s.targets--;
    return 0;
}

const char *icmp_prober_name(const struct icmp_prober *p, uint32_t id)
{
    return id < p->nt && p->t[id].in_use ? p->t[id].name : NULL;
}

int icmp_prober_target_stats(const struct icmp_prober *p, uint32_t id,
                             struct icmp_target_stats *out)
{
    if (id >= p->nt || !p->t[id].in_use)
        return -ENOENT;
    *out = p->t[id].s;
    return 0;
}

void icmp_prober_stats(const struct icmp_prober *p, struct icmp_prober_stats *out)
{
    *out = p->s;
    out->in_flight = icmp_table_count(p->table);
    out->raw4 = p->sock[0].fd < 0 ? -1 : p->sock[0].raw;
    out->raw6 = p->sock[1].fd < 0 ? -1 : p->sock[1].raw;
}
