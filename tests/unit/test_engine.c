/* test_engine: the correlation engine's state machine on a virtual clock: hold-down (a blip
 * publishes nothing), confirmation, resolution after clear-hold, idempotent alarms, unbound
 * devices and non-service kinds counted, and id lists chunked at EVENT_MAX_IDS.
 * Whole-network behaviour (roots, inference, merge) is covered by tests/scenarios. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "correlator/engine.h"
#include "correlator/topology_load.h"
#include "tests/support/check_run.h"

#define MAXEV 16

struct seen {
    size_t n;
    enum outage_phase phase[MAXEV];
    uint32_t seq[MAXEV], subs[MAXEV];
    size_t added[MAXEV], restored[MAXEV];
    char id[MAXEV][64], first_added[MAXEV][64];
    int cause[MAXEV];
};

static void collect(void *arg, const struct event *ev)
{
    struct seen *s = arg;
    ck_assert_int_eq(ev->type, EVENT_OUTAGE);
    ck_assert_uint_lt(s->n, MAXEV);
    const struct outage *o = &ev->u.outage;
    s->phase[s->n] = o->phase;
    s->seq[s->n] = o->seq;
    s->subs[s->n] = o->affected_subscribers;
    s->added[s->n] = o->subscribers_added.n;
    s->restored[s->n] = o->subscribers_restored.n;
    s->cause[s->n] = o->cause;
    snprintf(s->id[s->n], sizeof s->id[0], "%s", o->id);
    snprintf(s->first_added[s->n], sizeof s->first_added[0], "%s",
             o->subscribers_added.n ? o->subscribers_added.ids[0] : "");
    s->n++;
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

static const char small[] = "nodes:\n"
                            "  - {id: olt-1, kind: olt}\n"
                            "  - {id: pon-1, kind: pon, parents: [olt-1]}\n"
                            "  - {id: onu-1, kind: onu, parents: [pon-1]}\n"
                            "  - {id: onu-2, kind: onu, parents: [pon-1]}\n"
                            "subscribers:\n"
                            "  - {id: sub-1, node: onu-1}\n"
                            "  - {id: sub-2, node: onu-2}\n"
                            "bindings:\n"
                            "  - {device: olt-1, node: olt-1}\n"
                            "  - {device: olt-1, object: \"onu:1\", node: onu-1}\n";

static struct topology *T;
static struct corr_engine *E;
static struct seen S;

static void setup(void)
{
    T = topo_from(small);
    struct corr_params p;
    corr_params_default(&p);
    memset(&S, 0, sizeof S);
    struct corr_sink sink = {collect, &S};
    E = corr_engine_new(T, &p, &sink);
}

static void teardown(void)
{
    corr_engine_free(E);
    topology_free(T);
}

static void feed(const char *id, enum alarm_action act, const char *dev, const char *obj,
                 const char *kind, int64_t now)
{
    struct alarm a = {.id = (char *)id,
                      .action = act,
                      .device = (char *)dev,
                      .object = (char *)obj,
                      .kind = (char *)kind,
                      .observed_ms = now};
    corr_engine_alarm(E, &a, now);
}

START_TEST(blip_publishes_nothing)
{
    feed("a1", ALARM_RAISE, "olt-1", "", "unreachable", 1000);
    corr_engine_tick(E, 30000);
    feed("a1", ALARM_CLEAR, "olt-1", "", "unreachable", 31000);
    corr_engine_tick(E, 1000000);
    ck_assert_uint_eq(S.n, 0);
    struct corr_engine_stats st;
    corr_engine_stats(E, &st);
    ck_assert_uint_eq(st.outages, 0);
    ck_assert(corr_engine_next_deadline(E) == INT64_MAX);
}
END_TEST

START_TEST(hold_down_then_resolve)
{
    feed("a1", ALARM_RAISE, "olt-1", "", "unreachable", 1000);
    ck_assert(corr_engine_next_deadline(E) == 61000);
    corr_engine_tick(E, 60999);
    ck_assert_uint_eq(S.n, 0);
    corr_engine_tick(E, 61000);
    ck_assert_uint_eq(S.n, 1);
    ck_assert_int_eq(S.phase[0], OUTAGE_OPENED);
    ck_assert_int_eq(S.cause[0], CAUSE_DEVICE_DOWN);
    ck_assert_str_eq(S.id[0], "o-olt-1-1000");
    ck_assert_uint_eq(S.subs[0], 2);
    ck_assert_uint_eq(S.added[0], 2);
    feed("a1", ALARM_CLEAR, "olt-1", "", "unreachable", 100000);
    corr_engine_tick(E, 129999);
    ck_assert_uint_eq(S.n, 1); /* clear_hold not over yet */
    corr_engine_tick(E, 130000);
    ck_assert_uint_eq(S.n, 2);
    ck_assert_int_eq(S.phase[1], OUTAGE_RESOLVED);
    ck_assert_uint_eq(S.seq[1], 2);
    ck_assert_uint_eq(S.restored[1], 2);
}
END_TEST

