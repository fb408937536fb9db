#include "core/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct slot {
    const char *key; /* NULL = empty */
    uint64_t hash;
    void *value;
};

struct strmap {
    struct slot *slots;
    size_t cap; /* power of two */
    size_t count;
    int borrowed; /* keys are the caller's: neither copied nor freed */
};

static uint64_t hash_str(const char *s)
{
    /* FNV-1a, 64-bit: fast on short keys such as device and object names. */
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = xcalloc(1, sizeof *m);
    m->cap = 16;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    return m;
}

struct strmap *strmap_new_borrowed(void)
{
    struct strmap *m = strmap_new();
    m->borrowed = 1;
    return m;
}

static void drop_key(const struct strmap *m, const char *key)
{
    if (!m->borrowed)
        free((char *)key);
}

void strmap_free(struct strmap *m, void (*free_value)(void *))
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        drop_key(m, m->slots[i].key);
        if (free_value)
            free_value(m->slots[i].value);
    }
    free(m->slots);
    free(m);
}

static size_t find(const struct strmap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->slots[i].key && (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
        i = (i + 1) & mask;
    return i;
}

static void grow(struct strmap *m)
{
    struct slot *old = m->slots;
    size_t old_cap = m->cap;
    m->cap *= 2;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key)
            continue;
        size_t j = (size_t)old[i].hash & (m->cap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct slot *s = &m->slots[find(m, key, hash_str(key))];
    return s->key ? s->value : NULL;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    if ((m->count + 1) * 4 > m->cap * 3) /* keep the load under 3/4 */
        grow(m);
    uint64_t h = hash_str(key);
    struct slot *s = &m->slots[find(m, key, h)];
    if (s->key) {
        void *old = s->value;
        s->value = value;
        return old;
    }
    *s = (struct slot){.key = m->borrowed ? key : xstrdup(key), .hash = h, .value = value};
    m->count++;
    return NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = find(m, key, hash_str(key));
    if (!m->slots[i].key)
        return NULL;
    void *value = m->slots[i].value;
    drop_key(m, m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;
    /* Backward shift: move later members of the probe run into the hole when their home
     * slot allows it, so no lookup ever stops early at the hole. */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = (size_t)m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j].key = NULL;
            i = j;
        }
    }
    return value;
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}

int strmap_next(const struct strmap *m, size_t *cursor, const char **key, void **value)
{
    for (; *cursor < m->cap; (*cursor)++) {
        if (m->slots[*cursor].key) {
            *key = m->slots[*cursor].key;
            *value = m->slots[*cursor].value;
            (*cursor)++;
            return 1;
        }
    }
    return 0;
}
