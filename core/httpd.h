/* httpd: farol's embedded HTTP/1.1 server, for provider callbacks (Kannel DLR and MO, cloud
 * provider status webhooks) and, later, the operator API. libmicrohttpd runs in external-loop
 * epoll mode on the process's loop: its epoll fd is a loop_io, its timeout a loop_timer, no
 * thread is started and handlers run on the loop, synchronously.
 *
 * Routing: a route is (method, path prefix). The longest prefix matching the request path wins;
 * a prefix matches when it equals the path, ends with '/', or is followed by '/' in the path
 * ("/dlr" matches "/dlr" and "/dlr/x", not "/dlrx"). No matching prefix gives 404; a matching
 * prefix without a route for the method gives 405 with an Allow header. HEAD uses GET routes.
 *
 * Limits: bodies above max_body answer 413 without calling the handler; malformed requests are
 * answered by libmicrohttpd (400); idle connections time out; concurrent connections are capped.
 * The server binds only the address given. Requests are logged at debug level with method, path
 * and status only: bodies and query strings carry phone numbers and tokens.
 *
 * Ownership: the server belongs to its creator and to one loop (single-threaded). A request and
 * everything it points to live only for the duration of the handler call; the handler's response
 * strings need only live until the handler returns (they are copied). */
#ifndef FAROL_HTTPD_H
#define FAROL_HTTPD_H

#include <stddef.h>

struct loop;
struct httpd;

struct httpd_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, without the query */
    const char *query;  /* raw (still encoded) query string after '?', or NULL */
    const char *body;   /* NUL-terminated (body_len excludes the NUL); never NULL */
    size_t body_len;
    const char *content_type; /* Content-Type header value, or NULL */
    const char *remote_addr;  /* numeric peer address, e.g. "127.0.0.1" */
    /* Value of header name (case-insensitive), or NULL. */
    const char *(*header)(const struct httpd_request *rq, const char *name);
    void *impl; /* the server's own per-request state */
};

struct httpd_response {
    int status;               /* 0: 200 */
    const char *content_type; /* NULL: no Content-Type header */
    const char *body;         /* NULL for an empty body; need not be NUL-terminated */
    size_t body_len;
    const char *const *headers; /* NULL or NULL-terminated "Name: value" lines */
};

/* Handle rq by filling out (zeroed on entry); runs on the loop. It must not free the server. */
typedef void (*httpd_handler_fn)(void *arg, const struct httpd_request *rq,
                                 struct httpd_response *out);

/* Listen on "ADDR:PORT" ("127.0.0.1:8080", "[::1]:0"; numeric addresses only, port 0 picks a
 * free port) with bodies up to max_body bytes (0: 1 MiB). Returns NULL with a message in err. */
struct httpd *httpd_new(struct loop *loop, const char *listen, size_t max_body, char *err,
                        size_t errsz);
/* Route method requests under path_prefix to fn(arg, ...). Returns 0, -EINVAL for a missing
 * method, a prefix not starting with '/' or a missing fn, -EEXIST for a duplicate route. */
int httpd_route(struct httpd *h, const char *method, const char *path_prefix, httpd_handler_fn fn,
                void *arg);
/* The bound port (the one picked when listen asked for port 0). */
int httpd_port(const struct httpd *h);
/* Close every connection and free h (NULL is fine). Not from inside a handler. */
void httpd_free(struct httpd *h);

/* Value of key in an application/x-www-form-urlencoded string of len bytes (a query or a body),
 * '+' and %XX decoded; the first one when the key repeats, "" for a key without '='. Returns a
 * string the caller frees, or NULL when the key is absent. */
char *httpd_form_value(const char *form, size_t len, const char *key);

#endif
