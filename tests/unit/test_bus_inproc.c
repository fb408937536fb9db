#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/loop.h"

#include "tests/support/check_run.h"

#define N 1000

struct sink {
    struct loop *loop;
    int got[N];
    int n, expect;
    int retry_left; /* BUS_RETRY this many times on message retry_at */
    int retry_at;
    int poison_at;
    int in_handler;
    char last_payload[512];
};

static struct loop *lp;
static struct bus *bus;
static struct loop_timer *guard;

static void guard_fired(void *arg)
{
    (void)arg;
    loop_stop(lp);
    ck_abort_msg("timed out waiting for deliveries");
}

static void setup_limit(uint32_t limit)
{
    struct bus_config cfg;
    char err[128];
    bus_config_init(&cfg);
    cfg.queue_limit = limit;
    lp = loop_new();
    bus = bus_new(lp, &cfg, err, sizeof err);
    ck_assert_ptr_nonnull(bus);
    bus_config_deinit(&cfg);
    guard = loop_timer_new(lp, guard_fired, NULL);
    loop_timer_start(guard, 10000, 0);
}

static void setup(void)
{
    setup_limit(100000);
}

static void teardown(void)
{
    loop_timer_free(guard);
    bus_free(bus);
    loop_free(lp);
}

static int take(void *arg, const struct bus_msg *m)
{
    struct sink *s = arg;
    ck_assert_int_eq(s->in_handler, 0);
    char text[32]; /* payloads carry a length, not a NUL */
    snprintf(text, sizeof text, "%.*s", (int)m->len, (const char *)m->payload);
    int v = atoi(text);
    if (v == s->retry_at && s->retry_left > 0) {
        s->retry_left--;
        return BUS_RETRY;
    }
    if (v == s->poison_at)
        return -EINVAL;
    snprintf(s->last_payload, sizeof s->last_payload, "%.*s", (int)m->len,
             (const char *)m->payload);
    s->got[s->n++] = v;
    if (s->n == s->expect)
        loop_stop(s->loop);
    return 0;
}

static void publish_range(enum bus_topic t, int from, int to)
{
    for (int i = from; i < to; i++) {
        char p[16], k[16];
        snprintf(p, sizeof p, "%d", i);
        snprintf(k, sizeof k, "dev%d", i % 7);
        ck_assert_int_eq(bus_publish(bus, t, k, p, strlen(p) + 1), 0);
    }
}

START_TEST(every_group_sees_every_message_in_order)
{
    struct sink a = {.loop = lp, .expect = N, .retry_at = -1, .poison_at = -1};
    struct sink b = a;
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "correlator", take, &a), 0);
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "archive", take, &b), 0);
    publish_range(BUS_ALARMS, 0, N);
    ck_assert_uint_eq(bus_pending(bus), 2 * N);
    while (a.n < N || b.n < N)
        loop_run_once(lp, 1);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(a.got[i], i);
        ck_assert_int_eq(b.got[i], i);
    }
    ck_assert_uint_eq(bus_pending(bus), 0);
}
END_TEST

START_TEST(members_of_a_group_split_by_key_keeping_order)
{
    struct sink a = {.loop = lp, .retry_at = -1, .poison_at = -1};
    struct sink b = a;
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "g", take, &a), 0);
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "g", take, &b), 0);
    publish_range(BUS_ALARMS, 0, N);
    while (a.n + b.n < N)
        loop_run_once(lp, 1);
    ck_assert_int_gt(a.n, 0);
    ck_assert_int_gt(b.n, 0);
    for (int i = 1; i < a.n; i++)
        ck_assert_int_lt(a.got[i - 1], a.got[i]);
    for (int i = 0; i < a.n; i++) /* a key never lands on both members */
        for (int j = 0; j < b.n; j++)
            ck_assert_int_ne(a.got[i] % 7, b.got[j] % 7);
}
END_TEST

START_TEST(full_queue_refuses_instead_of_growing)
{
    teardown();
    setup_limit(10);
    struct sink a = {.loop = lp, .expect = 10, .retry_at = -1, .poison_at = -1};
    ck_assert_int_eq(bus_subscribe(bus, BUS_USAGE, "c", take, &a), 0);
    publish_range(BUS_USAGE, 0, 10);
    ck_assert_int_eq(bus_publish(bus, BUS_USAGE, "k", "x", 2), -ENOBUFS);
    struct bus_stats st;
    bus_get_stats(bus, &st);
    ck_assert_uint_eq(st.publish_refused, 1);
    loop_run(lp);
    ck_assert_int_eq(a.n, 10);
    ck_assert_int_eq(bus_publish(bus, BUS_USAGE, "k", "10", 3), 0);
}
END_TEST

START_TEST(retry_redelivers_the_same_message_in_order)
{
    struct sink a = {.loop = lp, .expect = 20, .retry_at = 5, .retry_left = 3, .poison_at = -1};
    ck_assert_int_eq(bus_subscribe(bus, BUS_OUTAGES, "n", take, &a), 0);
    publish_range(BUS_OUTAGES, 0, 20);
    loop_run(lp);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(a.got[i], i);
    struct bus_stats st;
    bus_get_stats(bus, &st);
    ck_assert_uint_eq(st.retried, 3);
    ck_assert_uint_eq(st.handled, 20);
}
END_TEST

