#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/httpd.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#include "tests/support/check_run.h"

#define DEADLINE_MS 10000
#define MAX_BODY 1024
#define NCONC 100

/* What the handler saw, copied out of the short-lived request. */
struct seen {
    int calls;
    char *method, *path, *query, *body, *content_type, *remote_addr, *token;
    size_t body_len;
};

struct fixture {
    struct loop *loop;
    struct httpd *h;
    struct seen seen;
    char base[64];
};

/* One client exchange, run on a thread while the test thread runs the loop. */
struct exchange {
    const char *method, *url, *body;
    size_t body_len;
    const char *const *headers;
    long status;
    char *resp;
    size_t resp_len;
    char allow[64], echo[64], ctype[64];
};

static void seen_clear(struct seen *s)
{
    free(s->method);
    free(s->path);
    free(s->query);
    free(s->body);
    free(s->content_type);
    free(s->remote_addr);
    free(s->token);
    memset(s, 0, sizeof *s);
}

/* Records the request; answers "to=<to>|text=<text>" from the query or the form body. */
static void handler(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct seen *s = arg;
    int calls = s->calls;
    seen_clear(s);
    s->calls = calls + 1;
    s->method = xstrdup(rq->method);
    s->path = xstrdup(rq->path);
    s->query = xstrdup(rq->query);
    ck_assert_int_eq(rq->body[rq->body_len], '\0');
    s->body = xstrndup(rq->body, rq->body_len);
    s->body_len = rq->body_len;
    s->content_type = xstrdup(rq->content_type);
    s->remote_addr = xstrdup(rq->remote_addr);
    s->token = xstrdup(rq->header(rq, "x-token"));
    const char *form = rq->query ? rq->query : rq->body;
    size_t flen = rq->query ? strlen(rq->query) : rq->body_len;
    char *to = httpd_form_value(form, flen, "to"), *text = httpd_form_value(form, flen, "text");
    static char buf[256];
    snprintf(buf, sizeof buf, "to=%s|text=%s", to ? to : "-", text ? text : "-");
    free(to);
    free(text);
    static const char *const hdrs[] = {"X-Echo: yes", NULL};
    out->status = strcmp(rq->path, "/dlr/created") == 0 ? 201 : 0;
    out->content_type = "text/plain";
    out->body = buf;
    out->body_len = strlen(buf);
    out->headers = hdrs;
}

static void setup_fixture(struct fixture *f)
{
    char err[256];
    memset(f, 0, sizeof *f);
    f->loop = loop_new();
    f->h = httpd_new(f->loop, "127.0.0.1:0", MAX_BODY, err, sizeof err);
    ck_assert_msg(f->h, "%s", err);
    ck_assert_int_eq(httpd_route(f->h, "GET", "/dlr", handler, &f->seen), 0);
    ck_assert_int_eq(httpd_route(f->h, "POST", "/mo", handler, &f->seen), 0);
    ck_assert_int_eq(httpd_route(f->h, "POST", "/webhook/", handler, &f->seen), 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", httpd_port(f->h));
}

static void teardown_fixture(struct fixture *f)
{
    httpd_free(f->h);
    loop_free(f->loop);
    seen_clear(&f->seen);
}

struct job {
    void (*fn)(void *);
    void *arg;
    int pipe[2];
};

static void *job_thread(void *p)
{
    struct job *j = p;
    j->fn(j->arg);
    if (write(j->pipe[1], "x", 1) != 1)
        abort(); /* the test thread would wait for its deadline: fail loudly instead */
    return NULL;
}

static void set_flag(void *arg)
{
    *(int *)arg = 1;
}

static void on_pipe(void *arg, int revents)
{
    (void)revents;
    *(int *)arg = 1;
}

/* Run fn(arg) on a thread and the loop here (fn reports failures in arg: Check's asserts belong
 * to the test thread) until it is done; fails after DEADLINE_MS. */
static void run_job(struct loop *loop, void (*fn)(void *), void *arg)
{
    struct job j = {.fn = fn, .arg = arg};
    int done = 0, expired = 0;
    ck_assert_int_eq(pipe(j.pipe), 0);
    struct loop_io *io = loop_io_new(loop, j.pipe[0], LOOP_READ, on_pipe, &done);
    struct loop_timer *t = loop_timer_new(loop, set_flag, &expired);
    loop_timer_start(t, DEADLINE_MS, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, job_thread, &j), 0);
    while (!done && !expired)
        loop_run_once(loop, 1);
    loop_timer_free(t);
    loop_io_free(io);
    ck_assert_msg(done, "client did not finish within %d ms", DEADLINE_MS);
    pthread_join(th, NULL);
    close(j.pipe[0]);
    close(j.pipe[1]);
}

