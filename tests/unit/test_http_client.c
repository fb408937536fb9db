#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/http_client.h"

#include "tests/support/check_run.h"
#include "tests/support/http_server.h"

#define DEADLINE_MS 10000

/* What one done callback saw, copied out of the short-lived response. */
struct result {
    int calls;
    int status, err;
    char *body;
    size_t body_len;
    char *retry_after, *content_type;
    int64_t elapsed_ms;
};

struct fixture {
    struct loop *loop;
    struct http_server *srv;
    struct http_client *client;
    int expired;
    char url[256];
};

static void done(void *arg, const struct http_response *r)
{
    struct result *res = arg;
    res->calls++;
    res->status = r->status;
    res->err = r->err;
    ck_assert_ptr_nonnull(r->body);
    ck_assert_int_eq(r->body[r->body_len], '\0');
    res->body = xstrndup(r->body, r->body_len);
    res->body_len = r->body_len;
    res->retry_after = xstrdup(r->retry_after);
    res->content_type = xstrdup(r->content_type);
    res->elapsed_ms = r->elapsed_ms;
    if (r->err)
        ck_assert_ptr_nonnull(r->errmsg);
}

static void result_clear(struct result *r)
{
    free(r->body);
    free(r->retry_after);
    free(r->content_type);
}

static void expire(void *arg)
{
    *(int *)arg = 1;
}

/* Run the loop until *count reaches want; fails the test after DEADLINE_MS. */
static void run_until(struct fixture *f, const int *count, int want)
{
    struct loop_timer *t = loop_timer_new(f->loop, expire, &f->expired);
    f->expired = 0;
    loop_timer_start(t, DEADLINE_MS, 0);
    while (*count < want && !f->expired)
        loop_run_once(f->loop, 1);
    loop_timer_free(t);
    ck_assert_int_ge(*count, want);
}

static void setup(struct fixture *f, const struct http_client_opts *o)
{
    char err[256];
    memset(f, 0, sizeof *f);
    f->loop = loop_new();
    f->srv = http_server_start(err, sizeof err);
    ck_assert_msg(f->srv, "%s", err);
    f->client = http_client_new(f->loop, o);
    ck_assert_ptr_nonnull(f->client);
}

static void teardown(struct fixture *f)
{
    http_client_free(f->client);
    http_server_stop(f->srv);
    loop_free(f->loop);
}

static const char *url(struct fixture *f, const char *path)
{
    snprintf(f->url, sizeof f->url, "%s%s", http_server_url(f->srv), path);
    return f->url;
}

/* Send one request to path and wait for its callback. */
static void exchange(struct fixture *f, struct http_request *rq, const char *path,
                     struct result *res)
{
    rq->url = url(f, path);
    ck_assert_int_eq(http_client_send(f->client, rq, done, res), 0);
    ck_assert_int_eq(res->calls, 0); /* never called back from inside send */
    ck_assert_uint_eq(http_client_inflight(f->client), 1);
    run_until(f, &res->calls, 1);
    ck_assert_int_eq(res->calls, 1);
    ck_assert_uint_eq(http_client_inflight(f->client), 0);
}

