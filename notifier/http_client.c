/* http_client: libcurl multi on farol's loop. See http_client.h for the contract. */
#include "notifier/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"

#define DEFAULT_MAX_TOTAL 64
#define DEFAULT_MAX_HOST 8
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_BODY (1024 * 1024)
#define RETRY_AFTER_MAX_MS (366LL * 24 * 3600 * 1000)
#define SPARE_EASY_MAX 1024 /* idle easy handles kept for reuse */

struct http_req {
    struct http_req *prev, *next;
    struct http_client *c;
    CURL *easy;
    struct curl_slist *headers;
    http_done_fn cb;
    void *arg;
    struct strbuf body; /* the answer so far */
    int too_big;
    int64_t t0_ms;
    char errbuf[CURL_ERROR_SIZE];
};

/* One per socket curl asks us to watch; curl keeps the pointer via curl_multi_assign. */
struct http_sock {
    struct http_sock *prev, *next;
    struct http_client *c;
    curl_socket_t fd;
    struct loop_io *io;
};

struct http_client {
    struct loop *loop;
    CURLM *multi;
    struct loop_timer *timer;
    struct http_req *reqs;
    struct http_sock *socks;
    size_t inflight;
    long connects;
    int64_t connect_timeout_ms;
    size_t max_body;
    char *user_agent;
    char *ca_file;
    int no_verify;
    CURL **spare; /* finished easy handles, reset, for the next requests */
    size_t n_spare;
    int dispatching;    /* inside check_done: a free must wait until it returns */
    int free_requested; /* http_client_free was called from a done callback */
    int closing;        /* the real free is running: sends are refused */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void check_done(struct http_client *c);
static void really_free(struct http_client *c);

static void on_timer(void *arg)
{
    struct http_client *c = arg;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static void on_io(void *arg, int revents)
{
    struct http_sock *s = arg;
    struct http_client *c = s->c; /* s may be freed by socket_action below */
    int flags =
        (revents & LOOP_READ ? CURL_CSELECT_IN : 0) | (revents & LOOP_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_done(c);
}

static void sock_free(struct http_client *c, struct http_sock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    loop_io_free(s->io);
    free(s);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct http_client *c = userp;
    struct http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(c->multi, fd, NULL);
            sock_free(c, s);
        }
        return 0;
    }
    int ev = (what & CURL_POLL_IN ? LOOP_READ : 0) | (what & CURL_POLL_OUT ? LOOP_WRITE : 0);
    if (s) {
        loop_io_set(s->io, ev);
        return 0;
    }
    s = xcalloc(1, sizeof *s);
    s->c = c;
    s->fd = fd;
    s->next = c->socks;
    if (c->socks)
        c->socks->prev = s;
    c->socks = s;
    s->io = loop_io_new(c->loop, fd, ev, on_io, s);
    curl_multi_assign(c->multi, fd, s);
    return 0;
}

/* curl must not be re-entered from here: the timer only schedules socket_action. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct http_client *c = userp;
    if (timeout_ms < 0)
        loop_timer_stop(c->timer);
    else
        loop_timer_start(c->timer, timeout_ms, 0);
    return 0;
}

struct http_client *http_client_new(struct loop *loop, const struct http_client_opts *o)
{
    static const struct http_client_opts defaults;
    if (!o)
        o = &defaults;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        log_error("http", "curl_global_init failed: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    CURLM *multi = curl_multi_init();
    if (!multi)
        return NULL;
    struct http_client *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->multi = multi;
    c->timer = loop_timer_new(loop, on_timer, c);
    c->connect_timeout_ms =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->max_body = o->max_body_bytes ? o->max_body_bytes : DEFAULT_MAX_BODY;
    c->user_agent = o->user_agent ? xstrdup(o->user_agent) : xstrdup("farol/" FAROL_VERSION);
    c->ca_file = xstrdup(o->ca_file);
    c->no_verify = o->insecure_no_verify_tls;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      o->max_total_connections > 0 ? o->max_total_connections
                                                   : (long)DEFAULT_MAX_TOTAL);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      o->max_host_connections > 0 ? o->max_host_connections
                                                  : (long)DEFAULT_MAX_HOST);
    return c;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
    struct http_req *r = arg;
    size_t len = size * n;
    if (len > r->c->max_body - r->body.len) {
        r->too_big = 1;
        return 0; /* makes curl abort with CURLE_WRITE_ERROR */
    }
    strbuf_add(&r->body, data, len);
    return len;
}