static size_t on_body(char *data, size_t sz, size_t n, void *arg)
{
    struct exchange *x = arg;
    x->resp = xrealloc(x->resp, x->resp_len + sz * n + 1);
    memcpy(x->resp + x->resp_len, data, sz * n);
    x->resp_len += sz * n;
    x->resp[x->resp_len] = '\0';
    return sz * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = n - nl - 1;
    while (vl > 0 && *v == ' ')
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(out, outsz, "%.*s", (int)vl, v);
}

static size_t on_header(char *data, size_t sz, size_t n, void *arg)
{
    struct exchange *x = arg;
    header_value(data, sz * n, "Allow", x->allow, sizeof x->allow);
    header_value(data, sz * n, "X-Echo", x->echo, sizeof x->echo);
    header_value(data, sz * n, "Content-Type", x->ctype, sizeof x->ctype);
    return sz * n;
}

static void curl_exchange(void *arg)
{
    struct exchange *x = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    for (size_t i = 0; x->headers && x->headers[i]; i++)
        hl = curl_slist_append(hl, x->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, x->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
    if (x->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)x->body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DEADLINE_MS);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

/* Send method path (with body) to f's server and return the status; x keeps the answer. */
static long send_req(struct fixture *f, struct exchange *x, const char *method, const char *path,
                     const char *body, size_t body_len, const char *const *headers)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    *x = (struct exchange){
        .method = method, .url = url, .body = body, .body_len = body_len, .headers = headers};
    run_job(f->loop, curl_exchange, x);
    return x->status;
}

START_TEST(form_value_decodes_and_finds_keys)
{
    const char *q = "to=%2B5511987654321&text=hello+world%21&to=second&flag&e=&bad=%zz%4";
    char *v;
    ck_assert_str_eq(v = httpd_form_value(q, strlen(q), "to"), "+5511987654321");
    free(v);
    ck_assert_str_eq(v = httpd_form_value(q, strlen(q), "text"), "hello world!");
    free(v);
    ck_assert_str_eq(v = httpd_form_value(q, strlen(q), "flag"), "");
    free(v);
    ck_assert_str_eq(v = httpd_form_value(q, strlen(q), "e"), "");
    free(v);
    ck_assert_str_eq(v = httpd_form_value(q, strlen(q), "bad"), "%zz%4");
    free(v);
    ck_assert_ptr_null(httpd_form_value(q, strlen(q), "missing"));
    ck_assert_ptr_null(httpd_form_value(q, strlen(q), "t"));
    ck_assert_ptr_null(httpd_form_value("", 0, "to"));
    ck_assert_ptr_null(httpd_form_value(NULL, 0, "to"));
    /* A literal '+' is a space, only %2B is a plus; the length bounds the search. */
    ck_assert_str_eq(v = httpd_form_value("to=+55&x=1", 6, "to"), " 55");
    free(v);
    ck_assert_ptr_null(httpd_form_value("to=+55&x=1", 6, "x"));
    ck_assert_str_eq(v = httpd_form_value("a%20b=c", 7, "a b"), "c");
    free(v);
}
END_TEST

