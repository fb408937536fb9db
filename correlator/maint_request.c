/* maint_request: a planner's requests (create, change, cancel) checked against the topology and
 * the rules of docs/maintenance.md, then applied to the window set with their events. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/xmalloc.h"
#include "correlator/maint_impl.h"

/* A validated request, before it becomes (or changes) a window. */
struct spec {
    struct id_list nodes; /* sorted, unique */
    uint32_t *idx;
    size_t nidx;
    int64_t start, end;
    const char *description;
    bool recurring;
    struct maint_recur rec;
    char recurrence[128];
};

static int fail(char *err, size_t errsz, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errsz)
        vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return rc;
}

static bool streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void spec_deinit(struct spec *s)
{
    id_list_deinit(&s->nodes);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

static int spec_nodes(struct maint_set *m, const struct id_list *nodes, struct spec *s, char *err,
                      size_t errsz)
{
    char **sorted = xmalloc(nodes->n * sizeof *sorted);
    memcpy(sorted, nodes->ids, nodes->n * sizeof *sorted);
    qsort(sorted, nodes->n, sizeof *sorted, cmp_str);
    for (size_t i = 0; i < nodes->n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]))
            id_list_add(&s->nodes, sorted[i]);
    free(sorted);
    char unknown[512] = "";
    size_t bad = maint_resolve(m->topo, &s->nodes, &s->idx, &s->nidx, unknown, sizeof unknown);
    if (bad)
        return fail(err, errsz, -EINVAL, "unknown node%s: %s%s", bad > 1 ? "s" : "", unknown,
                    bad > 10 ? ", ..." : "");
    return 0;
}

/* Check a window definition against the topology and the rules (not against now). */
static int spec_build(struct maint_set *m, const struct maintenance *r, struct spec *s, char *err,
                      size_t errsz)
{
    memset(s, 0, sizeof *s);
    if (!m->topo)
        return fail(err, errsz, -EINVAL,
                    "no topology loaded: the window's nodes cannot be "
                    "resolved");
    if (!r->nodes.n)
        return fail(err, errsz, -EINVAL, "nodes: at least one node is required");
    if (r->nodes.n > EVENT_MAX_IDS)
        return fail(err, errsz, -EINVAL, "nodes: at most %d per window", EVENT_MAX_IDS);
    if (r->end_ms <= r->start_ms)
        return fail(err, errsz, -EINVAL, "ends_at must be after starts_at");
    if (r->description && strlen(r->description) > EVENT_MAX_TEXT)
        return fail(err, errsz, -EINVAL, "description: longer than %d bytes", EVENT_MAX_TEXT);
    s->start = r->start_ms, s->end = r->end_ms, s->description = r->description;
    if (r->recurrence && *r->recurrence && strcasecmp(r->recurrence, "none")) {
        if (maint_recur_parse(r->recurrence, r->start_ms, r->end_ms, &s->rec, err, errsz) < 0)
            return -EINVAL;
        s->recurring = true;
        maint_recur_format(&s->rec, s->recurrence, sizeof s->recurrence);
    }
    int rc = spec_nodes(m, &r->nodes, s, err, errsz);
    if (rc < 0)
        spec_deinit(s);
    return rc;
}

static bool spec_same(const struct maint_win *w, const struct spec *s)
{
    if (w->w.nodes.n != s->nodes.n || w->w.start_ms != s->start || w->w.end_ms != s->end ||
        !streq(w->w.description, s->description) ||
        !streq(w->w.recurrence, s->recurring ? s->recurrence : NULL))
        return false;
    for (size_t i = 0; i < s->nodes.n; i++)
        if (strcmp(w->w.nodes.ids[i], s->nodes.ids[i]))
            return false;
    return true;
}

/* Move the definition in s into w (s is left empty). */
static void apply_spec(struct maint_win *w, struct spec *s)
{
    maint_win_clear_def(w);
    w->w.nodes = s->nodes, w->idx = s->idx, w->nidx = s->nidx;
    w->w.start_ms = s->start, w->w.end_ms = s->end;
    w->w.description = xstrdup(s->description);
    w->w.recurrence = s->recurring ? xstrdup(s->recurrence) : NULL;
    w->recurring = s->recurring, w->rec = s->rec;
    memset(s, 0, sizeof *s);
}

