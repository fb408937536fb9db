/* strmap: a hash map from strings to pointers (open addressing, linear probing, backward-shift
 * deletion, so lookups stay short without tombstones). The map copies and owns its keys, unless
 * made with strmap_new_borrowed(), where keys stay the caller's (no copy per entry, for maps
 * whose keys already live in the values or in an arena). Values are the caller's, handed back
 * by strmap_remove() and passed to free_value by strmap_free(). */
#ifndef FAROL_STRMAP_H
#define FAROL_STRMAP_H

#include <stddef.h>

struct strmap;

/* An empty map. */
struct strmap *strmap_new(void);
/* An empty map that keeps the key pointers it is given instead of copies: each key must stay
 * valid and unchanged while it is in the map (remove it before freeing it). */
struct strmap *strmap_new_borrowed(void);
/* Free the map and its keys; free_value (may be NULL) is called on every value. */
void strmap_free(struct strmap *m, void (*free_value)(void *));
/* The value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Store value under key; returns the value it replaces, or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Remove key; returns its value, or NULL when absent. */
void *strmap_remove(struct strmap *m, const char *key);
/* Number of entries. */
size_t strmap_count(const struct strmap *m);
/* Iterate: start with *cursor = 0; returns 0 at the end. Do not modify the map meanwhile. */
int strmap_next(const struct strmap *m, size_t *cursor, const char **key, void **value);

#endif
