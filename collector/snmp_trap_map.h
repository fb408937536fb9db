/* snmp_trap_map: a profile's `traps` list (config/collector_config.h struct profile_trap)
 * compiled for matching, and the pure step from one received notification to alarm reports.
 * No sockets and no net-snmp types: notifications arrive as snmp_oid/snmp_varbind, reports
 * leave through a profile_sink with source SRC_SNMP_TRAP. Objects are built from the same
 * templates as the poll rules ("{index}" replaced by the row index), so a trap and the next
 * poll agree on (device, object, kind). See docs/collector-traps.md.
 * A map borrows its profile (configuration outlives it) and owns its compiled OIDs. */
#ifndef FAROL_SNMP_TRAP_MAP_H
#define FAROL_SNMP_TRAP_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "collector/profile.h"
#include "collector/snmp_oid.h"

struct snmp_trap_map;

/* What applying one notification did. */
struct snmp_trap_match {
    size_t matched;  /* mappings whose OID equals the notification's */
    size_t reported; /* alarm reports sent to the sink */
    size_t no_index; /* matched, but the varbind carrying the index was missing */
};

/* Compile p's traps list; NULL with a message when an OID does not parse (checked at load,
 * so only for hand-built profiles). A profile without traps gives an empty map. */
struct snmp_trap_map *snmp_trap_map_new(const struct profile *p, char *err, size_t errsz);
/* Free the map (NULL is fine). */
void snmp_trap_map_free(struct snmp_trap_map *m);
/* The snmpTrapOID of an SNMPv1 trap (RFC 3584 section 3.1): generic 0-5 become
 * 1.3.6.1.6.3.1.1.5.(generic+1); enterpriseSpecific (6) becomes enterprise.0.specific. */
void snmp_trap_map_v1_oid(const struct snmp_oid *enterprise, long generic, long specific,
                          struct snmp_oid *out);
/* Report what the notification trap_oid with varbinds vbs from device means, through sink.
 * Fills *out (may be NULL). */
void snmp_trap_map_apply(const struct snmp_trap_map *m, const char *device,
                         const struct snmp_oid *trap_oid, const struct snmp_varbind *vbs, size_t n,
                         int64_t observed_ms, const char *text, const struct profile_sink *sink,
                         struct snmp_trap_match *out);

#endif
