/* redis_server: a private redis-server for tests. Listens only on a unix socket in its own
 * temporary directory (TCP off unless extra args say "--port N"), no persistence. The server
 * dies with the process that started it (PR_SET_PDEATHSIG), so a crashed test leaves no
 * server behind. The struct is opaque and owned by the caller of redis_server_start. */
#ifndef FAROL_TESTS_REDIS_SERVER_H
#define FAROL_TESTS_REDIS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct redis_server;
struct store_sync;

/* Start a server in a new directory under base (NULL: $TMPDIR or /tmp) and wait until it
 * answers PING (any answer, NOAUTH included). extra is NULL or a NULL-terminated list of more
 * redis-server arguments, e.g. {"--requirepass", "pw", NULL}. NULL on failure, with err set. */
struct redis_server *redis_server_start(const char *base, const char *const *extra, char *err,
                                        size_t errsz);
/* "unix:/path/redis.sock", the form store_config.address takes. */
const char *redis_server_address(const struct redis_server *rs);
/* The socket path itself. */
const char *redis_server_socket(const struct redis_server *rs);
/* The server's process id, or -1 while it is not running. */
pid_t redis_server_pid(const struct redis_server *rs);
/* SIGKILL and reap: the socket file stays behind, like after a crash. Returns 0 or -errno. */
int redis_server_kill(struct redis_server *rs);
/* SIGTERM, then SIGKILL if it has not exited within 5 s; reaps it. Returns 0 or -errno. */
int redis_server_stop(struct redis_server *rs);
/* SIGSTOP and wait until it is stopped: it accepts connections (kernel backlog) but never
 * answers. Returns 0 or -errno. */
int redis_server_freeze(struct redis_server *rs);
/* SIGCONT and wait until it runs again. Returns 0 or -errno. */
int redis_server_thaw(struct redis_server *rs);
/* Start it again (stopping it first if running) with the same arguments on the same socket,
 * and wait until it answers. Returns 0 or -errno with err set. */
int redis_server_restart(struct redis_server *rs, char *err, size_t errsz);
/* Kill the server if running, remove its directory, free (NULL is fine). */
void redis_server_free(struct redis_server *rs);
/* A synchronous store connection to the server (core/store.h), with the default settings
 * except a command timeout of command_timeout_ms when it is not 0. NULL with err set. */
struct store_sync *redis_server_sync(const struct redis_server *rs, int64_t command_timeout_ms,
                                     char *err, size_t errsz);
/* Remove a directory tree (for a test's base directory). Returns 0 or -errno. */
int redis_server_rmtree(const char *path);

#endif