START_TEST(flap_within_clear_hold_keeps_outage)
{
    feed("a1", ALARM_RAISE, "olt-1", "", "unreachable", 0);
    corr_engine_tick(E, 60000);
    feed("a1", ALARM_CLEAR, "olt-1", "", "unreachable", 70000);
    feed("a2", ALARM_RAISE, "olt-1", "", "unreachable", 80000);
    corr_engine_tick(E, 200000);
    ck_assert_uint_eq(S.n, 1); /* still the one opened outage, no resolve, no second open */
}
END_TEST

START_TEST(alarms_are_idempotent)
{
    feed("a1", ALARM_RAISE, "olt-1", "", "unreachable", 0);
    feed("a1", ALARM_RAISE, "olt-1", "", "unreachable", 10);
    corr_engine_tick(E, 60000);
    feed("a1", ALARM_CLEAR, "olt-1", "", "unreachable", 70000);
    feed("a1", ALARM_CLEAR, "olt-1", "", "unreachable", 70001);
    feed("a1", ALARM_RAISE, "olt-1", "", "unreachable", 70002); /* redelivered late */
    corr_engine_tick(E, 200000);
    ck_assert_uint_eq(S.n, 2);
    ck_assert_int_eq(S.phase[1], OUTAGE_RESOLVED);
    struct corr_engine_stats st;
    corr_engine_stats(E, &st);
    ck_assert_uint_eq(st.alarms, 5);
    ck_assert_uint_eq(st.duplicates, 3);
}
END_TEST

START_TEST(unbound_and_ignored_counted)
{
    feed("g1", ALARM_RAISE, "ghost", "", "unreachable", 0);
    feed("g2", ALARM_RAISE, "ghost", "if:1", "link-down", 0);
    feed("g3", ALARM_RAISE, "olt-1", "onu:9", "onu-los", 0); /* bound device, unbound ONU */
    feed("w1", ALARM_RAISE, "olt-1", "onu:1", "low-rx-power", 0);
    corr_engine_tick(E, 1000000);
    ck_assert_uint_eq(S.n, 0);
    struct corr_engine_stats st;
    corr_engine_stats(E, &st);
    ck_assert_uint_eq(st.unbound, 3);
    ck_assert_uint_eq(st.ignored, 1);
    ck_assert_uint_eq(corr_engine_unbound(E, "ghost"), 2);
    ck_assert_uint_eq(corr_engine_unbound(E, "olt-1"), 1);
    ck_assert_uint_eq(corr_engine_unbound(E, "nobody"), 0);
}
END_TEST

START_TEST(ids_chunked)
{
    size_t n = 2500;
    static const char head[] = "nodes:\n  - {id: onu-1, kind: onu}\nbindings:\n"
                               "  - {device: olt-1, object: \"onu:1\", node: onu-1}\n"
                               "subscribers:\n";
    size_t cap = sizeof head + n * 40, len = sizeof head - 1;
    char *yaml = xmalloc(cap);
    memcpy(yaml, head, sizeof head);
    for (size_t i = n; i-- > 0;) /* reversed: the engine sorts by id */
        len += (size_t)snprintf(yaml + len, cap - len, "  - {id: s%05zu, node: onu-1}\n", i);
    struct topology *t = topo_from(yaml);
    struct corr_params p;
    corr_params_default(&p);
    struct seen s = {0};
    struct corr_sink sink = {collect, &s};
    struct corr_engine *e = corr_engine_new(t, &p, &sink);
    struct alarm a = {
        .id = "x", .action = ALARM_RAISE, .device = "olt-1", .object = "onu:1", .kind = "onu-los"};
    corr_engine_alarm(e, &a, 0);
    corr_engine_tick(e, 60000);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_int_eq(s.phase[0], OUTAGE_OPENED);
    ck_assert_int_eq(s.phase[1], OUTAGE_UPDATED);
    ck_assert_uint_eq(s.added[0], EVENT_MAX_IDS);
    ck_assert_uint_eq(s.added[1], n - EVENT_MAX_IDS);
    ck_assert_uint_eq(s.seq[1], 2);
    ck_assert_str_eq(s.first_added[0], "s00000");
    ck_assert_str_eq(s.first_added[1], "s02000");
    ck_assert_int_eq(s.cause[0], CAUSE_FIBER_CUT); /* one ONU's LOS: its drop */
    corr_engine_free(e);
    topology_free(t);
    free(yaml);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("state");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, blip_publishes_nothing);
    tcase_add_test(tc, hold_down_then_resolve);
    tcase_add_test(tc, flap_within_clear_hold_keeps_outage);
    tcase_add_test(tc, alarms_are_idempotent);
    tcase_add_test(tc, unbound_and_ignored_counted);
    tcase_add_test(tc, ids_chunked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
