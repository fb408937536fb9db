/* icmp_packet: echo request encoding and reply parsing for ICMP and ICMPv6. */
#include "collector/icmp_packet.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

enum { ICMP4_ECHO_REPLY = 0, ICMP4_ECHO = 8, ICMP6_ECHO = 128, ICMP6_ECHO_REPLY = 129 };

/* "FRL1": tells a farol probe from any other echo payload. */
static const uint8_t probe_magic[4] = {'F', 'R', 'L', '1'};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

uint16_t icmp_packet_checksum(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t sum = 0;
    for (; len > 1; p += 2, len -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        sum += (uint32_t)(p[0] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t folded = (uint16_t)~sum;
    uint8_t out[2] = {(uint8_t)(folded >> 8), (uint8_t)folded};
    uint16_t ret;
    memcpy(&ret, out, 2);
    return ret;
}

int icmp_packet_encode(int family, const struct icmp_probe *p, uint8_t *buf, size_t size)
{
    if ((family != AF_INET && family != AF_INET6) || size < ICMP_PACKET_MIN ||
        size > ICMP_PACKET_MAX)
        return -EINVAL;
    memset(buf, 0, size);
    buf[0] = family == AF_INET ? ICMP4_ECHO : ICMP6_ECHO;
    put16(buf + 4, p->ident);
    put16(buf + 6, p->seq);
    uint8_t *d = buf + ICMP_PACKET_HDR;
    memcpy(d, probe_magic, 4);
    put32(d + 4, p->cookie);
    put32(d + 8, p->target);
    put32(d + 12, p->token);
    put32(d + 16, (uint32_t)(p->sent_ns >> 32));
    put32(d + 20, (uint32_t)p->sent_ns);
    if (family == AF_INET) {
        uint16_t ck = icmp_packet_checksum(buf, size);
        memcpy(buf + 2, &ck, 2);
    }
    return (int)size;
}

/* Skip a raw socket's IPv4 header; NULL when it is not a sane IPv4/ICMP header. */
static const uint8_t *skip_ip4(const uint8_t *buf, size_t *len)
{
    if (*len < 20 || (buf[0] >> 4) != 4)
        return NULL;
    size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > *len || buf[9] != IPPROTO_ICMP)
        return NULL;
    *len -= ihl;
    return buf + ihl;
}

enum icmp_parse_result icmp_packet_parse(int family, int ip_header, const uint8_t *buf, size_t len,
                                         struct icmp_probe *out)
{
    if (family == AF_INET && ip_header && !(buf = skip_ip4(buf, &len)))
        return ICMP_PARSE_MALFORMED;
    if (len < ICMP_PACKET_HDR)
        return ICMP_PARSE_MALFORMED;
    /* The kernel verifies ICMPv6 checksums itself; IPv4 raw sockets deliver whatever came. */
    if (family == AF_INET && icmp_packet_checksum(buf, len) != 0)
        return ICMP_PARSE_MALFORMED;
    int reply_type = family == AF_INET ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY;
    if (buf[0] != reply_type)
        return ICMP_PARSE_OTHER;
    if (buf[1] != 0)
        return ICMP_PARSE_MALFORMED;
    const uint8_t *d = buf + ICMP_PACKET_HDR;
    if (len < ICMP_PACKET_MIN || memcmp(d, probe_magic, 4) != 0)
        return ICMP_PARSE_FOREIGN;
    out->ident = get16(buf + 4);
    out->seq = get16(buf + 6);
    out->cookie = get32(d + 4);
    out->target = get32(d + 8);
    out->token = get32(d + 12);
    out->sent_ns = (uint64_t)get32(d + 16) << 32 | get32(d + 20);
    return ICMP_PARSE_REPLY;
}