START_TEST(ok_with_body_and_request_sent_as_given)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/send",
                    &(struct http_server_reply){.status = 200,
                                                .headers = "Content-Type: application/json\r\n",
                                                .body = "{\"ok\":1}"});
    const char *hdrs[] = {"X-Test: yes", "Content-Type: text/plain", NULL};
    struct http_request rq = {.method = "POST",
                              .headers = hdrs,
                              .body = "hello\0world",
                              .body_len = 11,
                              .timeout_ms = 5000,
                              .userpwd = "u:p"};
    struct result res = {0};
    exchange(&f, &rq, "/send?x=1", &res);
    ck_assert_int_eq(res.err, 0);
    ck_assert_int_eq(res.status, 200);
    ck_assert_str_eq(res.body, "{\"ok\":1}");
    ck_assert_str_eq(res.content_type, "application/json");
    ck_assert_ptr_null(res.retry_after);
    char *req = http_server_last_request(f.srv);
    ck_assert_msg(strncmp(req, "POST /send?x=1 HTTP/1.1\r\n", 25) == 0, "%s", req);
    ck_assert_ptr_nonnull(strstr(req, "\r\nX-Test: yes\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "\r\nAuthorization: Basic dTpw\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "\r\nContent-Length: 11\r\n"));
    ck_assert_ptr_null(strstr(req, "Expect:"));
    ck_assert_int_eq(memcmp(strstr(req, "\r\n\r\n") + 4, "hello", 5), 0);
    free(req);
    result_clear(&res);
    teardown(&f);
}
END_TEST

START_TEST(client_and_server_errors_pass_through)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/bad", &(struct http_server_reply){.status = 400, .body = "nope"});
    http_server_set(f.srv, "/down", &(struct http_server_reply){.status = 503});
    struct http_request rq = {.timeout_ms = 5000};
    struct result a = {0}, b = {0};
    exchange(&f, &rq, "/bad", &a);
    exchange(&f, &rq, "/down", &b);
    ck_assert_int_eq(a.err, 0);
    ck_assert_int_eq(a.status, 400);
    ck_assert_str_eq(a.body, "nope");
    ck_assert_int_eq(b.err, 0);
    ck_assert_int_eq(b.status, 503);
    ck_assert_uint_eq(b.body_len, 0);
    char *req = http_server_last_request(f.srv);
    ck_assert_msg(strncmp(req, "GET /down HTTP/1.1\r\n", 20) == 0, "%s", req);
    free(req);
    result_clear(&a);
    result_clear(&b);
    teardown(&f);
}
END_TEST

START_TEST(too_many_requests_carries_retry_after)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/s",
                    &(struct http_server_reply){.status = 429, .headers = "Retry-After: 7\r\n"});
    http_server_set(
        f.srv, "/d",
        &(struct http_server_reply){.status = 429,
                                    .headers = "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"});
    struct http_request rq = {.timeout_ms = 5000};
    struct result a = {0}, b = {0};
    exchange(&f, &rq, "/s", &a);
    exchange(&f, &rq, "/d", &b);
    ck_assert_int_eq(a.status, 429);
    ck_assert_str_eq(a.retry_after, "7");
    ck_assert_int_eq(http_retry_after_ms(a.retry_after, 0), 7000);
    ck_assert_int_eq(b.status, 429);
    int64_t when = 1445412480000LL; /* 2015-10-21T07:28:00Z */
    ck_assert_int_eq(http_retry_after_ms(b.retry_after, when - 120000), 120000);
    result_clear(&a);
    result_clear(&b);
    teardown(&f);
}
END_TEST

START_TEST(retry_after_parses_seconds_and_dates)
{
    int64_t when = 1445412480000LL; /* 2015-10-21T07:28:00Z */
    ck_assert_int_eq(http_retry_after_ms("0", when), 0);
    ck_assert_int_eq(http_retry_after_ms(" 120 ", when), 120000);
    ck_assert_int_eq(http_retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", when), 30000);
    ck_assert_int_eq(http_retry_after_ms("Wednesday, 21-Oct-15 07:28:30 GMT", when), 30000);
    ck_assert_int_eq(http_retry_after_ms("Wed Oct 21 07:28:30 2015", when), 30000);
    ck_assert_int_eq(http_retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", when), 0);
    ck_assert_int_eq(http_retry_after_ms(NULL, when), -EINVAL);
    ck_assert_int_eq(http_retry_after_ms("", when), -EINVAL);
    ck_assert_int_eq(http_retry_after_ms("soon", when), -EINVAL);
    ck_assert_int_eq(http_retry_after_ms("12abc", when), -EINVAL);
    ck_assert_int_eq(http_retry_after_ms("-5", when), -EINVAL);
    ck_assert_int_eq(http_retry_after_ms("99999999999999999999", when), -ERANGE);
    ck_assert_int_eq(http_retry_after_ms("Wed, 21 Oct 2099 07:28:00 GMT", when), -ERANGE);
}
END_TEST

START_TEST(slow_answer_times_out_near_the_deadline)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/slow", &(struct http_server_reply){.delay_ms = 3000});
    struct http_request rq = {.timeout_ms = 300};
    struct result res = {0};
    exchange(&f, &rq, "/slow", &res);
    ck_assert_int_eq(res.err, -ETIMEDOUT);
    ck_assert_int_eq(res.status, 0);
    ck_assert_int_ge(res.elapsed_ms, 290);
    ck_assert_int_le(res.elapsed_ms, 800);
    result_clear(&res);
    teardown(&f);
}
END_TEST

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd); /* bound but never listening: connects are refused */
    return ntohs(a.sin_port);
}

