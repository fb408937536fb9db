/* alarm_state against a real redis-server and the in-process bus: one event per change,
 * nothing raised twice across a restart, alarms flowing while Redis is down. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alarm_state.h"
#include "core/bus.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "tests/support/check_run.h"
#include "tests/support/redis_server.h"

struct seen {
    int n;
    enum alarm_action action[16];
    char id[16][256];
};

static struct redis_server *rs;
static struct loop *lp;
static struct store *store;
static struct bus *bus;
static struct seen seen;
static struct loop_timer *tick;

static int on_alarm(void *arg, const struct event *ev, const struct bus_msg *m)
{
    (void)arg;
    (void)m;
    ck_assert_int_lt(seen.n, 16);
    seen.action[seen.n] = ev->u.alarm.action;
    snprintf(seen.id[seen.n], sizeof seen.id[0], "%s", ev->u.alarm.id);
    seen.n++;
    return 0;
}

static void nothing(void *arg)
{
    (void)arg;
}

/* Run the loop until *flag reaches want, failing after 5 s. */
static void await_int(const int *flag, int want)
{
    int64_t deadline = loop_wall_ms() + 5000;
    while (*flag < want) {
        ck_assert_msg(loop_wall_ms() < deadline, "timed out: %d < %d", *flag, want);
        loop_run_once(lp, 1);
    }
}

static void await_ready(struct alarm_state *st)
{
    int64_t deadline = loop_wall_ms() + 5000;
    while (!alarm_state_ready(st) || alarm_state_pending(st)) {
        ck_assert_msg(loop_wall_ms() < deadline, "state never settled");
        loop_run_once(lp, 1);
    }
}

/* Let everything in flight settle, then assert nothing more was published. */
static void assert_quiet(struct alarm_state *st, int expect)
{
    await_ready(st);
    for (int i = 0; i < 5; i++)
        loop_run_once(lp, 1);
    ck_assert_int_eq(seen.n, expect);
}

static struct alarm_report report(const char *obj, const char *kind, bool active)
{
    return (struct alarm_report){.device = "olt-1",
                                 .object = obj,
                                 .kind = kind,
                                 .active = active,
                                 .severity = SEV_MAJOR,
                                 .source = SRC_ICMP,
                                 .observed_ms = loop_wall_ms()};
}