START_TEST(get_with_query_is_routed_and_parsed)
{
    struct fixture f;
    setup_fixture(&f);
    struct exchange x;
    const char *hdrs[] = {"X-Token: secret", NULL};
    ck_assert_int_eq(
        send_req(&f, &x, "GET", "/dlr?to=%2B5511987654321&text=a+b%26c&to=x", NULL, 0, hdrs), 200);
    ck_assert_int_eq(f.seen.calls, 1);
    ck_assert_str_eq(f.seen.method, "GET");
    ck_assert_str_eq(f.seen.path, "/dlr");
    ck_assert_str_eq(f.seen.query, "to=%2B5511987654321&text=a+b%26c&to=x");
    ck_assert_str_eq(f.seen.token, "secret");
    ck_assert_str_eq(f.seen.remote_addr, "127.0.0.1");
    ck_assert_str_eq(x.resp, "to=+5511987654321|text=a b&c");
    ck_assert_str_eq(x.echo, "yes");
    ck_assert_str_eq(x.ctype, "text/plain");
    free(x.resp);
    /* A deeper path falls under the same prefix; the handler's status is used. */
    ck_assert_int_eq(send_req(&f, &x, "GET", "/dlr/created", NULL, 0, NULL), 201);
    ck_assert_ptr_null(f.seen.query);
    ck_assert_str_eq(x.resp, "to=-|text=-");
    free(x.resp);
    teardown_fixture(&f);
}
END_TEST

START_TEST(post_form_and_json_bodies_reach_the_handler)
{
    struct fixture f;
    setup_fixture(&f);
    struct exchange x;
    const char *form = "to=%2B5511&text=STOP";
    ck_assert_int_eq(send_req(&f, &x, "POST", "/mo", form, strlen(form), NULL), 200);
    ck_assert_str_eq(f.seen.content_type, "application/x-www-form-urlencoded");
    ck_assert_str_eq(f.seen.body, form);
    ck_assert_str_eq(x.resp, "to=+5511|text=STOP");
    free(x.resp);
    const char json[] =
        "{\"MessageSid\":\"SM1\",\"MessageStatus\":\"delivered\",\"n\":\"\\u0000\"}";
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(send_req(&f, &x, "POST", "/webhook/twilio", json, sizeof json - 1, hdrs), 200);
    ck_assert_str_eq(f.seen.path, "/webhook/twilio");
    ck_assert_str_eq(f.seen.content_type, "application/json");
    ck_assert_uint_eq(f.seen.body_len, sizeof json - 1);
    ck_assert_str_eq(f.seen.body, json);
    free(x.resp);
    ck_assert_int_eq(f.seen.calls, 2);
    teardown_fixture(&f);
}
END_TEST

START_TEST(unknown_path_is_404_and_wrong_method_is_405)
{
    struct fixture f;
    setup_fixture(&f);
    struct exchange x;
    ck_assert_int_eq(send_req(&f, &x, "GET", "/nothing", NULL, 0, NULL), 404);
    free(x.resp);
    ck_assert_int_eq(send_req(&f, &x, "GET", "/dlrx", NULL, 0, NULL), 404);
    free(x.resp);
    ck_assert_int_eq(send_req(&f, &x, "POST", "/dlr", "a=1", 3, NULL), 405);
    ck_assert_str_eq(x.allow, "GET");
    free(x.resp);
    ck_assert_int_eq(send_req(&f, &x, "DELETE", "/webhook/x", NULL, 0, NULL), 405);
    ck_assert_str_eq(x.allow, "POST");
    free(x.resp);
    ck_assert_int_eq(f.seen.calls, 0);
    /* The longest prefix wins over a shorter one with the method. */
    ck_assert_int_eq(httpd_route(f.h, "GET", "/", handler, &f.seen), 0);
    ck_assert_int_eq(httpd_route(f.h, "GET", "/", handler, &f.seen), -EEXIST);
    ck_assert_int_eq(httpd_route(f.h, "GET", "nope", handler, &f.seen), -EINVAL);
    ck_assert_int_eq(send_req(&f, &x, "GET", "/nothing", NULL, 0, NULL), 200);
    free(x.resp);
    ck_assert_int_eq(send_req(&f, &x, "GET", "/mo", NULL, 0, NULL), 405);
    free(x.resp);
    teardown_fixture(&f);
}
END_TEST

