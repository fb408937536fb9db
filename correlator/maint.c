/* maint: the maintenance window set (docs/maintenance.md). Windows live in one array sorted by
 * id, so ticks, scope lookups and listings are deterministic. A window's scope is the cut of
 * its nodes (redundancy-aware), kept as a sorted node array only while it runs: the per-alarm
 * lookup is then a binary search per running window. The affected set last published is
 * remembered as a digest, so recomputing it (prestart, start) publishes only real changes. */
#include "correlator/maint_impl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_sub(const void *a, const void *b, void *topo)
{
    return strcmp(topology_sub(topo, *(const uint32_t *)a)->id,
                  topology_sub(topo, *(const uint32_t *)b)->id);
}

int maint_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > MAINT_ID_MAX)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* ---- the window array ---- */

struct maint_win *maint_win_find(const struct maint_set *m, const char *id, size_t *pos)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->v[mid]->w.id, id);
        if (c == 0)
            return *pos = mid, m->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return NULL;
}

void maint_win_insert(struct maint_set *m, size_t pos, struct maint_win *w)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->v = xrealloc(m->v, m->cap * sizeof *m->v);
    }
    memmove(&m->v[pos + 1], &m->v[pos], (m->n - pos) * sizeof *m->v);
    m->v[pos] = w;
    m->n++;
}

void maint_win_clear_def(struct maint_win *w)
{
    id_list_deinit(&w->w.nodes);
    free(w->w.description), w->w.description = NULL;
    free(w->w.recurrence), w->w.recurrence = NULL;
    free(w->idx), w->idx = NULL, w->nidx = 0;
    free(w->covered), w->covered = NULL, w->ncovered = 0;
}

static void win_free(struct maint_win *w)
{
    if (!w)
        return;
    maint_win_clear_def(w);
    free(w->w.id);
    free(w);
}

/* ---- topology work ---- */

size_t maint_resolve(const struct topology *t, const struct id_list *ids, uint32_t **idx,
                     size_t *nidx, char *unknown, size_t usz)
{
    size_t bad = 0, used = 0;
    *idx = xmalloc((ids->n ? ids->n : 1) * sizeof **idx);
    *nidx = 0;
    for (size_t i = 0; i < ids->n; i++) {
        uint32_t x = t ? topology_find_node(t, ids->ids[i]) : TOPOLOGY_NONE;
        if (x != TOPOLOGY_NONE) {
            (*idx)[(*nidx)++] = x;
        } else if (bad++ < 10 && unknown && used < usz) {
            int k =
                snprintf(unknown + used, usz - used, "%s'%s'", bad > 1 ? ", " : "", ids->ids[i]);
            used += k > 0 ? (size_t)k : 0;
        }
    }
    return bad;
}

void maint_compute(struct maint_set *m, struct maint_win *w, bool keep_covered,
                   struct maint_affected *a)
{
    memset(a, 0, sizeof *a);
    a->digest = FNV_OFFSET;
    if (keep_covered)
        free(w->covered), w->covered = NULL, w->ncovered = 0;
    if (!m->topo || !w->nidx)
        return;
    struct topology_cut cut;
    topology_cut(m->topo, w->idx, w->nidx, &cut);
    a->subs = xmalloc((cut.nsubs ? cut.nsubs : 1) * sizeof *a->subs);
    for (size_t i = 0; i < cut.nnodes; i++) {
        const struct topology_node *n = topology_node(m->topo, cut.nodes[i]);
        for (uint32_t j = 0; j < n->nsubs; j++)
            a->subs[a->n++] = n->subs[j];
    }
    if (a->n)
        qsort_r(a->subs, a->n, sizeof *a->subs, cmp_sub, m->topo);
    for (size_t i = 0; i < a->n; i++)
        for (const char *p = topology_sub(m->topo, a->subs[i])->id;; p++) {
            a->digest = (a->digest ^ (unsigned char)*p) * FNV_PRIME;
            if (!*p)
                break;
        }
    if (keep_covered) {
        if (cut.nnodes)
            qsort(cut.nodes, cut.nnodes, sizeof *cut.nodes, cmp_u32);
        w->covered = cut.nodes, w->ncovered = cut.nnodes;
        cut.nodes = NULL;
    }
    topology_cut_deinit(&cut);
}

/* ---- events ---- */

