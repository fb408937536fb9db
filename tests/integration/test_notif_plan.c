/* test_notif_plan: the notifier's planning rules against a private redis-server: who gets which
 * message when, across the events an outage goes through. A blip is withdrawn; a merge tells
 * nobody twice and restores them under the outage that absorbed them; a restoration carries
 * the outage that told; a redelivered event queues nothing new; an ETA change reaches those
 * told; a window scheduled at short notice gets one notice, a distant one a notice per offset;
 * a threshold is one message per cycle and percent. */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "notifier/notif_msg.h"
#include "notifier/notif_plan.h"
#include "tests/support/check_run.h"
#include "tests/support/redis_server.h"

#define NOW 1800000000000LL
#define HOUR 3600000LL

static struct redis_server *rs;
static struct store_sync *ss;
static struct notif_policy pol;
static struct notif_plan_stats st;

static void setup(void)
{
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    rs = redis_server_start(NULL, NULL, err, sizeof err);
    ck_assert_msg(rs != NULL, "%s", err);
    ss = redis_server_sync(rs, 0, err, sizeof err);
    ck_assert_msg(ss != NULL, "%s", err);
    notif_policy_defaults(&pol);
    pol.notify_delay_ms = 60000;
    memset(&st, 0, sizeof st);
}

static void teardown(void)
{
    store_sync_free(ss);
    redis_server_free(rs);
}

static void add_ids(struct id_list *l, const char *csv)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", csv ? csv : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        id_list_add(l, t);
}

static void outage(const char *id, uint32_t seq, enum outage_phase ph, const char *added,
                   const char *restored, int64_t eta, int64_t now)
{
    struct event ev;
    event_init(&ev, EVENT_OUTAGE);
    ev.ts_ms = now;
    struct outage *o = &ev.u.outage;
    o->id = xstrdup(id);
    o->seq = seq;
    o->phase = ph;
    o->cause = CAUSE_FIBER_CUT;
    o->root = xstrdup("pon-1");
    o->started_ms = NOW;
    o->eta_ms = eta;
    add_ids(&o->subscribers_added, added);
    add_ids(&o->subscribers_restored, restored);
    char err[256];
    ck_assert_msg(notif_plan_event(ss, &pol, &ev, now, &st, err, sizeof err) == 0, "%s", err);
    event_deinit(&ev);
}

/* The due time of a message in its queue, -1 when it is not queued. */
static long long due(int prio, const char *id)
{
    redisReply *r = store_sync_command(ss, "ZSCORE farol:notif:q:%d %s", prio, id);
    long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    freeReplyObject(r);
    return v;
}

