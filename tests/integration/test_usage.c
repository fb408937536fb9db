/* test_usage: usage accounting against a private redis-server: attribution by binding and by
 * subscriber id, unattributed counting, thresholds emitted once per cycle under redelivery and
 * with two accountants sharing Redis, re-arming in the next cycle, unlimited caps, the key's
 * expiry, and Redis failures (killed, reply lost, counter overflow) leaving nothing
 * half-applied and no crossing lost. */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/store.h"
#include "correlator/topology.h"
#include "correlator/usage.h"
#include "tests/support/check_run.h"
#include "tests/support/redis_server.h"

static struct redis_server *rs;
static struct store_sync *ss;
static struct topology *topo;

struct seen {
    char sub[32], cycle[16];
    uint32_t percent;
    uint64_t used, cap;
    int64_t crossed;
};
static struct seen events[32];
static size_t nevents;

static void on_event(void *arg, const struct event *ev)
{
    (void)arg;
    ck_assert_int_eq(ev->type, EVENT_THRESHOLD);
    ck_assert_uint_lt(nevents, 32);
    const struct threshold *t = &ev->u.threshold;
    struct seen *s = &events[nevents++];
    snprintf(s->sub, sizeof s->sub, "%s", t->subscriber);
    snprintf(s->cycle, sizeof s->cycle, "%s", t->cycle);
    s->percent = t->percent, s->used = t->used_octets, s->cap = t->cap_octets;
    s->crossed = t->crossed_ms;
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

/* Far enough ahead that every key's expiry lies in the future of the real clock. */
#define T0 utc(2030, 1, 10, 12, 0)

static struct store_sync *connect_redis(int64_t command_timeout_ms)
{
    char err[256];
    struct store_sync *c = redis_server_sync(rs, command_timeout_ms, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

/* One record from alternating key, value strings ending in NULL. */
static void rec(struct topology *t, enum topology_rec type, const char *const *kv,
                struct topology_errs *e)
{
    struct topology_field f[16];
    size_t n = 0;
    for (; kv[2 * n]; n++)
        f[n] = (struct topology_field){kv[2 * n], kv[2 * n + 1], (int)n + 1};
    ck_assert_int_eq(topology_add(t, type, f, n, topology_file(t, "mem"), 1, e), 0);
}

#define REC(type, ...) rec(t, type, (const char *const[]){__VA_ARGS__, NULL}, &e)

static struct topology *build_topology(void)
{
    struct topology *t = topology_new();
    struct topology_errs e = {0};
    REC(TOPOLOGY_REC_NODE, "id", "olt-1", "kind", "olt");
    const char *onus[] = {"onu-1", "onu-2", "onu-3", "onu-4", "onu-5"};
    for (size_t i = 0; i < 5; i++)
        REC(TOPOLOGY_REC_NODE, "id", onus[i], "kind", "onu", "parents", "olt-1");
    REC(TOPOLOGY_REC_SUB, "id", "sub-a", "node", "onu-1", "cap", "1000", "cycle_day", "1");
    REC(TOPOLOGY_REC_SUB, "id", "sub-b", "node", "onu-2", "cap", "unlimited");
    REC(TOPOLOGY_REC_SUB, "id", "sub-c", "node", "onu-3", "cap", "1000");
    REC(TOPOLOGY_REC_SUB, "id", "sub-d", "node", "onu-3", "cap", "1000");
    REC(TOPOLOGY_REC_SUB, "id", "sub-r", "node", "onu-4", "cap", "1000", "cycle_day", "5",
        "timezone", "America/Sao_Paulo");
    const char *objs[][2] = {
        {"onu:1", "onu-1"}, {"onu:2", "onu-2"}, {"onu:3", "onu-3"}, {"onu:5", "onu-5"}};
    for (size_t i = 0; i < 4; i++)
        REC(TOPOLOGY_REC_BIND, "device", "olt-1", "object", objs[i][0], "node", objs[i][1]);
    ck_assert_int_eq(topology_finish(t, &e), 0);
    ck_assert_uint_eq(e.n, 0);
    topology_errs_deinit(&e);
    return t;
}

static void setup(void)
{
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    rs = redis_server_start(NULL, NULL, err, sizeof err);
    ck_assert_msg(rs != NULL, "%s", err);
    ss = connect_redis(0);
    topo = build_topology();
    nevents = 0;
}

static void teardown(void)
{
    topology_free(topo);
    store_sync_free(ss);
    redis_server_free(rs);
}

static struct usage_acct *new_acct(struct store_sync *c)
{
    return usage_new(c, topo, NULL, on_event, NULL);
}

static int feed(struct usage_acct *u, const char *device, const char *object, const char *sub,
                int64_t observed, uint64_t rx, uint64_t tx)
{
    struct usage_sample s = {.device = (char *)device,
                             .object = (char *)object,
                             .subscriber = (char *)sub,
                             .observed_ms = observed,
                             .rx_octets = rx,
                             .tx_octets = tx,
                             .interval_ms = 300000};
    char err[256] = "";
    int rc = usage_sample(u, &s, observed + 1000, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "usage_sample: %d %s\n", rc, err);
    return rc;
}

/* A field of a hash, or "" when absent. */
static const char *hget(const char *key, const char *field)
{
    static char out[128];
    redisReply *r = store_sync_command(ss, "HGET %s %s", key, field);
    ck_assert_ptr_nonnull(r);
    snprintf(out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return out;
}

static long long integer(const char *fmt, const char *arg)
{
    redisReply *r = store_sync_command(ss, fmt, arg);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

#define KEY_A "farol:usage:2030-01:sub-a"

START_TEST(binding_accumulates_with_expiry)
{
    struct usage_acct *u = new_acct(ss);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0, 100, 50), 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 300000, 10, 0), 0);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "110");
    ck_assert_str_eq(hget(KEY_A, "tx_octets"), "50");
    ck_assert_str_eq(hget(KEY_A, "cap_octets"), "1000");
    ck_assert_str_eq(hget(KEY_A, "subscriber"), "sub-a");
    ck_assert_str_eq(hget(KEY_A, "cycle"), "2030-01");
    char upd[32];
    snprintf(upd, sizeof upd, "%lld", (long long)(T0 + 301000));
    ck_assert_str_eq(hget(KEY_A, "updated_ms"), upd);
    /* Expires 90 days after the cycle ends (Feb 1 00:00 UTC). */
    ck_assert_int_eq(integer("EXPIRETIME %s", KEY_A), utc(2030, 2, 1, 0, 0) / 1000 + 90 * 86400);
    struct usage_stats st;
    usage_get_stats(u, &st);
    ck_assert_uint_eq(st.samples, 2);
    ck_assert_uint_eq(st.applied, 2);
    ck_assert_uint_eq(nevents, 0);
    usage_free(u);
}
END_TEST

START_TEST(subscriber_id_and_unattributed)
{
    struct usage_acct *u = new_acct(ss);
    /* 02:00 UTC on Jan 5 is Jan 4 23:00 in São Paulo: still the cycle that began Dec 5. */
    ck_assert_int_eq(feed(u, NULL, NULL, "sub-r", utc(2030, 1, 5, 2, 0), 7, 3), 0);
    ck_assert_str_eq(hget("farol:usage:2029-12:sub-r", "rx_octets"), "7");
    ck_assert_int_eq(feed(u, NULL, NULL, "ghost", T0, 1, 1), 0);        /* unknown id */
    ck_assert_int_eq(feed(u, "olt-1", "onu:3", NULL, T0, 1, 1), 0);     /* two subscribers */
    ck_assert_int_eq(feed(u, "olt-1", "onu:5", NULL, T0, 1, 1), 0);     /* none */
    ck_assert_int_eq(feed(u, "olt-1", "onu:7", NULL, T0, 1, 1), 0);     /* unbound */
    ck_assert_int_eq(feed(u, "olt-1", "onu:7", NULL, T0 + 1, 1, 1), 0); /* counted again */
    ck_assert_int_eq(feed(u, NULL, NULL, NULL, T0, 1, 1), -EINVAL);
    ck_assert_int_eq(feed(u, "", NULL, "", T0, 1, 1), -EINVAL);
    struct usage_stats st;
    usage_get_stats(u, &st);
    ck_assert_uint_eq(st.samples, 8);
    ck_assert_uint_eq(st.applied, 1);
    ck_assert_uint_eq(st.unattributed, 5);
    ck_assert_uint_eq(st.invalid, 2);
    ck_assert_int_eq(integer("DBSIZE", NULL), 1);
    usage_free(u);
}
END_TEST

START_TEST(thresholds_once_under_redelivery)
{
    struct usage_acct *u = new_acct(ss);
    int64_t t1 = T0, t2 = T0 + 300000, t3 = T0 + 600000;
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t1, 400, 100), 0);
    ck_assert_uint_eq(nevents, 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t2, 300, 0), 0);
    ck_assert_uint_eq(nevents, 1);
    ck_assert_str_eq(events[0].sub, "sub-a");
    ck_assert_str_eq(events[0].cycle, "2030-01");
    ck_assert_uint_eq(events[0].percent, 80);
    ck_assert_uint_eq(events[0].used, 800);
    ck_assert_uint_eq(events[0].cap, 1000);
    ck_assert_int_eq(events[0].crossed, t2);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t2, 300, 0), 0); /* redelivered */
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t1, 400, 100), 0);
    ck_assert_uint_eq(nevents, 1);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t3, 250, 50), 0);
    ck_assert_uint_eq(nevents, 2);
    ck_assert_uint_eq(events[1].percent, 100);
    ck_assert_uint_eq(events[1].used, 1100);
    for (int i = 0; i < 2; i++) { /* the whole stream again */
        ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t1, 400, 100), 0);
        ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t2, 300, 0), 0);
        ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, t3, 250, 50), 0);
    }
    ck_assert_uint_eq(nevents, 2);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "950");
    ck_assert_str_eq(hget(KEY_A, "th:80"), "done");
    ck_assert_str_eq(hget(KEY_A, "th:100"), "done");
    struct usage_stats st;
    usage_get_stats(u, &st);
    ck_assert_uint_eq(st.applied, 3);
    ck_assert_uint_eq(st.duplicates, 8);
    ck_assert_uint_eq(st.thresholds, 2);
    usage_free(u);
}
END_TEST