START_TEST(poison_message_is_dead_lettered_and_skipped)
{
    struct sink a = {.loop = lp, .expect = 9, .retry_at = -1, .poison_at = 3};
    struct sink dl = {.loop = lp, .expect = 1, .retry_at = -1, .poison_at = -1};
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "c", take, &a), 0);
    ck_assert_int_eq(bus_subscribe(bus, BUS_DEADLETTER, "ops", take, &dl), 0);
    publish_range(BUS_ALARMS, 0, 10);
    while (a.n < 9 || dl.n < 1)
        loop_run_once(lp, 1);
    ck_assert_int_eq(a.got[3], 4);
    ck_assert_ptr_nonnull(strstr(dl.last_payload, "\"type\":\"deadletter\""));
    ck_assert_ptr_nonnull(strstr(dl.last_payload, "\"topic\":\"alarms\""));
    ck_assert_ptr_nonnull(strstr(dl.last_payload, "\"key\":\"dev3\""));
    ck_assert_ptr_nonnull(strstr(dl.last_payload, "Invalid argument"));
    struct bus_stats st;
    bus_get_stats(bus, &st);
    ck_assert_uint_eq(st.deadlettered, 1);
}
END_TEST

static int never_called(void *arg, const struct event *ev, const struct bus_msg *m)
{
    (void)arg;
    (void)ev;
    (void)m;
    ck_abort_msg("a malformed event reached the stage");
    return 0;
}

START_TEST(malformed_events_never_reach_the_stage)
{
    struct sink dl = {.loop = lp, .expect = 2, .retry_at = -1, .poison_at = -1};
    ck_assert_int_eq(bus_subscribe_events(bus, BUS_ALARMS, "c", never_called, NULL), 0);
    ck_assert_int_eq(bus_subscribe(bus, BUS_DEADLETTER, "ops", take, &dl), 0);
    ck_assert_int_eq(bus_publish(bus, BUS_ALARMS, "d", "{not json", 9), 0);
    ck_assert_int_eq(bus_publish(bus, BUS_ALARMS, "d", "\xff\xfe", 2), 0);
    loop_run(lp);
    ck_assert_ptr_nonnull(strstr(dl.last_payload, "\"payload_hex\":\"fffe\""));
    struct bus_stats st;
    bus_get_stats(bus, &st);
    ck_assert_uint_eq(st.malformed, 2);
    ck_assert_uint_eq(bus_pending(bus), 0);
}
END_TEST

struct relay {
    struct sink *sink;
};

static int forward(void *arg, const struct bus_msg *m)
{
    struct sink *s = arg;
    s->in_handler = 1;
    /* Publishing from a handler must queue, not call the next handler re-entrantly. */
    ck_assert_int_eq(bus_publish(bus, BUS_OUTAGES, "o", m->payload, m->len), 0);
    s->in_handler = 0;
    return 0;
}

START_TEST(publishing_from_a_handler_does_not_recurse)
{
    struct sink out = {.loop = lp, .expect = 50, .retry_at = -1, .poison_at = -1};
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "c", forward, &out), 0);
    ck_assert_int_eq(bus_subscribe(bus, BUS_OUTAGES, "n", take, &out), 0);
    publish_range(BUS_ALARMS, 0, 50);
    loop_run(lp);
    ck_assert_int_eq(out.n, 50);
    ck_assert_str_eq(bus_topic_name(bus, BUS_OUTAGES), "farol.outages");
}
END_TEST

struct confirms {
    int calls, last, inside;
};

static void confirmed(void *arg, int status)
{
    struct confirms *c = arg;
    ck_assert_int_eq(c->inside, 0); /* never from inside bus_publish_confirmed */
    c->calls++;
    c->last = status;
    loop_stop(lp);
}

START_TEST(confirmation_comes_once_from_the_loop)
{
    struct confirms c = {0};
    c.inside = 1;
    ck_assert_int_eq(bus_publish_confirmed(bus, BUS_ALARMS, "d", "x", 1, confirmed, &c), 0);
    c.inside = 0;
    ck_assert_int_eq(c.calls, 0);
    loop_run(lp);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.last, 0);
}
END_TEST

START_TEST(unconfirmed_at_free_are_cancelled)
{
    struct confirms c = {0};
    ck_assert_int_eq(bus_publish_confirmed(bus, BUS_ALARMS, "d", "x", 1, confirmed, &c), 0);
    bus_free(bus);
    bus = NULL;
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.last, -ECANCELED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_inproc");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_group_sees_every_message_in_order);
    tcase_add_test(tc, members_of_a_group_split_by_key_keeping_order);
    tcase_add_test(tc, full_queue_refuses_instead_of_growing);
    tcase_add_test(tc, retry_redelivers_the_same_message_in_order);
    tcase_add_test(tc, poison_message_is_dead_lettered_and_skipped);
    tcase_add_test(tc, malformed_events_never_reach_the_stage);
    tcase_add_test(tc, publishing_from_a_handler_does_not_recurse);
    tcase_add_test(tc, confirmation_comes_once_from_the_loop);
    tcase_add_test(tc, unconfirmed_at_free_are_cancelled);
    suite_add_tcase(s, tc);
    return check_run(s, CK_NOFORK);
}
