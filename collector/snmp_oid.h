/* snmp_oid: farol's own SNMP object identifiers and varbinds, so that callers of the SNMP engine
 * never see net-snmp types. Plain values: copy them freely. A varbind's string/OID payload points
 * into memory owned by whoever hands the varbind out (the engine: valid only during a callback). */
#ifndef FAROL_SNMP_OID_H
#define FAROL_SNMP_OID_H

#include <stddef.h>
#include <stdint.h>

#define SNMP_OID_MAX 128 /* sub-identifiers; RFC 2578 allows at most 128 */

struct snmp_oid {
    uint32_t len;
    uint32_t sub[SNMP_OID_MAX];
};

enum snmp_vtype {
    SNMP_VT_NULL,
    SNMP_VT_INTEGER,   /* v.i */
    SNMP_VT_UNSIGNED,  /* Gauge32 / Unsigned32: v.u */
    SNMP_VT_COUNTER32, /* v.u */
    SNMP_VT_COUNTER64, /* v.u */
    SNMP_VT_TIMETICKS, /* hundredths of a second: v.u */
    SNMP_VT_OCTETS,    /* v.s */
    SNMP_VT_OID,       /* v.oid */
    SNMP_VT_IPADDR,    /* v.s, 4 bytes */
    SNMP_VT_OPAQUE,    /* v.s */
    SNMP_VT_NO_SUCH_OBJECT,
    SNMP_VT_NO_SUCH_INSTANCE,
    SNMP_VT_END_OF_MIB,
};

struct snmp_varbind {
    struct snmp_oid oid;
    enum snmp_vtype type;
    union {
        int64_t i;
        uint64_t u;
        struct {
            const uint8_t *ptr;
            size_t len;
        } s;
        const struct snmp_oid *oid;
    } v;
};

/* Parse "1.3.6.1.2.1.1.3.0" (a leading dot is allowed). Returns 0 or -EINVAL. */
int snmp_oid_parse(const char *s, struct snmp_oid *out);
/* Write ".1.3.6..." into buf (always NUL-terminated); returns buf. */
char *snmp_oid_format(const struct snmp_oid *o, char *buf, size_t bufsz);
/* Lexicographic order of SNMP: <0, 0, >0. */
int snmp_oid_cmp(const struct snmp_oid *a, const struct snmp_oid *b);
/* True when o lies strictly under root (root itself is not under root). */
int snmp_oid_under(const struct snmp_oid *root, const struct snmp_oid *o);
/* Format a varbind's value like net-snmp's tools with -On ("Timeticks: (1234) 0:00:12.34",
 * "STRING: \"x\"", "INTEGER: 5"...). Always NUL-terminates buf; returns buf. */
char *snmp_oid_value_format(const struct snmp_varbind *vb, char *buf, size_t bufsz);

#endif
