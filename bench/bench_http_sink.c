/* bench_http_sink: the local SMS gateway of bench/notifier.sh. Answers every request (any
 * method, any path outside /_sink) with 200 "OK" and notes when it arrived (wall clock, µs),
 * on farol's own embedded server (core/httpd.h: libmicrohttpd on the loop, one thread), so
 * farol's notifier and wrk are measured against the same server.
 *   bench_http_sink [--listen ADDR:PORT] [--port-file FILE]
 * Control (not counted):
 *   GET  /_sink/stats  "COUNT FIRST_US LAST_US\n"
 *   GET  /_sink/times  every arrival time, one µs value a line, in arrival order
 *   POST /_sink/reset  forget everything counted so far
 * SIGTERM or SIGINT stops it. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"

struct sink {
    int64_t *times; /* µs since the epoch, arrival order */
    size_t n, cap;
    struct loop *loop;
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_message(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct sink *s = arg;
    (void)rq;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->times = xrealloc(s->times, s->cap * sizeof *s->times);
    }
    s->times[s->n++] = wall_us();
    out->content_type = "text/plain";
    out->body = "OK";
    out->body_len = 2;
}

static void on_stats(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    static char buf[96];
    struct sink *s = arg;
    (void)rq;
    snprintf(buf, sizeof buf, "%zu %lld %lld\n", s->n, s->n ? (long long)s->times[0] : 0LL,
             s->n ? (long long)s->times[s->n - 1] : 0LL);
    out->content_type = "text/plain";
    out->body = buf;
    out->body_len = strlen(buf);
}

/* httpd copies the body when the handler returns: one buffer, reused, is enough. */
static void on_times(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    static struct strbuf sb;
    struct sink *s = arg;
    char line[32];
    (void)rq;
    strbuf_deinit(&sb);
    for (size_t i = 0; i < s->n; i++)
        strbuf_add(&sb, line,
                   (size_t)snprintf(line, sizeof line, "%lld\n", (long long)s->times[i]));
    out->content_type = "text/plain";
    out->body = sb.s ? sb.s : "";
    out->body_len = sb.len;
}

static void on_reset(void *arg, const struct httpd_request *rq, struct httpd_response *out)
{
    struct sink *s = arg;
    (void)rq;
    s->n = 0;
    out->body = "reset\n";
    out->body_len = 6;
}

static void on_signal(void *arg, int signum)
{
    (void)signum;
    loop_stop(((struct sink *)arg)->loop);
}

static int add_routes(struct httpd *h, struct sink *s)
{
    static const char *const methods[] = {"GET", "POST", "PUT"};
    int rc = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        rc |= httpd_route(h, methods[i], "/", on_message, s);
    rc |= httpd_route(h, "GET", "/_sink/stats", on_stats, s);
    rc |= httpd_route(h, "GET", "/_sink/times", on_times, s);
    rc |= httpd_route(h, "POST", "/_sink/reset", on_reset, s);
    return rc;
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0", *port_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen"))
            listen = argv[i + 1];
        else if (!strcmp(argv[i], "--port-file"))
            port_file = argv[i + 1];
    }
    log_setup(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
    struct sink s = {.loop = loop_new()};
    char err[256];
    struct httpd *h = httpd_new(s.loop, listen, 65536, err, sizeof err);
    if (!h || add_routes(h, &s) < 0) {
        fprintf(stderr, "bench_http_sink: %s\n", h ? "routes" : err);
        return 1;
    }
    struct loop_signal *term = loop_signal_new(s.loop, SIGTERM, on_signal, &s);
    struct loop_signal *intr = loop_signal_new(s.loop, SIGINT, on_signal, &s);
    FILE *pf = port_file ? fopen(port_file, "w") : stdout;
    if (!pf) {
        perror(port_file);
        return 1;
    }
    fprintf(pf, "%d\n", httpd_port(h));
    if (pf != stdout)
        fclose(pf);
    fflush(stdout);
    loop_run(s.loop);
    httpd_free(h);
    loop_signal_free(term);
    loop_signal_free(intr);
    loop_free(s.loop);
    free(s.times);
    return 0;
}
