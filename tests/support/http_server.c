/* http_server: scripted HTTP/1.1 answers for tests, served from a thread. */
#include "tests/support/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"

#define MAX_CONNS 1024
#define MAX_ROUTES 32

struct route {
    char *path;
    struct http_server_reply r; /* strings owned */
};

struct conn {
    int fd;
    char *buf;
    size_t len, cap;
    int64_t answer_at; /* >0: a request is parsed and waits for its delay */
    size_t req_len;    /* bytes of that request in buf */
};

struct http_server {
    int lfd, wake[2];
    char url[64];
    pthread_t thread;
    pthread_mutex_t mu;
    struct route routes[MAX_ROUTES];
    int nroutes;
    int connections, requests;
    char *last;
    struct conn conns[MAX_CONNS];
    int nconns;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(struct http_server *s, int i)
{
    close(s->conns[i].fd);
    free(s->conns[i].buf);
    s->conns[i] = s->conns[--s->nconns];
}

/* Length of the first complete request in c->buf, or 0 while incomplete. */
static size_t request_len(const struct conn *c)
{
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf) + 4;
    size_t body = 0;
    for (const char *p = c->buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
        p += (*p == '\n');
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            body = strtoul(p + 15, NULL, 10);
    }
    return c->len >= head + body ? head + body : 0;
}

static const struct http_server_reply *find_route(struct http_server *s, const char *buf)
{
    const char *p = strchr(buf, ' ');
    if (!p)
        return NULL;
    p++;
    size_t n = strcspn(p, " ?");
    for (int i = 0; i < s->nroutes; i++)
        if (strlen(s->routes[i].path) == n && strncmp(s->routes[i].path, p, n) == 0)
            return &s->routes[i].r;
    return NULL;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN && poll(&pfd, 1, 2000) > 0)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Returns -1 when the connection must be closed. */
static int answer(struct http_server *s, struct conn *c)
{
    pthread_mutex_lock(&s->mu);
    const struct http_server_reply *r = find_route(s, c->buf);
    struct http_server_reply nf = {.status = 404, .body = "no route\n", .body_len = 9};
    if (!r)
        r = &nf;
    int rc = -1;
    if (!r->close_without_answer) {
        char *head =
            xasprintf("HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", r->status ? r->status : 200,
                      r->body_len, r->headers ? r->headers : "");
        /* one send: head and body in two segments would wait on a delayed ACK (Nagle) */
        size_t hl = strlen(head);
        char *msg = xmalloc(hl + r->body_len);
        memcpy(msg, head, hl);
        if (r->body_len)
            memcpy(msg + hl, r->body, r->body_len);
        rc = send_all(c->fd, msg, hl + r->body_len);
        free(msg);
        free(head);
    }
    pthread_mutex_unlock(&s->mu);
    memmove(c->buf, c->buf + c->req_len, c->len - c->req_len);
    c->len -= c->req_len;
    c->req_len = 0;
    c->answer_at = 0;
    return rc;
}

static void note_request(struct http_server *s, struct conn *c, size_t n)
{
    pthread_mutex_lock(&s->mu);
    s->requests++;
    free(s->last);
    s->last = xstrndup(c->buf, n);
    const struct http_server_reply *r = find_route(s, s->last);
    int delay = r ? r->delay_ms : 0;
    pthread_mutex_unlock(&s->mu);
    c->req_len = n;
    c->answer_at = now_ms() + delay;
}

/* Returns -1 when the connection must be closed. */
static int on_readable(struct http_server *s, struct conn *c)
{
    if (c->cap - c->len < 4096) {
        c->cap = c->cap ? c->cap * 2 : 8192;
        c->buf = xrealloc(c->buf, c->cap + 1);
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n <= 0)
        return n < 0 && errno == EAGAIN ? 0 : -1;
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    size_t rl;
    if (!c->answer_at && (rl = request_len(c)))
        note_request(s, c, rl);
    return 0;
}

static void accept_one(struct http_server *s)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (s->nconns == MAX_CONNS) {
        close(fd);
        return;
    }
    s->conns[s->nconns++] = (struct conn){.fd = fd};
    pthread_mutex_lock(&s->mu);
    s->connections++;
    pthread_mutex_unlock(&s->mu);
}

