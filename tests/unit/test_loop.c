#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/loop.h"

#include "tests/support/check_run.h"

struct counter {
    struct loop *loop;
    int n;
    int stop_at;
};

static void tick(void *arg)
{
    struct counter *c = arg;
    if (++c->n == c->stop_at)
        loop_stop(c->loop);
}

START_TEST(repeating_timer_fires_until_stopped)
{
    struct loop *l = loop_new();
    struct counter c = {.loop = l, .stop_at = 3};
    struct loop_timer *t = loop_timer_new(l, tick, &c);
    int64_t t0 = loop_now_ms(l);
    loop_timer_start(t, 5, 5);
    ck_assert(loop_timer_active(t));
    loop_run(l);
    ck_assert_int_eq(c.n, 3);
    ck_assert_int_ge(loop_now_ms(l) - t0, 14);
    loop_timer_free(t);
    loop_free(l);
}
END_TEST

static void readable(void *arg, int revents)
{
    struct counter *c = arg;
    ck_assert_int_eq(revents & LOOP_READ, LOOP_READ);
    c->n++;
    loop_stop(c->loop);
}

START_TEST(io_watcher_sees_readable_pipe)
{
    struct loop *l = loop_new();
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    struct counter c = {.loop = l};
    struct loop_io *io = loop_io_new(l, fds[0], LOOP_READ, readable, &c);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    loop_run(l);
    ck_assert_int_eq(c.n, 1);
    loop_io_set(io, 0); /* paused: the loop has nothing left and returns */
    loop_run(l);
    ck_assert_int_eq(c.n, 1);
    loop_io_free(io);
    close(fds[0]);
    close(fds[1]);
    loop_free(l);
}
END_TEST

static void got_signal(void *arg, int signum)
{
    struct counter *c = arg;
    c->n = signum;
    loop_stop(c->loop);
}

static void raise_usr1(void *arg)
{
    (void)arg;
    raise(SIGUSR1);
}

START_TEST(signal_is_delivered_inside_the_loop)
{
    struct loop *l = loop_new();
    struct counter c = {.loop = l};
    struct loop_signal *s = loop_signal_new(l, SIGUSR1, got_signal, &c);
    struct loop_timer *t = loop_timer_new(l, raise_usr1, NULL);
    /* The signal watcher does not keep the loop alive by design; a guard timer does. */
    struct counter guard = {.loop = l, .stop_at = 1};
    struct loop_timer *g = loop_timer_new(l, tick, &guard);
    loop_timer_start(t, 1, 0);
    loop_timer_start(g, 5000, 0);
    loop_run(l);
    ck_assert_int_eq(c.n, SIGUSR1);
    ck_assert_int_eq(guard.n, 0);
    loop_timer_free(g);
    loop_timer_free(t);
    loop_signal_free(s);
    loop_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, repeating_timer_fires_until_stopped);
    tcase_add_test(tc, io_watcher_sees_readable_pipe);
    tcase_add_test(tc, signal_is_delivered_inside_the_loop);
    suite_add_tcase(s, tc);
    return check_run(s, CK_NOFORK);
}
