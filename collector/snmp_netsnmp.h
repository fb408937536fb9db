/* snmp_netsnmp: the bridge between net-snmp and farol's SNMP types, for the modules that talk
 * to net-snmp directly (the engine and the trap receiver), so both set the library up the
 * same way and read varbinds the same way. Everything else uses collector/snmp_oid.h. */
#ifndef FAROL_SNMP_NETSNMP_H
#define FAROL_SNMP_NETSNMP_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "collector/snmp_oid.h"

/* Initialise net-snmp once per process: numeric OIDs only (no MIB loading), no configuration
 * files read, no persistent state written. Safe to call again. */
void snmp_netsnmp_init(void);
/* Fill vb from v; payloads are borrowed from v, an OID value is stored in *oidval.
 * Returns 0, or -EPROTO for an over-long OID. */
int snmp_netsnmp_varbind(const netsnmp_variable_list *v, struct snmp_varbind *vb,
                         struct snmp_oid *oidval);

#endif
