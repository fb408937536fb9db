/* The prober against the loopback (127.0.0.0/8 and ::1 answer on lo), plus junk injected
 * through a second raw socket: foreign, corrupt, duplicate and late replies. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/icmp_packet.h"
#include "collector/icmp_prober.h"
#include "core/loop.h"

#include "tests/support/check_run.h"

struct ctx {
    struct loop *loop;
    struct icmp_prober *p;
    int done, replies, lost, transitions[8];
    enum icmp_state last[8];
    int (*until)(struct ctx *);
};

static void on_reply(void *arg, uint32_t id, uint64_t rtt_us, void *user)
{
    struct ctx *c = arg;
    ck_assert_ptr_eq(user, c);
    ck_assert_uint_lt(rtt_us, 1000000);
    (void)id;
    c->replies++;
}

static void on_lost(void *arg, uint32_t id, void *user)
{
    struct ctx *c = arg;
    (void)id, (void)user;
    c->lost++;
}

static void on_state(void *arg, uint32_t id, enum icmp_state old, enum icmp_state now, void *user)
{
    struct ctx *c = arg;
    (void)user;
    ck_assert_int_eq(old, c->last[id]);
    ck_assert_int_ne(old, now);
    c->last[id] = now;
    c->transitions[id]++;
}

static void on_done(void *arg)
{
    struct ctx *c = arg;
    c->done = 1;
    loop_stop(c->loop);
}

static void poll_until(void *arg)
{
    struct ctx *c = arg;
    if (c->until && c->until(c))
        loop_stop(c->loop);
}

static void deadline(void *arg)
{
    (void)arg;
    ck_abort_msg("deadline passed");
}

/* Run the loop until cond holds (checked every 5 ms) or on_done; abort after 5 s. */
static void run_until(struct ctx *c, int (*cond)(struct ctx *))
{
    struct loop_timer *poll = loop_timer_new(c->loop, poll_until, c);
    struct loop_timer *dl = loop_timer_new(c->loop, deadline, c);
    c->until = cond;
    loop_timer_start(poll, 5, 5);
    loop_timer_start(dl, 5000, 0);
    loop_run(c->loop);
    loop_timer_free(poll);
    loop_timer_free(dl);
}

static struct ctx *setup(int no_spread)
{
    static struct ctx c;
    memset(&c, 0, sizeof c);
    c.loop = loop_new();
    struct icmp_prober_opts o = {.no_spread = no_spread,
                                 .on_reply = on_reply,
                                 .on_lost = on_lost,
                                 .on_state = on_state,
                                 .on_done = on_done,
                                 .arg = &c};
    char err[256];
    c.p = icmp_prober_new(c.loop, &o, err, sizeof err);
    ck_assert_msg(c.p != NULL, "%s", err);
    return &c;
}

static int add(struct ctx *c, const char *addr, const struct icmp_target_opts *o)
{
    union {
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } a = {0};
    socklen_t len;
    if (strchr(addr, ':')) {
        a.in6.sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, addr, &a.in6.sin6_addr), 1);
        len = sizeof a.in6;
    } else {
        a.in.sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, addr, &a.in.sin_addr), 1);
        len = sizeof a.in;
    }
    char err[256];
    int id = icmp_prober_add(c->p, addr, (struct sockaddr *)&a, len, o, c, err, sizeof err);
    ck_assert_msg(id >= 0, "%s", err);
    return id;
}

static void teardown(struct ctx *c)
{
    icmp_prober_free(c->p);
    loop_free(c->loop);
}

START_TEST(loopback_v4_and_v6_answer_every_round)
{
    struct ctx *c = setup(0);
    struct icmp_target_opts o = {.interval_ms = 20, .timeout_ms = 500, .rounds = 3};
    const char *addrs[] = {"127.0.0.1", "127.0.0.2", "::1"};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(add(c, addrs[i], &o), i);
    run_until(c, NULL);
    ck_assert(c->done);
    ck_assert_int_eq(c->replies, 9);
    ck_assert_int_eq(c->lost, 0);
    for (uint32_t i = 0; i < 3; i++) {
        struct icmp_target_stats s;
        ck_assert_int_eq(icmp_prober_target_stats(c->p, i, &s), 0);
        ck_assert_uint_eq(s.xmt, 3);
        ck_assert_uint_eq(s.rcv, 3);
        ck_assert_uint_eq(s.rounds, 3);
        ck_assert(s.finished);
        ck_assert(s.rtt_min_us <= s.rtt_max_us && s.rtt_sum_us >= 3 * s.rtt_min_us);
        ck_assert_int_eq(s.state, ICMP_STATE_UP);
        ck_assert_int_eq(c->transitions[i], 1); /* unknown -> up, once */
        ck_assert_str_eq(icmp_prober_name(c->p, i), addrs[i]);
    }
    struct icmp_prober_stats st;
    icmp_prober_stats(c->p, &st);
    ck_assert_uint_eq(st.sent, 9);
    ck_assert_uint_eq(st.received, 9);
    ck_assert_uint_eq(st.in_flight, 0);
    ck_assert_int_eq(st.raw4, 1);
    ck_assert_int_eq(st.raw6, 1);
    teardown(c);
}
END_TEST

