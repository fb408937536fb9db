/* collector: watches devices (ICMP, SNMP polls, traps) and publishes alarms and usage samples.
 * Until issue #3 lands, the stage journals the events that reach it (so an operator can see
 * the pipeline is wired) and does nothing else.
 * struct collector is opaque; the daemon creates it per role and frees it after draining the bus.
 */
#ifndef FAROL_COLLECTOR_H
#define FAROL_COLLECTOR_H

struct loop;
struct bus;
struct store;
struct config;

/* Create the stage and subscribe it to its input topics. cfg is read here only.
 * Returns NULL with a message in err when it cannot start. */
struct collector *collector_new(struct loop *loop, struct bus *bus, struct store *store,
                                const struct config *cfg, char *err, unsigned long errsz);
/* Stop producing new work (first step of a graceful drain); consumers keep running. */
void collector_stop_sources(struct collector *st);
/* Number of input events this stage has handled since it started. */
unsigned long collector_handled(const struct collector *st);
/* Free the stage (NULL is fine). */
void collector_free(struct collector *st);

#endif
