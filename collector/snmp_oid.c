#include "collector/snmp_oid.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int snmp_oid_parse(const char *s, struct snmp_oid *out)
{
    out->len = 0;
    if (!s)
        return -EINVAL;
    if (*s == '.')
        s++;
    while (*s) {
        if (!isdigit((unsigned char)*s) || out->len >= SNMP_OID_MAX)
            return -EINVAL;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || v > UINT32_MAX)
            return -EINVAL;
        out->sub[out->len++] = (uint32_t)v;
        s = end;
        if (*s == '.') {
            s++;
            if (!*s)
                return -EINVAL;
        } else if (*s) {
            return -EINVAL;
        }
    }
    return out->len ? 0 : -EINVAL;
}

char *snmp_oid_format(const struct snmp_oid *o, char *buf, size_t bufsz)
{
    size_t pos = 0;
    if (!bufsz)
        return buf;
    buf[0] = '\0';
    for (uint32_t i = 0; i < o->len; i++) {
        int n = snprintf(buf + pos, bufsz - pos, ".%" PRIu32, o->sub[i]);
        if (n < 0 || (size_t)n >= bufsz - pos)
            break;
        pos += (size_t)n;
    }
    return buf;
}

int snmp_oid_cmp(const struct snmp_oid *a, const struct snmp_oid *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    for (uint32_t i = 0; i < n; i++)
        if (a->sub[i] != b->sub[i])
            return a->sub[i] < b->sub[i] ? -1 : 1;
    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

int snmp_oid_under(const struct snmp_oid *root, const struct snmp_oid *o)
{
    if (o->len <= root->len)
        return 0;
    return !memcmp(root->sub, o->sub, root->len * sizeof root->sub[0]);
}

/* net-snmp's uptime rendering: "(ticks) [N day[s], ]H:MM:SS.cc". */
static void format_ticks(uint64_t t, char *buf, size_t bufsz)
{
    uint64_t cs = t % 100, s = t / 100, days = s / 86400;
    unsigned h = (unsigned)(s / 3600 % 24), m = (unsigned)(s / 60 % 60), sec = (unsigned)(s % 60);
    if (days == 0)
        snprintf(buf, bufsz, "Timeticks: (%" PRIu64 ") %u:%02u:%02u.%02u", t, h, m, sec,
                 (unsigned)cs);
    else
        snprintf(buf, bufsz, "Timeticks: (%" PRIu64 ") %" PRIu64 " day%s, %u:%02u:%02u.%02u", t,
                 days, days == 1 ? "" : "s", h, m, sec, (unsigned)cs);
}

/* Printable text is shown quoted, anything else as hex bytes, as net-snmp does without MIBs. */
static void format_octets(const char *label, const uint8_t *p, size_t len, char *buf, size_t bufsz)
{
    int text = 1;
    for (size_t i = 0; i < len; i++)
        if (!isprint(p[i]) && !isspace(p[i]) && !(p[i] == 0 && i == len - 1))
            text = 0;
    if (len == 0) {
        snprintf(buf, bufsz, "\"\"");
        return;
    }
    size_t pos = (size_t)snprintf(buf, bufsz, "%s: ", text ? label : "Hex-STRING");
    if (text) {
        int n = (len > 0 && p[len - 1] == 0) ? (int)len - 1 : (int)len;
        snprintf(buf + pos, pos < bufsz ? bufsz - pos : 0, "\"%.*s\"", n, (const char *)p);
        return;
    }
    for (size_t i = 0; i < len && pos + 4 < bufsz; i++)
        pos += (size_t)snprintf(buf + pos, bufsz - pos, "%02X ", p[i]);
}

char *snmp_oid_value_format(const struct snmp_varbind *vb, char *buf, size_t bufsz)
{
    char tmp[SNMP_OID_MAX * 11 + 1];
    switch (vb->type) {
    case SNMP_VT_INTEGER:
        snprintf(buf, bufsz, "INTEGER: %" PRId64, vb->v.i);
        break;
    case SNMP_VT_UNSIGNED:
        snprintf(buf, bufsz, "Gauge32: %" PRIu64, vb->v.u);
        break;
    case SNMP_VT_COUNTER32:
        snprintf(buf, bufsz, "Counter32: %" PRIu64, vb->v.u);
        break;
    case SNMP_VT_COUNTER64:
        snprintf(buf, bufsz, "Counter64: %" PRIu64, vb->v.u);
        break;
    case SNMP_VT_TIMETICKS:
        format_ticks(vb->v.u, buf, bufsz);
        break;
    case SNMP_VT_OCTETS:
        format_octets("STRING", vb->v.s.ptr, vb->v.s.len, buf, bufsz);
        break;
    case SNMP_VT_OPAQUE:
        format_octets("Opaque", vb->v.s.ptr, vb->v.s.len, buf, bufsz);
        break;
    case SNMP_VT_OID:
        snprintf(buf, bufsz, "OID: %s", snmp_oid_format(vb->v.oid, tmp, sizeof tmp));
        break;
    case SNMP_VT_IPADDR:
        if (vb->v.s.len == 4)
            snprintf(buf, bufsz, "IpAddress: %u.%u.%u.%u", vb->v.s.ptr[0], vb->v.s.ptr[1],
                     vb->v.s.ptr[2], vb->v.s.ptr[3]);
        else
            snprintf(buf, bufsz, "IpAddress: (invalid length %zu)", vb->v.s.len);
        break;
    case SNMP_VT_NULL:
        snprintf(buf, bufsz, "NULL");
        break;
    case SNMP_VT_NO_SUCH_OBJECT:
        snprintf(buf, bufsz, "No Such Object available on this agent at this OID");
        break;
    case SNMP_VT_NO_SUCH_INSTANCE:
        snprintf(buf, bufsz, "No Such Instance currently exists at this OID");
        break;
    case SNMP_VT_END_OF_MIB:
        snprintf(buf, bufsz,
                 "No more variables left in this MIB View (It is past the end of the "
                 "MIB tree)");
        break;
    }
    return buf;
}
