/* farol ping: the operator's one-shot ICMP check, built on the collector's prober. */
#ifndef FAROL_CMD_PING_H
#define FAROL_CMD_PING_H

/* Exit status: 0 every target answered, 1 some did not, 2 usage or setup error. */
int cmd_ping(int argc, char **argv);

#endif
