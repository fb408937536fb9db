/* cmd_snmp: `farol snmp get|walk`, one-shot SNMP reads of many targets at once through the
 * collector's SNMP engine (collector/snmp_engine.h); output like net-snmp's tools with -On.
 * Sub-commands are a table, so `poll` (profiles) slots in beside get and walk. */
#ifndef FAROL_CMD_SNMP_H
#define FAROL_CMD_SNMP_H

/* Run `farol snmp ...` (argv[0] is "snmp"); returns the process exit status. */
int cmd_snmp(int argc, char **argv);

#endif
