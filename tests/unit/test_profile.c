#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/profile.h"
#include "tests/support/check_run.h"

#define STATUS "1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15"
#define CAUSE "1.3.6.1.4.1.2011.6.128.1.1.2.46.1.24"
#define POWER "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.6"
#define OPER "1.3.6.1.2.1.2.2.1.8"
#define ADMIN "1.3.6.1.2.1.2.2.1.7"
#define HCIN "1.3.6.1.2.1.31.1.1.1.6"
#define HCOUT "1.3.6.1.2.1.31.1.1.1.10"

/* What the sink saw: the last state reported per (object, kind), and usage. */
struct seen {
    char key[64][96];
    int active[64];
    double value[64];
    int n;
    char usage_obj[8][64];
    uint64_t rx[8], tx[8];
    int n_usage;
};

static int find(struct seen *s, const char *obj, const char *kind)
{
    char k[96];
    snprintf(k, sizeof k, "%s %s", obj, kind);
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->key[i], k))
            return i;
    ck_assert_int_lt(s->n, 64);
    snprintf(s->key[s->n], sizeof s->key[0], "%s", k);
    return s->n++;
}

static void on_alarm(void *arg, const struct alarm_report *r)
{
    struct seen *s = arg;
    ck_assert_str_eq(r->device, "olt-1");
    int i = find(s, r->object, r->kind);
    s->active[i] = r->active;
    s->value[i] = r->has_value ? r->value : 0;
}

static void on_usage(void *arg, const char *device, const char *obj, uint64_t rx, uint64_t tx,
                     int64_t interval)
{
    struct seen *s = arg;
    ck_assert_str_eq(device, "olt-1");
    ck_assert_int_gt(interval, 0);
    snprintf(s->usage_obj[s->n_usage], sizeof s->usage_obj[0], "%s", obj);
    s->rx[s->n_usage] = rx;
    s->tx[s->n_usage++] = tx;
}

static int state(struct seen *s, const char *obj, const char *kind)
{
    for (int i = 0; i < s->n; i++) {
        char k[96];
        snprintf(k, sizeof k, "%s %s", obj, kind);
        if (!strcmp(s->key[i], k))
            return s->active[i];
    }
    return -1; /* never reported */
}

static int64_t online[] = {1}, los[] = {1, 2}, dg[] = {13};

static struct profile huawei(void)
{
    struct profile p = {.name = "huawei-gpon", .uptime = "1.3.6.1.2.1.1.3.0"};
    p.onus = (struct profile_onus){.object = "onu:{index}",
                                   .status = STATUS,
                                   .online = {online, 1},
                                   .cause = CAUSE,
                                   .los = {los, 2},
                                   .dying_gasp = {dg, 1},
                                   .rx_power = POWER,
                                   .rx_power_scale = 0.01,
                                   .rx_power_invalid = 2147483647,
                                   .low_rx_power = -27};
    return p;
}

#define CELL(idx, val)                                                                             \
    {                                                                                              \
        .index = idx, .is_number = true, .i = val, .u = (uint64_t)(val)                            \
    }

START_TEST(onus_online_or_offline_with_their_cause)
{
    struct profile p = huawei();
    struct profile_cell st[] = {CELL("0.1", 1), CELL("0.2", 2), CELL("0.3", 2), CELL("0.4", 2),
                                CELL("0.5", 1)};
    struct profile_cell ca[] = {CELL("0.1", 0), CELL("0.2", 1), CELL("0.3", 13), CELL("0.4", 9),
                                CELL("0.5", 0)};
    struct profile_cell pw[] = {CELL("0.1", -2150), CELL("0.2", 2147483647),
                                CELL("0.3", 2147483647), CELL("0.4", 2147483647),
                                CELL("0.5", -2890)};
    struct profile_column cols[] = {{STATUS, st, 5}, {CAUSE, ca, 5}, {POWER, pw, 5}};
    struct profile_readings r = {.columns = cols, .n_columns = 3, .at_ms = 1000};
    struct seen s = {0};
    struct profile_sink sink = {.alarm = on_alarm, .arg = &s};
    struct profile_memory *m = profile_memory_new();
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(state(&s, "onu:0.1", "onu-los"), 0);
    ck_assert_int_eq(state(&s, "onu:0.1", "low-rx-power"), 0);
    ck_assert_int_eq(state(&s, "onu:0.2", "onu-los"), 1);
    ck_assert_int_eq(state(&s, "onu:0.2", "onu-dying-gasp"), 0);
    ck_assert_int_eq(state(&s, "onu:0.3", "onu-dying-gasp"), 1);
    ck_assert_int_eq(state(&s, "onu:0.3", "onu-los"), 0);
    ck_assert_int_eq(state(&s, "onu:0.4", "onu-offline"), 1); /* reset: neither LOS nor DG */
    ck_assert_int_eq(state(&s, "onu:0.5", "low-rx-power"), 1);
    ck_assert_double_eq_tol(s.value[find(&s, "onu:0.5", "low-rx-power")], -28.9, 1e-9);
    profile_memory_free(m);
}
END_TEST