static long long count(int prio)
{
    redisReply *r = store_sync_command(ss, "ZCARD farol:notif:q:%d", prio);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static char *hget(const char *key, const char *field)
{
    redisReply *r = store_sync_command(ss, "HGET %s %s", key, field);
    char *v = r->type == REDIS_REPLY_STRING ? xstrdup(r->str) : NULL;
    freeReplyObject(r);
    return v;
}

static void set(const char *key, const char *val)
{
    freeReplyObject(store_sync_command(ss, "SET %s %s", key, val));
}

START_TEST(message_ids_parse)
{
    struct notif_msg m;
    ck_assert_int_eq(notif_msg_parse(&m, "s1:mw-1@1800000000000#n120:maintenance-notice"), 0);
    ck_assert_str_eq(m.sub, "s1");
    ck_assert_str_eq(m.ref, "mw-1@1800000000000#n120");
    ck_assert_str_eq(m.base, "mw-1");
    ck_assert_int_eq(m.type, TEMPLATE_MAINTENANCE_NOTICE);
    ck_assert_int_eq(notif_msg_prio(m.type), NOTIF_PRIO_MAINT);
    ck_assert_int_lt(notif_msg_parse(&m, "s1:o-1:no-such-type"), 0);
    ck_assert_int_lt(notif_msg_parse(&m, "s1::restored"), 0);
    ck_assert_int_lt(notif_msg_parse(&m, "s1:o:1:restored"), 0);
    ck_assert_int_lt(notif_msg_make(&m, "s:1", "o-1", TEMPLATE_RESTORED), 0);
}
END_TEST

START_TEST(opened_waits_for_the_delay_and_a_blip_is_withdrawn)
{
    outage("o-1", 1, OUTAGE_OPENED, "s1,s2", NULL, 0, NOW + 5000);
    ck_assert_int_eq(due(0, "s1:o-1:outage-opened"), NOW + 60000);
    outage("o-1", 2, OUTAGE_RESOLVED, NULL, "s1,s2", 0, NOW + 30000);
    /* the pending message is gone; a restoration is queued but names the outage that told
     * them, which the dispatcher finds was never sent */
    ck_assert_int_eq(due(0, "s1:o-1:outage-opened"), -1);
    char *told = hget("farol:notif:vars:s1:o-1:restored", "told");
    ck_assert_str_eq(told, "o-1");
    free(told);
    char *down = hget("farol:notif:down", "s1");
    ck_assert_ptr_null(down);
    char *state = hget("farol:notif:ctx:o-1", "state");
    ck_assert_str_eq(state, "resolved");
    free(state);
}
END_TEST

START_TEST(redelivery_queues_nothing_new)
{
    outage("o-1", 1, OUTAGE_OPENED, "s1,s2", NULL, 0, NOW);
    long long first = due(0, "s1:o-1:outage-opened");
    outage("o-1", 1, OUTAGE_OPENED, "s1,s2", NULL, 0, NOW + 120000);
    ck_assert_int_eq(due(0, "s1:o-1:outage-opened"), first);
    ck_assert_int_eq(count(0), 2);
}
END_TEST

START_TEST(a_merge_tells_nobody_twice)
{
    outage("o-pon", 1, OUTAGE_OPENED, "s1,s2", NULL, 0, NOW);
    set("farol:notif:s1:o-pon:outage-opened", "{\"status\":\"delivered\"}"); /* s1 was told */
    redisReply *r = store_sync_command(ss, "SADD %s %s", "farol:notif:told:o-pon", "s1");
    freeReplyObject(r);
    /* the OLT fails: its outage absorbs the PON's and adds s3 */
    outage("o-olt", 1, OUTAGE_OPENED, "s1,s2,s3", NULL, 0, NOW + 1000);
    ck_assert_int_eq(due(0, "s1:o-olt:outage-opened"), -1);
    ck_assert_int_eq(due(0, "s2:o-olt:outage-opened"), -1); /* its PON message is still due */
    ck_assert_int_ne(due(0, "s2:o-pon:outage-opened"), -1);
    ck_assert_int_ne(due(0, "s3:o-olt:outage-opened"), -1);
    ck_assert_uint_eq(st.already_told, 2);
    /* s1 hears the OLT outage's updates (the ETA of what they were told about) */
    r = store_sync_command(ss, "SISMEMBER %s %s", "farol:notif:told:o-olt", "s1");
    ck_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    freeReplyObject(r);
    char *down = hget("farol:notif:down", "s1");
    ck_assert_str_eq(down, "o-olt|o-pon");
    free(down);
    /* back: restored under the OLT outage, naming the PON outage that told them */
    outage("o-olt", 2, OUTAGE_RESOLVED, NULL, "s1,s2,s3", 0, NOW + 300000);
    ck_assert_int_ne(due(0, "s1:o-olt:restored"), -1);
    char *told = hget("farol:notif:vars:s1:o-olt:restored", "told");
    ck_assert_str_eq(told, "o-pon");
    free(told);
    /* a stale restoration from the absorbed outage is ignored */
    outage("o-pon", 2, OUTAGE_RESOLVED, NULL, "s1", 0, NOW + 300000);
    ck_assert_int_eq(due(0, "s1:o-pon:restored"), -1);
}
END_TEST

START_TEST(an_eta_change_reaches_those_told)
{
    outage("o-1", 1, OUTAGE_OPENED, "s1,s2", NULL, 0, NOW);
    ck_assert(st.noc_news);
    outage("o-1", 2, OUTAGE_UPDATED, "s3", NULL, 0, NOW + 500); /* a chunk: no news */
    ck_assert(!st.noc_news);
    freeReplyObject(store_sync_command(ss, "SADD farol:notif:told:o-1 s1"));
    outage("o-1", 2, OUTAGE_UPDATED, NULL, NULL, NOW + 2 * HOUR, NOW + 1000);
    ck_assert(st.noc_news);
    ck_assert_int_ne(due(0, "s1:o-1#u2:outage-updated"), -1);
    ck_assert_int_eq(due(0, "s2:o-1#u2:outage-updated"), -1);
    /* the same ETA again is no change */
    outage("o-1", 3, OUTAGE_UPDATED, NULL, NULL, NOW + 2 * HOUR, NOW + 2000);
    ck_assert_int_eq(due(0, "s1:o-1#u3:outage-updated"), -1);
}
END_TEST

static void window(enum maint_phase ph, int64_t start, const char *subs, int64_t now)
{
    struct event ev;
    event_init(&ev, EVENT_MAINTENANCE);
    ev.ts_ms = now;
    struct maintenance *w = &ev.u.maintenance;
    w->id = xstrdup("mw-1");
    w->seq = 1;
    w->phase = ph;
    w->start_ms = start;
    w->end_ms = start + HOUR;
    w->description = xstrdup("card swap");
    add_ids(&w->subscribers, subs);
    char err[256];
    ck_assert_msg(notif_plan_event(ss, &pol, &ev, now, &st, err, sizeof err) == 0, "%s", err);
    event_deinit(&ev);
}

START_TEST(windows_get_notices_then_start_and_end)
{
    int64_t start = NOW + 72 * HOUR;
    window(MAINT_SCHEDULED, start, "s1", NOW);
    char id[256];
    snprintf(id, sizeof id, "s1:mw-1@%lld#n2880:maintenance-notice", (long long)start);
    ck_assert_int_eq(due(1, id), start - 48 * HOUR);
    snprintf(id, sizeof id, "s1:mw-1@%lld#n120:maintenance-notice", (long long)start);
    ck_assert_int_eq(due(1, id), start - 2 * HOUR);
    /* short notice: one notice now */
    int64_t soon = NOW + HOUR;
    window(MAINT_SCHEDULED, soon, "s2", NOW);
    snprintf(id, sizeof id, "s2:mw-1@%lld#n0:maintenance-notice", (long long)soon);
    ck_assert_int_eq(due(1, id), NOW);
    window(MAINT_STARTED, soon, NULL, soon); /* the set did not change: no list */
    snprintf(id, sizeof id, "s2:mw-1@%lld:maintenance-started", (long long)soon);
    ck_assert_int_eq(due(1, id), soon);
    /* the end event carries no list: the occurrence's audience hears it */
    window(MAINT_ENDED, soon, NULL, soon + HOUR);
    snprintf(id, sizeof id, "s2:mw-1@%lld:maintenance-ended", (long long)soon);
    ck_assert_int_eq(due(1, id), soon + HOUR);
}
END_TEST

START_TEST(a_threshold_is_one_message_per_cycle_and_percent)
{
    struct event ev;
    event_init(&ev, EVENT_THRESHOLD);
    ev.u.threshold.subscriber = xstrdup("s1");
    ev.u.threshold.cycle = xstrdup("2026-11");
    ev.u.threshold.percent = 80;
    ev.u.threshold.used_octets = 80;
    ev.u.threshold.cap_octets = 100;
    char err[256];
    ck_assert_int_eq(notif_plan_event(ss, &pol, &ev, NOW, &st, err, sizeof err), 0);
    ck_assert_int_eq(notif_plan_event(ss, &pol, &ev, NOW + 5, &st, err, sizeof err), 0);
    event_deinit(&ev);
    ck_assert_int_eq(due(2, "s1:2026-11#80:usage-threshold"), NOW);
    ck_assert_int_eq(count(2), 1);
    char *used = hget("farol:notif:vars:s1:2026-11#80:usage-threshold", "used");
    ck_assert_str_eq(used, "80");
    free(used);
}
END_TEST

START_TEST(a_dead_redis_is_reported)
{
    ck_assert_int_eq(redis_server_kill(rs), 0);
    struct event ev;
    event_init(&ev, EVENT_OUTAGE);
    ev.u.outage.id = xstrdup("o-1");
    id_list_add(&ev.u.outage.subscribers_added, "s1");
    char err[256];
    ck_assert_int_eq(notif_plan_event(ss, &pol, &ev, NOW, &st, err, sizeof err), -EIO);
    event_deinit(&ev);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("notif_plan");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, message_ids_parse);
    tcase_add_test(tc, opened_waits_for_the_delay_and_a_blip_is_withdrawn);
    tcase_add_test(tc, redelivery_queues_nothing_new);
    tcase_add_test(tc, a_merge_tells_nobody_twice);
    tcase_add_test(tc, an_eta_change_reaches_those_told);
    tcase_add_test(tc, windows_get_notices_then_start_and_end);
    tcase_add_test(tc, a_threshold_is_one_message_per_cycle_and_percent);
    tcase_add_test(tc, a_dead_redis_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
