#include <check.h>
#include <stdio.h>
#include <string.h>

#include "collector/snmp_trap_map.h"
#include "tests/support/check_run.h"

static char got[8][160];
static int n_got;

static void record(void *arg, const struct alarm_report *r)
{
    (void)arg;
    if (n_got < 8)
        snprintf(got[n_got++], sizeof got[0], "%s %s %s %s %d", r->active ? "raise" : "clear",
                 r->device, r->object, r->kind, r->source == SRC_SNMP_TRAP);
}

static const struct profile_sink sink = {.alarm = record};

static struct profile_trap traps[] = {
    {"1.3.6.1.6.3.1.1.5.3", "link-down", PROFILE_TRAP_RAISE, PROFILE_INDEX_SUFFIX,
     "1.3.6.1.2.1.2.2.1.1", "if:{index}", SEV_MAJOR},
    {"1.3.6.1.6.3.1.1.5.4", "link-down", PROFILE_TRAP_CLEAR, PROFILE_INDEX_SUFFIX,
     "1.3.6.1.2.1.2.2.1.1", "if:{index}", SEV_MAJOR},
    {"1.3.6.1.4.1.9.0.7", "onu-los", PROFILE_TRAP_CLEAR, PROFILE_INDEX_VALUE, "1.3.6.1.4.1.9.1",
     "onu:{index}", SEV_MAJOR},
    {"1.3.6.1.4.1.9.0.7", "onu-dying-gasp", PROFILE_TRAP_CLEAR, PROFILE_INDEX_VALUE,
     "1.3.6.1.4.1.9.1", "onu:{index}", SEV_MAJOR},
    {"1.3.6.1.4.1.9.0.8", "fan", PROFILE_TRAP_RAISE, PROFILE_INDEX_NONE, NULL, "", SEV_MINOR},
};
static struct profile prof = {.name = "p", .traps = traps, .n_traps = 5};

static struct snmp_varbind vb_int(const char *oid, int64_t v)
{
    struct snmp_varbind vb = {.type = SNMP_VT_INTEGER, .v.i = v};
    snmp_oid_parse(oid, &vb.oid);
    return vb;
}

static struct snmp_trap_match apply(const char *trap, const struct snmp_varbind *vbs, size_t n)
{
    char err[64];
    struct snmp_trap_map *m = snmp_trap_map_new(&prof, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    struct snmp_oid t;
    ck_assert_int_eq(snmp_oid_parse(trap, &t), 0);
    struct snmp_trap_match res;
    n_got = 0;
    snmp_trap_map_apply(m, "dev", &t, vbs, n, 1, NULL, &sink, &res);
    snmp_trap_map_free(m);
    return res;
}

START_TEST(link_down_index_is_the_varbind_suffix)
{
    struct snmp_varbind vbs[] = {vb_int("1.3.6.1.2.1.2.2.1.7.12", 1),
                                 vb_int("1.3.6.1.2.1.2.2.1.1.12", 12)};
    struct snmp_trap_match m = apply("1.3.6.1.6.3.1.1.5.3", vbs, 2);
    ck_assert_uint_eq(m.matched, 1);
    ck_assert_uint_eq(m.reported, 1);
    ck_assert_str_eq(got[0], "raise dev if:12 link-down 1");
}
END_TEST

START_TEST(every_mapping_of_an_oid_applies_with_a_value_index)
{
    struct snmp_varbind vbs[] = {vb_int("1.3.6.1.4.1.9.1.0", 77)};
    struct snmp_trap_match m = apply("1.3.6.1.4.1.9.0.7", vbs, 1);
    ck_assert_uint_eq(m.reported, 2);
    ck_assert_str_eq(got[0], "clear dev onu:77 onu-los 1");
    ck_assert_str_eq(got[1], "clear dev onu:77 onu-dying-gasp 1");
}
END_TEST

START_TEST(missing_index_and_unmapped_oid_report_nothing)
{
    struct snmp_varbind other = vb_int("1.3.6.1.2.1.1.3.0", 5);
    struct snmp_trap_match m = apply("1.3.6.1.6.3.1.1.5.3", &other, 1);
    ck_assert_uint_eq(m.matched, 1);
    ck_assert_uint_eq(m.no_index, 1);
    ck_assert_uint_eq(m.reported, 0);
    m = apply("1.3.6.1.6.3.1.1.5.5", &other, 1);
    ck_assert_uint_eq(m.matched, 0);
    ck_assert_int_eq(n_got, 0);
    m = apply("1.3.6.1.4.1.9.0.8", NULL, 0);
    ck_assert_str_eq(got[0], "raise dev  fan 1");
}
END_TEST

START_TEST(v1_traps_translate_per_rfc3584)
{
    struct snmp_oid ent, out;
    char buf[128];
    snmp_oid_parse("1.3.6.1.4.1.2011", &ent);
    snmp_trap_map_v1_oid(&ent, 2, 0, &out); /* linkDown */
    ck_assert_str_eq(snmp_oid_format(&out, buf, sizeof buf), ".1.3.6.1.6.3.1.1.5.3");
    snmp_trap_map_v1_oid(&ent, 6, 14, &out);
    ck_assert_str_eq(snmp_oid_format(&out, buf, sizeof buf), ".1.3.6.1.4.1.2011.0.14");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("snmp_trap_map");
    TCase *tc = tcase_create("map");
    tcase_add_test(tc, link_down_index_is_the_varbind_suffix);
    tcase_add_test(tc, every_mapping_of_an_oid_applies_with_a_value_index);
    tcase_add_test(tc, missing_index_and_unmapped_oid_report_nothing);
    tcase_add_test(tc, v1_traps_translate_per_rfc3584);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK);
}
