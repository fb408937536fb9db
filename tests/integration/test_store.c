/* test_store: core/store against a real private redis-server (tests/support/redis_server). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "tests/support/redis_server.h"
#include "tests/support/check_run.h"

#define PASSWORD "s3cret-Pw-42"

static char base_dir[] = "/tmp/farol-test-store-XXXXXX";

/* ---- helpers ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct result {
    int calls;
    int err;
    int type;
    long long integer;
    char str[256];
};

static void on_result(void *arg, redisReply *r, int err)
{
    struct result *res = arg;
    res->calls++;
    res->err = err;
    res->type = r ? r->type : -1;
    res->integer = r ? r->integer : 0;
    snprintf(res->str, sizeof res->str, "%s", r && r->str ? r->str : "");
}

static void deadline_hit(void *arg)
{
    (void)arg;
}

typedef int (*pred_fn)(void *arg);

/* Run the loop until pred holds or ms pass; returns pred's final value. */
static int run_until(struct loop *l, pred_fn pred, void *arg, int64_t ms)
{
    struct loop_timer *t = loop_timer_new(l, deadline_hit, NULL);
    loop_timer_start(t, ms, 0);
    while (!pred(arg) && loop_timer_active(t))
        loop_run_once(l, 1);
    loop_timer_free(t);
    return pred(arg);
}

static int result_done(void *arg)
{
    return ((struct result *)arg)->calls > 0;
}

static int is_connected(void *arg)
{
    return store_connected(arg);
}

static int is_down(void *arg)
{
    return !store_connected(arg);
}

struct states {
    int ups, downs;
};

static void on_state(void *arg, int connected)
{
    struct states *st = arg;
    if (connected)
        st->ups++;
    else
        st->downs++;
}

struct env {
    struct redis_server *rs;
    struct loop *loop;
    struct store *store;
    struct store_config cfg;
    struct states states;
};

static void test_config(struct store_config *cfg, const char *address)
{
    store_config_init(cfg);
    free(cfg->address);
    cfg->address = xstrdup(address);
    cfg->connect_timeout_ms = 200;
    cfg->command_timeout_ms = 200;
    cfg->reconnect_min_ms = 20;
    cfg->reconnect_max_ms = 200;
}

static struct redis_server *server_start(const char *const *extra)
{
    char err[256];
    struct redis_server *rs = redis_server_start(base_dir, extra, err, sizeof err);
    ck_assert_msg(rs != NULL, "%s", err);
    return rs;
}

/* Start a server (with extra args), a loop and a store; password/db as given. */
static void env_up(struct env *e, const char *const *extra, const char *password, int db,
                   int wait_connected)
{
    memset(e, 0, sizeof *e);
    e->rs = server_start(extra);
    e->loop = loop_new();
    test_config(&e->cfg, redis_server_address(e->rs));
    e->cfg.password = xstrdup(password);
    e->cfg.db = db;
    e->store = store_new(e->loop, &e->cfg);
    store_watch(e->store, on_state, &e->states);
    if (wait_connected)
        ck_assert(run_until(e->loop, is_connected, e->store, 3000));
}

static void env_down(struct env *e)
{
    store_free(e->store);
    loop_free(e->loop);
    store_config_deinit(&e->cfg);
    redis_server_free(e->rs);
}

/* Issue one command and wait for its single callback. */
static struct result cmd(struct env *e, const char *fmt, const char *a, const char *b)
{
    struct result res = {0};
    ck_assert_int_eq(store_command(e->store, on_result, &res, fmt, a, b), 0);
    ck_assert(run_until(e->loop, result_done, &res, 2000));
    ck_assert_int_eq(res.calls, 1);
    return res;
}

static void expect_get(struct env *e, const char *key, const char *want)
{
    struct result r = cmd(e, "GET %s", key, NULL);
    ck_assert_int_eq(r.err, 0);
    ck_assert_int_eq(r.type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r.str, want);
}

