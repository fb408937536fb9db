/* icmp_table: linear probing with backward-shift deletion (no tombstones, so a long-running
 * prober that inserts and deletes millions of tokens never degrades). Load stays <= 1/2. */
#include "collector/icmp_table.h"

#include <errno.h>
#include <stdlib.h>

#include "core/xmalloc.h"

struct slot {
    uint32_t token; /* 0 = empty */
    uint32_t value;
};

struct icmp_table {
    struct slot *slots;
    size_t mask;
    size_t count;
};

static size_t slot_of(const struct icmp_table *t, uint32_t token)
{
    /* Tokens are sequential: multiplicative hashing scatters neighbours. */
    return (size_t)((token * 2654435761u) ^ (token >> 16)) & t->mask;
}

static void alloc_slots(struct icmp_table *t, size_t n)
{
    t->slots = xcalloc(n, sizeof *t->slots);
    t->mask = n - 1;
    t->count = 0;
}

struct icmp_table *icmp_table_new(size_t hint)
{
    struct icmp_table *t = xcalloc(1, sizeof *t);
    size_t n = 16;
    while (n < hint * 2)
        n <<= 1;
    alloc_slots(t, n);
    return t;
}

void icmp_table_free(struct icmp_table *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

static void grow(struct icmp_table *t)
{
    struct slot *old = t->slots;
    size_t n = t->mask + 1;
    alloc_slots(t, n * 2);
    for (size_t i = 0; i < n; i++)
        if (old[i].token)
            icmp_table_put(t, old[i].token, old[i].value);
    free(old);
}

int icmp_table_put(struct icmp_table *t, uint32_t token, uint32_t value)
{
    if (!token)
        return -EINVAL;
    if ((t->count + 1) * 2 > t->mask + 1)
        grow(t);
    for (size_t i = slot_of(t, token);; i = (i + 1) & t->mask) {
        if (t->slots[i].token == token)
            return -EEXIST;
        if (!t->slots[i].token) {
            t->slots[i] = (struct slot){token, value};
            t->count++;
            return 0;
        }
    }
}

static long find(const struct icmp_table *t, uint32_t token)
{
    if (!token)
        return -1;
    for (size_t i = slot_of(t, token);; i = (i + 1) & t->mask) {
        if (t->slots[i].token == token)
            return (long)i;
        if (!t->slots[i].token)
            return -1;
    }
}

int icmp_table_get(const struct icmp_table *t, uint32_t token, uint32_t *value)
{
    long i = find(t, token);
    if (i < 0)
        return -ENOENT;
    *value = t->slots[i].value;
    return 0;
}

int icmp_table_del(struct icmp_table *t, uint32_t token)
{
    long found = find(t, token);
    if (found < 0)
        return -ENOENT;
    size_t hole = (size_t)found;
    /* Pull later members of the cluster back into the hole when their home allows it. */
    for (size_t j = (hole + 1) & t->mask; t->slots[j].token; j = (j + 1) & t->mask) {
        size_t home = slot_of(t, t->slots[j].token);
        if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].token = 0;
    t->count--;
    return 0;
}

size_t icmp_table_count(const struct icmp_table *t)
{
    return t->count;
}
