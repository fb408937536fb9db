/* cmd_bus: `farol bus publish|consume`, the operator and test tool for the Kafka bus.
 * It goes through the public bus API (core/bus.h) with the Kafka transport, so what it does
 * is exactly what the stages do. Owned by the kafka helper; daemon/main.c dispatches to it. */
#ifndef FAROL_CMD_BUS_H
#define FAROL_CMD_BUS_H

/* Run `farol bus ...` (argv[0] is "bus"); returns the process exit status. */
int cmd_bus(int argc, char **argv);

#endif
