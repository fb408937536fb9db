/* farol check-config FILE: the validation a planner runs before a reload. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "daemon/commands.h"

static void help(FILE *f)
{
    fprintf(f, "usage: farol check-config FILE\n\n"
               "Validate FILE without starting anything. Prints every problem as\n"
               "FILE:LINE:COL: message and exits 1 if there is any, 0 if the file is valid.\n");
}

int cmd_check_config(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        help(stderr);
        return 2;
    }
    struct config cfg;
    struct config_diag diag;
    config_diag_init(&diag);
    int rc = config_load(argv[1], &cfg, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.msgs[i]);
    if (rc == 0) {
        printf("%s: ok\n", argv[1]);
        config_deinit(&cfg);
    } else {
        fprintf(stderr, "%s: %zu problem%s\n", argv[1], diag.n, diag.n == 1 ? "" : "s");
    }
    config_diag_deinit(&diag);
    return rc == 0 ? 0 : 1;
}
