/* loop: the one event loop of a process, a thin facade over libev.
 * Stages see only these calls; library adapters that need the raw libev loop (hiredis's
 * adapter) get it through loop_ev() and stay inside the module that owns that library.
 * Every object here is opaque, created with *_new and released with *_free by its creator. */
#ifndef FAROL_LOOP_H
#define FAROL_LOOP_H

#include <stdint.h>

struct ev_loop;
struct loop;
struct loop_timer;
struct loop_io;
struct loop_signal;

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

typedef void (*loop_timer_fn)(void *arg);
typedef void (*loop_io_fn)(void *arg, int revents);
typedef void (*loop_signal_fn)(void *arg, int signum);

/* Create a loop. The first loop of a process owns signal handling. */
struct loop *loop_new(void);
/* Free a loop; every watcher on it must have been freed first. */
void loop_free(struct loop *loop);
/* Run until loop_stop() is called or nothing is left to watch. */
void loop_run(struct loop *loop);
/* Run one iteration, waiting for at most one event if block is non-zero. */
void loop_run_once(struct loop *loop, int block);
/* Make loop_run() return after the current iteration. */
void loop_stop(struct loop *loop);
/* Monotonic time of the current iteration, in milliseconds. */
int64_t loop_now_ms(struct loop *loop);
/* Wall-clock time in milliseconds since the Unix epoch (for event timestamps). */
int64_t loop_wall_ms(void);
/* The libev loop underneath, for adapters at the edge only. */
struct ev_loop *loop_ev(struct loop *loop);

/* A one-shot or repeating timer, stopped until loop_timer_start(). */
struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_fn cb, void *arg);
/* (Re)start: first fire after after_ms, then every repeat_ms (0 = once). */
void loop_timer_start(struct loop_timer *t, int64_t after_ms, int64_t repeat_ms);
/* Stop the timer if it is running. */
void loop_timer_stop(struct loop_timer *t);
/* Non-zero while the timer is pending. */
int loop_timer_active(const struct loop_timer *t);
/* Stop and free (NULL is fine). */
void loop_timer_free(struct loop_timer *t);

/* Watch fd for LOOP_READ/LOOP_WRITE; the fd stays owned by the caller. */
struct loop_io *loop_io_new(struct loop *loop, int fd, int events, loop_io_fn cb, void *arg);
/* Change the watched events; 0 pauses the watcher. */
void loop_io_set(struct loop_io *io, int events);
/* Stop and free (NULL is fine); does not close the fd. */
void loop_io_free(struct loop_io *io);

/* Deliver signum to cb from inside the loop (never from a signal handler context). The watcher
 * does not keep loop_run() alive on its own. */
struct loop_signal *loop_signal_new(struct loop *loop, int signum, loop_signal_fn cb, void *arg);
/* Stop and free (NULL is fine). */
void loop_signal_free(struct loop_signal *s);

#endif