START_TEST(nobody_listening_is_connection_refused)
{
    struct fixture f;
    setup(&f, NULL);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x", free_port());
    struct http_request rq = {.url = u, .timeout_ms = 5000};
    struct result res = {0};
    ck_assert_int_eq(http_client_send(f.client, &rq, done, &res), 0);
    run_until(&f, &res.calls, 1);
    ck_assert_int_eq(res.err, -ECONNREFUSED);
    ck_assert_int_eq(res.status, 0);
    result_clear(&res);
    teardown(&f);
}
END_TEST

/* A self-signed certificate for 127.0.0.1, made once in main() for the TLS tests. */
static char tls_dir[] = "/tmp/farol-http-tls-XXXXXX";
static char tls_cert[64], tls_key[64];

static int make_cert(void)
{
    if (!mkdtemp(tls_dir))
        return -1;
    snprintf(tls_cert, sizeof tls_cert, "%s/cert.pem", tls_dir);
    snprintf(tls_key, sizeof tls_key, "%s/key.pem", tls_dir);
    char *cmd = xasprintf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                          "-nodes -keyout %s -out %s -subj /CN=127.0.0.1 "
                          "-addext subjectAltName=IP:127.0.0.1 -days 2 >/dev/null 2>&1",
                          tls_key, tls_cert);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* openssl s_server -www on port: answers any GET over TLS with 200 and a status page. */
static pid_t start_tls_server(int port)
{
    char accept[32];
    snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing test leaves no server behind */
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert", tls_cert, "-key",
               tls_key, "-www", "-quiet", (char *)NULL);
        _exit(127);
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    int up = 0;
    for (int64_t end = mono_ms() + DEADLINE_MS; !up && mono_ms() < end;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (!up)
            ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0); /* it must not have died */
    }
    ck_assert_msg(up, "openssl s_server did not start");
    return pid;
}

static void tls_exchange(const struct http_client_opts *o, const char *url, struct result *res)
{
    struct fixture f;
    setup(&f, o);
    struct http_request rq = {.url = url, .timeout_ms = 5000};
    ck_assert_int_eq(http_client_send(f.client, &rq, done, res), 0);
    run_until(&f, &res->calls, 1);
    teardown(&f);
}

START_TEST(tls_is_verified)
{
    int port = free_port();
    pid_t pid = start_tls_server(port);
    char u[64];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/", port);
    struct result untrusted = {0}, trusted = {0}, insecure = {0};
    tls_exchange(NULL, u, &untrusted);
    tls_exchange(&(struct http_client_opts){.ca_file = tls_cert}, u, &trusted);
    tls_exchange(&(struct http_client_opts){.insecure_no_verify_tls = 1}, u, &insecure);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(untrusted.err, -EKEYREJECTED);
    ck_assert_int_eq(untrusted.status, 0);
    ck_assert_int_eq(trusted.err, 0);
    ck_assert_int_eq(trusted.status, 200);
    ck_assert_int_eq(insecure.err, 0);
    ck_assert_int_eq(insecure.status, 200);
    result_clear(&untrusted);
    result_clear(&trusted);
    result_clear(&insecure);
}
END_TEST