/* Redirect stderr (where the logger writes) to a file for the rest of the test. */
static char *capture_stderr(void)
{
    char *path = xasprintf("%s/stderr-XXXXXX", base_dir);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    close(fd);
    return path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = xcalloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- tests ---- */

START_TEST(set_get_roundtrip)
{
    struct env e;
    env_up(&e, NULL, NULL, 0, 1);
    ck_assert_int_eq(e.states.ups, 1);
    char key[64];
    ck_assert_int_eq(store_key(e.store, key, sizeof key, "test:%s", "a"), 12);
    ck_assert_str_eq(key, "farol:test:a");
    ck_assert_int_eq(store_key(e.store, key, 8, "test:%s", "a"), -ENAMETOOLONG);
    store_key(e.store, key, sizeof key, "test:%s", "a");

    struct result r = cmd(&e, "SET %s %s", key, "hello world");
    ck_assert_int_eq(r.err, 0);
    ck_assert_str_eq(r.str, "OK");
    expect_get(&e, key, "hello world");

    /* A Redis error is a reply, not a transport error. */
    r = cmd(&e, "INCR %s", key, NULL);
    ck_assert_int_eq(r.err, 0);
    ck_assert_int_eq(r.type, REDIS_REPLY_ERROR);
    ck_assert_ptr_nonnull(strstr(r.str, "not an integer"));

    struct result ra = {0};
    const char *argv[] = {"SET", "farol:test:bin", "a\0b"};
    size_t lens[] = {3, 14, 3};
    ck_assert_int_eq(store_command_argv(e.store, on_result, &ra, 3, argv, lens), 0);
    ck_assert(run_until(e.loop, result_done, &ra, 2000));
    ck_assert_int_eq(ra.err, 0);
    r = cmd(&e, "STRLEN %s", "farol:test:bin", NULL);
    ck_assert_int_eq(r.integer, 3);
    ck_assert_int_eq(store_command_argv(e.store, on_result, &ra, 0, argv, NULL), -EINVAL);
    ck_assert_int_eq(store_outstanding(e.store), 0);
    env_down(&e);
}
END_TEST

static int free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

START_TEST(tcp_roundtrip_and_refused)
{
    char port[16], addr[64];
    snprintf(port, sizeof port, "%d", free_tcp_port());
    snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
    struct redis_server *rs = server_start((const char *[]){"--port", port, NULL});
    struct env e = {.rs = rs, .loop = loop_new()};
    test_config(&e.cfg, addr);
    e.store = store_new(e.loop, &e.cfg);
    ck_assert(run_until(e.loop, is_connected, e.store, 3000));
    cmd(&e, "SET %s %s", "farol:tcp", "v");
    expect_get(&e, "farol:tcp", "v");

    /* Nobody listens any more: a command queued behind the handshake of a TCP connect in
     * progress fails with -ENOTCONN when the connect is refused. */
    redis_server_stop(rs);
    ck_assert(run_until(e.loop, is_down, e.store, 2000));
    struct store *s2 = store_new(e.loop, &e.cfg);
    struct result r = {0};
    store_command(s2, on_result, &r, "PING");
    ck_assert_uint_eq(store_outstanding(s2), 2); /* handshake PING + ours, inside hiredis */
    ck_assert(run_until(e.loop, result_done, &r, 2000));
    ck_assert_int_eq(r.err, -ENOTCONN);
    ck_assert_uint_eq(store_outstanding(s2), 0);
    store_free(s2);
    ck_assert_int_eq(r.calls, 1);
    env_down(&e);
}
END_TEST

struct incr_check {
    int calls, bad;
    long long expect;
};

static void on_incr(void *arg, redisReply *r, int err)
{
    struct incr_check *c = arg;
    c->calls++;
    if (err || r->type != REDIS_REPLY_INTEGER || r->integer != ++c->expect)
        c->bad++;
}

static int incr_done(void *arg)
{
    return ((struct incr_check *)arg)->calls >= 10000;
}

START_TEST(pipelined_incr_in_order)
{
    struct env e;
    env_up(&e, NULL, NULL, 0, 1);
    struct incr_check c = {0};
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(store_command(e.store, on_incr, &c, "INCR farol:test:counter"), 0);
    ck_assert_int_eq(c.calls, 0); /* never from inside store_command */
    ck_assert(run_until(e.loop, incr_done, &c, 10000));
    ck_assert_int_eq(c.calls, 10000);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_int_eq(store_outstanding(e.store), 0);
    expect_get(&e, "farol:test:counter", "10000");
    env_down(&e);
}
END_TEST

START_TEST(auth_right_password)
{
    struct env e;
    env_up(&e, (const char *[]){"--requirepass", PASSWORD, NULL}, PASSWORD, 0, 1);
    cmd(&e, "SET %s %s", "farol:auth", "yes");
    expect_get(&e, "farol:auth", "yes");

    char err[256] = "";
    struct store_sync *ss = store_sync_connect(&e.cfg, err, sizeof err);
    ck_assert_msg(ss != NULL, "%s", err);
    redisReply *r = store_sync_command(ss, "GET %s", "farol:auth");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->str, "yes");
    freeReplyObject(r);
    store_sync_free(ss);
    env_down(&e);
}
END_TEST

