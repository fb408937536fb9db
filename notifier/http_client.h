/* http_client: the notifier's one HTTP client. libcurl's multi interface driven by the
 * process's event loop: every socket is a loop_io, curl's timeout is a loop_timer, nothing
 * blocks. Connections are kept and reused per host (bounded by max_host_connections), HTTP/2
 * is negotiated over TLS where the server offers it, TLS verification is on unless a test
 * turns it off, and every request has a total timeout.
 *
 * Ownership: the client belongs to its creator and to one loop (single-threaded). A request is
 * copied by http_client_send (URL, headers, body, credentials); a response and everything it
 * points to live only for the duration of the done callback.
 *
 * Errors in http_response.err (negative errno; curl's code stays internal):
 *   -ETIMEDOUT     the total or connect timeout expired
 *   -ECONNREFUSED  nobody listens (or -ENETUNREACH / -EHOSTUNREACH from the connect itself)
 *   -EHOSTUNREACH  the host name did not resolve
 *   -ECONNRESET    the peer closed or reset the connection before a complete answer, including
 *                  "closed without answering" (curl's GOT_NOTHING): worth a retry
 *   -EPROTO        the answer was not valid HTTP, or the TLS handshake failed
 *   -EKEYREJECTED  the peer's certificate or host name failed verification: not worth a retry
 *   -EMSGSIZE      the response body exceeded max_body_bytes
 *   -EINVAL        malformed URL or unsupported scheme (only http and https are allowed)
 *   -ECANCELED     the client was freed with the request in flight
 *   -EIO           anything else (errmsg says what)
 * A 4xx or 5xx answer is not an error: err is 0 and status says it.
 *
 * curl_global_init runs once, on the first http_client_new, under pthread_once; create the
 * first client before starting threads that use libcurl on their own. */
#ifndef FAROL_HTTP_CLIENT_H
#define FAROL_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct http_client;

struct http_client_opts {
    long max_total_connections; /* 0: 64 */
    long max_host_connections;  /* 0: 8; requests beyond it wait for a free connection */
    int64_t connect_timeout_ms; /* 0: 5000 */
    size_t max_body_bytes;      /* 0: 1 MiB; bigger answers fail with -EMSGSIZE */
    const char *user_agent;     /* NULL: "farol/<version>"; copied */
    const char *ca_file;        /* NULL: the system CA store; else a PEM bundle (private CAs) */
    int insecure_no_verify_tls; /* non-zero skips certificate and host checks: tests only */
};

struct http_request {
    const char *method;         /* NULL: "GET" with no body, "POST" with one */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* NULL or NULL-terminated "Name: value" lines */
    const char *body;           /* NULL for none; need not be NUL-terminated */
    size_t body_len;
    int64_t timeout_ms;  /* whole exchange, queueing included; 0: 30000 */
    const char *userpwd; /* "user:password" for basic auth, or NULL; never logged */
};

struct http_response {
    int status;       /* HTTP status, 0 when no answer arrived */
    int err;          /* 0 or a negative errno from the list above */
    const char *body; /* NUL-terminated (body_len excludes the NUL); never NULL */
    size_t body_len;
    const char *retry_after;  /* Retry-After header value, or NULL */
    const char *content_type; /* Content-Type header value, or NULL */
    int64_t elapsed_ms;       /* from http_client_send to completion */
    const char *errmsg;       /* human-readable cause when err != 0, else NULL */
};

/* Called exactly once per accepted request, from the loop, never inside http_client_send. It
 * may call http_client_send and http_client_free. */
typedef void (*http_done_fn)(void *arg, const struct http_response *r);

/* Create a client on loop; o may be NULL for the defaults. Returns NULL only if libcurl fails
 * to initialise. */
struct http_client *http_client_new(struct loop *loop, const struct http_client_opts *o);
/* Free c (NULL is fine); every request still in flight completes with -ECANCELED first. */
void http_client_free(struct http_client *c);
/* Start rq; cb(arg, response) follows later. Returns 0, -EINVAL for a missing URL or a bad
 * header line, or -ESHUTDOWN while c is being freed (cb is then never called). */
int http_client_send(struct http_client *c, const struct http_request *rq, http_done_fn cb,
                     void *arg);
/* Requests sent whose callback has not run yet. */
size_t http_client_inflight(const struct http_client *c);
/* Accepted connections opened so far (for tests and metrics: reuse keeps it low). */
long http_client_connects(const struct http_client *c);

/* Delay asked for by a Retry-After value, either delta-seconds or an HTTP-date (RFC 9110:
 * IMF-fixdate, RFC 850 or asctime), relative to now_wall_ms. A date in the past gives 0.
 * Returns the delay in ms, or -EINVAL for NULL or an unparseable value, -ERANGE when the
 * value is more than a year away. */
int64_t http_retry_after_ms(const char *value, int64_t now_wall_ms);
/* Percent-encode s for a URL or a form body (RFC 3986 unreserved characters kept); the caller
 * frees. */
char *http_escape(const char *s);

#endif
