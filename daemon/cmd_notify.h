/* farol notify test: send one message through a configured channel and print the gateway's
 * answer, so an operator can check a channel (credentials, sender id, encoding) before an
 * outage depends on it. */
#ifndef FAROL_CMD_NOTIFY_H
#define FAROL_CMD_NOTIFY_H

/* farol notify. Exit status: 0 sent or queued, 1 the gateway refused or failed, 2 usage or
 * configuration error. */
int cmd_notify(int argc, char **argv);

#endif
