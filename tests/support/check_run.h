/* check_run: the one way farol's Check tests run their suite. */
#ifndef FAROL_CHECK_RUN_H
#define FAROL_CHECK_RUN_H

#include <check.h>

/* Run suite s (freed here) with the given fork status (CK_FORK isolates tests in child
 * processes; CK_NOFORK keeps one process, for tests sharing loop or signal state).
 * Returns the process exit status: 0 when every test passed. */
int check_run(Suite *s, enum fork_status fork);

#endif