START_TEST(oversized_body_is_413_without_the_handler)
{
    struct fixture f;
    setup_fixture(&f);
    struct exchange x;
    char *big = xmalloc(MAX_BODY + 1);
    memset(big, 'a', MAX_BODY + 1);
    ck_assert_int_eq(send_req(&f, &x, "POST", "/mo", big, MAX_BODY, NULL), 200);
    ck_assert_uint_eq(f.seen.body_len, MAX_BODY);
    free(x.resp);
    ck_assert_int_eq(send_req(&f, &x, "POST", "/mo", big, MAX_BODY + 1, NULL), 413);
    free(x.resp);
    /* Chunked: no Content-Length to refuse early, the limit applies while reading. */
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    ck_assert_int_eq(send_req(&f, &x, "POST", "/mo", big, MAX_BODY + 1, chunked), 413);
    free(x.resp);
    /* Far past the limit the server stops reading: 413 or a reset, never the handler. */
    size_t huge = 512 * 1024;
    char *hbody = xmalloc(huge);
    memset(hbody, 'b', huge);
    long st = send_req(&f, &x, "POST", "/mo", hbody, huge, chunked);
    ck_assert_msg(st == 413 || st == 0, "status %ld", st);
    free(x.resp);
    free(hbody);
    ck_assert_int_eq(f.seen.calls, 1);
    ck_assert_int_eq(send_req(&f, &x, "POST", "/mo", "to=1", 4, chunked), 200);
    ck_assert_str_eq(f.seen.body, "to=1");
    free(x.resp);
    free(big);
    teardown_fixture(&f);
}
END_TEST

/* A connected socket to 127.0.0.1:port, or -1. */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Write all of s to fd; 0 or -1. */
static int write_str(int fd, const char *s)
{
    size_t n = strlen(s);
    return fd >= 0 && write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

/* Read until the peer closes; returns the bytes read (NUL-terminated, caller frees). */
static char *read_all(int fd)
{
    size_t len = 0, cap = 1024;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 512 > cap)
            buf = xrealloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

struct raw {
    int port;
    const char *request;
    char *answer;
};

static void raw_exchange(void *arg)
{
    struct raw *r = arg;
    int fd = connect_to(r->port);
    r->answer = write_str(fd, r->request) == 0 ? read_all(fd) : xstrdup("(no connection)");
    if (fd >= 0)
        close(fd);
}

START_TEST(malformed_request_is_400_and_serving_goes_on)
{
    struct fixture f;
    setup_fixture(&f);
    const char *bad[] = {
        "GET /dlr FOO/1.1\r\nHost: x\r\n\r\n",
        "GET  HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /dlr HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        "GET /dlr HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n",
        NULL,
    };
    struct raw r = {.port = httpd_port(f.h)};
    for (int i = 0; bad[i]; i++) {
        r.request = bad[i];
        run_job(f.loop, raw_exchange, &r);
        ck_assert_msg(strncmp(r.answer, "HTTP/1.1 400", 12) == 0, "%s: %s", bad[i], r.answer);
        free(r.answer);
    }
    /* A line without any space is beyond answering: libmicrohttpd 0.9.75 just closes. */
    r.request = "GARBAGE\r\n\r\n";
    run_job(f.loop, raw_exchange, &r);
    ck_assert_msg(r.answer[0] == '\0' || strncmp(r.answer, "HTTP/1.1 400", 12) == 0, "%s",
                  r.answer);
    free(r.answer);
    ck_assert_int_eq(f.seen.calls, 0);
    struct exchange x;
    ck_assert_int_eq(send_req(&f, &x, "GET", "/dlr?to=1", NULL, 0, NULL), 200);
    free(x.resp);
    teardown_fixture(&f);
}
END_TEST

struct many {
    int port;
    int ok;
};

/* Open all connections, then send every request, then read every answer: all are in flight
 * on the server at once. */
static void many_exchange(void *arg)
{
    struct many *m = arg;
    int fds[NCONC];
    for (int i = 0; i < NCONC; i++)
        fds[i] = connect_to(m->port);
    for (int i = 0; i < NCONC; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET /dlr?to=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 i);
        write_str(fds[i], req); /* a failed write shows as a missing answer */
    }
    for (int i = 0; i < NCONC; i++) {
        if (fds[i] < 0)
            continue;
        char *a = read_all(fds[i]), want[32];
        snprintf(want, sizeof want, "to=%d|text=-", i);
        if (strncmp(a, "HTTP/1.1 200", 12) == 0 && strstr(a, want))
            m->ok++;
        free(a);
        close(fds[i]);
    }
}

