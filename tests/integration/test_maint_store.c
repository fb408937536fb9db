/* test_maint_store: maintenance windows in a private redis-server: save/load/delete round trip,
 * the schedule and TTL rules for live and finished windows, a re-save replacing the record,
 * paged loading in schedule order, a callback stopping the load, and a lost server. */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "correlator/maint_store.h"
#include "tests/support/check_run.h"
#include "tests/support/redis_server.h"

static struct redis_server *rs;
static struct store_sync *ss;

static void setup(void)
{
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    rs = redis_server_start(NULL, NULL, err, sizeof err);
    ck_assert_msg(rs != NULL, "%s", err);
    ss = redis_server_sync(rs, 0, err, sizeof err);
    ck_assert_msg(ss != NULL, "%s", err);
}

static void teardown(void)
{
    store_sync_free(ss);
    redis_server_free(rs);
}

static redisReply *cmd(const char *fmt, const char *arg)
{
    redisReply *r = store_sync_command(ss, fmt, arg);
    ck_assert_ptr_nonnull(r);
    return r;
}

static long long integer(const char *fmt, const char *arg)
{
    redisReply *r = cmd(fmt, arg);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* Windows seen by the load callback, deep-copied into events. */
struct got {
    size_t n, stop_at;
    struct event ev[1300];
};

static int keep(void *arg, const struct maintenance *w)
{
    struct got *g = arg;
    if (g->stop_at && g->n == g->stop_at)
        return -ECANCELED;
    ck_assert_uint_lt(g->n, 1300);
    struct event *e = &g->ev[g->n++];
    event_init(e, EVENT_MAINTENANCE);
    struct maintenance *c = &e->u.maintenance;
    *c = *w;
    c->id = xstrdup(w->id);
    c->description = w->description ? xstrdup(w->description) : NULL;
    c->recurrence = w->recurrence ? xstrdup(w->recurrence) : NULL;
    memset(&c->nodes, 0, sizeof c->nodes);
    memset(&c->subscribers, 0, sizeof c->subscribers);
    for (size_t i = 0; i < w->nodes.n; i++)
        id_list_add(&c->nodes, w->nodes.ids[i]);
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        event_deinit(&g->ev[i]);
    free(g);
}

static struct maintenance window(const char *id, enum maint_phase ph, int64_t start, int64_t end)
{
    struct maintenance w = {.id = (char *)id,
                            .seq = 7,
                            .phase = ph,
                            .start_ms = start,
                            .end_ms = end,
                            .affected_subscribers = 1200};
    return w;
}

START_TEST(round_trip)
{
    struct maintenance w = window("mw-a", MAINT_STARTED, 1000, 2000);
    w.description = "Line card replacement; expect 2 h";
    w.recurrence = "FREQ=WEEKLY;COUNT=3";
    id_list_add(&w.nodes, "olt-1");
    id_list_add(&w.nodes, "pon-2");
    char err[256];
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    ck_assert_int_eq(integer("EXISTS %s", "farol:maint:mw-a"), 1);
    ck_assert_int_eq(integer("SCARD %s", "farol:maint:mw-a:nodes"), 2);
    ck_assert_int_eq(integer("PTTL %s", "farol:maint:mw-a"), -1); /* live: no TTL */
    redisReply *r = store_sync_command(ss, "ZSCORE farol:maint:schedule mw-a");
    ck_assert_str_eq(r->str, "1000");
    freeReplyObject(r);
    struct got *g = calloc(1, sizeof *g);
    ck_assert_int_eq(maint_store_load(ss, keep, g, err, sizeof err), 0);
    ck_assert_uint_eq(g->n, 1);
    struct event want;
    event_init(&want, EVENT_MAINTENANCE);
    want.u.maintenance = w;
    want.ts_ms = g->ev[0].ts_ms;
    ck_assert(event_equal(&want, &g->ev[0]));
    got_free(g);
    id_list_deinit(&w.nodes);
}
END_TEST

START_TEST(finished_leave_schedule_and_expire)
{
    int64_t end = loop_wall_ms() + 3600 * 1000LL;
    struct maintenance w = window("mw-e", MAINT_SCHEDULED, end - 1000, end);
    id_list_add(&w.nodes, "olt-1");
    char err[256];
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    w.phase = MAINT_ENDED;
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    ck_assert_int_eq(integer("ZCARD %s", "farol:maint:schedule"), 0);
    long long ttl = integer("PTTL %s", "farol:maint:mw-e");
    long long month = 30LL * 24 * 3600 * 1000;
    ck_assert_int_gt(ttl, month);
    ck_assert_int_le(ttl, month + 3600 * 1000LL);
    ck_assert_int_gt(integer("PTTL %s", "farol:maint:mw-e:nodes"), month);
    struct got *g = calloc(1, sizeof *g);
    ck_assert_int_eq(maint_store_load(ss, keep, g, err, sizeof err), 0);
    ck_assert_uint_eq(g->n, 0); /* only the schedule is loaded */
    got_free(g);
    id_list_deinit(&w.nodes);
}
END_TEST

START_TEST(resave_replaces)
{
    struct maintenance w = window("mw-a", MAINT_SCHEDULED, 1000, 2000);
    w.description = "first";
    id_list_add(&w.nodes, "a");
    id_list_add(&w.nodes, "b");
    id_list_add(&w.nodes, "c");
    char err[256];
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    id_list_deinit(&w.nodes);
    id_list_add(&w.nodes, "b");
    w.description = NULL;
    w.phase = MAINT_UPDATED, w.seq = 8, w.start_ms = 1500;
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    struct got *g = calloc(1, sizeof *g);
    ck_assert_int_eq(maint_store_load(ss, keep, g, err, sizeof err), 0);
    ck_assert_uint_eq(g->n, 1);
    const struct maintenance *l = &g->ev[0].u.maintenance;
    ck_assert_uint_eq(l->nodes.n, 1);
    ck_assert_str_eq(l->nodes.ids[0], "b");
    ck_assert_ptr_null(l->description);
    ck_assert_int_eq(l->phase, MAINT_UPDATED);
    ck_assert_uint_eq(l->seq, 8);
    ck_assert(l->start_ms == 1500);
    got_free(g);
    id_list_deinit(&w.nodes);
}
END_TEST

START_TEST(delete_everything)
{
    struct maintenance w = window("mw-d", MAINT_SCHEDULED, 1000, 2000);
    id_list_add(&w.nodes, "olt-1");
    char err[256];
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    ck_assert_int_eq(maint_store_delete(ss, "mw-d", err, sizeof err), 0);
    redisReply *r = store_sync_command(ss, "DBSIZE");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    ck_assert_int_eq(maint_store_delete(ss, "mw-d", err, sizeof err), 0);
    ck_assert_int_eq(maint_store_delete(ss, "", err, sizeof err), -EINVAL);
    id_list_deinit(&w.nodes);
}
END_TEST

START_TEST(paged_load_in_schedule_order)
{
    char err[256], id[32];
    for (int i = 0; i < 1200; i++) { /* starts descend with the id: order must be by start */
        snprintf(id, sizeof id, "w%04d", i);
        struct maintenance w = window(id, MAINT_SCHEDULED, 100000 - (i / 2) * 10, 200000);
        ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    }
    struct got *g = calloc(1, sizeof *g);
    ck_assert_int_eq(maint_store_load(ss, keep, g, err, sizeof err), 0);
    ck_assert_uint_eq(g->n, 1200);
    ck_assert_str_eq(g->ev[0].u.maintenance.id, "w1198"); /* earliest start, then by id */
    ck_assert_str_eq(g->ev[1].u.maintenance.id, "w1199");
    ck_assert_str_eq(g->ev[1199].u.maintenance.id, "w0001");
    for (size_t i = 1; i < g->n; i++)
        ck_assert(g->ev[i - 1].u.maintenance.start_ms <= g->ev[i].u.maintenance.start_ms);
    got_free(g);
    g = calloc(1, sizeof *g);
    g->stop_at = 3;
    ck_assert_int_eq(maint_store_load(ss, keep, g, err, sizeof err), -ECANCELED);
    ck_assert_uint_eq(g->n, 3);
    got_free(g);
}
END_TEST

START_TEST(stale_schedule_entry_skipped)
{
    struct maintenance w = window("mw-s", MAINT_SCHEDULED, 1000, 2000);
    char err[256];
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), 0);
    ck_assert_int_eq(integer("DEL %s", "farol:maint:mw-s"), 1);
    struct got *g = calloc(1, sizeof *g);
    ck_assert_int_eq(maint_store_load(ss, keep, g, err, sizeof err), 0);
    ck_assert_uint_eq(g->n, 0);
    got_free(g);
}
END_TEST

START_TEST(lost_server_is_eio)
{
    struct maintenance w = window("mw-x", MAINT_SCHEDULED, 1000, 2000);
    char err[256] = "";
    ck_assert_int_eq(redis_server_kill(rs), 0);
    ck_assert_int_eq(maint_store_save(ss, &w, err, sizeof err), -EIO);
    ck_assert_ptr_nonnull(strstr(err, "redis"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("maint_store");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, finished_leave_schedule_and_expire);
    tcase_add_test(tc, resave_replaces);
    tcase_add_test(tc, delete_everything);
    tcase_add_test(tc, paged_load_in_schedule_order);
    tcase_add_test(tc, stale_schedule_entry_skipped);
    tcase_add_test(tc, lost_server_is_eio);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