START_TEST(closed_without_answer_is_connection_reset)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/drop", &(struct http_server_reply){.close_without_answer = 1});
    struct http_request rq = {.timeout_ms = 5000};
    struct result res = {0};
    exchange(&f, &rq, "/drop", &res);
    ck_assert_int_eq(res.err, -ECONNRESET);
    ck_assert_int_eq(res.status, 0);
    ck_assert_int_ge(http_server_requests(f.srv), 1);
    result_clear(&res);
    teardown(&f);
}
END_TEST

START_TEST(oversized_body_is_rejected)
{
    struct http_client_opts o = {.max_body_bytes = 1000};
    struct fixture f;
    setup(&f, &o);
    char *big = xmalloc(5000);
    memset(big, 'a', 5000);
    http_server_set(f.srv, "/big", &(struct http_server_reply){.body = big, .body_len = 5000});
    http_server_set(f.srv, "/fits", &(struct http_server_reply){.body = big, .body_len = 1000});
    free(big);
    struct http_request rq = {.timeout_ms = 5000};
    struct result a = {0}, b = {0};
    exchange(&f, &rq, "/big", &a);
    exchange(&f, &rq, "/fits", &b);
    ck_assert_int_eq(a.err, -EMSGSIZE);
    ck_assert_int_eq(b.err, 0);
    ck_assert_uint_eq(b.body_len, 1000);
    result_clear(&a);
    result_clear(&b);
    teardown(&f);
}
END_TEST

START_TEST(bad_requests_are_refused_at_send)
{
    struct fixture f;
    setup(&f, NULL);
    const char *inject[] = {"X-A: 1\r\nX-B: 2", NULL};
    const char *nocolon[] = {"nocolon", NULL};
    struct result res = {0};
    struct http_request rq = {.url = url(&f, "/x"), .headers = inject};
    ck_assert_int_eq(http_client_send(f.client, &rq, done, &res), -EINVAL);
    rq.headers = nocolon;
    ck_assert_int_eq(http_client_send(f.client, &rq, done, &res), -EINVAL);
    rq.headers = NULL;
    rq.url = NULL;
    ck_assert_int_eq(http_client_send(f.client, &rq, done, &res), -EINVAL);
    rq.url = "ftp://127.0.0.1/x";
    ck_assert_int_eq(http_client_send(f.client, &rq, done, &res), 0);
    run_until(&f, &res.calls, 1);
    ck_assert_int_eq(res.err, -EINVAL);
    ck_assert_uint_eq(http_client_inflight(f.client), 0);
    result_clear(&res);
    teardown(&f);
}
END_TEST

struct many {
    int calls, ok;
};

static void count_ok(void *arg, const struct http_response *r)
{
    struct many *m = arg;
    m->calls++;
    m->ok += r->err == 0 && r->status == 200 && strcmp(r->body, "pong") == 0;
}

START_TEST(concurrent_requests_reuse_connections)
{
    struct http_client_opts o = {.max_host_connections = 4};
    struct fixture f;
    setup(&f, &o);
    http_server_set(f.srv, "/ping", &(struct http_server_reply){.body = "pong"});
    struct many m = {0};
    struct http_request rq = {.url = url(&f, "/ping"), .timeout_ms = 8000};
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(http_client_send(f.client, &rq, count_ok, &m), 0);
    ck_assert_uint_eq(http_client_inflight(f.client), 200);
    run_until(&f, &m.calls, 200);
    ck_assert_int_eq(m.ok, 200);
    ck_assert_int_eq(http_server_requests(f.srv), 200);
    ck_assert_int_le(http_server_connections(f.srv), 8);
    ck_assert_int_le(http_client_connects(f.client), 8);
    ck_assert_int_ge(http_client_connects(f.client), 1);
    teardown(&f);
}
END_TEST

