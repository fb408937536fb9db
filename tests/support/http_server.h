/* http_server: a scripted HTTP/1.1 server for tests, on 127.0.0.1 and an ephemeral port, run by
 * its own thread with plain sockets and poll(). Keeps connections alive, answers each path with
 * the reply set for it (404 otherwise), optionally after a delay or not at all (the connection
 * is closed without an answer). Counts accepted connections and requests so tests can see
 * connection reuse. The struct is opaque and owned by the caller of http_server_start. */
#ifndef FAROL_TESTS_HTTP_SERVER_H
#define FAROL_TESTS_HTTP_SERVER_H

#include <stddef.h>

struct http_server;

struct http_server_reply {
    int status;               /* 0: 200 */
    const char *headers;      /* NULL or extra "Name: value\r\n" lines */
    const char *body;         /* NULL: empty */
    size_t body_len;          /* 0: strlen(body) */
    int delay_ms;             /* wait this long before answering */
    int close_without_answer; /* read the request, then close the connection */
};

/* Start listening and serving. NULL on failure, with err set. */
struct http_server *http_server_start(char *err, size_t errsz);
/* "http://127.0.0.1:PORT" (no trailing slash). */
const char *http_server_url(const struct http_server *s);
/* Answer requests for path (query ignored) with r from now on; r and its strings are copied. */
void http_server_set(struct http_server *s, const char *path, const struct http_server_reply *r);
/* Connections accepted so far. */
int http_server_connections(struct http_server *s);
/* Complete requests received so far. */
int http_server_requests(struct http_server *s);
/* A copy of the last complete request (head and body) received; the caller frees it. */
char *http_server_last_request(struct http_server *s);
/* Stop the thread, close every connection, free (NULL is fine). */
void http_server_stop(struct http_server *s);

#endif
