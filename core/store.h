/* store: farol's Redis connection (hiredis), driven by the process loop.
 * Connect and command timeouts, reconnect with exponential backoff, commands pipelined on one
 * connection; a synchronous variant for command-line tools and bulk loads.
 * Key schema: docs/redis.md. All keys start with the configured prefix ("farol:").
 * struct store and struct store_sync are opaque, owned by their creator; replies passed to
 * callbacks are owned by hiredis and valid only during the callback.
 * The process must ignore SIGPIPE (farol run does): hiredis writes with write(2). */
#ifndef FAROL_STORE_H
#define FAROL_STORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct redisReply;

struct store_config {
    char *address;  /* "host:port", "[v6]:port" or "unix:/path/to/socket" */
    char *password; /* NULL = no AUTH; never logged */
    int db;
    char *prefix; /* key prefix, NULL = "farol:" */
    int64_t connect_timeout_ms;
    int64_t command_timeout_ms;
    int64_t reconnect_min_ms;
    int64_t reconnect_max_ms;
};

/* Defaults: 127.0.0.1:6379, db 0, "farol:", 1 s connect, 2 s command, backoff 100 ms..5 s. */
void store_config_init(struct store_config *cfg);
/* Free the strings cfg owns (the password is wiped first). */
void store_config_deinit(struct store_config *cfg);
/* Make dst an independent deep copy of src (strings dst held before are not freed). */
void store_config_copy(struct store_config *dst, const struct store_config *src);

/* Write prefix + the formatted name into buf. Returns the key length, or -ENAMETOOLONG when it
 * did not fit (buf then holds a truncated, unusable key). prefix NULL means "farol:". */
int store_vkey(const char *prefix, char *buf, size_t bufsz, const char *fmt, va_list ap);

/* ---- asynchronous store, on the loop ----
 * Error codes handed to callbacks (err != 0 means reply is NULL):
 *   -ENOTCONN    not connected when issued, or the connection failed before it was ready
 *   -ECONNRESET  the established connection was lost before the reply arrived
 *   -ETIMEDOUT   the oldest reply was overdue by command_timeout: the connection was declared
 *                hung, every outstanding command failed with this code, and it reconnects
 *   -ECANCELED   store_free() ran while the command was outstanding
 * A Redis error reply ("-ERR ...") is a reply: err 0, reply->type == REDIS_REPLY_ERROR. */
struct store;
typedef void (*store_reply_fn)(void *arg, struct redisReply *reply, int err);
/* Told about each transition between ready (AUTH/SELECT done) and not ready. */
typedef void (*store_state_fn)(void *arg, int connected);

/* Copy cfg and start connecting at once; never blocks (host names are resolved by hiredis with
 * getaddrinfo: use IP addresses or unix sockets). Never NULL. */
struct store *store_new(struct loop *loop, const struct store_config *cfg);
/* Close the connection; every outstanding command gets its callback with -ECANCELED (or its
 * fail-fast code) before this returns. NULL is fine. Never call it from a store callback. */
void store_free(struct store *s);
/* Non-zero while the connection is ready for commands. */
int store_connected(const struct store *s);
/* Add a state watcher (called from the loop, never from inside store_watch itself). */
void store_watch(struct store *s, store_state_fn fn, void *arg);
/* Remove a watcher added with the same fn and arg (not from inside a watcher call). */
void store_unwatch(struct store *s, store_state_fn fn, void *arg);

/* Issue a command (hiredis format: %s, %b, %d...). Returns 0: cb will be called exactly once,
 * never from inside this call. While connecting, the command is pipelined behind AUTH/SELECT;
 * while disconnected it fails with -ENOTCONN from a zero timer. Returns -EINVAL for a bad
 * format, and then cb is never called. */
int store_command(struct store *s, store_reply_fn cb, void *arg, const char *fmt, ...);
/* Same as store_command with a format already applied. */
int store_vcommand(struct store *s, store_reply_fn cb, void *arg, const char *fmt, va_list ap);
/* Same with an argument vector; argvlen NULL means every argv[i] is a C string. */
int store_command_argv(struct store *s, store_reply_fn cb, void *arg, int argc, const char **argv,
                       const size_t *argvlen);