START_TEST(jump_emits_every_threshold_in_order)
{
    struct usage_acct *u = new_acct(ss);
    ck_assert_int_eq(feed(u, NULL, NULL, "sub-a", T0, 1200, 0), 0);
    ck_assert_uint_eq(nevents, 2);
    ck_assert_uint_eq(events[0].percent, 80);
    ck_assert_uint_eq(events[1].percent, 100);
    ck_assert_uint_eq(events[1].used, 1200);
    usage_free(u);
}
END_TEST

START_TEST(two_instances_share_redis)
{
    struct store_sync *ss2 = connect_redis(0);
    struct usage_acct *u1 = new_acct(ss), *u2 = new_acct(ss2);
    ck_assert_int_eq(feed(u1, "olt-1", "onu:1", NULL, T0, 800, 0), 0);
    ck_assert_int_eq(feed(u2, "olt-1", "onu:1", NULL, T0, 800, 0), 0); /* rebalance replay */
    ck_assert_uint_eq(nevents, 1);
    ck_assert_int_eq(feed(u2, "olt-1", "onu:1", NULL, T0 + 1, 300, 0), 0);
    ck_assert_int_eq(feed(u1, "olt-1", "onu:1", NULL, T0 + 1, 300, 0), 0);
    ck_assert_uint_eq(nevents, 2);
    ck_assert_uint_eq(events[0].percent, 80);
    ck_assert_uint_eq(events[1].percent, 100);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "1100");
    struct usage_stats s1, s2;
    usage_get_stats(u1, &s1);
    usage_get_stats(u2, &s2);
    ck_assert_uint_eq(s1.applied + s2.applied, 2);
    ck_assert_uint_eq(s1.duplicates + s2.duplicates, 2);
    usage_free(u1);
    usage_free(u2);
    store_sync_free(ss2);
}
END_TEST

