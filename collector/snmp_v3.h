/* snmp_v3: USM helpers for the SNMP engine (internal: uses net-snmp types, so only the engine's
 * own .c files include it). Keys: a passphrase's Ku (generate_Ku, 4-12 ms) is derived once per
 * (hash, passphrase) and cached for the engine's life; net-snmp localises it per engine id when a
 * session is opened (one cheap hash). The cache owns its entries; passphrases never reach logs. */
#ifndef FAROL_SNMP_V3_H
#define FAROL_SNMP_V3_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <stddef.h>

#include "collector/snmp_engine.h"

struct snmp_v3_keys;

/* An empty Ku cache. */
struct snmp_v3_keys *snmp_v3_keys_new(void);
/* Free the cache (NULL is fine). */
void snmp_v3_keys_free(struct snmp_v3_keys *k);
/* Check cfg's v3 protocols and passphrases; 0 or -EINVAL with a message. */
int snmp_v3_check(const struct snmp_device_cfg *cfg, char *err, size_t errsz);
/* Fill s's USM fields (user, level, protocols, Ku from the cache) from cfg, already checked.
 * s keeps pointers to static protocol OIDs and to cfg->user, which must outlive the open call. */
int snmp_v3_session(struct snmp_v3_keys *k, const struct snmp_device_cfg *cfg, netsnmp_session *s,
                    char *err, size_t errsz);
/* Register the empty USM user that engine-id probes go out as (once per process). */
void snmp_v3_probe_user(void);
/* Map a net-snmp error number from a failed send to a status code and a message. */
int snmp_v3_send_status(int snmperr, const char **msg);
/* Map a Report PDU to a status code (-EACCES, -EPERM, -EPROTO) and a message. */
int snmp_v3_report_status(netsnmp_pdu *report, const char **msg);

#endif
