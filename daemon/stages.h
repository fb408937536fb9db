/* stages: which stages one process runs (its role) and their lifecycle as a group.
 * struct stages is opaque, owned by the daemon. */
#ifndef FAROL_STAGES_H
#define FAROL_STAGES_H

#include <stddef.h>

struct loop;
struct bus;
struct store;
struct config;

enum stage_role { ROLE_ALL, ROLE_COLLECTOR, ROLE_CORRELATOR, ROLE_NOTIFIER };

/* Parse "all|collector|correlator|notifier"; returns 0 or -EINVAL. */
int stages_role_parse(const char *s, enum stage_role *out);
/* Name of a role, for logs. */
const char *stages_role_name(enum stage_role role);
/* Start the stages of role, in pipeline order. NULL with a message in err on failure. */
struct stages *stages_new(enum stage_role role, struct loop *loop, struct bus *bus,
                          struct store *store, const struct config *cfg, char *err, size_t errsz);
/* Stop every source of new work (pollers, trap listener); consumers keep draining. */
void stages_stop_sources(struct stages *st);
/* Work the stages still have in hand outside the bus (the notifier's sends in flight); a
 * drain waits for it as for the bus. NULL is fine (0). */
size_t stages_pending(const struct stages *st);
/* Free the stages, sinks first (NULL is fine). */
void stages_free(struct stages *st);

#endif
