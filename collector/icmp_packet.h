/* icmp_packet: ICMP and ICMPv6 echo requests and replies as bytes, nothing else (no sockets).
 * Every probe carries a payload that identifies it beyond (identifier, sequence): a per-prober
 * cookie (so another process's replies on a raw socket are told apart), the target id and a
 * per-probe token (so sequence numbers may wrap freely: no 65,535-outstanding cap).
 * All buffers belong to the caller. */
#ifndef FAROL_ICMP_PACKET_H
#define FAROL_ICMP_PACKET_H

#include <stddef.h>
#include <stdint.h>

enum {
    ICMP_PACKET_HDR = 8,    /* type, code, checksum, identifier, sequence */
    ICMP_PACKET_PROBE = 24, /* our payload: magic, cookie, target, token, sent_ns */
    ICMP_PACKET_MIN = ICMP_PACKET_HDR + ICMP_PACKET_PROBE,
    ICMP_PACKET_DEFAULT = 64, /* 56 data bytes, like ping and fping */
    ICMP_PACKET_MAX = 1472,
};

/* What a probe carries; the same fields come back in a reply. */
struct icmp_probe {
    uint16_t ident;
    uint16_t seq;
    uint32_t cookie;
    uint32_t target;
    uint32_t token;
    uint64_t sent_ns; /* CLOCK_REALTIME nanoseconds at send, for the RTT */
};

enum icmp_parse_result {
    ICMP_PARSE_REPLY = 0,     /* an echo reply carrying a farol probe payload */
    ICMP_PARSE_OTHER = 1,     /* valid ICMP, but not an echo reply (requests, errors) */
    ICMP_PARSE_FOREIGN = 2,   /* an echo reply without a farol payload (someone else's ping) */
    ICMP_PARSE_MALFORMED = -1 /* truncated, bad IP header or bad checksum */
};

/* The Internet checksum (RFC 1071) of len bytes, in network byte order, ready to store. */
uint16_t icmp_packet_checksum(const void *buf, size_t len);
/* Encode an echo request for family (AF_INET or AF_INET6) of size bytes (ICMP header included,
 * ICMP_PACKET_MIN..ICMP_PACKET_MAX) into buf; returns size or -EINVAL. The ICMPv6 checksum is
 * left 0: the kernel computes it over the pseudo-header. */
int icmp_packet_encode(int family, const struct icmp_probe *p, uint8_t *buf, size_t size);
/* Parse a received packet. ip_header: the buffer starts with an IPv4 header (raw IPv4 sockets)
 * to skip. Fills *out only for ICMP_PARSE_REPLY. */
enum icmp_parse_result icmp_packet_parse(int family, int ip_header, const uint8_t *buf, size_t len,
                                         struct icmp_probe *out);

#endif
