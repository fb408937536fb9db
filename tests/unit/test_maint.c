/* test_maint: the maintenance window set on a virtual clock: the exact affected set with
 * redundancy, prestart recompute, started/ended, cancel, recurrence, scope lookup, overrun once,
 * bad requests with their messages, restore, and subscriber lists chunked at EVENT_MAX_IDS. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "correlator/maint.h"
#include "correlator/topology_load.h"
#include "tests/support/check_run.h"

#define MAXEV 16
#define H (3600 * 1000LL)
#define M (60 * 1000LL)

struct seen {
    size_t n;
    enum maint_phase phase[MAXEV];
    uint32_t seq[MAXEV], affected[MAXEV];
    size_t nsubs[MAXEV];
    int64_t start[MAXEV], end[MAXEV], ts[MAXEV];
    char id[MAXEV][160], subs[MAXEV][128], first[MAXEV][32], rec[MAXEV][64];
};

static void collect(void *arg, const struct event *ev)
{
    struct seen *s = arg;
    ck_assert_int_eq(ev->type, EVENT_MAINTENANCE);
    ck_assert_uint_lt(s->n, MAXEV);
    const struct maintenance *w = &ev->u.maintenance;
    size_t i = s->n++;
    s->phase[i] = w->phase, s->seq[i] = w->seq, s->affected[i] = w->affected_subscribers;
    s->nsubs[i] = w->subscribers.n, s->start[i] = w->start_ms, s->end[i] = w->end_ms;
    s->ts[i] = ev->ts_ms;
    snprintf(s->id[i], sizeof s->id[i], "%s", w->id);
    snprintf(s->rec[i], sizeof s->rec[i], "%s", w->recurrence ? w->recurrence : "");
    snprintf(s->first[i], sizeof s->first[i], "%s", w->subscribers.n ? w->subscribers.ids[0] : "");
    s->subs[i][0] = '\0';
    for (size_t j = 0; j < w->subscribers.n && j < 8; j++) {
        size_t len = strlen(s->subs[i]);
        snprintf(s->subs[i] + len, sizeof s->subs[i] - len, "%s%s", j ? "," : "",
                 w->subscribers.ids[j]);
    }
}

static struct topology *topo_from(const char *yaml)
{
    FILE *f = fmemopen((void *)yaml, strlen(yaml), "r");
    ck_assert_ptr_nonnull(f);
    struct topology *t = topology_new();
    struct topology_errs errs = {0};
    ck_assert_int_eq(topology_load_yaml(t, f, "test.yaml", &errs), 0);
    ck_assert_int_eq(topology_finish(t, &errs), 0);
    ck_assert_uint_eq(errs.n, 0);
    topology_errs_deinit(&errs);
    fclose(f);
    return t;
}

/* pon-2 has a second uplink through olt-2: a window on olt-1 does not cut it off. */
#define NET                                                                                        \
    "nodes:\n"                                                                                     \
    "  - {id: olt-1, kind: olt}\n"                                                                 \
    "  - {id: olt-2, kind: olt}\n"                                                                 \
    "  - {id: pon-1, kind: pon, parents: [olt-1]}\n"                                               \
    "  - {id: pon-2, kind: pon, parents: [olt-1, olt-2]}\n"                                        \
    "  - {id: onu-1, kind: onu, parents: [pon-1]}\n"                                               \
    "  - {id: onu-2, kind: onu, parents: [pon-1]}\n"                                               \
    "  - {id: onu-3, kind: onu, parents: [pon-2]}\n"                                               \
    "subscribers:\n"                                                                               \
    "  - {id: sub-2, node: onu-2}\n"                                                               \
    "  - {id: sub-1, node: onu-1}\n"                                                               \
    "  - {id: sub-3, node: onu-3}\n"
static const char net[] = NET;
static const char net_more[] = NET "  - {id: sub-0, node: onu-1}\n";

static struct topology *T;
static struct maint_set *W;
static struct seen S;

static void setup(void)
{
    T = topo_from(net);
    memset(&S, 0, sizeof S);
    struct maint_sink sink = {collect, &S};
    W = maint_new(T, 10 * M, &sink);
}

