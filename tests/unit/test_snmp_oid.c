#include <check.h>
#include <errno.h>
#include <string.h>

#include "collector/snmp_oid.h"
#include "tests/support/check_run.h"

START_TEST(parse_and_format_round_trip)
{
    struct snmp_oid o;
    char buf[64];
    ck_assert_int_eq(snmp_oid_parse("1.3.6.1.2.1.1.3.0", &o), 0);
    ck_assert_uint_eq(o.len, 9);
    ck_assert_str_eq(snmp_oid_format(&o, buf, sizeof buf), ".1.3.6.1.2.1.1.3.0");
    ck_assert_int_eq(snmp_oid_parse(".1.3.4294967295", &o), 0);
    ck_assert_uint_eq(o.sub[2], 4294967295u);
}
END_TEST

START_TEST(parse_rejects_garbage)
{
    struct snmp_oid o;
    const char *bad[] = {"", ".", "1..3", "1.3.", "1.a", "1.3.4294967296", "-1.3", "1 .3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(snmp_oid_parse(bad[i], &o) == -EINVAL, "accepted '%s'", bad[i]);
    char big[1024] = "1";
    for (int i = 0; i < 128; i++)
        strcat(big, ".1");
    ck_assert_int_eq(snmp_oid_parse(big, &o), -EINVAL); /* 129 sub-identifiers */
}
END_TEST

START_TEST(order_and_subtree)
{
    struct snmp_oid a, b, r;
    snmp_oid_parse("1.3.6.1.2.1.2", &r);
    snmp_oid_parse("1.3.6.1.2.1.2.2.1.1.1", &a);
    snmp_oid_parse("1.3.6.1.2.1.3", &b);
    ck_assert_int_lt(snmp_oid_cmp(&a, &b), 0);
    ck_assert_int_gt(snmp_oid_cmp(&b, &a), 0);
    ck_assert_int_lt(snmp_oid_cmp(&r, &a), 0); /* a prefix sorts first */
    ck_assert_int_eq(snmp_oid_cmp(&a, &a), 0);
    ck_assert(snmp_oid_under(&r, &a));
    ck_assert(!snmp_oid_under(&r, &b));
    ck_assert(!snmp_oid_under(&r, &r));
}
END_TEST

START_TEST(values_format_like_net_snmp)
{
    char buf[256];
    struct snmp_varbind vb = {.type = SNMP_VT_TIMETICKS, .v.u = 8640123};
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf),
                     "Timeticks: (8640123) 1 day, 0:00:01.23");
    vb.type = SNMP_VT_OCTETS;
    vb.v.s.ptr = (const uint8_t *)"abc";
    vb.v.s.len = 3;
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf), "STRING: \"abc\"");
    vb.v.s.ptr = (const uint8_t *)"\x02\xfc\x00";
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf), "Hex-STRING: 02 FC 00 ");
    vb.v.s.len = 0;
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf), "\"\"");
    vb.type = SNMP_VT_IPADDR;
    vb.v.s.ptr = (const uint8_t *)"\x7f\x00\x00\x01";
    vb.v.s.len = 4;
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf), "IpAddress: 127.0.0.1");
    vb.type = SNMP_VT_COUNTER64;
    vb.v.u = 18446744073709551615ull;
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf),
                     "Counter64: 18446744073709551615");
    vb.type = SNMP_VT_INTEGER;
    vb.v.i = -5;
    ck_assert_str_eq(snmp_oid_value_format(&vb, buf, sizeof buf), "INTEGER: -5");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("snmp_oid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_and_format_round_trip);
    tcase_add_test(tc, parse_rejects_garbage);
    tcase_add_test(tc, order_and_subtree);
    tcase_add_test(tc, values_format_like_net_snmp);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK);
}
