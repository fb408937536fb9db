/* icmp_table: the outstanding probes, token -> target id, an open-addressing hash table.
 * Size is bounded only by memory (it grows), so there is no cap on probes in flight.
 * Token 0 is reserved (never stored). The table owns its memory; keys and values are plain ints. */
#ifndef FAROL_ICMP_TABLE_H
#define FAROL_ICMP_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct icmp_table;

/* A table sized for about hint entries before it first grows. */
struct icmp_table *icmp_table_new(size_t hint);
/* Free the table (NULL is fine). */
void icmp_table_free(struct icmp_table *t);
/* Insert token -> value; -EEXIST if the token is present, -EINVAL for token 0. */
int icmp_table_put(struct icmp_table *t, uint32_t token, uint32_t value);
/* Look token up: 0 and *value set, or -ENOENT. */
int icmp_table_get(const struct icmp_table *t, uint32_t token, uint32_t *value);
/* Remove token: 0, or -ENOENT. */
int icmp_table_del(struct icmp_table *t, uint32_t token);
/* Number of entries. */
size_t icmp_table_count(const struct icmp_table *t);

#endif