START_TEST(next_cycle_rearms)
{
    struct usage_acct *u = new_acct(ss);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, utc(2030, 1, 31, 23, 59), 1100, 0), 0);
    ck_assert_uint_eq(nevents, 2);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, utc(2030, 2, 1, 0, 0), 850, 0), 0);
    ck_assert_uint_eq(nevents, 3);
    ck_assert_str_eq(events[2].cycle, "2030-02");
    ck_assert_uint_eq(events[2].percent, 80);
    ck_assert_uint_eq(events[2].used, 850);
    ck_assert_str_eq(hget("farol:usage:2030-02:sub-a", "rx_octets"), "850");
    usage_free(u);
}
END_TEST

START_TEST(cap_zero_never_emits)
{
    struct usage_acct *u = new_acct(ss);
    ck_assert_int_eq(feed(u, "olt-1", "onu:2", NULL, T0, 1000000000000000ULL, 5), 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:2", NULL, T0 + 1, 1000000000000000ULL, 5), 0);
    ck_assert_uint_eq(nevents, 0);
    const char *k = "farol:usage:2030-01:sub-b";
    ck_assert_str_eq(hget(k, "rx_octets"), "2000000000000000");
    ck_assert_str_eq(hget(k, "cap_octets"), "0");
    ck_assert_str_eq(hget(k, "th:80"), "");
    usage_free(u);
}
END_TEST

START_TEST(redis_killed_then_redelivered)
{
    struct usage_acct *u = new_acct(ss);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0, 100, 0), 0);
    ck_assert_int_eq(redis_server_kill(rs), 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 850, 0), -EAGAIN);
    ck_assert_uint_eq(nevents, 0);
    char err[256];
    ck_assert_msg(redis_server_restart(rs, err, sizeof err) == 0, "%s", err);
    struct store_sync *old = ss;
    ss = connect_redis(0);
    usage_set_store(u, ss);
    store_sync_free(old);
    /* The restarted server has neither the data (no persistence) nor the script cache. */
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 850, 0), 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 850, 0), 0);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "850");
    ck_assert_uint_eq(nevents, 1);
    struct usage_stats st;
    usage_get_stats(u, &st);
    ck_assert_uint_eq(st.errors, 1);
    ck_assert_uint_eq(st.applied, 2);
    ck_assert_uint_eq(st.duplicates, 1);
    usage_free(u);
}
END_TEST

