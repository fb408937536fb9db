#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "collector/icmp_packet.h"

#include "tests/support/check_run.h"

static const struct icmp_probe sample = {.ident = 0xbeef,
                                         .seq = 65535,
                                         .cookie = 0xc0c0a001,
                                         .target = 199999,
                                         .token = 0xfffffffe,
                                         .sent_ns = 0x0123456789abcdefull};

static void assert_same(const struct icmp_probe *a, const struct icmp_probe *b)
{
    ck_assert_uint_eq(a->ident, b->ident);
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_uint_eq(a->cookie, b->cookie);
    ck_assert_uint_eq(a->target, b->target);
    ck_assert_uint_eq(a->token, b->token);
    ck_assert(a->sent_ns == b->sent_ns);
}

/* What the peer does: turn our request into its reply (type 0, checksum fixed up). */
static void make_reply4(uint8_t *pkt, size_t len)
{
    pkt[0] = 0;
    pkt[2] = pkt[3] = 0;
    uint16_t ck = icmp_packet_checksum(pkt, len);
    memcpy(pkt + 2, &ck, 2);
}

static size_t wrap_ip4(uint8_t *out, const uint8_t *icmp, size_t len)
{
    memset(out, 0, 24);
    out[0] = 0x46; /* IPv4 with 4 bytes of options: the parser must honour IHL */
    out[9] = IPPROTO_ICMP;
    memcpy(out + 24, icmp, len);
    return len + 24;
}

START_TEST(checksum_matches_rfc1071_example)
{
    /* RFC 1071 section 3: the sum of these words is 0xddf2, so the checksum is ~0xddf2. */
    const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint16_t ck = icmp_packet_checksum(data, sizeof data);
    const uint8_t *b = (const uint8_t *)&ck;
    ck_assert_uint_eq(b[0], 0x22);
    ck_assert_uint_eq(b[1], 0x0d);
    const uint8_t odd[] = {0x01};
    ck = icmp_packet_checksum(odd, 1);
    b = (const uint8_t *)&ck;
    ck_assert_uint_eq(b[0], 0xfe);
    ck_assert_uint_eq(b[1], 0xff);
}
END_TEST

START_TEST(ipv4_round_trip_through_raw_header)
{
    uint8_t pkt[ICMP_PACKET_DEFAULT], ip[ICMP_PACKET_DEFAULT + 24];
    ck_assert_int_eq(icmp_packet_encode(AF_INET, &sample, pkt, sizeof pkt), (int)sizeof pkt);
    ck_assert_uint_eq(pkt[0], 8);
    ck_assert_uint_eq(icmp_packet_checksum(pkt, sizeof pkt), 0); /* valid as sent */
    struct icmp_probe got;
    /* Our own request is not a reply. */
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 0, pkt, sizeof pkt, &got), ICMP_PARSE_OTHER);
    make_reply4(pkt, sizeof pkt);
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 0, pkt, sizeof pkt, &got), ICMP_PARSE_REPLY);
    assert_same(&got, &sample);
    size_t n = wrap_ip4(ip, pkt, sizeof pkt);
    memset(&got, 0, sizeof got);
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 1, ip, n, &got), ICMP_PARSE_REPLY);
    assert_same(&got, &sample);
}
END_TEST

START_TEST(ipv6_round_trip)
{
    uint8_t pkt[ICMP_PACKET_MIN];
    ck_assert_int_eq(icmp_packet_encode(AF_INET6, &sample, pkt, sizeof pkt), (int)sizeof pkt);
    ck_assert_uint_eq(pkt[0], 128);
    struct icmp_probe got;
    ck_assert_int_eq(icmp_packet_parse(AF_INET6, 0, pkt, sizeof pkt, &got), ICMP_PARSE_OTHER);
    pkt[0] = 129;
    ck_assert_int_eq(icmp_packet_parse(AF_INET6, 0, pkt, sizeof pkt, &got), ICMP_PARSE_REPLY);
    assert_same(&got, &sample);
}
END_TEST

START_TEST(encode_rejects_bad_sizes_and_families)
{
    uint8_t pkt[ICMP_PACKET_MAX + 1];
    ck_assert_int_lt(icmp_packet_encode(AF_INET, &sample, pkt, ICMP_PACKET_MIN - 1), 0);
    ck_assert_int_lt(icmp_packet_encode(AF_INET, &sample, pkt, ICMP_PACKET_MAX + 1), 0);
    ck_assert_int_lt(icmp_packet_encode(AF_UNIX, &sample, pkt, ICMP_PACKET_MIN), 0);
}
END_TEST

START_TEST(truncated_and_corrupt_packets_are_rejected)
{
    uint8_t pkt[ICMP_PACKET_DEFAULT], ip[ICMP_PACKET_DEFAULT + 24];
    struct icmp_probe got;
    icmp_packet_encode(AF_INET, &sample, pkt, sizeof pkt);
    make_reply4(pkt, sizeof pkt);
    for (size_t len = 0; len < ICMP_PACKET_HDR; len++)
        ck_assert_int_eq(icmp_packet_parse(AF_INET6, 0, pkt, len, &got), ICMP_PARSE_MALFORMED);
    /* Cut inside our payload: the checksum no longer holds. */
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 0, pkt, ICMP_PACKET_MIN - 3, &got),
                     ICMP_PARSE_MALFORMED);
    pkt[20] ^= 0x40;
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 0, pkt, sizeof pkt, &got), ICMP_PARSE_MALFORMED);
    pkt[20] ^= 0x40;
    size_t n = wrap_ip4(ip, pkt, sizeof pkt);
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 1, ip, 19, &got), ICMP_PARSE_MALFORMED);
    ip[0] = 0x4f; /* IHL says 60 bytes of header in a 40-byte packet */
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 1, ip, 40, &got), ICMP_PARSE_MALFORMED);
    ip[0] = 0x66; /* version 6 on an IPv4 socket */
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 1, ip, n, &got), ICMP_PARSE_MALFORMED);
    ip[0] = 0x46;
    ip[9] = IPPROTO_UDP;
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 1, ip, n, &got), ICMP_PARSE_MALFORMED);
    /* A reply with a nonzero code is not an echo reply we accept. */
    uint8_t v6[ICMP_PACKET_MIN];
    icmp_packet_encode(AF_INET6, &sample, v6, sizeof v6);
    v6[0] = 129;
    v6[1] = 3;
    ck_assert_int_eq(icmp_packet_parse(AF_INET6, 0, v6, sizeof v6, &got), ICMP_PARSE_MALFORMED);
}
END_TEST

START_TEST(foreign_echo_replies_are_told_apart)
{
    /* An ordinary ping's reply: valid, but without our magic, or too short to carry it. */
    uint8_t pkt[ICMP_PACKET_DEFAULT] = {0};
    struct icmp_probe got;
    memset(pkt + 8, 0xaa, sizeof pkt - 8);
    make_reply4(pkt, sizeof pkt);
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 0, pkt, sizeof pkt, &got), ICMP_PARSE_FOREIGN);
    make_reply4(pkt, 12);
    ck_assert_int_eq(icmp_packet_parse(AF_INET, 0, pkt, 12, &got), ICMP_PARSE_FOREIGN);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("icmp_packet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, checksum_matches_rfc1071_example);
    tcase_add_test(tc, ipv4_round_trip_through_raw_header);
    tcase_add_test(tc, ipv6_round_trip);
    tcase_add_test(tc, encode_rejects_bad_sizes_and_families);
    tcase_add_test(tc, truncated_and_corrupt_packets_are_rejected);
    tcase_add_test(tc, foreign_echo_replies_are_told_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
