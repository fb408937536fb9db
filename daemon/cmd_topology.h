/* farol topology (import, show) and farol impact: planner commands over the topology kept in
 * Redis (correlator/topology_store.h). Formats and keys: docs/topology.md. */
#ifndef FAROL_CMD_TOPOLOGY_H
#define FAROL_CMD_TOPOLOGY_H

/* farol topology import|show. Exit status: 0 done, 1 invalid input or unknown node, 2 usage or
 * Redis error. */
int cmd_topology(int argc, char **argv);
/* farol impact NODE: who loses service if NODE fails. Exit status as cmd_topology. */
int cmd_impact(int argc, char **argv);

#endif