static long long redis_int(const char *fmt, const char *arg)
{
    char err[256];
    struct store_config cfg;
    store_config_init(&cfg);
    free(cfg.address);
    cfg.address = xstrdup(redis_server_address(rs));
    struct store_sync *ss = store_sync_connect(&cfg, err, sizeof err);
    ck_assert_msg(ss != NULL, "%s", err);
    redisReply *r = store_sync_command(ss, fmt, arg);
    ck_assert_ptr_nonnull(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    store_sync_free(ss);
    store_config_deinit(&cfg);
    return v;
}

static void setup(void)
{
    char err[256];
    rs = redis_server_start(NULL, NULL, err, sizeof err);
    ck_assert_msg(rs != NULL, "%s", err);
    lp = loop_new();
    struct store_config sc;
    store_config_init(&sc);
    free(sc.address);
    sc.address = xstrdup(redis_server_address(rs));
    sc.reconnect_min_ms = 20;
    sc.reconnect_max_ms = 100;
    store = store_new(lp, &sc);
    store_config_deinit(&sc);
    struct bus_config bc;
    bus_config_init(&bc);
    bus = bus_new(lp, &bc, err, sizeof err);
    bus_config_deinit(&bc);
    ck_assert_int_eq(bus_subscribe_events(bus, BUS_ALARMS, "t", on_alarm, NULL), 0);
    tick = loop_timer_new(lp, nothing, NULL);
    loop_timer_start(tick, 20, 20); /* wakes loop_run_once while we wait */
    memset(&seen, 0, sizeof seen);
}

static void teardown(void)
{
    loop_timer_free(tick);
    bus_free(bus);
    store_free(store);
    loop_free(lp);
    redis_server_free(rs);
}

START_TEST(one_event_per_change_and_clear_reuses_the_id)
{
    struct alarm_state *st = alarm_state_new(lp, bus, store);
    await_ready(st);
    struct alarm_report up = report("onu:0/1/3:17", "onu-los", true);
    alarm_state_report(st, &up);
    alarm_state_report(st, &up);
    assert_quiet(st, 1);
    ck_assert_int_eq(seen.action[0], ALARM_RAISE);
    ck_assert_int_eq(redis_int("HEXISTS farol:alarm:dev:olt-1 %s", "onu:0/1/3:17|onu-los"), 1);
    ck_assert_int_eq(redis_int("SISMEMBER farol:alarm:devices %s", "olt-1"), 1);
    struct alarm_report down = report("onu:0/1/3:17", "onu-los", false);
    alarm_state_report(st, &down);
    alarm_state_report(st, &down);
    assert_quiet(st, 2);
    ck_assert_int_eq(seen.action[1], ALARM_CLEAR);
    ck_assert_str_eq(seen.id[1], seen.id[0]);
    ck_assert_int_eq(redis_int("EXISTS %s", "farol:alarm:dev:olt-1"), 0);
    ck_assert_int_eq(redis_int("SISMEMBER farol:alarm:devices %s", "olt-1"), 0);
    alarm_state_free(st);
}
END_TEST

START_TEST(a_restart_neither_raises_again_nor_forgets)
{
    struct alarm_state *st = alarm_state_new(lp, bus, store);
    await_ready(st);
    struct alarm_report a = report("", "unreachable", true);
    struct alarm_report b = report("if:12", "link-down", true);
    alarm_state_report(st, &a);
    alarm_state_report(st, &b);
    assert_quiet(st, 2);
    alarm_state_free(st);

    st = alarm_state_new(lp, bus, store); /* the restarted collector */
    await_ready(st);
    ck_assert_uint_eq(alarm_state_active(st), 2);
    alarm_state_report(st, &a);
    assert_quiet(st, 2);
    b.active = false;
    alarm_state_report(st, &b);
    assert_quiet(st, 3);
    ck_assert_int_eq(seen.action[2], ALARM_CLEAR);
    ck_assert_str_eq(seen.id[2], seen.id[1]);
    alarm_state_free(st);
}
END_TEST

START_TEST(reports_before_the_load_are_held_then_applied)
{
    struct alarm_state *st = alarm_state_new(lp, bus, store);
    await_ready(st);
    struct alarm_report a = report("", "unreachable", true);
    alarm_state_report(st, &a);
    assert_quiet(st, 1);
    alarm_state_free(st);

    st = alarm_state_new(lp, bus, store);
    ck_assert(!alarm_state_ready(st));
    alarm_state_report(st, &a); /* known active in Redis: must not raise again */
    struct alarm_report b = report("if:1", "link-down", true);
    alarm_state_report(st, &b);
    assert_quiet(st, 2);
    ck_assert_int_eq(seen.action[1], ALARM_RAISE);
    ck_assert_ptr_nonnull(strstr(seen.id[1], "if:1/link-down"));
    alarm_state_free(st);
}
END_TEST

START_TEST(alarms_flow_while_redis_is_down_and_state_is_rewritten_after)
{
    struct alarm_state *st = alarm_state_new(lp, bus, store);
    await_ready(st);
    char err[256];
    ck_assert_int_eq(redis_server_stop(rs), 0);
    struct alarm_report a = report("", "unreachable", true);
    alarm_state_report(st, &a);
    await_int(&seen.n, 1); /* published although Redis could not record it */
    ck_assert_int_eq(redis_server_restart(rs, err, sizeof err), 0);
    int64_t deadline = loop_wall_ms() + 5000;
    while (!store_connected(store) || alarm_state_pending(st)) {
        ck_assert(loop_wall_ms() < deadline);
        loop_run_once(lp, 1);
    }
    ck_assert_int_eq(redis_int("HEXISTS farol:alarm:dev:olt-1 %s", "|unreachable"), 1);
    ck_assert_int_eq(seen.n, 1);
    alarm_state_free(st);
}
END_TEST

START_TEST(confirmed_events_leave_the_outbox_and_leftovers_go_out_again)
{
    struct alarm_state *st = alarm_state_new(lp, bus, store);
    await_ready(st);
    struct alarm_report a = report("if:3", "link-down", true);
    alarm_state_report(st, &a);
    assert_quiet(st, 1);
    ck_assert_int_eq(redis_int("LLEN %s", "farol:alarm:outbox"), 0);
    alarm_state_free(st);

    /* What a crash between the Redis write and the bus leaves behind: */
    const char *left = "{\"v\":1,\"type\":\"alarm\",\"ts\":\"2026-11-23T21:00:00.000Z\","
                       "\"data\":{\"id\":\"olt-1/if:4/link-down/1\",\"action\":\"raise\","
                       "\"device\":\"olt-1\",\"object\":\"if:4\",\"kind\":\"link-down\","
                       "\"severity\":\"major\",\"source\":\"snmp-poll\","
                       "\"observed_at\":\"2026-11-23T21:00:00.000Z\"}}";
    ck_assert_int_eq(redis_int("RPUSH farol:alarm:outbox %s", left), 1);
    st = alarm_state_new(lp, bus, store);
    await_ready(st);
    assert_quiet(st, 2);
    ck_assert_str_eq(seen.id[1], "olt-1/if:4/link-down/1");
    ck_assert_int_eq(redis_int("LLEN %s", "farol:alarm:outbox"), 0);
    alarm_state_free(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alarm_state");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_event_per_change_and_clear_reuses_the_id);
    tcase_add_test(tc, a_restart_neither_raises_again_nor_forgets);
    tcase_add_test(tc, reports_before_the_load_are_held_then_applied);
    tcase_add_test(tc, alarms_flow_while_redis_is_down_and_state_is_rewritten_after);
    tcase_add_test(tc, confirmed_events_leave_the_outbox_and_leftovers_go_out_again);
    suite_add_tcase(s, tc);
    return check_run(s, CK_NOFORK);
}