START_TEST(zte_style_status_carries_the_cause)
{
    int64_t zon[] = {4}, zlos[] = {2}, zdg[] = {5};
    struct profile p = {.name = "zte"};
    p.onus = (struct profile_onus){.object = "onu:{index}",
                                   .status = STATUS,
                                   .online = {zon, 1},
                                   .los = {zlos, 1},
                                   .dying_gasp = {zdg, 1}};
    struct profile_cell st[] = {CELL("1.1", 4), CELL("1.2", 2), CELL("1.3", 5), CELL("1.4", 7)};
    struct profile_column cols[] = {{STATUS, st, 4}};
    struct profile_readings r = {.columns = cols, .n_columns = 1, .at_ms = 1};
    struct seen s = {0};
    struct profile_sink sink = {.alarm = on_alarm, .arg = &s};
    struct profile_memory *m = profile_memory_new();
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(state(&s, "onu:1.1", "onu-los"), 0);
    ck_assert_int_eq(state(&s, "onu:1.2", "onu-los"), 1);
    ck_assert_int_eq(state(&s, "onu:1.3", "onu-dying-gasp"), 1);
    ck_assert_int_eq(state(&s, "onu:1.4", "onu-offline"), 1);
    profile_memory_free(m);
}
END_TEST

START_TEST(a_link_is_down_only_when_administratively_up)
{
    struct profile p = {.name = "generic"};
    p.links = (struct profile_links){.object = "if:{index}", .oper = OPER, .admin = ADMIN};
    struct profile_cell op[] = {CELL("1", 1), CELL("2", 2), CELL("3", 2), CELL("4", 7)};
    struct profile_cell ad[] = {CELL("1", 1), CELL("2", 1), CELL("3", 2), CELL("4", 1)};
    struct profile_column cols[] = {{OPER, op, 4}, {ADMIN, ad, 4}};
    struct profile_readings r = {.columns = cols, .n_columns = 2, .at_ms = 1};
    struct seen s = {0};
    struct profile_sink sink = {.alarm = on_alarm, .arg = &s};
    struct profile_memory *m = profile_memory_new();
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(state(&s, "if:1", "link-down"), 0);
    ck_assert_int_eq(state(&s, "if:2", "link-down"), 1);
    ck_assert_int_eq(state(&s, "if:3", "link-down"), 0); /* shut down on purpose */
    ck_assert_int_eq(state(&s, "if:4", "link-down"), 1); /* lowerLayerDown */
    profile_memory_free(m);
}
END_TEST

START_TEST(uptime_going_back_is_a_reboot_for_one_poll)
{
    struct profile p = {.name = "generic", .uptime = "1.3.6.1.2.1.1.3.0"};
    struct profile_readings r = {.has_uptime = true, .uptime = 500000, .at_ms = 1};
    struct seen s = {0};
    struct profile_sink sink = {.alarm = on_alarm, .arg = &s};
    struct profile_memory *m = profile_memory_new();
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(state(&s, "", "reboot"), -1);
    r.uptime = 300;
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(state(&s, "", "reboot"), 1);
    r.uptime = 6300;
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(state(&s, "", "reboot"), 0);
    profile_memory_free(m);
}
END_TEST

START_TEST(counters_become_usage_deltas)
{
    struct profile p = {.name = "generic"};
    p.counters = (struct profile_counters){
        .object = "if:{index}", .rx = HCIN, .tx = HCOUT, .bits = 64, .max_bps = 10000000000LL};
    struct profile_cell in[] = {CELL("7", 1000)}, out[] = {CELL("7", 50)};
    struct profile_column cols[] = {{HCIN, in, 1}, {HCOUT, out, 1}};
    struct profile_readings r = {
        .columns = cols, .n_columns = 2, .has_uptime = true, .uptime = 100, .at_ms = 0};
    struct seen s = {0};
    struct profile_sink sink = {.alarm = on_alarm, .usage = on_usage, .arg = &s};
    struct profile_memory *m = profile_memory_new();
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(s.n_usage, 0); /* baseline */
    in[0].u = 51000;
    out[0].u = 2050;
    r.at_ms = 60000;
    r.uptime = 6100;
    profile_evaluate(&p, "olt-1", &r, m, &sink);
    ck_assert_int_eq(s.n_usage, 1);
    ck_assert_str_eq(s.usage_obj[0], "if:7");
    ck_assert_uint_eq(s.rx[0], 50000);
    ck_assert_uint_eq(s.tx[0], 2000);
    const char *colsv[8];
    ck_assert_uint_eq(profile_columns(&p, colsv, 8), 2);
    profile_memory_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("collector");
    tcase_add_test(tc, onus_online_or_offline_with_their_cause);
    tcase_add_test(tc, zte_style_status_carries_the_cause);
    tcase_add_test(tc, a_link_is_down_only_when_administratively_up);
    tcase_add_test(tc, uptime_going_back_is_a_reboot_for_one_poll);
    tcase_add_test(tc, counters_become_usage_deltas);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