static int header_line_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    /* a CR or LF would let a template inject headers or a second request */
    return colon && colon != h && !strpbrk(h, "\r\n");
}

static int set_method(CURL *e, const struct http_request *rq)
{
    const char *m = rq->method ? rq->method : (rq->body ? "POST" : "GET");
    if (strpbrk(m, " \r\n") || !*m)
        return -EINVAL;
    if (rq->body || strcmp(m, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, rq->body ? rq->body : "");
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    return 0;
}

static void set_common(struct http_client *c, struct http_req *r, const struct http_request *rq)
{
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_URL, rq->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* In a burst, wait for a TLS connection that may turn out HTTP/2 instead of opening one
     * each; over plain http curl would wait too, serialising HTTP/1.1 requests. */
    if (strncasecmp(rq->url, "https:", 6) == 0)
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     (long)(rq->timeout_ms > 0 ? rq->timeout_ms : DEFAULT_TIMEOUT_MS));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->no_verify ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->no_verify ? 0L : 2L);
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (rq->userpwd) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERPWD, rq->userpwd);
    }
}

/* A handle from the spares (reset: no option of an earlier request survives) or a new one:
 * a burst of sends then costs no handle set-up beyond the first max_inflight. */
static CURL *easy_get(struct http_client *c)
{
    return c->n_spare ? c->spare[--c->n_spare] : curl_easy_init();
}

static void easy_put(struct http_client *c, CURL *e)
{
    if (!e)
        return;
    if (c->closing || c->n_spare == SPARE_EASY_MAX) {
        curl_easy_cleanup(e);
        return;
    }
    curl_easy_reset(e);
    if (!c->spare)
        c->spare = xcalloc(SPARE_EASY_MAX, sizeof *c->spare);
    c->spare[c->n_spare++] = e;
}

static void req_free(struct http_req *r)
{
    easy_put(r->c, r->easy);
    curl_slist_free_all(r->headers);
    strbuf_deinit(&r->body);
    free(r);
}

static struct http_req *req_build(struct http_client *c, const struct http_request *rq)
{
    struct http_req *r = xcalloc(1, sizeof *r);
    r->c = c;
    r->easy = easy_get(c);
    if (!r->easy) {
        free(r);
        return NULL;
    }
    /* "Expect:" stops curl's 100-continue wait, a round trip gateways rarely need */
    r->headers = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; rq->headers && rq->headers[i]; i++) {
        if (!header_line_ok(rq->headers[i]) || !r->headers) {
            req_free(r);
            return NULL;
        }
        r->headers = curl_slist_append(r->headers, rq->headers[i]);
    }
    if (!r->headers || set_method(r->easy, rq) < 0) {
        req_free(r);
        return NULL;
    }
    set_common(c, r, rq);
    return r;
}

int http_client_send(struct http_client *c, const struct http_request *rq, http_done_fn cb,
                     void *arg)
{
    if (c->closing || c->free_requested)
        return -ESHUTDOWN;
    if (!rq || !rq->url || !cb || (rq->body_len && !rq->body))
        return -EINVAL;
    struct http_req *r = req_build(c, rq);
    if (!r)
        return -EINVAL;
    r->cb = cb;
    r->arg = arg;
    r->t0_ms = mono_ms();
    /* adding arms curl's timer at 0 ms: the exchange starts, and can only end, in the loop */
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
        req_free(r);
        return -ENOMEM;
    }
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->inflight++;
    return 0;
}

static int connect_errno(CURL *e)
{
    long os = 0;
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os);
    if (os == ECONNREFUSED || os == ENETUNREACH || os == EHOSTUNREACH)
        return -(int)os;
    return -ECONNREFUSED;
}

static int map_error(CURLcode rc, const struct http_req *r)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return connect_errno(r->easy);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return -ECONNRESET;
    case CURLE_WRITE_ERROR:
        return r->too_big ? -EMSGSIZE : -EIO;
    case CURLE_FILESIZE_EXCEEDED:
        return -EMSGSIZE;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return -EKEYREJECTED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return -EPROTO;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EINVAL;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

