/* httpd: libmicrohttpd in external epoll mode, driven by the loop. */
#include "core/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
/* Idle seconds before a connection is dropped: callbacks are small, slow clients are suspect. */
#define CONN_TIMEOUT_S 30u
/* Enough for a burst of provider callbacks; beyond it new connections are refused. */
#define CONN_LIMIT 1024u
/* Body bytes read and dropped past max_body before the connection is cut short. */
#define DISCARD_MAX (256u * 1024u)
/* MHD's timeout is a bound on the wait, not a deadline: capping it costs one wakeup at most. */
#define MAX_WAIT_MS 3600000LL

struct route {
    char *method, *prefix;
    size_t plen;
    httpd_handler_fn fn;
    void *arg;
};

struct httpd {
    struct loop *loop;
    struct MHD_Daemon *d;
    struct loop_io *io;
    struct loop_timer *timer;
    struct route *routes;
    size_t nroutes;
    size_t max_body;
    int port;
    char mhd_err[256]; /* last message from libmicrohttpd, for httpd_new's err */
};

/* One request's state, from the URI log callback to the completion notice. */
struct req {
    struct MHD_Connection *conn;
    char *query;
    struct strbuf body;
    size_t discarded; /* body bytes dropped after the limit was passed */
    int started;
    char addr[INET6_ADDRSTRLEN];
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct httpd *h = cls;
    char *msg = xvasprintf(fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    snprintf(h->mhd_err, sizeof h->mhd_err, "%s", msg);
    log_debug("httpd", "libmicrohttpd: %s", msg);
    free(msg);
}

static void peer_addr(struct MHD_Connection *conn, char *buf, size_t bufsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, bufsz, "?");
    if (!ci || !ci->client_addr)
        return;
    socklen_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                          : sizeof(struct sockaddr_in);
    if (getnameinfo(ci->client_addr, sl, buf, bufsz, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, bufsz, "?");
}

/* Runs once per request before parsing: the only place the raw query string is visible. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    struct req *r = xcalloc(1, sizeof *r);
    const char *q = uri ? strchr(uri, '?') : NULL;
    r->conn = conn;
    r->query = q ? xstrdup(q + 1) : NULL;
    strbuf_add(&r->body, "", 0); /* handlers always get a string */
    peer_addr(conn, r->addr, sizeof r->addr);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct req *r = *con_cls;
    if (!r)
        return;
    free(r->query);
    strbuf_deinit(&r->body);
    free(r);
    *con_cls = NULL;
}

static void add_header_line(struct MHD_Response *resp, const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        log_warn("httpd", "response header without a name, skipped");
        return;
    }
    char *name = xstrndup(line, (size_t)(colon - line));
    const char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (MHD_add_response_header(resp, name, value) != MHD_YES)
        log_warn("httpd", "response header %s refused", name);
    free(name);
}

static void log_request(const char *method, const char *path, int status)
{
    if (!log_enabled(LOG_LEVEL_DEBUG))
        return;
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    const char *fields[] = {"method", method, "path", path, "status", st, NULL};
    log_kv(LOG_LEVEL_DEBUG, "httpd", fields, "request");
}

static enum MHD_Result respond(struct MHD_Connection *conn, const char *method, const char *path,
                               const struct httpd_response *out)
{
    int status = out->status ? out->status : 200;
    if (status < 100 || status > 999) {
        log_warn("httpd", "handler for %s answered invalid status %d", path, status);
        status = 500;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        out->body ? out->body_len : 0, (void *)(out->body ? out->body : ""), MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (out->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
    for (size_t i = 0; out->headers && out->headers[i]; i++)
        add_header_line(resp, out->headers[i]);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    log_request(method, path, status);
    return ret;
}

static enum MHD_Result respond_status(struct MHD_Connection *conn, const char *method,
                                      const char *path, int status, const char *allow)
{
    char line[128];
    const char *hdrs[] = {line, NULL};
    struct httpd_response out = {.status = status, .content_type = "text/plain"};
    if (allow) {
        snprintf(line, sizeof line, "Allow: %s", allow);
        out.headers = hdrs;
    }
    return respond(conn, method, path, &out);
}

/* Whether prefix p (plen bytes) covers path at a segment boundary. */
static int prefix_matches(const char *p, size_t plen, const char *path)
{
    if (strncmp(path, p, plen) != 0)
        return 0;
    return path[plen] == '\0' || path[plen] == '/' || (plen > 0 && p[plen - 1] == '/');
}

/* The route for (method, path); NULL with *plen_out = 0 for 404, non-zero for 405. */
static const struct route *route_find(const struct httpd *h, const char *method, const char *path,
                                      size_t *plen_out)
{
    size_t best = 0;
    int found = 0;
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct route *rt = &h->routes[i];
        if (prefix_matches(rt->prefix, rt->plen, path) && (!found || rt->plen > best)) {
            best = rt->plen;
            found = 1;
        }
    }
    *plen_out = found ? best + 1 : 0;
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; found && i < h->nroutes; i++) {
        const struct route *rt = &h->routes[i];
        if (rt->plen == best && prefix_matches(rt->prefix, rt->plen, path) &&
            strcmp(rt->method, m) == 0)
            return rt;
    }
    return NULL;
}

