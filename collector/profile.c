#include "collector/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/counter.h"
#include "core/strmap.h"
#include "core/xmalloc.h"

/* IF-MIB ifOperStatus values that mean the link cannot carry traffic. */
#define OPER_UP 1
#define OPER_DOWN 2
#define OPER_NOT_PRESENT 6
#define OPER_LOWER_LAYER_DOWN 7
#define ADMIN_UP 1

struct counter_pair {
    struct counter rx, tx;
};

struct profile_memory {
    bool has_uptime, rebooted;
    uint32_t uptime;
    struct strmap *counters; /* object -> struct counter_pair */
};

struct profile_memory *profile_memory_new(void)
{
    struct profile_memory *m = xcalloc(1, sizeof *m);
    m->counters = strmap_new();
    return m;
}

void profile_memory_free(struct profile_memory *m)
{
    if (!m)
        return;
    strmap_free(m->counters, free);
    free(m);
}

/* ---- reading helpers ---- */

static const struct profile_column *column(const struct profile_readings *r, const char *oid)
{
    for (size_t i = 0; oid && i < r->n_columns; i++)
        if (strcmp(r->columns[i].oid, oid) == 0)
            return &r->columns[i];
    return NULL;
}

/* Walks return rows in index order in every column, so position i usually matches. */
static const struct profile_cell *cell(const struct profile_column *c, size_t hint,
                                       const char *index)
{
    if (!c)
        return NULL;
    if (hint < c->n && strcmp(c->cells[hint].index, index) == 0)
        return &c->cells[hint];
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->cells[i].index, index) == 0)
            return &c->cells[i];
    return NULL;
}

static bool member(const struct profile_values *vals, int64_t v)
{
    for (size_t i = 0; i < vals->n; i++)
        if (vals->v[i] == v)
            return true;
    return false;
}

void profile_object_name(char *buf, size_t sz, const char *tmpl, const char *index)
{
    const char *at = strstr(tmpl, "{index}");
    if (at)
        snprintf(buf, sz, "%.*s%s%s", (int)(at - tmpl), tmpl, index, at + 7);
    else
        snprintf(buf, sz, "%s%s", tmpl, index);
}

struct emitter {
    const struct profile_sink *sink;
    const char *device;
    int64_t at_ms;
};

static void emit(const struct emitter *e, const char *object, const char *kind, bool active,
                 enum alarm_severity sev, const double *value, const char *text)
{
    struct alarm_report r = {.device = e->device,
                             .object = object,
                             .kind = kind,
                             .active = active,
                             .severity = sev,
                             .source = SRC_SNMP_POLL,
                             .observed_ms = e->at_ms,
                             .has_value = value != NULL,
                             .value = value ? *value : 0,
                             .text = text};
    e->sink->alarm(e->sink->arg, &r);
}

/* ---- rules ---- */

static void eval_uptime(const struct profile_readings *r, struct profile_memory *m,
                        const struct emitter *e)
{
    if (!r->has_uptime)
        return;
    if (m->has_uptime && r->uptime < m->uptime) {
        char text[96];
        snprintf(text, sizeof text, "sysUpTime went back from %u to %u: rebooted", m->uptime,
                 r->uptime);
        emit(e, "", "reboot", true, SEV_WARNING, NULL, text);
        m->rebooted = true;
    } else if (m->rebooted) {
        emit(e, "", "reboot", false, SEV_WARNING, NULL, NULL);
        m->rebooted = false;
    }
    m->has_uptime = true;
    m->uptime = r->uptime;
}

static void eval_links(const struct profile_links *p, const struct profile_readings *r,
                       const struct emitter *e)
{
    const struct profile_column *oper = column(r, p->oper), *admin = column(r, p->admin);
    for (size_t i = 0; oper && i < oper->n; i++) {
        const struct profile_cell *o = &oper->cells[i], *a = cell(admin, i, o->index);
        bool admin_up = !a || a->i == ADMIN_UP;
        bool down = o->i == OPER_DOWN || o->i == OPER_NOT_PRESENT || o->i == OPER_LOWER_LAYER_DOWN;
        char obj[256];
        profile_object_name(obj, sizeof obj, p->object, o->index);
        emit(e, obj, "link-down", admin_up && down, SEV_MAJOR, NULL, NULL);
    }
}