struct log_wait {
    const char *path;
    const char *needle;
};

static int log_has(void *arg)
{
    struct log_wait *w = arg;
    char *text = slurp(w->path);
    int found = strstr(text, w->needle) != NULL;
    free(text);
    return found;
}

START_TEST(auth_wrong_password)
{
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);
    char *log_path = capture_stderr();
    struct env e;
    env_up(&e, (const char *[]){"--requirepass", PASSWORD, NULL}, "wrong-Pw-99", 0, 0);
    struct result r = {0};
    store_command(e.store, on_result, &r, "GET farol:x");
    ck_assert(run_until(e.loop, result_done, &r, 2000));
    ck_assert_int_eq(r.err, -ENOTCONN);

    /* Wait for a retry that failed the same way: it must not be logged at error again. */
    struct log_wait w = {log_path, "still cannot connect"};
    ck_assert(run_until(e.loop, log_has, &w, 3000));
    ck_assert(!store_connected(e.store));
    ck_assert_int_eq(e.states.ups, 0);

    char err[256] = "";
    ck_assert_ptr_null(store_sync_connect(&e.cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "AUTH rejected"));
    ck_assert_ptr_null(strstr(err, "wrong-Pw-99"));
    env_down(&e);

    char *text = slurp(log_path);
    ck_assert_int_eq(count_of(text, "error store: cannot connect"), 1);
    ck_assert_ptr_nonnull(strstr(text, "AUTH rejected by the server: WRONGPASS"));
    ck_assert_ptr_null(strstr(text, "wrong-Pw-99"));
    ck_assert_ptr_null(strstr(text, PASSWORD));
    free(text);
    free(log_path);
}
END_TEST

START_TEST(select_db)
{
    struct env e;
    env_up(&e, NULL, NULL, 5, 1);
    cmd(&e, "SET %s %s", "farol:db", "five");
    char err[256] = "";
    for (int db = 0; db <= 5; db += 5) {
        e.cfg.db = db;
        struct store_sync *ss = store_sync_connect(&e.cfg, err, sizeof err);
        ck_assert_msg(ss != NULL, "%s", err);
        redisReply *r = store_sync_command(ss, "GET farol:db");
        ck_assert_ptr_nonnull(r);
        if (db == 5)
            ck_assert_str_eq(r->str, "five");
        else
            ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
        store_sync_free(ss);
    }
    env_down(&e);
}
END_TEST

struct many {
    int calls, ok, reset, notconn, timedout, canceled, other;
    struct store *reissue_on; /* if set, each callback issues one more command once */
    int reissued;
};

static void on_many(void *arg, redisReply *r, int err)
{
    struct many *m = arg;
    m->calls++;
    if (!err && r)
        m->ok++;
    else if (err == -ECONNRESET)
        m->reset++;
    else if (err == -ENOTCONN)
        m->notconn++;
    else if (err == -ETIMEDOUT)
        m->timedout++;
    else if (err == -ECANCELED)
        m->canceled++;
    else
        m->other++;
    if (m->reissue_on && !m->reissued) {
        m->reissued = 1;
        store_command(m->reissue_on, on_many, m, "PING");
    }
}

struct many_wait {
    struct many *m;
    int n;
};

static int many_done(void *arg)
{
    struct many_wait *w = arg;
    return w->m->calls >= w->n;
}