/* The methods routed under the prefix of length plen matching path, comma-separated. */
static void allowed_methods(const struct httpd *h, const char *path, size_t plen, char *buf,
                            size_t bufsz)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < h->nroutes && used < bufsz; i++) {
        const struct route *rt = &h->routes[i];
        if (rt->plen != plen || !prefix_matches(rt->prefix, rt->plen, path))
            continue;
        int n = snprintf(buf + used, bufsz - used, "%s%s", used ? ", " : "", rt->method);
        if (n > 0)
            used += (size_t)n;
    }
}

static const char *request_header(const struct httpd_request *rq, const char *name)
{
    const struct req *r = rq->impl;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result dispatch(struct httpd *h, struct req *r, const char *method,
                                const char *path)
{
    size_t plen;
    const struct route *rt = route_find(h, method, path, &plen);
    if (!rt && plen == 0)
        return respond_status(r->conn, method, path, 404, NULL);
    if (!rt) {
        char allow[96];
        allowed_methods(h, path, plen - 1, allow, sizeof allow);
        return respond_status(r->conn, method, path, 405, allow);
    }
    struct httpd_request rq = {
        .method = method,
        .path = path,
        .query = r->query,
        .body = r->body.s,
        .body_len = r->body.len,
        .content_type =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .remote_addr = r->addr,
        .header = request_header,
        .impl = r,
    };
    struct httpd_response out = {0};
    rt->fn(rt->arg, &rq, &out);
    return respond(r->conn, method, path, &out);
}

/* Whether the declared Content-Length already exceeds the limit. */
static int declared_too_big(struct MHD_Connection *conn, size_t max_body)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || n > max_body;
}

/* Keep body bytes up to the limit. Past it (a chunked body: no Content-Length to refuse early),
 * read on and drop a bounded amount so the client gets to read the 413 instead of a reset for
 * closing with unread data; a client sending more than that is cut off with the 413 now. */
static enum MHD_Result take_body(struct httpd *h, struct req *r, const char *method,
                                 const char *url, const char *data, size_t *size)
{
    if (r->discarded == 0 && *size <= h->max_body - r->body.len) {
        strbuf_add(&r->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    size_t before = r->discarded;
    r->discarded += *size;
    *size = 0;
    if (before <= DISCARD_MAX && r->discarded > DISCARD_MAX)
        return respond_status(r->conn, method, url, 413, NULL);
    return MHD_YES; /* under the bound, or already answered */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct httpd *h = cls;
    struct req *r = *con_cls;
    if (!r)
        return MHD_NO; /* on_uri always runs first; without state there is nothing to do */
    if (!r->started) {
        r->started = 1;
        if (declared_too_big(conn, h->max_body))
            return respond_status(conn, method, url, 413, NULL);
        return MHD_YES;
    }
    if (*upload_size > 0)
        return take_body(h, r, method, url, upload, upload_size);
    if (r->discarded)
        return r->discarded > DISCARD_MAX ? MHD_YES : respond_status(conn, method, url, 413, NULL);
    return dispatch(h, r, method, url);
}

/* Arm the timer for MHD's next deadline (0 when it has work pending without socket activity). */
static void schedule(struct httpd *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->d, &ms) != MHD_YES) {
        loop_timer_stop(h->timer);
        return;
    }
    loop_timer_start(h->timer, ms > (MHD_UNSIGNED_LONG_LONG)MAX_WAIT_MS ? MAX_WAIT_MS : (int64_t)ms,
                     0);
}

static void step(struct httpd *h)
{
    MHD_run(h->d);
    schedule(h);
}

static void on_epoll(void *arg, int revents)
{
    (void)revents;
    step(arg);
}

static void on_timer(void *arg)
{
    step(arg);
}