static void teardown(void)
{
    maint_free(W);
    topology_free(T);
}

/* A seq-0 request; nodes comma-separated. */
static int req(enum maint_phase ph, const char *id, const char *nodes, int64_t start, int64_t end,
               const char *rec, int64_t now, char *err)
{
    struct maintenance r = {.id = (char *)id,
                            .phase = ph,
                            .start_ms = start,
                            .end_ms = end,
                            .description = "line card swap",
                            .recurrence = (char *)rec};
    char *copy = xstrdup(nodes ? nodes : ""), *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
        id_list_add(&r.nodes, p);
    free(copy);
    char buf[512];
    int rc = maint_request(W, &r, now, err ? err : buf, 512);
    id_list_deinit(&r.nodes);
    return rc;
}

static uint32_t node(const char *id)
{
    uint32_t n = topology_find_node(T, id);
    ck_assert_uint_ne(n, TOPOLOGY_NONE);
    return n;
}

START_TEST(scheduled_with_exact_affected_set)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "olt-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_uint_eq(S.n, 1);
    ck_assert_int_eq(S.phase[0], MAINT_SCHEDULED);
    ck_assert_uint_eq(S.seq[0], 1);
    ck_assert_str_eq(S.id[0], "mw-a");
    ck_assert_str_eq(S.subs[0], "sub-1,sub-2"); /* sorted; sub-3 keeps olt-2 */
    ck_assert_uint_eq(S.affected[0], 2);
    ck_assert_uint_eq(maint_count(W), 1);
    ck_assert_str_eq(maint_get(W, 0)->id, "mw-a");
    ck_assert_uint_eq(maint_get(W, 0)->subscribers.n, 0);
    /* both uplinks in the window: pon-2 is cut off too */
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-b", "olt-2,olt-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_str_eq(S.subs[1], "sub-1,sub-2,sub-3");
    /* only the redundant uplink: nobody loses service */
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-c", "olt-2", 1 * H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_uint_eq(S.affected[2], 0);
    ck_assert_uint_eq(S.nsubs[2], 0);
}
END_TEST

START_TEST(lifecycle_and_scope)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "olt-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    ck_assert(maint_next_deadline(W) == 1 * H - 10 * M);
    maint_tick(W, 1 * H - 10 * M); /* prestart: unchanged set, nothing published */
    ck_assert_uint_eq(S.n, 1);
    ck_assert(maint_next_deadline(W) == 1 * H);
    ck_assert_ptr_null(maint_scope(W, node("onu-1"), 1 * H - 1));
    maint_tick(W, 1 * H);
    ck_assert_uint_eq(S.n, 2);
    ck_assert_int_eq(S.phase[1], MAINT_STARTED);
    ck_assert_uint_eq(S.seq[1], 2);
    ck_assert_uint_eq(S.affected[1], 2);
    ck_assert_str_eq(maint_scope(W, node("onu-1"), 1 * H), "mw-a");
    ck_assert_str_eq(maint_scope(W, node("olt-1"), 1 * H + 1), "mw-a");
    ck_assert_str_eq(maint_scope(W, node("pon-1"), 1 * H + 1), "mw-a");
    ck_assert_ptr_null(maint_scope(W, node("onu-3"), 1 * H + 1)); /* redundant uplink */
    ck_assert_ptr_null(maint_scope(W, node("pon-2"), 1 * H + 1));
    ck_assert_ptr_null(maint_scope(W, node("olt-2"), 1 * H + 1));
    ck_assert_ptr_null(maint_scope(W, node("onu-1"), 2 * H)); /* [start, end) */
    ck_assert(maint_next_deadline(W) == 2 * H);
    maint_tick(W, 2 * H);
    ck_assert_uint_eq(S.n, 3);
    ck_assert_int_eq(S.phase[2], MAINT_ENDED);
    ck_assert_uint_eq(S.seq[2], 3);
    ck_assert(S.start[2] == 1 * H && S.end[2] == 2 * H && S.ts[2] == 2 * H);
    ck_assert_int_eq(maint_get(W, 0)->phase, MAINT_ENDED);
    ck_assert(maint_next_deadline(W) == 2 * H + MAINT_RETAIN_MS);
    maint_tick(W, 2 * H + MAINT_RETAIN_MS);
    ck_assert_uint_eq(maint_count(W), 0);
    ck_assert(maint_next_deadline(W) == INT64_MAX);
    ck_assert_uint_eq(S.n, 3);
}
END_TEST

