/* farol: one binary; main only picks the subcommand. */
#include <stdio.h>
#include <string.h>

#include "daemon/cmd_bus.h"
#include "daemon/cmd_maint.h" /* -- maint -- */
#include "daemon/cmd_notify.h"
#include "daemon/cmd_ping.h"
#include "daemon/cmd_replay.h" /* -- replay -- */
#include "daemon/cmd_snmp.h"
#include "daemon/cmd_topology.h" /* -- topology -- */
#include "daemon/commands.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run the daemon: all stages, or one role per process"},
    {"check-config", cmd_check_config, "validate a configuration file, listing every problem"},
    {"bus", cmd_bus, "publish events to or consume events from the Kafka bus"},
    {"ping", cmd_ping, "probe targets with ICMP echo and report like fping"},
    {"snmp", cmd_snmp,
     "read OIDs from many SNMP agents at once (get, walk), or poll with a profile"},
    /* -- topology -- */
    {"topology", cmd_topology, "import topology files into Redis; show a node"},
    {"impact", cmd_impact, "who would lose service if a node failed"},
    /* -- maint -- */
    {"maintenance", cmd_maintenance, "plan, cancel and list maintenance windows"},
    {"notify", cmd_notify, "send one test message through a configured channel"},
    /* -- replay -- */
    {"replay", cmd_replay, "correlate alarm events from a file over topology files"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: farol COMMAND [OPTIONS]\n\n"
               "farol watches an ISP's network, works out which outages hit which subscribers,\n"
               "and tells them before they call.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'farol COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("farol %s\n", FAROL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "farol: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
