/* maint_store: maintenance windows in Redis (key layout: docs/redis.md, "Correlator:
 * maintenance windows"; docs/maintenance.md). The correlator writes a window after each change
 * of its lifecycle and reads them all back at start-up; `farol maintenance list` reads them.
 * Everything here blocks (struct store_sync). Windows handed to the load callback are owned by
 * this module and valid only during the call. */
#ifndef FAROL_MAINT_STORE_H
#define FAROL_MAINT_STORE_H

#include <stddef.h>

#include "core/event.h"

struct store_sync;

/* Called once per stored window, in schedule order (start time, then id); a negative return
 * stops the load and is returned by maint_store_load. */
typedef int (*maint_store_fn)(void *arg, const struct maintenance *w);

/* Write w (as maint_get gives it: id, seq, phase, nodes, times, texts, affected count) in one
 * MULTI/EXEC, replacing what was stored under its id. Pending and started windows are in the
 * schedule without TTL; ended and cancelled ones leave it and expire 30 days after their end.
 * Returns 0 or -EIO (-EINVAL for a window without id), message in err. */
int maint_store_save(struct store_sync *ss, const struct maintenance *w, char *err, size_t errsz);
/* Remove window id (hash, nodes, schedule entry). Returns 0 (also when absent) or -EIO. */
int maint_store_delete(struct store_sync *ss, const char *id, char *err, size_t errsz);
/* Read every window in the schedule, paged (500 ids per read), and call fn for each; entries
 * whose hash is gone or unreadable are skipped with a warning. Returns 0, fn's negative value,
 * or -EIO with a message in err. */
int maint_store_load(struct store_sync *ss, maint_store_fn fn, void *arg, char *err, size_t errsz);

#endif