START_TEST(removed_target_gets_no_callbacks_and_its_id_is_reused)
{
    struct ctx *c = setup(1);
    struct icmp_target_opts o = {.interval_ms = 20, .rounds = 2};
    int gone = add(c, "127.0.0.3", &o);
    ck_assert_int_eq(icmp_prober_remove(c->p, (uint32_t)gone), 0);
    ck_assert_int_eq(icmp_prober_remove(c->p, (uint32_t)gone), -ENOENT);
    ck_assert_ptr_null(icmp_prober_name(c->p, (uint32_t)gone));
    ck_assert_int_eq(add(c, "127.0.0.4", &o), gone);
    run_until(c, NULL);
    ck_assert_int_eq(c->replies, 2);
    teardown(c);
}
END_TEST

static int got_reply(struct ctx *c)
{
    return c->replies >= 1;
}

static struct icmp_prober_stats junk_stats;

static int junk_counted(struct ctx *c)
{
    icmp_prober_stats(c->p, &junk_stats);
    return junk_stats.duplicates >= 1 && junk_stats.late >= 1 && junk_stats.foreign >= 2 &&
           junk_stats.malformed >= 1;
}

/* The last farol echo reply seen by a raw socket of our own, ICMP part only. */
static size_t capture_reply(int fd, uint8_t *out)
{
    uint8_t buf[2048];
    size_t best = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
        if ((size_t)n >= ihl + ICMP_PACKET_MIN && buf[ihl] == 0 &&
            !memcmp(buf + ihl + 8, "FRL1", 4)) {
            best = (size_t)n - ihl;
            memcpy(out, buf + ihl, best);
        }
    }
    return best;
}

static void send_to_lo(int fd, uint8_t *pkt, size_t len, int fix_checksum)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fix_checksum) {
        pkt[2] = pkt[3] = 0;
        uint16_t ck = icmp_packet_checksum(pkt, len);
        memcpy(pkt + 2, &ck, 2);
    }
    ck_assert_int_eq(sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)len);
}

START_TEST(junk_replies_are_counted_and_ignored)
{
    int cap = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    ck_assert_int_ge(cap, 0);
    struct ctx *c = setup(1);
    /* One probe now, the next in 10 s: the captured reply stays the last answered one. */
    struct icmp_target_opts o = {.interval_ms = 10000};
    add(c, "127.0.0.1", &o);
    run_until(c, got_reply);
    uint8_t pkt[2048];
    size_t n = capture_reply(cap, pkt);
    ck_assert_uint_ge(n, ICMP_PACKET_MIN);
    send_to_lo(cap, pkt, n, 0); /* duplicate */
    pkt[8 + 15] ^= 0x55;        /* another token: late */
    send_to_lo(cap, pkt, n, 1);
    pkt[8 + 5] ^= 0x55; /* another cookie: another farol's */
    send_to_lo(cap, pkt, n, 1);
    pkt[9] ^= 0x01; /* corrupt, checksum not fixed */
    send_to_lo(cap, pkt, n, 0);
    memset(pkt + 8, 0, n - 8); /* an ordinary ping's reply */
    send_to_lo(cap, pkt, n, 1);
    send_to_lo(cap, pkt, 4, 0); /* truncated: the kernel's ICMP filter drops it */
    run_until(c, junk_counted);
    ck_assert_int_eq(c->replies, 1);
    ck_assert_uint_eq(junk_stats.received, 1);
    ck_assert_uint_eq(junk_stats.duplicates, 1);
    ck_assert_uint_eq(junk_stats.late, 1);
    ck_assert_uint_eq(junk_stats.malformed, 1);
    ck_assert_uint_eq(junk_stats.foreign, 2);
    close(cap);
    teardown(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("icmp_prober");
    TCase *tc = tcase_create("loopback");
    tcase_add_test(tc, loopback_v4_and_v6_answer_every_round);
    tcase_add_test(tc, removed_target_gets_no_callbacks_and_its_id_is_reused);
    tcase_add_test(tc, junk_replies_are_counted_and_ignored);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