/* Number of commands sent and not answered yet. */
size_t store_outstanding(const struct store *s);
/* Build a key with this store's prefix; see store_vkey. */
int store_key(const struct store *s, char *buf, size_t bufsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- synchronous store, for command-line tools and imports (blocks the caller) ---- */
struct store_sync;

/* Counters of the pipeline since connect (or the last store_pipe_reset). */
struct store_pipe_stats {
    uint64_t sent;              /* commands appended */
    uint64_t replies;           /* replies read */
    uint64_t errors;            /* error replies among them */
    uint64_t first_error_index; /* 0-based index (in append order) of the first error reply */
    char first_error[256];      /* its message; "" while errors == 0 */
};

/* Connect (connect timeout), set the command timeout as socket timeout, AUTH, SELECT, PING.
 * Returns NULL with a message in err (never containing the password). */
struct store_sync *store_sync_connect(const struct store_config *cfg, char *err, size_t errsz);
/* Close and free (NULL is fine). Replies still buffered in a pipeline are discarded. */
void store_sync_free(struct store_sync *ss);
/* Run one command; returns its reply (caller frees with freeReplyObject) or NULL when the
 * connection failed (see store_sync_errstr; the connection is then unusable). Do not mix with
 * an unflushed pipeline. */
struct redisReply *store_sync_command(struct store_sync *ss, const char *fmt, ...);
/* Same with an argument vector; argvlen NULL means C strings. */
struct redisReply *store_sync_command_argv(struct store_sync *ss, int argc, const char **argv,
                                           const size_t *argvlen);
/* The last connection-level error, "" if none. */
const char *store_sync_errstr(const struct store_sync *ss);
/* Build a key with this connection's prefix; see store_vkey. */
int store_sync_key(const struct store_sync *ss, char *buf, size_t bufsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Commands per automatic flush (default 1000, minimum 1). */
void store_pipe_set_batch(struct store_sync *ss, size_t n);
/* Buffer a command; every batch commands the buffer is sent and its replies read and counted.
 * Returns 0 or -EIO: connection failed, or a bad format, which leaves the connection unusable
 * in hiredis 0.14 (see store_sync_errstr). */
int store_pipe_append_argv(struct store_sync *ss, int argc, const char **argv,
                           const size_t *argvlen);
/* Same with a hiredis format string. */
int store_pipe_append(struct store_sync *ss, const char *fmt, ...);
/* Send what is buffered and read every outstanding reply. Returns 0 or -EIO. */
int store_pipe_flush(struct store_sync *ss);
/* Counters; valid until the next pipeline call. */
const struct store_pipe_stats *store_pipe_stats(const struct store_sync *ss);
/* Zero the counters (outstanding replies are still read by the next flush). */
void store_pipe_reset(struct store_sync *ss);

/* A pipeline whose replies the caller reads: queue commands, then take each reply in order.
 * Not to be mixed with the counting pipeline above or with an unread store_sync_command.
 * Queue a command (hiredis format); nothing is sent until the first take. 0 or -EIO. */
int store_sync_queue(struct store_sync *ss, const char *fmt, ...);
/* Same with an argument vector; argvlen NULL means C strings. */
int store_sync_queue_argv(struct store_sync *ss, int argc, const char **argv,
                          const size_t *argvlen);
/* The next queued command's reply (caller frees with freeReplyObject), or NULL when the
 * connection failed (the remaining replies are lost with it). */
struct redisReply *store_sync_take(struct store_sync *ss);

/* A batch over that pipeline for code that queues several commands and reads their replies
 * in order: once a command or reply fails, later adds are dropped and next returns NULL.
 * Caller-owned (store_batch_init); the connection is borrowed. */
struct store_batch {
    struct store_sync *ss;
    size_t pending;
    int failed;
};
/* Start a batch on ss (which must have no unread replies). */
void store_batch_init(struct store_batch *b, struct store_sync *ss);
/* Queue argv (C strings). */
void store_batch_add(struct store_batch *b, int argc, const char **argv);
/* The next reply in order (caller frees), NULL once the batch failed or none is pending. */
struct redisReply *store_batch_next(struct store_batch *b);
/* Read and drop the replies not taken. 0, or -EIO when anything failed (see
 * store_sync_errstr; the connection is then unusable). */
int store_batch_end(struct store_batch *b);

#endif
