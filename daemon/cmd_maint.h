/* farol maintenance add|cancel|list: the planner's commands for maintenance windows
 * (docs/maintenance.md). Requests go to the correlator over the bus; the list is read from
 * Redis (correlator/maint_store.h). */
#ifndef FAROL_CMD_MAINT_H
#define FAROL_CMD_MAINT_H

/* farol maintenance. Exit status: 0 done, 1 invalid request (unknown node, bad time or rule),
 * 2 usage, Redis or bus error. */
int cmd_maintenance(int argc, char **argv);

#endif
