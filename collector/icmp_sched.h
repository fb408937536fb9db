/* icmp_sched: when each target needs attention next (its next send or its probe's timeout),
 * as a binary min-heap with one entry per target id: O(log n) per change, no scans.
 * Also the stable phase offsets that spread targets' probes over their interval.
 * The schedule owns its arrays; ids are small dense integers chosen by the caller. */
#ifndef FAROL_ICMP_SCHED_H
#define FAROL_ICMP_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct icmp_sched;

/* An empty schedule. */
struct icmp_sched *icmp_sched_new(void);
/* Free it (NULL is fine). */
void icmp_sched_free(struct icmp_sched *s);
/* Schedule id at due (any monotonic unit), inserting it or moving its existing entry. */
void icmp_sched_set(struct icmp_sched *s, uint32_t id, uint64_t due);
/* Drop id's entry if it has one. */
void icmp_sched_del(struct icmp_sched *s, uint32_t id);
/* The earliest entry: 0 with *id and *due set, or -ENOENT when empty. Not removed. */
int icmp_sched_peek(const struct icmp_sched *s, uint32_t *id, uint64_t *due);
/* Number of scheduled ids. */
size_t icmp_sched_count(const struct icmp_sched *s);
/* The stable phase of target id within an interval: id * golden ratio mod 1, scaled. Any
 * run of consecutive ids covers the interval almost evenly (three-gap theorem). */
uint64_t icmp_sched_phase(uint32_t id, uint64_t interval);

#endif
