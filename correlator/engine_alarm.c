/* engine_alarm: alarms to node state. An alarm id is one occurrence, so (id, action) applies
 * once however often the bus redelivers it. Service-down kinds fail their node;
 * snmp-unresponsive marks the node's subtree unknown for up to the correlation window (its
 * ONU alarms are stale: neither trusted nor cleared). A node that changes state more than
 * flap_count times within flap_window is flapping: when it comes back up it is held failed
 * until it has stayed up for a whole flap_window, so each flap does not open an outage. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "correlator/engine_impl.h"

static const char *const down_kinds[] = {"unreachable", "link-down", "onu-los", "onu-dying-gasp",
                                         "onu-offline"};
static const char unknown_kind[] = "snmp-unresponsive";

/* The static name of a kind that fails a node, or NULL. */
static const char *down_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof down_kinds / sizeof down_kinds[0]; i++)
        if (!strcmp(kind, down_kinds[i]))
            return down_kinds[i];
    return NULL;
}

int64_t engine_fail_ms(const struct corr_engine *e, uint32_t n)
{
    const struct eng_node *s = &e->nodes[n];
    int64_t t = s->inferred ? engine_x(s)->infer_ms : INT64_MAX;
    for (const struct eng_alarm *a = s->active; a; a = a->next)
        if (a->observed_ms < t)
            t = a->observed_ms;
    if (t == INT64_MAX && engine_x(s)->held_until)
        t = engine_x(s)->held_until - e->p.flap_window_ms; /* when it last came up */
    return t;
}

bool engine_is_failed(const struct corr_engine *e, uint32_t n)
{
    const struct eng_node *s = &e->nodes[n];
    return s->nactive > 0 || s->inferred || engine_x(s)->held_until > 0;
}

static void failed_add(struct corr_engine *e, uint32_t n)
{
    e->nodes[n].failed_pos = (uint32_t)e->nfailed;
    e->failed[e->nfailed++] = n;
}

static void failed_del(struct corr_engine *e, uint32_t n)
{
    uint32_t pos = e->nodes[n].failed_pos, last = e->failed[--e->nfailed];
    e->failed[pos] = last;
    e->nodes[last].failed_pos = pos;
    e->nodes[n].failed_pos = TOPOLOGY_NONE;
}

static void list_del(uint32_t *v, size_t *n, uint32_t x)
{
    for (size_t i = 0; i < *n; i++)
        if (v[i] == x) {
            v[i] = v[--*n];
            return;
        }
}

/* Remember a state change; true when the node has now changed too often. */
static bool flip(struct corr_engine *e, uint32_t n, int64_t now_ms)
{
    uint32_t cap = e->p.flap_count + 1;
    if (!e->p.flap_count)
        return false;
    struct eng_node_x *s = engine_x_mut(e, n);
    s->flips[s->nflips++ % cap] = now_ms;
    if (s->nflips < cap)
        return false;
    int64_t oldest = s->flips[s->nflips % cap]; /* cap changes ago */
    return now_ms - oldest <= e->p.flap_window_ms;
}

static void node_raise(struct corr_engine *e, struct eng_alarm *a, int64_t now_ms)
{
    struct eng_node *s = &e->nodes[a->node];
    a->next = s->active;
    s->active = a;
    if (s->nactive++)
        return;
    if (engine_x(s)->held_until) { /* a flap back down while held: it never left the failed set */
        s->x->held_until = 0;
        list_del(e->held, &e->nheld, a->node);
    } else {
        failed_add(e, a->node);
    }
    if (flip(e, a->node, now_ms) && !s->flapping) {
        s->flapping = true;
        e->st.flaps++;
        log_info("correlator", "node %s is flapping: damped until it stays up for %lld s",
                 topology_node(e->topo, a->node)->id, (long long)(e->p.flap_window_ms / 1000));
    }
}

static void node_clear(struct corr_engine *e, struct eng_alarm *a, int64_t now_ms)
{
    struct eng_node *s = &e->nodes[a->node];
    for (struct eng_alarm **pp = &s->active; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    a->next = NULL;
    if (--s->nactive)
        return;
    flip(e, a->node, now_ms);
    if (s->flapping) {
        engine_x_mut(e, a->node)->held_until = now_ms + e->p.flap_window_ms;
        e->held[e->nheld++] = a->node;
    } else {
        failed_del(e, a->node);
    }
}

bool engine_release_held(struct corr_engine *e, int64_t now_ms)
{
    bool changed = false;
    for (size_t i = 0; i < e->nheld;) {
        uint32_t n = e->held[i];
        struct eng_node *s = &e->nodes[n];
        if (engine_x(s)->held_until > now_ms) {
            i++;
            continue;
        }
        s->x->held_until = 0;
        s->flapping = false; /* up for a whole window */
        e->held[i] = e->held[--e->nheld];
        failed_del(e, n);
        changed = true;
    }
    for (size_t i = 0; i < e->nunknown;) {
        struct eng_node *s = &e->nodes[e->unknown[i]];
        if (!s->nunknown && now_ms >= engine_x(s)->known_ms + e->p.settle_ms) {
            engine_x_mut(e, e->unknown[i])->known_ms = 0;
            e->unknown[i] = e->unknown[--e->nunknown];
            changed = true;
        } else {
            int64_t end = engine_x(s)->unknown_ms + e->p.window_ms;
            changed |= s->nunknown && now_ms >= end && e->now_ms < end; /* window ran out */
            i++;
        }
    }
    while (e->cleared_head && e->cleared_head->cleared_ms + e->p.prune_ms <= now_ms) {
        struct eng_alarm *a = e->cleared_head;
        e->cleared_head = a->next;
        if (!e->cleared_head)
            e->cleared_tail = NULL;
        strmap_remove(e->alarms, a->id); /* before its id, the map's key, is freed */
        free(a->id);
        free(a);
        e->st.pruned++;
    }
    return changed;
}

/* The freeze of an unknown subtree ends a correlation window after it began, or a settle
 * period after the device answers again (its first answer re-evaluates the stale alarms). */
static int64_t unknown_end(const struct corr_engine *e, const struct eng_node *s)
{
    return s->nunknown ? engine_x(s)->unknown_ms + e->p.window_ms
                       : engine_x(s)->known_ms + e->p.settle_ms;
}

int64_t engine_node_deadline(const struct corr_engine *e)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < e->nheld; i++) {
        int64_t h = engine_x(&e->nodes[e->held[i]])->held_until;
        if (h > e->now_ms && h < t)
            t = h;
    }
    for (size_t i = 0; i < e->nunknown; i++) {
        int64_t d = unknown_end(e, &e->nodes[e->unknown[i]]);
        if (d > e->now_ms && d < t)
            t = d;
    }
    return t;
}

