/* snmp_trap: the collector's trap and inform receiver (docs/collector-traps.md).
 * Listens on collector.traps.listen (UDP, IPv4 and/or IPv6), non-blocking on the loop; each
 * wake-up reads until the socket is drained (bounded per wake-up). net-snmp decodes SNMPv1,
 * v2c and v3 (USM) notifications and answers v3 engine discovery; informs are acknowledged
 * with a Response PDU. The sender is the device whose address equals the packet's source
 * (collector.devices); its profile's `traps` list (collector/snmp_trap_map.h) turns the
 * notification into alarm reports, sent to sink->alarm with source SRC_SNMP_TRAP.
 * Accepted: communities and v3 users of the credentials named in collector.traps.credentials.
 * v3 traps need the device's engine_id; v3 informs use the receiver's own engine id
 * (collector.traps.engine_id, or one derived from the host name; logged at start).
 * Everything else is counted per reason (snmp_trap_stats) and dropped with a rate-limited log
 * line. Nothing here blocks or exits on bad input.
 *
 * Ownership: the receiver borrows loop, config (must outlive it) and the sink's arg; the sink
 * struct itself is copied. The net-snmp USM user table is process-global: the receiver adds
 * its users there (they stay until exit, like the SNMP engine's). */
#ifndef FAROL_SNMP_TRAP_H
#define FAROL_SNMP_TRAP_H

#include <stddef.h>
#include <stdint.h>

#include "collector/profile.h"
#include "config/collector_config.h"

struct loop;
struct snmp_trap;

/* Why a datagram or notification was dropped. */
enum snmp_trap_drop {
    SNMP_TRAP_DROP_UNKNOWN_SOURCE,   /* source address is no configured device */
    SNMP_TRAP_DROP_BAD_COMMUNITY,    /* v1/v2c community not accepted */
    SNMP_TRAP_DROP_UNKNOWN_USER,     /* v3 user (or user at that engine id) not accepted */
    SNMP_TRAP_DROP_AUTH_FAILED,      /* v3 wrong digest, decryption error, too low a level */
    SNMP_TRAP_DROP_UNMAPPED,         /* no mapping for the trap OID in the device's profile */
    SNMP_TRAP_DROP_NO_INDEX,         /* mapped, but the varbind carrying the index is missing */
    SNMP_TRAP_DROP_MALFORMED,        /* not a decodable SNMP message */
    SNMP_TRAP_DROP_NOT_NOTIFICATION, /* a decodable PDU that is no trap or inform */
    SNMP_TRAP_DROP_N
};

struct snmp_trap_stats {
    uint64_t packets;    /* datagrams read */
    uint64_t traps;      /* traps accepted (authenticated, from a known device) */
    uint64_t informs;    /* informs accepted */
    uint64_t acked;      /* Response PDUs sent for informs */
    uint64_t reports;    /* alarm reports sent to the sink */
    uint64_t handshakes; /* v3 discovery / time-window Reports sent (normal before informs) */
    uint64_t dropped[SNMP_TRAP_DROP_N];
};

/* Start the receiver described by cc->traps, reporting to sink. Returns NULL with err empty
 * when no receiver is configured (cc->traps.listen is NULL), NULL with a message when it
 * cannot start (address in use, bad credentials), or the receiver. */
struct snmp_trap *snmp_trap_new(struct loop *loop, const struct collector_config *cc,
                                const struct profile_sink *sink, char *err, size_t errsz);
/* Counters since start. */
void snmp_trap_stats(const struct snmp_trap *t, struct snmp_trap_stats *out);
/* The counter's name for logs and metrics ("unknown_source", ...). */
const char *snmp_trap_drop_name(enum snmp_trap_drop d);
/* Stop listening and free (NULL is fine). Not from inside the sink. */
void snmp_trap_free(struct snmp_trap *t);

#endif