START_TEST(prestart_recomputes_affected)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "pon-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    struct topology *t2 = topo_from(net_more); /* a new subscriber on onu-1 */
    maint_set_topology(W, t2);
    topology_free(T);
    T = t2;
    ck_assert_uint_eq(S.n, 1); /* a topology change alone publishes nothing */
    maint_tick(W, 1 * H - 10 * M - 1);
    ck_assert_uint_eq(S.n, 1);
    maint_tick(W, 1 * H - 10 * M);
    ck_assert_uint_eq(S.n, 2);
    ck_assert_int_eq(S.phase[1], MAINT_UPDATED);
    ck_assert_uint_eq(S.seq[1], 2);
    ck_assert_str_eq(S.subs[1], "sub-0,sub-1,sub-2");
    ck_assert_uint_eq(S.affected[1], 3);
    maint_tick(W, 1 * H); /* already published: started only */
    ck_assert_uint_eq(S.n, 3);
    ck_assert_int_eq(S.phase[2], MAINT_STARTED);
    ck_assert_uint_eq(S.affected[2], 3);
}
END_TEST

START_TEST(cancel_before_start)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "olt-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    char err[512];
    ck_assert_int_eq(req(MAINT_CANCELLED, "mw-a", NULL, 0, 0, NULL, 5 * M, err), 0);
    ck_assert_uint_eq(S.n, 2);
    ck_assert_int_eq(S.phase[1], MAINT_CANCELLED);
    ck_assert_uint_eq(S.seq[1], 2);
    ck_assert(S.start[1] == 1 * H && S.end[1] == 2 * H);
    maint_tick(W, 1 * H);
    maint_tick(W, 2 * H);
    ck_assert_uint_eq(S.n, 2);
    ck_assert_ptr_null(maint_scope(W, node("onu-1"), 1 * H + 1));
    ck_assert_int_eq(req(MAINT_CANCELLED, "mw-a", NULL, 0, 0, NULL, 6 * M, err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "mw-a"));
    maint_overrun(W, "mw-a", 2 * H); /* never ran */
    ck_assert_uint_eq(S.n, 2);
    /* the id can be planned again; its seq goes on */
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "olt-1", 3 * H, 4 * H, NULL, 2 * H, NULL), 0);
    ck_assert_uint_eq(S.seq[2], 3);
}
END_TEST

START_TEST(recurring_next_occurrence)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-r", "olt-1", 1 * H, 2 * H, "daily;count=2", 0, NULL),
                     0);
    ck_assert_str_eq(S.rec[0], "FREQ=DAILY;COUNT=2");
    maint_tick(W, 1 * H);
    maint_tick(W, 2 * H);
    ck_assert_uint_eq(S.n, 4); /* scheduled, started, ended, scheduled */
    ck_assert_int_eq(S.phase[2], MAINT_ENDED);
    ck_assert(S.start[2] == 1 * H);
    ck_assert_int_eq(S.phase[3], MAINT_SCHEDULED);
    ck_assert_uint_eq(S.seq[3], 4);
    ck_assert(S.start[3] == 25 * H && S.end[3] == 26 * H);
    ck_assert_str_eq(S.rec[3], "FREQ=DAILY;COUNT=1");
    ck_assert_str_eq(S.subs[3], "sub-1,sub-2");
    ck_assert_ptr_null(maint_scope(W, node("onu-1"), 2 * H));
    ck_assert(maint_next_deadline(W) == 25 * H - 10 * M);
    maint_tick(W, 25 * H);
    ck_assert_int_eq(S.phase[4], MAINT_STARTED);
    ck_assert_str_eq(maint_scope(W, node("onu-2"), 25 * H), "mw-r");
    maint_tick(W, 26 * H);
    ck_assert_uint_eq(S.n, 6);
    ck_assert_int_eq(S.phase[5], MAINT_ENDED);
    ck_assert_int_eq(maint_get(W, 0)->phase, MAINT_ENDED); /* count exhausted */
}
END_TEST