void maint_window_id(const struct id_list *nodes, int64_t start_ms, char *id, size_t idsz)
{
    char **sorted = xmalloc((nodes->n ? nodes->n : 1) * sizeof *sorted);
    if (nodes->n)
        memcpy(sorted, nodes->ids, nodes->n * sizeof *sorted);
    qsort(sorted, nodes->n, sizeof *sorted, cmp_str);
    uint32_t h = 2166136261u; /* FNV-1a over the unique sorted ids, NUL-separated */
    for (size_t i = 0; i < nodes->n; i++) {
        if (i && !strcmp(sorted[i], sorted[i - 1]))
            continue;
        for (const char *p = sorted[i];; p++) {
            h = (h ^ (unsigned char)*p) * 16777619u;
            if (!*p)
                break;
        }
    }
    free(sorted);
    time_t t = (time_t)(start_ms >= 0 ? start_ms / 1000 : (start_ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y%m%dT%H%MZ", &tm);
    snprintf(id, idsz, "mw-%s-%08x", when, h);
}

static int req_create(struct maint_set *m, const struct maintenance *req, int64_t now_ms, char *err,
                      size_t errsz)
{
    if (req->id && !maint_id_valid(req->id))
        return fail(err, errsz, -EINVAL, "id '%.*s': use 1-%d letters, digits, '.', '_', '-'",
                    MAINT_ID_MAX, req->id, MAINT_ID_MAX);
    struct spec s;
    int rc = spec_build(m, req, &s, err, errsz);
    if (rc < 0)
        return rc;
    if (s.end <= now_ms) {
        spec_deinit(&s);
        return fail(err, errsz, -EINVAL, "the window already ended (ends_at is not in the future)");
    }
    char id[MAINT_ID_MAX + 1];
    if (req->id)
        snprintf(id, sizeof id, "%s", req->id);
    else
        maint_window_id(&s.nodes, s.start, id, sizeof id);
    size_t pos;
    struct maint_win *w = maint_win_find(m, id, &pos);
    if (w && maint_live(w)) { /* a redelivered request is harmless; a different one is a conflict */
        rc = spec_same(w, &s)
                 ? 0
                 : fail(err, errsz, -EEXIST, "window %s exists: update or cancel it instead", id);
        spec_deinit(&s);
        return rc;
    }
    if (!w) { /* a finished window's id may be reused; its seq goes on */
        w = xcalloc(1, sizeof *w);
        w->w.id = xstrdup(id);
        maint_win_insert(m, pos, w);
    }
    apply_spec(w, &s);
    w->w.phase = MAINT_SCHEDULED;
    w->ran = w->overrun_sent = false;
    w->prestarted = maint_in_prestart(m, w, now_ms);
    struct maint_affected a;
    maint_compute(m, w, false, &a);
    maint_publish_set(m, w, MAINT_SCHEDULED, now_ms, &a);
    free(a.subs);
    return 0;
}

static struct maint_win *find_live(struct maint_set *m, const struct maintenance *req, char *err,
                                   size_t errsz, int *rc)
{
    size_t pos;
    struct maint_win *w = req->id ? maint_win_find(m, req->id, &pos) : NULL;
    if (!req->id)
        *rc = fail(err, errsz, -EINVAL, "id: required to change or cancel a window");
    else if (!w || !maint_live(w))
        *rc = fail(err, errsz, -ENOENT, "no scheduled or running window '%.*s'", MAINT_ID_MAX,
                   req->id);
    return *rc < 0 ? NULL : w;
}

static int req_update(struct maint_set *m, const struct maintenance *req, int64_t now_ms, char *err,
                      size_t errsz)
{
    int rc = 0;
    struct maint_win *w = find_live(m, req, err, errsz, &rc);
    if (!w)
        return rc;
    struct maintenance r = *req; /* absent fields keep the window's */
    if (!r.nodes.n)
        r.nodes = w->w.nodes;
    r.start_ms = r.start_ms ? r.start_ms : w->w.start_ms;
    r.end_ms = r.end_ms ? r.end_ms : w->w.end_ms;
    r.description = r.description ? r.description : w->w.description;
    r.recurrence = r.recurrence ? r.recurrence : w->w.recurrence;
    struct spec s;
    if ((rc = spec_build(m, &r, &s, err, errsz)) < 0)
        return rc;
    bool started = w->w.phase == MAINT_STARTED;
    if (started && s.start != w->w.start_ms)
        rc = fail(err, errsz, -EINVAL, "window %s has started: its start cannot change", w->w.id);
    else if (!started && s.end <= now_ms)
        rc = fail(err, errsz, -EINVAL, "the window already ended (ends_at is not in the future)");
    if (rc < 0 || spec_same(w, &s)) {
        spec_deinit(&s);
        return rc;
    }
    apply_spec(w, &s);
    if (!started)
        w->w.phase = MAINT_UPDATED, w->prestarted = maint_in_prestart(m, w, now_ms);
    struct maint_affected a;
    maint_compute(m, w, started, &a);
    maint_publish_set(m, w, MAINT_UPDATED, now_ms, &a);
    free(a.subs);
    return 0;
}

static int req_cancel(struct maint_set *m, const struct maintenance *req, int64_t now_ms, char *err,
                      size_t errsz)
{
    int rc = 0;
    struct maint_win *w = find_live(m, req, err, errsz, &rc);
    if (!w)
        return rc;
    if (w->w.phase == MAINT_STARTED) /* its alarms are no longer planned from now on */
        w->occ_end = now_ms;
    free(w->covered), w->covered = NULL, w->ncovered = 0;
    w->w.phase = MAINT_CANCELLED;
    w->retain_until = now_ms + MAINT_RETAIN_MS;
    maint_emit(m, w, MAINT_CANCELLED, now_ms, w->w.start_ms, w->w.end_ms, NULL);
    return 0;
}

int maint_request(struct maint_set *m, const struct maintenance *req, int64_t now_ms, char *err,
                  size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (req->seq != 0)
        return fail(err, errsz, -EINVAL, "seq %u: not a request (requests have seq 0)", req->seq);
    switch (req->phase) {
    case MAINT_SCHEDULED:
        return req_create(m, req, now_ms, err, errsz);
    case MAINT_UPDATED:
        return req_update(m, req, now_ms, err, errsz);
    case MAINT_CANCELLED:
        return req_cancel(m, req, now_ms, err, errsz);
    default:
        return fail(err, errsz, -EINVAL,
                    "phase %s is not a request (scheduled, updated or cancelled)",
                    maint_phase_name(req->phase));
    }
}
