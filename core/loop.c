#include "core/loop.h"

#include <ev.h>
#include <stdlib.h>
#include <sys/time.h>

#include "core/xmalloc.h"

struct loop {
    struct ev_loop *ev;
    int is_default;
};

struct loop_timer {
    ev_timer w;
    struct loop *loop;
    loop_timer_fn cb;
    void *arg;
};

struct loop_io {
    ev_io w;
    struct loop *loop;
    int fd;
    loop_io_fn cb;
    void *arg;
};

struct loop_signal {
    ev_signal w;
    struct loop *loop;
    loop_signal_fn cb;
    void *arg;
};

static int default_taken;

struct loop *loop_new(void)
{
    struct loop *l = xcalloc(1, sizeof *l);
    /* libev delivers signals only to the default loop; give it to the first loop made. */
    if (!default_taken) {
        l->ev = ev_default_loop(EVFLAG_AUTO);
        l->is_default = 1;
        default_taken = 1;
    } else {
        l->ev = ev_loop_new(EVFLAG_AUTO);
    }
    if (!l->ev)
        abort();
    return l;
}

void loop_free(struct loop *loop)
{
    if (!loop)
        return;
    if (loop->is_default) {
        ev_loop_destroy(loop->ev);
        default_taken = 0;
    } else {
        ev_loop_destroy(loop->ev);
    }
    free(loop);
}

void loop_run(struct loop *loop)
{
    ev_run(loop->ev, 0);
}

void loop_run_once(struct loop *loop, int block)
{
    ev_run(loop->ev, block ? EVRUN_ONCE : EVRUN_NOWAIT);
}

void loop_stop(struct loop *loop)
{
    ev_break(loop->ev, EVBREAK_ALL);
}

int64_t loop_now_ms(struct loop *loop)
{
    return (int64_t)(ev_now(loop->ev) * 1000.0);
}

int64_t loop_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

struct ev_loop *loop_ev(struct loop *loop)
{
    return loop->ev;
}

static void timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)ev;
    (void)revents;
    struct loop_timer *t = (struct loop_timer *)w;
    t->cb(t->arg);
}

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_fn cb, void *arg)
{
    struct loop_timer *t = xcalloc(1, sizeof *t);
    t->loop = loop;
    t->cb = cb;
    t->arg = arg;
    ev_init(&t->w, timer_cb);
    return t;
}

void loop_timer_start(struct loop_timer *t, int64_t after_ms, int64_t repeat_ms)
{
    ev_timer_stop(t->loop->ev, &t->w);
    ev_timer_set(&t->w, (double)after_ms / 1000.0, (double)repeat_ms / 1000.0);
    ev_timer_start(t->loop->ev, &t->w);
}

void loop_timer_stop(struct loop_timer *t)
{
    ev_timer_stop(t->loop->ev, &t->w);
}

int loop_timer_active(const struct loop_timer *t)
{
    return ev_is_active(&t->w);
}

void loop_timer_free(struct loop_timer *t)
{
    if (!t)
        return;
    ev_timer_stop(t->loop->ev, &t->w);
    free(t);
}

static void io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
    (void)ev;
    struct loop_io *io = (struct loop_io *)w;
    int r = (revents & EV_READ ? LOOP_READ : 0) | (revents & EV_WRITE ? LOOP_WRITE : 0);
    io->cb(io->arg, r);
}

struct loop_io *loop_io_new(struct loop *loop, int fd, int events, loop_io_fn cb, void *arg)
{
    struct loop_io *io = xcalloc(1, sizeof *io);
    io->loop = loop;
    io->fd = fd;
    io->cb = cb;
    io->arg = arg;
    ev_init(&io->w, io_cb);
    loop_io_set(io, events);
    return io;
}

void loop_io_set(struct loop_io *io, int events)
{
    ev_io_stop(io->loop->ev, &io->w);
    if (!events)
        return;
    ev_io_set(&io->w, io->fd,
              (events & LOOP_READ ? EV_READ : 0) | (events & LOOP_WRITE ? EV_WRITE : 0));
    ev_io_start(io->loop->ev, &io->w);
}

void loop_io_free(struct loop_io *io)
{
    if (!io)
        return;
    ev_io_stop(io->loop->ev, &io->w);
    free(io);
}

static void signal_cb(struct ev_loop *ev, ev_signal *w, int revents)
{
    (void)ev;
    (void)revents;
    struct loop_signal *s = (struct loop_signal *)w;
    s->cb(s->arg, s->w.signum);
}

struct loop_signal *loop_signal_new(struct loop *loop, int signum, loop_signal_fn cb, void *arg)
{
    struct loop_signal *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->cb = cb;
    s->arg = arg;
    ev_signal_init(&s->w, signal_cb, signum);
    ev_signal_start(loop->ev, &s->w);
    ev_unref(loop->ev);
    return s;
}

void loop_signal_free(struct loop_signal *s)
{
    if (!s)
        return;
    ev_ref(s->loop->ev);
    ev_signal_stop(s->loop->ev, &s->w);
    free(s);
}