START_TEST(recurrence_grammar)
{
    struct maint_recur r;
    char out[128], err[256];
    ck_assert_int_eq(maint_recur_parse("weekly", 0, H, &r, err, sizeof err), 0);
    maint_recur_format(&r, out, sizeof out);
    ck_assert_str_eq(out, "FREQ=WEEKLY");
    ck_assert(maint_recur_step_ms(&r) == 7 * 24 * H);
    /* 1970-01-01 was a Thursday */
    ck_assert_int_eq(
        maint_recur_parse("freq=weekly;interval=2;count=3;byday=th", 0, H, &r, err, sizeof err), 0);
    maint_recur_format(&r, out, sizeof out);
    ck_assert_str_eq(out, "FREQ=WEEKLY;INTERVAL=2;COUNT=3;BYDAY=TH");
    ck_assert(maint_recur_step_ms(&r) == 14 * 24 * H);
    const char *bad[][2] = {{"monthly", "expected daily"},
                            {"FREQ=MONTHLY", "FREQ must be"},
                            {"daily;count=0", "COUNT"},
                            {"daily;interval=x", "INTERVAL"},
                            {"COUNT=3", "FREQ (DAILY or WEEKLY) is required"},
                            {"weekly;BYDAY=MO", "BYDAY must be the start's weekday"},
                            {"daily;until=2027", "unknown key"},
                            {"", "empty"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(maint_recur_parse(bad[i][0], 0, H, &r, err, sizeof err), -EINVAL);
        ck_assert_msg(strstr(err, bad[i][1]), "%s: %s", bad[i][0], err);
    }
    ck_assert_int_eq(maint_recur_parse("daily", 0, 24 * H, &r, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "overlap"));
}
END_TEST

START_TEST(overrun_once)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "olt-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    maint_tick(W, 1 * H);
    maint_overrun(W, "mw-a", 1 * H + 1); /* still running: not an overrun yet */
    ck_assert_uint_eq(S.n, 2);
    maint_tick(W, 2 * H);
    maint_overrun(W, "mw-a", 2 * H);
    maint_overrun(W, "mw-a", 2 * H + 1);
    maint_overrun(W, "nope", 2 * H + 1);
    ck_assert_uint_eq(S.n, 4);
    ck_assert_int_eq(S.phase[3], MAINT_OVERRUN);
    ck_assert_uint_eq(S.seq[3], 4);
    ck_assert(S.start[3] == 1 * H && S.end[3] == 2 * H);
    ck_assert_uint_eq(S.affected[3], 2);
}
END_TEST

static void expect_bad(int rc_want, const char *want, enum maint_phase ph, const char *id,
                       const char *nodes, int64_t start, int64_t end, const char *rec, int64_t now)
{
    char err[512] = "";
    size_t before = S.n;
    ck_assert_int_eq(req(ph, id, nodes, start, end, rec, now, err), rc_want);
    ck_assert_msg(strstr(err, want), "want '%s' in '%s'", want, err);
    ck_assert_uint_eq(S.n, before);
}