/* Every chunk repeats the other fields with seq increasing (docs/events.md). */
void maint_emit(struct maint_set *m, struct maint_win *w, enum maint_phase phase, int64_t now_ms,
                int64_t start, int64_t end, const struct maint_affected *a)
{
    size_t n = a ? a->n : 0, chunks = n ? (n + EVENT_MAX_IDS - 1) / EVENT_MAX_IDS : 1;
    for (size_t c = 0; c < chunks; c++) {
        struct event ev;
        event_init(&ev, EVENT_MAINTENANCE);
        ev.ts_ms = now_ms;
        struct maintenance *o = &ev.u.maintenance;
        o->id = xstrdup(w->w.id);
        o->seq = ++w->w.seq;
        o->phase = phase;
        for (size_t i = 0; i < w->w.nodes.n; i++)
            id_list_add(&o->nodes, w->w.nodes.ids[i]);
        o->start_ms = start, o->end_ms = end;
        o->description = xstrdup(w->w.description);
        o->recurrence = xstrdup(w->w.recurrence);
        o->affected_subscribers = w->w.affected_subscribers;
        for (size_t i = c * EVENT_MAX_IDS; i < n && i < (c + 1) * EVENT_MAX_IDS; i++)
            if (a)
                id_list_add(&o->subscribers, topology_sub(m->topo, a->subs[i])->id);
        if (m->sink.emit)
            m->sink.emit(m->sink.arg, &ev);
        event_deinit(&ev);
    }
    log_info("maint", "window %s %s: %u subscribers affected", w->w.id, maint_phase_name(phase),
             w->w.affected_subscribers);
}

void maint_publish_set(struct maint_set *m, struct maint_win *w, enum maint_phase phase,
                       int64_t now_ms, const struct maint_affected *a)
{
    w->w.affected_subscribers = (uint32_t)a->n;
    w->digest = a->digest;
    maint_emit(m, w, phase, now_ms, w->w.start_ms, w->w.end_ms, a);
}

static bool changed(const struct maint_win *w, const struct maint_affected *a)
{
    return a->digest != w->digest || a->n != w->w.affected_subscribers;
}

/* ---- set ---- */

struct maint_set *maint_new(struct topology *topo, int64_t prestart_ms,
                            const struct maint_sink *sink)
{
    struct maint_set *m = xcalloc(1, sizeof *m);
    m->topo = topo;
    m->prestart_ms = prestart_ms < 0 ? MAINT_PRESTART_DEFAULT_MS : prestart_ms;
    if (sink)
        m->sink = *sink;
    return m;
}

void maint_free(struct maint_set *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        win_free(m->v[i]);
    free(m->v);
    free(m);
}

size_t maint_count(const struct maint_set *m)
{
    return m->n;
}

const struct maintenance *maint_get(const struct maint_set *m, size_t i)
{
    return i < m->n ? &m->v[i]->w : NULL;
}

bool maint_in_prestart(const struct maint_set *m, const struct maint_win *w, int64_t now_ms)
{
    return now_ms >= w->w.start_ms - m->prestart_ms;
}

/* ---- the clock ---- */

static void prestart(struct maint_set *m, struct maint_win *w, int64_t now_ms)
{
    struct maint_affected a;
    maint_compute(m, w, false, &a);
    w->prestarted = true;
    if (changed(w, &a))
        maint_publish_set(m, w, MAINT_UPDATED, now_ms, &a);
    free(a.subs);
}

static void start_occurrence(struct maint_set *m, struct maint_win *w, int64_t now_ms)
{
    struct maint_affected a;
    maint_compute(m, w, true, &a);
    if (changed(w, &a)) /* subscribers must know the set before the window runs */
        maint_publish_set(m, w, MAINT_UPDATED, now_ms, &a);
    free(a.subs);
    w->w.phase = MAINT_STARTED;
    w->ran = true, w->overrun_sent = false;
    w->occ_start = w->w.start_ms, w->occ_end = w->w.end_ms;
    maint_emit(m, w, MAINT_STARTED, now_ms, w->w.start_ms, w->w.end_ms, NULL);
}

/* Move a recurring window to its next occurrence that has not ended by now_ms (occurrences
 * missed while farol was down are skipped). False when the rule is exhausted. */
static bool advance(struct maint_win *w, int64_t now_ms)
{
    int64_t step = maint_recur_step_ms(&w->rec);
    do {
        if (w->rec.count == 1)
            return false;
        if (w->rec.count)
            w->rec.count--;
        w->w.start_ms += step, w->w.end_ms += step;
    } while (w->w.end_ms <= now_ms);
    char rule[128];
    maint_recur_format(&w->rec, rule, sizeof rule);
    free(w->w.recurrence);
    w->w.recurrence = xstrdup(rule);
    return true;
}

static void end_occurrence(struct maint_set *m, struct maint_win *w, int64_t now_ms)
{
    free(w->covered), w->covered = NULL, w->ncovered = 0;
    w->occ_end = w->w.end_ms;
    maint_emit(m, w, MAINT_ENDED, now_ms, w->w.start_ms, w->w.end_ms, NULL);
    if (w->recurring && advance(w, now_ms)) {
        struct maint_affected a;
        maint_compute(m, w, false, &a);
        w->w.phase = MAINT_SCHEDULED;
        w->prestarted = maint_in_prestart(m, w, now_ms);
        maint_publish_set(m, w, MAINT_SCHEDULED, now_ms, &a);
        free(a.subs);
    } else {
        w->w.phase = MAINT_ENDED;
        w->retain_until = w->w.end_ms + MAINT_RETAIN_MS;
    }
}

