/* icmp_sched: an indexed binary min-heap (pos[id] finds an entry for updates). */
#include "collector/icmp_sched.h"

#include <errno.h>
#include <stdlib.h>

#include "core/xmalloc.h"

enum { NOT_QUEUED = UINT32_MAX };

struct entry {
    uint64_t due;
    uint32_t id;
};

struct icmp_sched {
    struct entry *heap;
    size_t n, cap;
    uint32_t *pos; /* heap index per id, NOT_QUEUED when absent */
    size_t npos;
};

struct icmp_sched *icmp_sched_new(void)
{
    return xcalloc(1, sizeof(struct icmp_sched));
}

void icmp_sched_free(struct icmp_sched *s)
{
    if (!s)
        return;
    free(s->heap);
    free(s->pos);
    free(s);
}

static void place(struct icmp_sched *s, size_t i, struct entry e)
{
    s->heap[i] = e;
    s->pos[e.id] = (uint32_t)i;
}

static void sift_up(struct icmp_sched *s, size_t i)
{
    struct entry e = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (s->heap[parent].due <= e.due)
            break;
        place(s, i, s->heap[parent]);
        i = parent;
    }
    place(s, i, e);
}

static void sift_down(struct icmp_sched *s, size_t i)
{
    struct entry e = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n)
            break;
        if (c + 1 < s->n && s->heap[c + 1].due < s->heap[c].due)
            c++;
        if (e.due <= s->heap[c].due)
            break;
        place(s, i, s->heap[c]);
        i = c;
    }
    place(s, i, e);
}

static void ensure_id(struct icmp_sched *s, uint32_t id)
{
    if (id < s->npos)
        return;
    size_t n = s->npos ? s->npos : 64;
    while (n <= id)
        n *= 2;
    s->pos = xrealloc(s->pos, n * sizeof *s->pos);
    for (size_t i = s->npos; i < n; i++)
        s->pos[i] = NOT_QUEUED;
    s->npos = n;
}

void icmp_sched_set(struct icmp_sched *s, uint32_t id, uint64_t due)
{
    ensure_id(s, id);
    size_t i = s->pos[id];
    if (i == NOT_QUEUED) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->heap = xrealloc(s->heap, s->cap * sizeof *s->heap);
        }
        i = s->n++;
    } else if (due > s->heap[i].due) {
        s->heap[i].due = due;
        sift_down(s, i);
        return;
    }
    s->heap[i] = (struct entry){due, id};
    sift_up(s, i);
}

void icmp_sched_del(struct icmp_sched *s, uint32_t id)
{
    if (id >= s->npos || s->pos[id] == NOT_QUEUED)
        return;
    size_t i = s->pos[id];
    s->pos[id] = NOT_QUEUED;
    struct entry last = s->heap[--s->n];
    if (i == s->n)
        return;
    place(s, i, last);
    if (i > 0 && s->heap[(i - 1) / 2].due > last.due)
        sift_up(s, i);
    else
        sift_down(s, i);
}

int icmp_sched_peek(const struct icmp_sched *s, uint32_t *id, uint64_t *due)
{
    if (!s->n)
        return -ENOENT;
    *id = s->heap[0].id;
    *due = s->heap[0].due;
    return 0;
}

size_t icmp_sched_count(const struct icmp_sched *s)
{
    return s->n;
}

uint64_t icmp_sched_phase(uint32_t id, uint64_t interval)
{
    /* 2^64 / golden ratio: the fractional part of id * phi, in 64-bit fixed point. */
    uint64_t frac = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (uint64_t)(((unsigned __int128)frac * interval) >> 64);
}