START_TEST(bad_requests_explain)
{
    expect_bad(-EINVAL, "unknown nodes: 'nope', 'zap'", MAINT_SCHEDULED, "x", "olt-1,zap,nope", H,
               2 * H, NULL, 0);
    expect_bad(-EINVAL, "at least one node", MAINT_SCHEDULED, "x", "", H, 2 * H, NULL, 0);
    expect_bad(-EINVAL, "ends_at must be after starts_at", MAINT_SCHEDULED, "x", "olt-1", 2 * H,
               2 * H, NULL, 0);
    expect_bad(-EINVAL, "already ended", MAINT_SCHEDULED, "x", "olt-1", H, 2 * H, NULL, 2 * H);
    expect_bad(-EINVAL, "recurrence: FREQ must be", MAINT_SCHEDULED, "x", "olt-1", H, 2 * H,
               "FREQ=YEARLY", 0);
    expect_bad(-EINVAL, "id 'a b'", MAINT_SCHEDULED, "a b", "olt-1", H, 2 * H, NULL, 0);
    expect_bad(-EINVAL, "not a request", MAINT_STARTED, "x", "olt-1", H, 2 * H, NULL, 0);
    expect_bad(-ENOENT, "no scheduled or running window 'x'", MAINT_UPDATED, "x", "olt-1", H, 2 * H,
               NULL, 0);
    expect_bad(-EINVAL, "id: required", MAINT_CANCELLED, NULL, NULL, 0, 0, NULL, 0);
    ck_assert_int_eq(req(MAINT_SCHEDULED, "x", "olt-1", H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_int_eq(req(MAINT_SCHEDULED, "x", "olt-1", H, 2 * H, NULL, 0, NULL), 0); /* resent */
    ck_assert_uint_eq(S.n, 1);
    expect_bad(-EEXIST, "window x exists", MAINT_SCHEDULED, "x", "olt-2", H, 2 * H, NULL, 0);
    struct maintenance r = {.id = "y", .seq = 3, .phase = MAINT_SCHEDULED};
    char err[256];
    ck_assert_int_eq(maint_request(W, &r, 0, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "seq 3"));
    struct maint_set *none = maint_new(NULL, -1, NULL);
    id_list_add(&r.nodes, "olt-1");
    r.seq = 0, r.start_ms = H, r.end_ms = 2 * H;
    ck_assert_int_eq(maint_request(none, &r, 0, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "no topology"));
    id_list_deinit(&r.nodes);
    maint_free(none);
}
END_TEST

START_TEST(update_running_window)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "pon-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    maint_tick(W, 1 * H);
    char err[512];
    ck_assert_int_eq(req(MAINT_UPDATED, "mw-a", "olt-1", 1 * H, 3 * H, NULL, 1 * H + M, err), 0);
    ck_assert_uint_eq(S.n, 3);
    ck_assert_int_eq(S.phase[2], MAINT_UPDATED);
    ck_assert(S.end[2] == 3 * H);
    ck_assert_str_eq(maint_scope(W, node("olt-1"), 2 * H), "mw-a"); /* wider scope, still on */
    ck_assert_int_eq(maint_get(W, 0)->phase, MAINT_STARTED);
    ck_assert_int_eq(req(MAINT_UPDATED, "mw-a", "olt-1", 1 * H + M, 3 * H, NULL, 2 * H, err),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "has started"));
    maint_tick(W, 2 * H);
    ck_assert_uint_eq(S.n, 3);
    maint_tick(W, 3 * H);
    ck_assert_int_eq(S.phase[3], MAINT_ENDED);
}
END_TEST