/* One lifecycle step due at now_ms; true when the window changed state (try again). */
static bool step(struct maint_set *m, struct maint_win *w, int64_t now_ms)
{
    if (maint_pending(w)) {
        if (now_ms >= w->w.start_ms) {
            start_occurrence(m, w, now_ms);
            return true;
        }
        if (!w->prestarted && maint_in_prestart(m, w, now_ms))
            prestart(m, w, now_ms);
        return false;
    }
    if (w->w.phase == MAINT_STARTED && now_ms >= w->w.end_ms) {
        end_occurrence(m, w, now_ms);
        return true;
    }
    return false;
}

void maint_tick(struct maint_set *m, int64_t now_ms)
{
    for (size_t i = 0; i < m->n;) {
        struct maint_win *w = m->v[i];
        if (!maint_live(w) && now_ms >= w->retain_until) {
            win_free(w);
            memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
            m->n--;
            continue;
        }
        while (step(m, w, now_ms))
            ;
        i++;
    }
}

int64_t maint_next_deadline(const struct maint_set *m)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < m->n; i++) {
        const struct maint_win *w = m->v[i];
        int64_t t = w->w.phase == MAINT_STARTED ? w->w.end_ms
                    : !maint_live(w)            ? w->retain_until
                    : w->prestarted             ? w->w.start_ms
                                                : w->w.start_ms - m->prestart_ms;
        if (t < next)
            next = t;
    }
    return next;
}

const char *maint_scope(const struct maint_set *m, uint32_t node, int64_t now_ms)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct maint_win *w = m->v[i];
        if (w->w.phase == MAINT_STARTED && now_ms >= w->w.start_ms && now_ms < w->w.end_ms &&
            w->ncovered && bsearch(&node, w->covered, w->ncovered, sizeof node, cmp_u32))
            return w->w.id;
    }
    return NULL;
}

void maint_overrun(struct maint_set *m, const char *id, int64_t now_ms)
{
    size_t pos;
    struct maint_win *w = id ? maint_win_find(m, id, &pos) : NULL;
    if (!w || !w->ran || w->overrun_sent || w->w.phase == MAINT_STARTED)
        return;
    w->overrun_sent = true;
    maint_emit(m, w, MAINT_OVERRUN, now_ms, w->occ_start, w->occ_end, NULL);
}

void maint_set_topology(struct maint_set *m, struct topology *topo)
{
    m->topo = topo;
    for (size_t i = 0; i < m->n; i++) {
        struct maint_win *w = m->v[i];
        free(w->idx);
        size_t bad = maint_resolve(topo, &w->w.nodes, &w->idx, &w->nidx, NULL, 0);
        if (bad && maint_live(w))
            log_warn("maint", "window %s: %zu of its nodes are not in the new topology", w->w.id,
                     bad);
        if (w->w.phase == MAINT_STARTED) {
            struct maint_affected a;
            maint_compute(m, w, true, &a);
            free(a.subs);
        }
    }
}

/* ---- persistence ---- */

static int restore_check(const struct maintenance *r, struct maint_recur *rec)
{
    char err[256];
    if (!maint_id_valid(r->id) || r->end_ms <= r->start_ms || (unsigned)r->phase > MAINT_OVERRUN)
        return -EINVAL;
    if (r->recurrence &&
        maint_recur_parse(r->recurrence, r->start_ms, r->end_ms, rec, err, sizeof err) < 0) {
        log_warn("maint", "window %s: %s", r->id, err);
        return -EINVAL;
    }
    return 0;
}

int maint_restore(struct maint_set *m, const struct maintenance *r, int64_t now_ms)
{
    struct maint_recur rec = {0};
    size_t pos;
    if (restore_check(r, &rec) < 0) {
        log_warn("maint", "window %s: invalid record not restored", r->id ? r->id : "?");
        return -EINVAL;
    }
    if (maint_win_find(m, r->id, &pos))
        return -EEXIST;
    struct maint_win *w = xcalloc(1, sizeof *w);
    w->w.id = xstrdup(r->id);
    w->w.seq = r->seq;
    w->w.phase = r->phase == MAINT_OVERRUN ? MAINT_ENDED : r->phase;
    for (size_t i = 0; i < r->nodes.n; i++)
        id_list_add(&w->w.nodes, r->nodes.ids[i]);
    w->w.start_ms = r->start_ms, w->w.end_ms = r->end_ms;
    w->w.description = xstrdup(r->description);
    w->w.recurrence = r->recurrence ? xstrdup(r->recurrence) : NULL;
    w->recurring = r->recurrence != NULL, w->rec = rec;
    maint_resolve(m->topo, &w->w.nodes, &w->idx, &w->nidx, NULL, 0);
    bool started = w->w.phase == MAINT_STARTED;
    struct maint_affected a; /* what the previous process published, as far as we can tell */
    maint_compute(m, w, started, &a);
    free(a.subs);
    w->digest = a.digest;
    w->w.affected_subscribers = r->affected_subscribers;
    w->prestarted = maint_in_prestart(m, w, now_ms);
    w->ran = started || w->w.phase == MAINT_ENDED;
    w->occ_start = w->w.start_ms, w->occ_end = w->w.end_ms;
    w->retain_until = w->w.end_ms + MAINT_RETAIN_MS;
    maint_win_insert(m, pos, w);
    return 0;
}
