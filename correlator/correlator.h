/* correlator: turns alarms into outages on the topology, with their affected subscribers.
 * Until issue #4 lands, the stage journals the events that reach it (so an operator can see
 * the pipeline is wired) and does nothing else.
 * struct correlator is opaque; the daemon creates it per role and frees it after draining the bus.
 */
#ifndef FAROL_CORRELATOR_H
#define FAROL_CORRELATOR_H

struct loop;
struct bus;
struct store;
struct config;

/* Create the stage and subscribe it to its input topics. cfg is read here only.
 * Returns NULL with a message in err when it cannot start. */
struct correlator *correlator_new(struct loop *loop, struct bus *bus, struct store *store,
                                  const struct config *cfg, char *err, unsigned long errsz);
/* Stop producing new work (first step of a graceful drain); consumers keep running. */
void correlator_stop_sources(struct correlator *st);
/* Number of input events this stage has handled since it started. */
unsigned long correlator_handled(const struct correlator *st);
/* Free the stage (NULL is fine). */
void correlator_free(struct correlator *st);

#endif