/* Parse "A.B.C.D:PORT" or "[V6]:PORT" into ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t errsz)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || colon == listen) {
        snprintf(err, errsz, "listen address %s: expected ADDR:PORT", listen ? listen : "(null)");
        return -EINVAL;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        snprintf(err, errsz, "listen address %s: bad port", listen);
        return -EINVAL;
    }
    int v6 = listen[0] == '[';
    if (v6 && colon[-1] != ']') {
        snprintf(err, errsz, "listen address %s: unterminated [", listen);
        return -EINVAL;
    }
    char *host = v6 ? xstrndup(listen + 1, (size_t)(colon - listen - 2))
                    : xstrndup(listen, (size_t)(colon - listen));
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    int ok =
        v6 ? inet_pton(AF_INET6, host, &s6->sin6_addr) : inet_pton(AF_INET, host, &s4->sin_addr);
    free(host);
    if (ok != 1) {
        snprintf(err, errsz, "listen address %s: not a numeric IPv4 or [IPv6] address", listen);
        return -EINVAL;
    }
    if (v6) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
    } else {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
    }
    return 0;
}

static int start_daemon(struct httpd *h, struct sockaddr_storage *ss)
{
    int v6 = ss->ss_family == AF_INET6;
    uint16_t port = v6 ? ntohs(((struct sockaddr_in6 *)ss)->sin6_port)
                       : ntohs(((struct sockaddr_in *)ss)->sin_port);
    unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)ss, MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, MHD_OPTION_URI_LOG_CALLBACK,
                            on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_END);
    if (!h->d)
        return -EADDRNOTAVAIL;
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    const union MHD_DaemonInfo *ei = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!pi || !ei || ei->epoll_fd < 0) {
        snprintf(h->mhd_err, sizeof h->mhd_err, "no epoll fd or bound port");
        MHD_stop_daemon(h->d);
        h->d = NULL;
        return -EIO;
    }
    h->port = pi->port;
    h->io = loop_io_new(h->loop, ei->epoll_fd, LOOP_READ, on_epoll, h);
    h->timer = loop_timer_new(h->loop, on_timer, h);
    schedule(h);
    return 0;
}

struct httpd *httpd_new(struct loop *loop, const char *listen, size_t max_body, char *err,
                        size_t errsz)
{
    struct sockaddr_storage ss;
    if (parse_listen(listen, &ss, err, errsz) < 0)
        return NULL;
    struct httpd *h = xcalloc(1, sizeof *h);
    h->loop = loop;
    h->max_body = max_body ? max_body : DEFAULT_MAX_BODY;
    if (start_daemon(h, &ss) < 0) {
        snprintf(err, errsz, "listen on %s: %s", listen,
                 h->mhd_err[0] ? h->mhd_err : "libmicrohttpd failed to start");
        free(h);
        return NULL;
    }
    log_info("httpd", "listening on %s (port %d)", listen, h->port);
    return h;
}

int httpd_route(struct httpd *h, const char *method, const char *path_prefix, httpd_handler_fn fn,
                void *arg)
{
    if (!method || !*method || !path_prefix || path_prefix[0] != '/' || !fn)
        return -EINVAL;
    for (size_t i = 0; i < h->nroutes; i++)
        if (strcmp(h->routes[i].method, method) == 0 &&
            strcmp(h->routes[i].prefix, path_prefix) == 0)
            return -EEXIST;
    h->routes = xrealloc(h->routes, (h->nroutes + 1) * sizeof *h->routes);
    h->routes[h->nroutes++] = (struct route){
        .method = xstrdup(method),
        .prefix = xstrdup(path_prefix),
        .plen = strlen(path_prefix),
        .fn = fn,
        .arg = arg,
    };
    return 0;
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    /* The watcher goes first: MHD_stop_daemon closes the epoll fd it watches. */
    loop_io_free(h->io);
    loop_timer_free(h->timer);
    MHD_stop_daemon(h->d);
    for (size_t i = 0; i < h->nroutes; i++) {
        free(h->routes[i].method);
        free(h->routes[i].prefix);
    }
    free(h->routes);
    free(h);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode n bytes of a form component ('+' is a space, bad %-escapes stay as they are). */
static char *form_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

char *httpd_form_value(const char *form, size_t len, const char *key)
{
    if (!form || !key)
        return NULL;
    size_t i = 0;
    while (i < len) {
        const char *pair = form + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t plen = amp ? (size_t)(amp - pair) : len - i;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        char *k = form_decode(pair, klen);
        int hit = plen > 0 && strcmp(k, key) == 0;
        free(k);
        if (hit)
            return eq ? form_decode(eq + 1, plen - klen - 1) : xstrdup("");
        i += plen + 1;
    }
    return NULL;
}
