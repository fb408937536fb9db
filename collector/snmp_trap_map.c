#include "collector/snmp_trap_map.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct compiled {
    struct snmp_oid trap, varbind;
    const struct profile_trap *cfg;
};

struct snmp_trap_map {
    struct compiled *items;
    size_t n;
};

struct snmp_trap_map *snmp_trap_map_new(const struct profile *p, char *err, size_t errsz)
{
    struct snmp_trap_map *m = xcalloc(1, sizeof *m);
    m->items = xcalloc(p->n_traps ? p->n_traps : 1, sizeof *m->items);
    for (size_t i = 0; i < p->n_traps; i++) {
        const struct profile_trap *t = &p->traps[i];
        struct compiled *c = &m->items[m->n++];
        c->cfg = t;
        if (snmp_oid_parse(t->oid, &c->trap) < 0 ||
            (t->varbind && snmp_oid_parse(t->varbind, &c->varbind) < 0)) {
            snprintf(err, errsz, "profile %s: trap %s: bad OID", p->name, t->oid);
            snmp_trap_map_free(m);
            return NULL;
        }
    }
    return m;
}

void snmp_trap_map_free(struct snmp_trap_map *m)
{
    if (!m)
        return;
    free(m->items);
    free(m);
}

void snmp_trap_map_v1_oid(const struct snmp_oid *enterprise, long generic, long specific,
                          struct snmp_oid *out)
{
    static const uint32_t snmp_traps[] = {1, 3, 6, 1, 6, 3, 1, 1, 5};
    if (generic >= 0 && generic < 6) {
        out->len = 10;
        memcpy(out->sub, snmp_traps, sizeof snmp_traps);
        out->sub[9] = (uint32_t)generic + 1;
        return;
    }
    *out = *enterprise;
    if (out->len > SNMP_OID_MAX - 2)
        out->len = SNMP_OID_MAX - 2;
    out->sub[out->len++] = 0;
    out->sub[out->len++] = (uint32_t)specific;
}

/* Dotted sub-identifiers o[from..] into buf; returns buf, "" when nothing is left. */
static char *dotted(const struct snmp_oid *o, uint32_t from, char *buf, size_t bufsz)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (uint32_t i = from; i < o->len && pos < bufsz; i++)
        pos +=
            (size_t)snprintf(buf + pos, bufsz - pos, "%s%" PRIu32, i > from ? "." : "", o->sub[i]);
    return buf;
}

/* A varbind's value as a row index; 0, or -1 when the value cannot name a row. */
static int value_index(const struct snmp_varbind *vb, char *buf, size_t bufsz)
{
    switch (vb->type) {
    case SNMP_VT_INTEGER:
        snprintf(buf, bufsz, "%" PRId64, vb->v.i);
        return 0;
    case SNMP_VT_UNSIGNED:
    case SNMP_VT_COUNTER32:
    case SNMP_VT_COUNTER64:
    case SNMP_VT_TIMETICKS:
        snprintf(buf, bufsz, "%" PRIu64, vb->v.u);
        return 0;
    case SNMP_VT_OID:
        dotted(vb->v.oid, 0, buf, bufsz);
        return 0;
    case SNMP_VT_IPADDR:
        if (vb->v.s.len != 4)
            return -1;
        snprintf(buf, bufsz, "%u.%u.%u.%u", vb->v.s.ptr[0], vb->v.s.ptr[1], vb->v.s.ptr[2],
                 vb->v.s.ptr[3]);
        return 0;
    case SNMP_VT_OCTETS:
        /* only text can name a row: object names must stay printable */
        if (vb->v.s.len == 0 || vb->v.s.len >= bufsz)
            return -1;
        for (size_t i = 0; i < vb->v.s.len; i++)
            if (vb->v.s.ptr[i] <= ' ' || vb->v.s.ptr[i] > '~' || vb->v.s.ptr[i] == '|')
                return -1;
        memcpy(buf, vb->v.s.ptr, vb->v.s.len);
        buf[vb->v.s.len] = '\0';
        return 0;
    default:
        return -1;
    }
}

/* The row index the mapping asks for; 0, or -1 when the notification does not carry it. */
static int find_index(const struct compiled *c, const struct snmp_varbind *vbs, size_t n, char *buf,
                      size_t bufsz)
{
    buf[0] = '\0';
    if (c->cfg->index == PROFILE_INDEX_NONE)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const struct snmp_varbind *vb = &vbs[i];
        if (c->cfg->index == PROFILE_INDEX_SUFFIX && snmp_oid_under(&c->varbind, &vb->oid)) {
            dotted(&vb->oid, c->varbind.len, buf, bufsz);
            return 0;
        }
        if (c->cfg->index == PROFILE_INDEX_VALUE &&
            (snmp_oid_under(&c->varbind, &vb->oid) || !snmp_oid_cmp(&c->varbind, &vb->oid)))
            return value_index(vb, buf, bufsz);
    }
    return -1;
}

void snmp_trap_map_apply(const struct snmp_trap_map *m, const char *device,
                         const struct snmp_oid *trap_oid, const struct snmp_varbind *vbs, size_t n,
                         int64_t observed_ms, const char *text, const struct profile_sink *sink,
                         struct snmp_trap_match *out)
{
    struct snmp_trap_match res = {0};
    for (size_t i = 0; m && i < m->n; i++) {
        const struct compiled *c = &m->items[i];
        if (snmp_oid_cmp(&c->trap, trap_oid) != 0)
            continue;
        res.matched++;
        char index[256], object[512];
        if (find_index(c, vbs, n, index, sizeof index) < 0) {
            res.no_index++;
            continue;
        }
        profile_object_name(object, sizeof object, c->cfg->object ? c->cfg->object : "", index);
        struct alarm_report r = {.device = device,
                                 .object = object,
                                 .kind = c->cfg->kind,
                                 .active = c->cfg->action == PROFILE_TRAP_RAISE,
                                 .severity = (enum alarm_severity)c->cfg->severity,
                                 .source = SRC_SNMP_TRAP,
                                 .observed_ms = observed_ms,
                                 .text = text};
        sink->alarm(sink->arg, &r);
        res.reported++;
    }
    if (out)
        *out = res;
}