static int poll_timeout(const struct http_server *s)
{
    int64_t t = -1, now = now_ms();
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].answer_at && (t < 0 || s->conns[i].answer_at - now < t))
            t = s->conns[i].answer_at > now ? s->conns[i].answer_at - now : 0;
    return (int)t;
}

static void serve_due(struct http_server *s)
{
    int64_t now = now_ms();
    for (int i = s->nconns - 1; i >= 0; i--) {
        struct conn *c = &s->conns[i];
        if (!c->answer_at || c->answer_at > now)
            continue;
        if (answer(s, c) < 0)
            conn_close(s, i);
        else if (c->len && request_len(c))
            note_request(s, c, request_len(c));
    }
}

static void *serve(void *arg)
{
    struct http_server *s = arg;
    struct pollfd pfd[MAX_CONNS + 2];
    for (;;) {
        pfd[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        for (int i = 0; i < s->nconns; i++)
            pfd[i + 2] = (struct pollfd){.fd = s->conns[i].fd, .events = POLLIN};
        int n = s->nconns;
        if (poll(pfd, (nfds_t)n + 2, poll_timeout(s)) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        for (int i = n - 1; i >= 0; i--)
            if (pfd[i + 2].revents && on_readable(s, &s->conns[i]) < 0)
                conn_close(s, i);
        if (pfd[1].revents)
            accept_one(s);
        serve_due(s);
    }
    return NULL;
}

static int listen_local(struct http_server *s, char *err, size_t errsz)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(s->lfd, 1024) < 0 || getsockname(s->lfd, (struct sockaddr *)&a, &alen) < 0) {
        snprintf(err, errsz, "listen on 127.0.0.1: %s", strerror(errno));
        return -1;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    return 0;
}

struct http_server *http_server_start(char *err, size_t errsz)
{
    struct http_server *s = xcalloc(1, sizeof *s);
    s->lfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (pipe2(s->wake, O_CLOEXEC) < 0) {
        snprintf(err, errsz, "pipe: %s", strerror(errno));
        free(s);
        return NULL;
    }
    if (listen_local(s, err, errsz) < 0 || pthread_create(&s->thread, NULL, serve, s) != 0) {
        if (s->lfd >= 0)
            close(s->lfd);
        close(s->wake[0]);
        close(s->wake[1]);
        free(s);
        return NULL;
    }
    return s;
}

const char *http_server_url(const struct http_server *s)
{
    return s->url;
}

static void route_clear(struct route *rt)
{
    free(rt->path);
    free((char *)rt->r.headers);
    free((char *)rt->r.body);
}

void http_server_set(struct http_server *s, const char *path, const struct http_server_reply *r)
{
    pthread_mutex_lock(&s->mu);
    int i = 0;
    while (i < s->nroutes && strcmp(s->routes[i].path, path) != 0)
        i++;
    if (i == s->nroutes && s->nroutes < MAX_ROUTES)
        s->nroutes++;
    else
        route_clear(&s->routes[i]);
    struct route *rt = &s->routes[i];
    rt->path = xstrdup(path);
    rt->r = *r;
    rt->r.headers = xstrdup(r->headers);
    rt->r.body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    rt->r.body = r->body ? xstrndup(r->body, rt->r.body_len) : NULL;
    pthread_mutex_unlock(&s->mu);
}

static int read_counter(struct http_server *s, const int *v)
{
    pthread_mutex_lock(&s->mu);
    int n = *v;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int http_server_connections(struct http_server *s)
{
    return read_counter(s, &s->connections);
}

int http_server_requests(struct http_server *s)
{
    return read_counter(s, &s->requests);
}

char *http_server_last_request(struct http_server *s)
{
    pthread_mutex_lock(&s->mu);
    char *copy = xstrdup(s->last ? s->last : "");
    pthread_mutex_unlock(&s->mu);
    return copy;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    if (write(s->wake[1], "x", 1) != 1)
        abort();
    pthread_join(s->thread, NULL);
    while (s->nconns)
        conn_close(s, 0);
    for (int i = 0; i < s->nroutes; i++)
        route_clear(&s->routes[i]);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s->last);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