START_TEST(overflow_is_not_half_applied)
{
    struct usage_acct *u = new_acct(ss);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0, 10, INT64_MAX - 1), 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 5, 2), -EINVAL);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "10");
    char hw[32];
    snprintf(hw, sizeof hw, "%lld", (long long)T0);
    ck_assert_str_eq(hget(KEY_A, "hw:olt-1 onu:1"), hw);
    /* The refused sample was not recorded as seen: a corrected one with its time applies. */
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 5, 1), 0);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "15");
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 2, 0, (uint64_t)INT64_MAX + 1), -EINVAL);
    usage_free(u);
}
END_TEST

/* Poll until the hash field exists (the frozen server runs the queued script once thawed). */
static void await_field(const char *key, const char *field)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (*hget(key, field))
            return;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < 10);
    ck_abort_msg("%s %s never appeared", key, field);
}

/* The script ran but its reply never came back: the redelivered sample is a duplicate, yet the
 * crossing it made is still pending and is emitted then, once. */
START_TEST(reply_lost_crossing_not_lost)
{
    struct store_sync *slow = connect_redis(300);
    struct usage_acct *u = new_acct(slow);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0, 100, 0), 0);
    ck_assert_int_eq(redis_server_freeze(rs), 0);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 750, 0), -EAGAIN);
    ck_assert_int_eq(redis_server_thaw(rs), 0);
    await_field(KEY_A, "th:80");
    ck_assert_uint_eq(nevents, 0);
    struct store_sync *fresh = connect_redis(0);
    usage_set_store(u, fresh);
    store_sync_free(slow);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 750, 0), 0);
    ck_assert_uint_eq(nevents, 1);
    ck_assert_uint_eq(events[0].percent, 80);
    ck_assert_uint_eq(events[0].used, 850);
    ck_assert_int_eq(feed(u, "olt-1", "onu:1", NULL, T0 + 1, 750, 0), 0);
    ck_assert_uint_eq(nevents, 1);
    ck_assert_str_eq(hget(KEY_A, "rx_octets"), "850");
    ck_assert_str_eq(hget(KEY_A, "th:80"), "done");
    usage_free(u);
    store_sync_free(fresh);
}
END_TEST

START_TEST(stale_and_no_topology)
{
    struct usage_acct *u = usage_new(ss, NULL, NULL, on_event, NULL);
    char err[128];
    struct usage_sample s = {.subscriber = "sub-a", .observed_ms = T0, .rx_octets = 1};
    ck_assert_int_eq(usage_sample(u, &s, T0, err, sizeof err), -EAGAIN);
    usage_set_topology(u, topo);
    /* A sample from a cycle whose key expired long ago is not written back. */
    ck_assert_int_eq(usage_sample(u, &s, T0 + 200LL * 86400000, err, sizeof err), 0);
    ck_assert_int_eq(integer("DBSIZE", NULL), 0);
    struct usage_stats st;
    usage_get_stats(u, &st);
    ck_assert_uint_eq(st.stale, 1);
    usage_free(u);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("usage");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, binding_accumulates_with_expiry);
    tcase_add_test(tc, subscriber_id_and_unattributed);
    tcase_add_test(tc, thresholds_once_under_redelivery);
    tcase_add_test(tc, jump_emits_every_threshold_in_order);
    tcase_add_test(tc, two_instances_share_redis);
    tcase_add_test(tc, next_cycle_rearms);
    tcase_add_test(tc, cap_zero_never_emits);
    tcase_add_test(tc, redis_killed_then_redelivered);
    tcase_add_test(tc, overflow_is_not_half_applied);
    tcase_add_test(tc, reply_lost_crossing_not_lost);
    tcase_add_test(tc, stale_and_no_topology);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
