/* collector_config: the `collector:` section of farol's configuration (docs/configuration.md):
 * ICMP probing defaults and the devices the collector watches. Filled by config_load() as part
 * of struct config and freed with it. */
#ifndef FAROL_COLLECTOR_CONFIG_H
#define FAROL_COLLECTOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct schema_section;

struct icmp_config {
    int64_t interval_ms; /* period between probes to one device */
    int64_t timeout_ms;  /* how long a probe waits for its reply */
    int retries;         /* extra probes within a round before the round counts as lost */
    int down_after;      /* consecutive lost rounds before a device is down */
    int up_after;        /* consecutive answered rounds before it is up again */
};

struct profile_values {
    int64_t *v; /* must stay first: the schema fills v and n as an integer list */
    size_t n;
};

struct profile_links {
    char *object; /* template, "{index}" replaced by the row index, e.g. "if:{index}" */
    char *oper;   /* ifOperStatus column */
    char *admin;  /* ifAdminStatus column (optional) */
};

struct profile_onus {
    char *object;
    char *status;                     /* status column */
    struct profile_values online;     /* status values meaning online */
    char *cause;                      /* last-down-cause column (optional) */
    struct profile_values los;        /* cause values (status values without cause) */
    struct profile_values dying_gasp; /* likewise */
    char *rx_power;                   /* optical rx power column (optional) */
    double rx_power_scale;            /* raw value times this is dBm */
    int64_t rx_power_invalid;         /* raw value meaning "no reading" */
    double low_rx_power;              /* dBm; a reading below raises low-rx-power */
};

struct profile_counters {
    char *object;
    char *rx, *tx;   /* octet counter columns */
    int bits;        /* 32 or 64 */
    int64_t max_bps; /* fastest plausible rate, for reset detection */
};

enum profile_trap_action { PROFILE_TRAP_RAISE, PROFILE_TRAP_CLEAR };
/* Where a notification carries the row index: the OID suffix of the `varbind` (after its OID),
 * that varbind's value, or nowhere (an alarm on the device itself). */
enum profile_trap_index { PROFILE_INDEX_SUFFIX, PROFILE_INDEX_VALUE, PROFILE_INDEX_NONE };

/* One notification (trap or inform) mapped to an alarm (docs/collector-traps.md). Several items
 * may share an OID: each applies (one "ONU online" trap clears several kinds). */
struct profile_trap {
    char *oid;     /* snmpTrapOID.0; for v1 the RFC 3584 translation (enterprise.0.specific) */
    char *kind;    /* alarm kind, the same the poll rules report */
    int action;    /* enum profile_trap_action */
    int index;     /* enum profile_trap_index */
    char *varbind; /* OID of the column whose varbind carries the index */
    char *object;  /* template; defaults to the poll rule's object for the kind (at load) */
    int severity;  /* enum alarm_severity */
};

/* A rule is in use when its primary column (links.oper, onus.status, counters.rx) is set. */
struct profile {
    char *name;
    char *uptime; /* sysUpTime OID (scalar, e.g. 1.3.6.1.2.1.1.3.0) or NULL */
    struct profile_links links;
    struct profile_onus onus;
    struct profile_counters counters;
    struct profile_trap *traps; /* notifications from devices of this profile */
    size_t n_traps;
};

enum snmp_security { SNMP_NOAUTH_NOPRIV, SNMP_AUTH_NOPRIV, SNMP_AUTH_PRIV };
enum snmp_auth { SNMP_AUTH_MD5, SNMP_AUTH_SHA, SNMP_AUTH_SHA256, SNMP_AUTH_SHA512 };
enum snmp_priv { SNMP_PRIV_DES, SNMP_PRIV_AES, SNMP_PRIV_AES256 };

/* Named SNMP credentials; many devices share one set. Secrets are never logged. */
struct snmp_credentials_config {
    char *name;
    int version; /* 1, 2 (v2c) or 3 */
    char *community;
    char *user;
    int security_level; /* enum snmp_security */
    int auth_protocol;  /* enum snmp_auth */
    char *auth_password;
    int priv_protocol; /* enum snmp_priv */
    char *priv_password;
};

/* How hard the collector may poll one device (OLT line cards crash when polled too hard). */
struct snmp_poll_config {
    int64_t interval_ms;
    int64_t timeout_ms;
    int retries;
    int max_repetitions;
    int max_in_flight;
    int max_rate; /* requests per second per device */
};

struct device_config {
    char *name;        /* unique; the `device` of its alarms and its topology binding */
    char *address;     /* numeric IPv4 or IPv6 address */
    int icmp;          /* probe it with ICMP (default true) */
    char *profile;     /* poll profile name, NULL = no SNMP polling */
    char *credentials; /* SNMP credentials name, required with a profile */
    int snmp_port;
    char *engine_id; /* the device's snmpEngineID (hex): needed to accept its v3 traps */
};

/* The trap and inform receiver (collector/snmp_trap.h); absent when listen is NULL. */
struct traps_config {
    char *listen;            /* "127.0.0.1:162" or several, comma-separated ("[::1]:162") */
    char *credentials;       /* comma-separated names from collector.credentials it accepts */
    char *engine_id;         /* its own snmpEngineID for v3 informs (hex); NULL = derived */
    int64_t log_interval_ms; /* at most one drop line per reason per interval */
};

struct collector_config {
    struct icmp_config icmp;
    struct snmp_poll_config snmp;
    struct snmp_credentials_config *credentials;
    size_t n_credentials;
    struct profile *profiles;
    size_t n_profiles;
    struct device_config *devices;
    size_t n_devices;
    struct traps_config traps;
};

/* Parse an snmpEngineID written in hex ("0x80001f8803..." or without 0x; 5 to 32 octets) into
 * out. Returns its length, or -EINVAL. */
int collector_config_engine_id(const char *hex, unsigned char *out, size_t outsz);
/* Copy the next item of a comma-separated list at *cursor into buf (trimmed) and advance
 * *cursor; returns 1, or 0 at the end of the list. */
int collector_config_list_next(const char **cursor, char *buf, size_t bufsz);

/* Split "IPv4:PORT" or "[IPv6]:PORT" into a numeric host and a port; returns AF_INET or
 * AF_INET6, or -EINVAL. */
int collector_config_endpoint(const char *s, char *host, size_t hostsz, int *port);

/* The schema of the section, for config.c's root table. */
extern const struct schema_section collector_config_section;

#endif