START_TEST(server_killed_then_restarted)
{
    struct env e;
    env_up(&e, NULL, NULL, 0, 1);
    /* Frozen first so the commands are surely outstanding when the server dies. */
    ck_assert_int_eq(redis_server_freeze(e.rs), 0);
    struct many m = {0};
    for (int i = 0; i < 50; i++)
        store_command(e.store, on_many, &m, "SET farol:k%d v", i);
    loop_run_once(e.loop, 0);
    ck_assert_int_eq(redis_server_kill(e.rs), 0);
    struct many_wait w = {&m, 50};
    ck_assert(run_until(e.loop, many_done, &w, 2000));
    ck_assert_int_eq(m.reset + m.notconn, 50);
    ck_assert_int_eq(e.states.downs, 1);
    ck_assert(!store_connected(e.store));

    /* Disconnected: fail fast, asynchronously. */
    struct result r = {0};
    store_command(e.store, on_result, &r, "PING");
    ck_assert_int_eq(r.calls, 0);
    ck_assert(run_until(e.loop, result_done, &r, 1000));
    ck_assert_int_eq(r.err, -ENOTCONN);

    char err[256];
    ck_assert_msg(redis_server_restart(e.rs, err, sizeof err) == 0, "%s", err);
    ck_assert(run_until(e.loop, is_connected, e.store, 3000));
    ck_assert_int_eq(e.states.ups, 2);
    cmd(&e, "SET %s %s", "farol:again", "yes");
    expect_get(&e, "farol:again", "yes");
    ck_assert_int_eq(m.calls, 50); /* nobody was called twice */
    ck_assert_int_eq(r.calls, 1);
    env_down(&e);
}
END_TEST

START_TEST(frozen_server_command_timeout)
{
    struct env e;
    env_up(&e, NULL, NULL, 0, 1);
    ck_assert_int_eq(redis_server_freeze(e.rs), 0);
    int64_t t0 = mono_ms();
    struct result r = {0};
    store_command(e.store, on_result, &r, "GET farol:x");
    ck_assert(run_until(e.loop, result_done, &r, 3000));
    int64_t took = mono_ms() - t0;
    ck_assert_int_eq(r.err, -ETIMEDOUT);
    ck_assert_int_ge(took, 190);
    ck_assert_int_lt(took, 1000);
    ck_assert(!store_connected(e.store));
    ck_assert_int_eq(e.states.downs, 1);

    ck_assert_int_eq(redis_server_thaw(e.rs), 0);
    ck_assert(run_until(e.loop, is_connected, e.store, 3000));
    cmd(&e, "SET %s %s", "farol:thawed", "yes");
    expect_get(&e, "farol:thawed", "yes");
    ck_assert_int_eq(r.calls, 1);
    env_down(&e);
}
END_TEST

START_TEST(connect_timeout_frozen_server)
{
    struct redis_server *rs = server_start(NULL);
    ck_assert_int_eq(redis_server_freeze(rs), 0);
    struct env e = {.rs = rs, .loop = loop_new()};
    test_config(&e.cfg, redis_server_address(rs));
    int64_t t0 = mono_ms();
    e.store = store_new(e.loop, &e.cfg);
    store_watch(e.store, on_state, &e.states);
    struct result r = {0};
    store_command(e.store, on_result, &r, "GET farol:x"); /* queued behind the handshake */
    ck_assert(run_until(e.loop, result_done, &r, 3000));
    int64_t took = mono_ms() - t0;
    ck_assert_int_eq(r.err, -ENOTCONN);
    ck_assert_int_ge(took, 190);
    ck_assert_int_lt(took, 1000);
    ck_assert(!store_connected(e.store));
    ck_assert_int_eq(e.states.ups, 0);

    ck_assert_int_eq(redis_server_thaw(rs), 0);
    ck_assert(run_until(e.loop, is_connected, e.store, 3000));
    ck_assert_int_eq(e.states.ups, 1);
    env_down(&e);
}
END_TEST