START_TEST(derived_ids_and_order)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, NULL, "olt-2,olt-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_int_eq(strncmp(S.id[0], "mw-19700101T0100Z-", 18), 0);
    ck_assert_uint_eq(strlen(S.id[0]), 26);
    /* the same nodes in another order are the same window: a no-op */
    ck_assert_int_eq(req(MAINT_SCHEDULED, NULL, "olt-1,olt-2,olt-1", 1 * H, 2 * H, NULL, 0, NULL),
                     0);
    ck_assert_uint_eq(S.n, 1);
    ck_assert_uint_eq(maint_get(W, 0)->nodes.n, 2);
    ck_assert_str_eq(maint_get(W, 0)->nodes.ids[0], "olt-1");
    ck_assert_int_eq(req(MAINT_SCHEDULED, "b", "pon-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_int_eq(req(MAINT_SCHEDULED, "a", "onu-1", 1 * H, 2 * H, NULL, 0, NULL), 0);
    maint_tick(W, 1 * H); /* one tick, several windows: in id order */
    ck_assert_uint_eq(S.n, 6);
    ck_assert_str_eq(S.id[3], "a");
    ck_assert_str_eq(S.id[4], "b");
    ck_assert_str_eq(S.id[5], S.id[0]);
    /* overlapping scopes: the first id wins */
    ck_assert_str_eq(maint_scope(W, node("onu-1"), 1 * H), "a");
    ck_assert_str_eq(maint_scope(W, node("onu-2"), 1 * H), "b");
}
END_TEST

START_TEST(restore_without_events)
{
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-a", "olt-1", 1 * H, 2 * H, "weekly", 0, NULL), 0);
    maint_tick(W, 1 * H);
    struct seen s2 = {0};
    struct maint_sink sink = {collect, &s2};
    struct maint_set *w2 = maint_new(T, -1, &sink);
    const struct maintenance *w = maint_get(W, 0);
    ck_assert_int_eq(maint_restore(w2, w, 1 * H + M), 0);
    ck_assert_int_eq(maint_restore(w2, w, 1 * H + M), -EEXIST);
    ck_assert_uint_eq(s2.n, 0);
    ck_assert_str_eq(maint_scope(w2, node("onu-1"), 1 * H + M), "mw-a");
    maint_tick(w2, 2 * H);
    ck_assert_uint_eq(s2.n, 2);
    ck_assert_int_eq(s2.phase[0], MAINT_ENDED);
    ck_assert_uint_eq(s2.seq[0], 3); /* 1 scheduled, 2 started in the first process */
    ck_assert_int_eq(s2.phase[1], MAINT_SCHEDULED);
    ck_assert(s2.start[1] == 1 * H + 7 * 24 * H);
    struct maintenance bad = *w;
    bad.end_ms = bad.start_ms;
    ck_assert_int_eq(maint_restore(w2, &bad, 0), -EINVAL);
    maint_free(w2);
}
END_TEST

START_TEST(subscribers_chunked)
{
    size_t nsubs = 2 * EVENT_MAX_IDS + 500, cap = nsubs * 48 + 256, len = 0;
    char *yaml = xmalloc(cap);
    len += (size_t)snprintf(yaml + len, cap - len,
                            "nodes:\n  - {id: olt-9, kind: olt}\nsubscribers:\n");
    for (size_t i = nsubs; i > 0; i--) /* reverse order: the output must sort them */
        len += (size_t)snprintf(yaml + len, cap - len, "  - {id: s%05zu, node: olt-9}\n", i);
    struct topology *big = topo_from(yaml);
    free(yaml);
    maint_set_topology(W, big);
    ck_assert_int_eq(req(MAINT_SCHEDULED, "mw-big", "olt-9", H, 2 * H, NULL, 0, NULL), 0);
    ck_assert_uint_eq(S.n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(S.phase[i], MAINT_SCHEDULED);
        ck_assert_uint_eq(S.seq[i], i + 1);
        ck_assert_uint_eq(S.affected[i], nsubs);
    }
    ck_assert_uint_eq(S.nsubs[0], EVENT_MAX_IDS);
    ck_assert_uint_eq(S.nsubs[1], EVENT_MAX_IDS);
    ck_assert_uint_eq(S.nsubs[2], 500);
    ck_assert_str_eq(S.first[0], "s00001");
    ck_assert_str_eq(S.first[1], "s02001");
    ck_assert_str_eq(S.first[2], "s04001");
    maint_tick(W, H); /* started carries the count only */
    ck_assert_uint_eq(S.n, 4);
    ck_assert_uint_eq(S.nsubs[3], 0);
    ck_assert_uint_eq(S.affected[3], nsubs);
    maint_set_topology(W, T);
    topology_free(big);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("maint");
    TCase *tc = tcase_create("windows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scheduled_with_exact_affected_set);
    tcase_add_test(tc, lifecycle_and_scope);
    tcase_add_test(tc, prestart_recomputes_affected);
    tcase_add_test(tc, cancel_before_start);
    tcase_add_test(tc, recurring_next_occurrence);
    tcase_add_test(tc, recurrence_grammar);
    tcase_add_test(tc, overrun_once);
    tcase_add_test(tc, bad_requests_explain);
    tcase_add_test(tc, update_running_window);
    tcase_add_test(tc, derived_ids_and_order);
    tcase_add_test(tc, restore_without_events);
    tcase_add_test(tc, subscribers_chunked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
