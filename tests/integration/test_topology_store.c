/* test_topology_store: versions in a private redis-server: write, swap, old version deleted,
 * read back into an equal model, node records and paged impact. */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "correlator/topology_load.h"
#include "correlator/topology_store.h"
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

static struct topology *fixture(const char *name)
{
    char path[1024];
    const char *src = getenv("FAROL_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/unit/data/topology/%s", src ? src : ".", name);
    const char *p[] = {path};
    struct topology_errs e = {0};
    struct topology *t = topology_load_files(p, 1, NULL, &e);
    ck_assert_uint_eq(e.n, 0);
    topology_errs_deinit(&e);
    return t;
}

static long long exists(const char *key)
{
    redisReply *r = store_sync_command(ss, "EXISTS %s", key);
    ck_assert_ptr_nonnull(r);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

static long long dbsize(void)
{
    redisReply *r = store_sync_command(ss, "DBSIZE");
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

START_TEST(write_swap_and_delete_old)
{
    struct topology *t = fixture("good.yaml");
    char v1[64], v2[64], cur[64], err[512];
    ck_assert_int_eq(topology_store_current(ss, cur, sizeof cur, err, sizeof err), -ENOENT);
    ck_assert_int_eq(topology_store_write(ss, t, NULL, v1, sizeof v1, err, sizeof err), 0);
    long long keys_one_version = dbsize();
    ck_assert_int_eq(topology_store_current(ss, cur, sizeof cur, err, sizeof err), 0);
    ck_assert_str_eq(cur, v1);
    ck_assert_int_eq(topology_store_write(ss, t, NULL, v2, sizeof v2, err, sizeof err), 0);
    ck_assert_str_ne(v1, v2);
    ck_assert_int_eq(topology_store_current(ss, cur, sizeof cur, err, sizeof err), 0);
    ck_assert_str_eq(cur, v2);
    char k[128];
    snprintf(k, sizeof k, "farol:topo:%s:node:sw-1", v1);
    ck_assert_int_eq(exists(k), 0);
    snprintf(k, sizeof k, "farol:topo:%s:node:sw-1", v2);
    ck_assert_int_eq(exists(k), 1);
    ck_assert_int_eq(dbsize(), keys_one_version); /* nothing of version 1 is left */
    topology_free(t);
}
END_TEST

/* Midway through import A, import B completes on another connection: A's compare-and-set
 * must refuse to swap, A's keys must go, and B stays current. */
struct race {
    struct topology *t;
    char v[64];
    int done;
};

static void race_progress(void *arg, const char *phase, size_t done, size_t total)
{
    struct race *r = arg;
    if (r->done || strcmp(phase, "nodes") || done != total)
        return;
    r->done = 1;
    char err[512];
    struct store_sync *other = redis_server_sync(rs, 0, err, sizeof err);
    ck_assert_msg(other != NULL, "%s", err);
    ck_assert_int_eq(topology_store_write(other, r->t, NULL, r->v, sizeof r->v, err, sizeof err),
                     0);
    store_sync_free(other);
}

START_TEST(racing_imports_second_swap_refused)
{
    struct topology *t = fixture("good.yaml");
    char v[64] = "", cur[64], err[512];
    ck_assert_int_eq(topology_store_write(ss, t, NULL, v, sizeof v, err, sizeof err), 0);
    long long keys_one_version = dbsize();
    struct race r = {.t = t};
    struct topology_store_write_opts o = {.progress = race_progress, .progress_arg = &r};
    char va[64] = "";
    ck_assert_int_eq(topology_store_write(ss, t, &o, va, sizeof va, err, sizeof err), -EAGAIN);
    ck_assert_int_eq(r.done, 1);
    ck_assert_msg(strstr(err, "another import") != NULL, "%s", err);
    ck_assert_int_eq(topology_store_current(ss, cur, sizeof cur, err, sizeof err), 0);
    ck_assert_str_eq(cur, r.v);                   /* the import that finished first won */
    ck_assert_int_eq(dbsize(), keys_one_version); /* the loser's keys and v1's are gone */
    topology_free(t);
}
END_TEST

START_TEST(read_back_equal)
{
    struct topology *t = fixture("good.yaml");
    char v[64], v2[64], err[512];
    ck_assert_int_eq(topology_store_write(ss, t, NULL, v, sizeof v, err, sizeof err), 0);
    struct topology *back = topology_store_load(ss, v2, sizeof v2, err, sizeof err);
    ck_assert_msg(back != NULL, "%s", err);
    ck_assert_str_eq(v, v2);
    ck_assert_uint_eq(topology_node_count(back), topology_node_count(t));
    ck_assert_uint_eq(topology_sub_count(back), topology_sub_count(t));
    ck_assert_uint_eq(topology_binding_count(back), topology_binding_count(t));
    const struct topology_sub *a = topology_sub(t, topology_find_sub(t, "sub-1"));
    const struct topology_sub *b = topology_sub(back, topology_find_sub(back, "sub-1"));
    ck_assert_str_eq(b->phones[0], a->phones[0]);
    ck_assert_str_eq(b->channels, a->channels);
    ck_assert_int_eq(b->quiet_start, a->quiet_start);
    ck_assert_uint_eq(b->cap_bytes, a->cap_bytes);
    ck_assert_int_eq(b->cycle_day, a->cycle_day);
    ck_assert_str_eq(topology_node(back, topology_find_node(back, "cab-1"))->label, "cabinet");
    ck_assert_uint_eq(topology_node(back, topology_find_node(back, "sw-1"))->nparents, 2);
    ck_assert_uint_eq(topology_bind_lookup(back, "olt-1", "onu:0/1/1:1"),
                      topology_find_node(back, "onu-1"));
    struct topology_impact i1, i2;
    topology_impact(t, topology_find_node(t, "sw-1"), &i1);
    topology_impact(back, topology_find_node(back, "sw-1"), &i2);
    ck_assert_uint_eq(i1.nnodes, i2.nnodes);
    ck_assert_uint_eq(i1.nsubs, i2.nsubs);
    topology_free(back);
    topology_free(t);
}
END_TEST

START_TEST(node_record_and_paged_impact)
{
    struct topology *t = fixture("good.yaml");
    char v[64], err[512];
    ck_assert_int_eq(topology_store_write(ss, t, NULL, v, sizeof v, err, sizeof err), 0);
    struct topology_store_node n;
    ck_assert_int_eq(topology_store_node_get(ss, v, "sw-1", &n, err, sizeof err), 0);
    ck_assert_str_eq(n.kind, "switch");
    ck_assert_str_eq(n.parents, "[\"core-1\",\"core-2\"]");
    ck_assert_uint_eq(n.subs, 2);
    ck_assert_uint_eq(n.count[TOPOLOGY_ONU], 2);
    ck_assert_uint_eq(n.count[TOPOLOGY_OLT], 1); /* olt-2 has another uplink */
    ck_assert_uint_eq(n.nchildren, 2);
    char **ids;
    size_t cnt;
    ck_assert_int_eq(topology_store_impact_subs(ss, v, &n, 0, 1, &ids, &cnt, err, sizeof err), 0);
    ck_assert_uint_eq(cnt, 1);
    char first[32];
    snprintf(first, sizeof first, "%s", ids[0]);
    free(ids[0]), free(ids);
    ck_assert_int_eq(topology_store_impact_subs(ss, v, &n, 1, 10, &ids, &cnt, err, sizeof err), 0);
    ck_assert_uint_eq(cnt, 1);
    ck_assert_str_ne(ids[0], first);
    ck_assert(!strcmp(ids[0], "sub-1") || !strcmp(ids[0], "sub-2"));
    free(ids[0]), free(ids);
    topology_store_node_deinit(&n);
    ck_assert_int_eq(topology_store_node_get(ss, v, "nope", &n, err, sizeof err), -ENOENT);
    ck_assert_int_eq(topology_store_node_get(ss, v, "olt-1", &n, err, sizeof err), 0);
    ck_assert_str_eq(n.bindings, "[{\"device\":\"olt-1\",\"object\":\"\"}]");
    topology_store_node_deinit(&n);
    topology_free(t);
}
END_TEST

START_TEST(delete_absent_version_is_harmless)
{
    struct topology *t = fixture("good.yaml");
    char v[64], err[512];
    ck_assert_int_eq(topology_store_write(ss, t, NULL, v, sizeof v, err, sizeof err), 0);
    long long before = dbsize();
    ck_assert_int_eq(topology_store_delete(ss, "nonexistent", NULL, NULL, err, sizeof err), 0);
    ck_assert_int_eq(dbsize(), before);
    topology_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("topology_store");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_swap_and_delete_old);
    tcase_add_test(tc, read_back_equal);
    tcase_add_test(tc, racing_imports_second_swap_refused);
    tcase_add_test(tc, node_record_and_paged_impact);
    tcase_add_test(tc, delete_absent_version_is_harmless);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
