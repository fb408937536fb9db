/* notifier: tells affected subscribers and the NOC about outages, maintenance and data caps.
 * Until issue #5 lands, the stage journals the events that reach it (so an operator can see
 * the pipeline is wired) and does nothing else.
 * struct notifier is opaque; the daemon creates it per role and frees it after draining the bus. */
#ifndef FAROL_NOTIFIER_H
#define FAROL_NOTIFIER_H

struct loop;
struct bus;
struct store;
struct config;

/* Create the stage and subscribe it to its input topics. cfg is read here only.
 * Returns NULL with a message in err when it cannot start. */
struct notifier *notifier_new(struct loop *loop, struct bus *bus, struct store *store,
                              const struct config *cfg, char *err, unsigned long errsz);
/* Stop producing new work (first step of a graceful drain); consumers keep running. */
void notifier_stop_sources(struct notifier *st);
/* Sends in flight or whose outcome is not written yet (a drain waits for them). */
unsigned long notifier_inflight(const struct notifier *st);
/* Number of input events this stage has handled since it started. */
unsigned long notifier_handled(const struct notifier *st);
/* Free the stage (NULL is fine). */
void notifier_free(struct notifier *st);

#endif