bool engine_in_unknown(const struct corr_engine *e, uint32_t n, int64_t now_ms)
{
    if (!e->nunknown)
        return false;
    /* a node's own alarms (its ICMP, its link) are not what its silent agent makes stale; an
     * inferred or ONU failure below an unknown device is */
    uint32_t x = e->nodes[n].nactive ? topology_node(e->topo, n)->idom : n;
    if (e->nodes[n].nactive && topology_node(e->topo, n)->kind == TOPOLOGY_ONU)
        x = n;
    for (; x != TOPOLOGY_NONE; x = topology_node(e->topo, x)->idom) {
        const struct eng_node *s = &e->nodes[x];
        if ((s->nunknown || engine_x(s)->known_ms) && now_ms < unknown_end(e, s))
            return true;
    }
    return false;
}

static void count_unbound(struct corr_engine *e, const char *device, const char *object)
{
    uint64_t *c = strmap_get(e->unbound, device);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        strmap_put(e->unbound, device, c);
        log_warn("correlator",
                 "alarm for %s object '%s' matches no topology binding (further ones for this "
                 "device are only counted)",
                 device, object ? object : "");
    }
    (*c)++;
    e->st.unbound++;
}

enum corr_change corr_engine_check(const struct corr_engine *e, const struct alarm *al)
{
    const struct eng_alarm *a = strmap_get(e->alarms, al->id);
    if (a) /* an id is one occurrence: a raise after its clear is a late duplicate */
        return al->action == ALARM_CLEAR && a->active ? CORR_CLEAR : CORR_NOOP;
    if (al->action == ALARM_CLEAR)
        return CORR_NOOP; /* a clear for a raise we never saw: nothing to undo */
    /* unbound too: a topology imported later binds it */
    return down_kind(al->kind) || !strcmp(al->kind, unknown_kind) ? CORR_RAISE : CORR_NOOP;
}

static bool listed_unknown(const struct eng_node *s)
{
    return s->nunknown || engine_x(s)->known_ms;
}

static void mark_unknown(struct corr_engine *e, struct eng_alarm *a, bool on, int64_t now_ms)
{
    struct eng_node *s = &e->nodes[a->node];
    if (!listed_unknown(s))
        e->unknown[e->nunknown++] = a->node;
    if (on && s->nunknown++ == 0) {
        engine_x_mut(e, a->node)->unknown_ms = now_ms;
        s->x->known_ms = 0;
    } else if (!on && --s->nunknown == 0) {
        /* listed until its settle ends (engine_release_held) */
        engine_x_mut(e, a->node)->known_ms = now_ms;
    }
}

static void clear_one(struct corr_engine *e, struct eng_alarm *a, int64_t now_ms)
{
    a->active = false;
    if (a->unknown)
        mark_unknown(e, a, false, now_ms);
    else
        node_clear(e, a, now_ms);
    a->cleared_ms = now_ms;
    a->next = NULL;
    if (e->cleared_tail)
        e->cleared_tail->next = a;
    else
        e->cleared_head = a;
    e->cleared_tail = a;
}

bool corr_engine_apply(struct corr_engine *e, const struct alarm *al, int64_t now_ms)
{
    e->st.alarms++;
    struct eng_alarm *a = strmap_get(e->alarms, al->id);
    if (a) {
        if (al->action == ALARM_RAISE || !a->active) {
            e->st.duplicates++;
            return false;
        }
        clear_one(e, a, now_ms);
        return e->dirty = true;
    }
    uint32_t n = topology_bind_lookup(e->topo, al->device, al->object);
    if (n == TOPOLOGY_NONE) {
        count_unbound(e, al->device, al->object);
        return false;
    }
    bool unknown = !strcmp(al->kind, unknown_kind);
    const char *kind = unknown ? unknown_kind : down_kind(al->kind);
    if (!kind) {
        e->st.ignored++;
        return false;
    }
    if (al->action == ALARM_CLEAR) {
        e->st.duplicates++; /* a clear for a raise we never saw: nothing to undo */
        return false;
    }
    a = xcalloc(1, sizeof *a);
    *a = (struct eng_alarm){.id = xstrdup(al->id),
                            .kind = kind,
                            .node = n,
                            .observed_ms = al->observed_ms,
                            .active = true,
                            .unknown = unknown};
    strmap_put(e->alarms, a->id, a); /* borrowed key: the alarm's own id */
    if (unknown)
        mark_unknown(e, a, true, now_ms);
    else
        node_raise(e, a, now_ms);
    return e->dirty = true;
}