START_TEST(free_cancels_requests_in_flight)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/slow", &(struct http_server_reply){.delay_ms = 5000});
    struct result res[3] = {{0}};
    struct http_request rq = {.url = url(&f, "/slow"), .timeout_ms = 8000};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(http_client_send(f.client, &rq, done, &res[i]), 0);
    /* let the requests reach the server, so sockets and timers are live when freeing */
    struct loop_timer *t = loop_timer_new(f.loop, expire, &f.expired);
    loop_timer_start(t, DEADLINE_MS, 0);
    while (http_server_requests(f.srv) < 3 && !f.expired)
        loop_run_once(f.loop, 1);
    loop_timer_free(t);
    ck_assert_int_eq(http_server_requests(f.srv), 3);
    http_client_free(f.client);
    f.client = NULL;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(res[i].calls, 1);
        ck_assert_int_eq(res[i].err, -ECANCELED);
        result_clear(&res[i]);
    }
    teardown(&f);
}
END_TEST

struct chain {
    struct fixture *f;
    int calls, send_rc, frees;
};

static void free_from_callback(void *arg, const struct http_response *r)
{
    struct chain *ch = arg;
    (void)r;
    if (ch->calls++ == 0 && ch->frees) {
        http_client_free(ch->f->client);
        struct http_request rq = {.url = "http://127.0.0.1:1/"};
        ch->send_rc = http_client_send(ch->f->client, &rq, free_from_callback, ch);
        ch->f->client = NULL; /* the real free runs once this callback returns */
    }
}

START_TEST(free_inside_a_callback_is_deferred)
{
    struct fixture f;
    setup(&f, NULL);
    http_server_set(f.srv, "/fast", &(struct http_server_reply){.body = "x"});
    http_server_set(f.srv, "/slow", &(struct http_server_reply){.delay_ms = 5000});
    struct chain first = {.f = &f, .frees = 1}, second = {.f = &f};
    struct http_request rq = {.url = url(&f, "/slow"), .timeout_ms = 8000};
    ck_assert_int_eq(http_client_send(f.client, &rq, free_from_callback, &second), 0);
    rq.url = url(&f, "/fast");
    ck_assert_int_eq(http_client_send(f.client, &rq, free_from_callback, &first), 0);
    run_until(&f, &first.calls, 1);
    ck_assert_int_eq(first.send_rc, -ESHUTDOWN);
    ck_assert_ptr_null(f.client);
    ck_assert_int_eq(second.calls, 1); /* cancelled by the deferred free */
    teardown(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ok_with_body_and_request_sent_as_given);
    tcase_add_test(tc, client_and_server_errors_pass_through);
    tcase_add_test(tc, too_many_requests_carries_retry_after);
    tcase_add_test(tc, retry_after_parses_seconds_and_dates);
    tcase_add_test(tc, slow_answer_times_out_near_the_deadline);
    tcase_add_test(tc, nobody_listening_is_connection_refused);
    tcase_add_test(tc, closed_without_answer_is_connection_reset);
    tcase_add_test(tc, tls_is_verified);
    tcase_add_test(tc, oversized_body_is_rejected);
    tcase_add_test(tc, bad_requests_are_refused_at_send);
    tcase_add_test(tc, concurrent_requests_reuse_connections);
    tcase_add_test(tc, free_cancels_requests_in_flight);
    tcase_add_test(tc, free_inside_a_callback_is_deferred);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int cert_ok = make_cert() == 0;
    int rc = check_run(suite(), CK_FORK);
    unlink(tls_cert);
    unlink(tls_key);
    rmdir(tls_dir);
    if (!cert_ok)
        fprintf(stderr, "could not make a test certificate with openssl\n");
    return cert_ok ? rc : EXIT_FAILURE;
}
