/* correlator: the stage that turns alarms into outages on the topology, with their affected
 * subscribers (docs/correlation.md). It keeps the topology in memory (reloaded when a new
 * version is swapped in), feeds alarms to the engine (correlator/engine.h) in batches, and
 * publishes outage events. Its state lives in Redis (correlator/outage_store.h): a restarted
 * correlator continues without opening duplicate outages.
 * struct correlator is opaque; the daemon creates it per role and frees it after draining the
 * bus. */
#ifndef FAROL_CORRELATOR_H
#define FAROL_CORRELATOR_H

struct loop;
struct bus;
struct store;
struct config;

/* Create the stage, load the topology and state from Redis (when reachable) and subscribe it
 * to its input topics. cfg is read here only. Returns NULL with a message in err when it
 * cannot start. */
struct correlator *correlator_new(struct loop *loop, struct bus *bus, struct store *store,
                                  const struct config *cfg, char *err, unsigned long errsz);
/* Stop producing new work (first step of a graceful drain); consumers keep running. */
void correlator_stop_sources(struct correlator *st);
/* Number of input events this stage has handled since it started. */
unsigned long correlator_handled(const struct correlator *st);
/* Free the stage (NULL is fine). */
void correlator_free(struct correlator *st);

#endif
