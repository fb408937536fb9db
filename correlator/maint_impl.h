/* maint_impl: what the maintenance window set's files (maint.c, maint_request.c) share.
 * Private to correlator/maint*.c; the public contract is correlator/maint.h. */
#ifndef FAROL_MAINT_IMPL_H
#define FAROL_MAINT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlator/maint.h"

#define MAINT_ID_MAX 128

struct maint_win {
    struct maintenance w; /* phase: lifecycle state (never overrun); seq: last published */
    bool recurring;
    struct maint_recur rec;
    uint32_t *idx; /* the nodes in the current topology (unknown ones skipped) */
    size_t nidx;
    uint32_t *covered; /* while started: node indexes in scope, ascending */
    size_t ncovered;
    uint64_t digest;            /* of the affected set last published */
    bool prestarted;            /* this occurrence's prestart recompute is done */
    bool ran, overrun_sent;     /* an occurrence has started; its overrun went out */
    int64_t occ_start, occ_end; /* that occurrence, as it ran */
    int64_t retain_until;       /* ended/cancelled: dropped at this time */
};

struct maint_set {
    struct topology *topo;
    int64_t prestart_ms;
    struct maint_sink sink;
    struct maint_win **v; /* sorted by id */
    size_t n, cap;
};

/* Affected subscribers: indexes sorted by id, and the digest of those ids. */
struct maint_affected {
    uint32_t *subs;
    size_t n;
    uint64_t digest;
};

static inline bool maint_pending(const struct maint_win *w)
{
    return w->w.phase == MAINT_SCHEDULED || w->w.phase == MAINT_UPDATED;
}

static inline bool maint_live(const struct maint_win *w)
{
    return maint_pending(w) || w->w.phase == MAINT_STARTED;
}

/* The window with this id (and its index), or NULL with *pos where it would go. */
struct maint_win *maint_win_find(const struct maint_set *m, const char *id, size_t *pos);
/* Insert w (set-owned from now on) at pos, keeping the array sorted. */
void maint_win_insert(struct maint_set *m, size_t pos, struct maint_win *w);
/* Free a window's definition (nodes, texts, indexes, scope), keeping id, seq and timers. */
void maint_win_clear_def(struct maint_win *w);
/* Resolve ids in t into *idx (caller frees); returns how many were unknown, the first ten
 * listed into unknown ("'a', 'b'"), which may be NULL. */
size_t maint_resolve(const struct topology *t, const struct id_list *ids, uint32_t **idx,
                     size_t *nidx, char *unknown, size_t usz);
/* The window's cut: affected subscribers into a (caller frees a->subs), and the scope into the
 * window when keep_covered (replacing the previous one). */
void maint_compute(struct maint_set *m, struct maint_win *w, bool keep_covered,
                   struct maint_affected *a);
/* Publish one event of window w (seq advanced); with a, its subscribers, chunked. */
void maint_emit(struct maint_set *m, struct maint_win *w, enum maint_phase phase, int64_t now_ms,
                int64_t start, int64_t end, const struct maint_affected *a);
/* Publish the whole affected set a with w's times, and remember it as published. */
void maint_publish_set(struct maint_set *m, struct maint_win *w, enum maint_phase phase,
                       int64_t now_ms, const struct maint_affected *a);
/* True once now_ms is within the prestart lead of w's start. */
bool maint_in_prestart(const struct maint_set *m, const struct maint_win *w, int64_t now_ms);

#endif