START_TEST(hundred_concurrent_requests_are_all_answered)
{
    struct fixture f;
    setup_fixture(&f);
    struct many m = {.port = httpd_port(f.h)};
    run_job(f.loop, many_exchange, &m);
    ck_assert_int_eq(m.ok, NCONC);
    ck_assert_int_eq(f.seen.calls, NCONC);
    teardown_fixture(&f);
}
END_TEST

START_TEST(listen_addresses_are_checked)
{
    char err[256];
    struct loop *loop = loop_new();
    struct httpd *h = httpd_new(loop, "127.0.0.1:0", 0, err, sizeof err);
    ck_assert_msg(h, "%s", err);
    int port = httpd_port(h);
    ck_assert_int_gt(port, 0);
    ck_assert_int_le(port, 65535);
    /* The port is really bound: a second server on it fails with a message. */
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", port);
    err[0] = '\0';
    ck_assert_ptr_null(httpd_new(loop, taken, 0, err, sizeof err));
    ck_assert_msg(strstr(err, taken), "%s", err);
    const char *bad[] = {"localhost:80", "127.0.0.1", "127.0.0.1:",   "127.0.0.1:70000",
                         "[::1:0",       ":80",       "127.0.0.1:8x", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        ck_assert_msg(!httpd_new(loop, bad[i], 0, err, sizeof err), "%s accepted", bad[i]);
        ck_assert_msg(err[0], "no message for %s", bad[i]);
    }
    struct httpd *h6 = httpd_new(loop, "[::1]:0", 0, err, sizeof err);
    if (h6) /* a host without IPv6 loopback can only refuse */
        ck_assert_int_gt(httpd_port(h6), 0);
    httpd_free(h6);
    httpd_free(h);
    loop_free(loop);
}
END_TEST

struct open_conn {
    int port, fd;
    char first[512]; /* the answer to the full request */
    char *answer;
};

/* One full exchange on a kept-alive connection, then half a request left hanging. */
static void open_and_leave(void *arg)
{
    struct open_conn *o = arg;
    o->fd = connect_to(o->port);
    if (write_str(o->fd, "GET /dlr HTTP/1.1\r\nHost: x\r\n\r\n") < 0)
        return;
    ssize_t n = read(o->fd, o->first, sizeof o->first - 1);
    o->first[n > 0 ? n : 0] = '\0';
    write_str(o->fd, "POST /mo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
}

static void read_rest(void *arg)
{
    struct open_conn *o = arg;
    o->answer = read_all(o->fd);
}

START_TEST(free_with_a_connection_open_closes_it)
{
    struct fixture f;
    setup_fixture(&f);
    struct open_conn o = {.port = httpd_port(f.h)};
    run_job(f.loop, open_and_leave, &o);
    ck_assert_int_ge(o.fd, 0);
    ck_assert_msg(strncmp(o.first, "HTTP/1.1 200", 12) == 0, "%s", o.first);
    ck_assert_int_eq(f.seen.calls, 1);
    /* Loopback delivers inside write(), so the half request is readable now: one pass makes the
     * server start on it, and ASan's leak check covers that request's state. */
    loop_run_once(f.loop, 0);
    httpd_free(f.h);
    f.h = NULL;
    /* The peer sees the close: the read ends without another answer. */
    run_job(f.loop, read_rest, &o);
    ck_assert_str_eq(o.answer, "");
    free(o.answer);
    close(o.fd);
    teardown_fixture(&f);
}
END_TEST

static Suite *httpd_suite(void)
{
    Suite *s = suite_create("httpd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, form_value_decodes_and_finds_keys);
    tcase_add_test(tc, get_with_query_is_routed_and_parsed);
    tcase_add_test(tc, post_form_and_json_bodies_reach_the_handler);
    tcase_add_test(tc, unknown_path_is_404_and_wrong_method_is_405);
    tcase_add_test(tc, oversized_body_is_413_without_the_handler);
    tcase_add_test(tc, malformed_request_is_400_and_serving_goes_on);
    tcase_add_test(tc, hundred_concurrent_requests_are_all_answered);
    tcase_add_test(tc, listen_addresses_are_checked);
    tcase_add_test(tc, free_with_a_connection_open_closes_it);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = check_run(httpd_suite(), CK_NOFORK);
    curl_global_cleanup();
    return rc;
}