START_TEST(sync_pipeline_counts_errors)
{
    struct redis_server *rs = server_start(NULL);
    struct store_config cfg;
    test_config(&cfg, redis_server_address(rs));
    cfg.command_timeout_ms = 5000;
    char err[256] = "";
    struct store_sync *ss = store_sync_connect(&cfg, err, sizeof err);
    ck_assert_msg(ss != NULL, "%s", err);
    char key[64];
    ck_assert_int_gt(store_sync_key(ss, key, sizeof key, "test:pipe"), 0);
    for (int i = 0; i < 100000; i++) {
        const char *verb = i == 50000 ? "LPUSH" : "INCR"; /* LPUSH on a string: WRONGTYPE */
        const char *argv[] = {verb, key, "x"};
        ck_assert_int_eq(store_pipe_append_argv(ss, i == 50000 ? 3 : 2, argv, NULL), 0);
    }
    ck_assert_int_eq(store_pipe_flush(ss), 0);
    const struct store_pipe_stats *st = store_pipe_stats(ss);
    ck_assert_uint_eq(st->sent, 100000);
    ck_assert_uint_eq(st->replies, 100000);
    ck_assert_uint_eq(st->errors, 1);
    ck_assert_uint_eq(st->first_error_index, 50000);
    ck_assert_ptr_nonnull(strstr(st->first_error, "WRONGTYPE"));
    redisReply *r = store_sync_command(ss, "GET %s", key);
    ck_assert_str_eq(r->str, "99999");
    freeReplyObject(r);

    /* A dead server is a connection error, reported with the address. */
    redis_server_kill(rs);
    ck_assert_int_eq(store_pipe_append(ss, "PING"), 0);
    ck_assert_int_eq(store_pipe_flush(ss), -EIO);
    ck_assert_str_ne(store_sync_errstr(ss), "");
    store_sync_free(ss);
    ck_assert_ptr_null(store_sync_connect(&cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, redis_server_socket(rs)));
    store_config_deinit(&cfg);
    redis_server_free(rs);
}
END_TEST

START_TEST(every_command_called_once_on_free)
{
    struct env e;
    env_up(&e, NULL, NULL, 0, 1);
    ck_assert_int_eq(redis_server_freeze(e.rs), 0);
    struct many m = {.reissue_on = e.store};
    for (int i = 0; i < 100; i++)
        store_command(e.store, on_many, &m, "GET farol:k%d", i);
    loop_run_once(e.loop, 0);
    ck_assert_int_eq(store_outstanding(e.store), 100);
    store_free(e.store);
    e.store = NULL;
    /* All before store_free returned, including the one issued from a callback during it. */
    ck_assert_int_eq(m.calls, 101);
    ck_assert_int_eq(m.canceled, 101);
    ck_assert_int_eq(redis_server_thaw(e.rs), 0);

    /* Commands that failed fast but were not delivered yet are delivered by store_free. */
    struct store_config cfg;
    test_config(&cfg, "unix:/nonexistent/farol.sock");
    struct store *s = store_new(e.loop, &cfg);
    struct many m2 = {0};
    for (int i = 0; i < 10; i++)
        store_command(s, on_many, &m2, "PING");
    ck_assert_int_eq(m2.calls, 0);
    store_free(s);
    ck_assert_int_eq(m2.calls, 10);
    ck_assert_int_eq(m2.notconn, 10);
    store_config_deinit(&cfg);
    env_down(&e);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, set_get_roundtrip);
    tcase_add_test(tc, tcp_roundtrip_and_refused);
    tcase_add_test(tc, pipelined_incr_in_order);
    tcase_add_test(tc, auth_right_password);
    tcase_add_test(tc, auth_wrong_password);
    tcase_add_test(tc, select_db);
    tcase_add_test(tc, server_killed_then_restarted);
    tcase_add_test(tc, frozen_server_command_timeout);
    tcase_add_test(tc, connect_timeout_frozen_server);
    tcase_add_test(tc, sync_pipeline_counts_errors);
    tcase_add_test(tc, every_command_called_once_on_free);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(2) */
    if (!mkdtemp(base_dir)) {
        perror("mkdtemp");
        return 1;
    }
    int failed = check_run(store_suite(), CK_FORK_GETENV) != 0;
    redis_server_rmtree(base_dir);
    return failed ? 1 : 0;
}
