/* commands: the subcommands of the farol binary. Each returns the process exit status
 * (0 success, 1 failure found, 2 usage or setup error); argv[0] is the command name. */
#ifndef FAROL_COMMANDS_H
#define FAROL_COMMANDS_H

/* farol run: the daemon, all stages or one role. */
int cmd_run(int argc, char **argv);
/* farol check-config: validate a configuration file and list every problem. */
int cmd_check_config(int argc, char **argv);

#endif