static const char *header_value(CURL *e, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return NULL;
    return h->value;
}

/* URLs can carry secrets (Telegram puts the bot token in the path): log the host only. */
static void log_done(const struct http_req *r, const struct http_response *resp)
{
    if (!log_enabled(LOG_LEVEL_DEBUG))
        return;
    char *host = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &host);
    CURLU *u = curl_url();
    char *h = NULL;
    if (host && curl_url_set(u, CURLUPART_URL, host, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &h, 0);
    log_debug("http", "done host=%s status=%d err=%d elapsed_ms=%lld", h ? h : "?", resp->status,
              resp->err, (long long)resp->elapsed_ms);
    curl_free(h);
    curl_url_cleanup(u);
}

static void complete(struct http_req *r, CURLcode rc, int forced_err)
{
    long status = 0, nconn = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &nconn);
    r->c->connects += nconn;
    struct http_response resp = {
        .status = (int)status,
        .err = forced_err ? forced_err : map_error(rc, r),
        .body = r->body.s ? r->body.s : "",
        .body_len = r->body.len,
        .elapsed_ms = mono_ms() - r->t0_ms,
    };
    if (resp.status) {
        resp.retry_after = header_value(r->easy, "Retry-After");
        resp.content_type = header_value(r->easy, "Content-Type");
    }
    if (resp.err == -EMSGSIZE)
        resp.errmsg = "response body too large";
    else if (resp.err == -ECANCELED)
        resp.errmsg = "client freed with the request in flight";
    else if (resp.err)
        resp.errmsg = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
    log_done(r, &resp);
    r->cb(r->arg, &resp);
}

static void req_detach(struct http_client *c, struct http_req *r)
{
    curl_multi_remove_handle(c->multi, r->easy);
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    c->inflight--;
}

static void check_done(struct http_client *c)
{
    CURLMsg *m;
    int left;
    c->dispatching++;
    while (!c->free_requested && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct http_req *r = NULL;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        req_detach(c, r);
        complete(r, rc, 0);
        req_free(r);
    }
    c->dispatching--;
    if (c->free_requested && !c->dispatching)
        really_free(c);
}

static void really_free(struct http_client *c)
{
    c->closing = 1;
    while (c->reqs) {
        struct http_req *r = c->reqs;
        req_detach(c, r);
        complete(r, CURLE_ABORTED_BY_CALLBACK, -ECANCELED);
        req_free(r);
    }
    while (c->n_spare)
        curl_easy_cleanup(c->spare[--c->n_spare]);
    free(c->spare);
    curl_multi_cleanup(c->multi);
    /* cleanup may close cached connections without a CURL_POLL_REMOVE for each */
    while (c->socks)
        sock_free(c, c->socks);
    loop_timer_free(c->timer);
    free(c->user_agent);
    free(c->ca_file);
    free(c);
}

void http_client_free(struct http_client *c)
{
    if (!c || c->closing)
        return;
    if (c->dispatching) {
        c->free_requested = 1; /* check_done frees once the current callback returns */
        return;
    }
    really_free(c);
}

size_t http_client_inflight(const struct http_client *c)
{
    return c->inflight;
}

long http_client_connects(const struct http_client *c)
{
    return c->connects;
}

static int parse_seconds(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > RETRY_AFTER_MAX_MS / 1000)
            return -ERANGE;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s)
        return -EINVAL;
    *out = v * 1000;
    return 0;
}

int64_t http_retry_after_ms(const char *value, int64_t now_wall_ms)
{
    if (!value)
        return -EINVAL;
    while (*value == ' ' || *value == '\t')
        value++;
    int64_t ms;
    int rc = parse_seconds(value, &ms);
    if (rc == -ERANGE)
        return rc;
    if (rc < 0) {
        time_t t = curl_getdate(value, NULL);
        if (t == (time_t)-1)
            return -EINVAL;
        ms = (int64_t)t * 1000 - now_wall_ms;
        if (ms < 0)
            ms = 0;
    }
    return ms > RETRY_AFTER_MAX_MS ? -ERANGE : ms;
}

char *http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}