static const char *const onu_kinds[] = {"onu-los", "onu-dying-gasp", "onu-offline"};

static void eval_onu_power(const struct profile_onus *p, const struct profile_cell *pw, bool online,
                           const char *obj, const struct emitter *e)
{
    if (!pw || !pw->is_number)
        return;
    if (!online || pw->i == p->rx_power_invalid) {
        emit(e, obj, "low-rx-power", false, SEV_WARNING, NULL, NULL);
        return;
    }
    double dbm = (double)pw->i * p->rx_power_scale;
    emit(e, obj, "low-rx-power", dbm < p->low_rx_power, SEV_WARNING, &dbm, NULL);
}

static void eval_onus(const struct profile_onus *p, const struct profile_readings *r,
                      const struct emitter *e)
{
    const struct profile_column *st = column(r, p->status), *cause = column(r, p->cause),
                                *power = column(r, p->rx_power);
    for (size_t i = 0; st && i < st->n; i++) {
        const struct profile_cell *s = &st->cells[i], *c = cell(cause, i, s->index);
        bool online = member(&p->online, s->i);
        int64_t why = c ? c->i : s->i;
        int kind = online ? -1 : member(&p->los, why) ? 0 : member(&p->dying_gasp, why) ? 1 : 2;
        char obj[256];
        profile_object_name(obj, sizeof obj, p->object, s->index);
        for (int k = 0; k < 3; k++)
            emit(e, obj, onu_kinds[k], k == kind, k == 2 ? SEV_MINOR : SEV_MAJOR, NULL, NULL);
        eval_onu_power(p, cell(power, i, s->index), online, obj, e);
    }
}

static bool carries_delta(enum counter_outcome o)
{
    return o == COUNTER_DELTA || o == COUNTER_WRAPPED || o == COUNTER_REBOOTED;
}

static void eval_counters(const struct profile_counters *p, const struct profile_readings *r,
                          struct profile_memory *m, const struct emitter *e)
{
    const struct profile_column *rx = column(r, p->rx), *tx = column(r, p->tx);
    uint32_t up = r->has_uptime ? r->uptime : UINT32_MAX;
    for (size_t i = 0; rx && i < rx->n; i++) {
        const struct profile_cell *a = &rx->cells[i], *b = cell(tx, i, a->index);
        char obj[256];
        profile_object_name(obj, sizeof obj, p->object, a->index);
        struct counter_pair *cp = strmap_get(m->counters, obj);
        if (!cp) {
            cp = xcalloc(1, sizeof *cp);
            strmap_put(m->counters, obj, cp);
        }
        int64_t interval = r->at_ms - cp->rx.last_ms;
        uint64_t drx = 0, dtx = 0;
        enum counter_outcome orx =
            counter_update(&cp->rx, a->u, p->bits, r->at_ms, up, (uint64_t)p->max_bps, &drx);
        enum counter_outcome otx =
            b ? counter_update(&cp->tx, b->u, p->bits, r->at_ms, up, (uint64_t)p->max_bps, &dtx)
              : orx;
        if (carries_delta(orx) && carries_delta(otx) && e->sink->usage)
            e->sink->usage(e->sink->arg, e->device, obj, drx, dtx, interval);
    }
}

void profile_evaluate(const struct profile *p, const char *device, const struct profile_readings *r,
                      struct profile_memory *mem, const struct profile_sink *sink)
{
    struct emitter e = {.sink = sink, .device = device, .at_ms = r->at_ms};
    if (p->uptime)
        eval_uptime(r, mem, &e);
    if (p->links.oper)
        eval_links(&p->links, r, &e);
    if (p->onus.status)
        eval_onus(&p->onus, r, &e);
    if (p->counters.rx)
        eval_counters(&p->counters, r, mem, &e);
}

size_t profile_columns(const struct profile *p, const char **out, size_t max)
{
    const char *all[] = {p->links.oper,    p->links.admin, p->onus.status, p->onus.cause,
                         p->onus.rx_power, p->counters.rx, p->counters.tx};
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] && n + 1 < max)
            out[n++] = all[i];
    if (max)
        out[n] = NULL;
    return n;
}
