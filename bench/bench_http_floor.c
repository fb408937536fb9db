/* bench_http_floor: the ceiling of the notifier's HTTP layer. Sends N copies of one form POST
 * through farol's http_client (libcurl's multi interface on the loop, exactly as every channel
 * does) with C requests in flight, and nothing else: no Redis, no templates, no bus. What it
 * reaches is the most any notifier built on libcurl could send on this machine.
 *   bench_http_floor --url URL --body BODY [-n N] [-c C] [-k CONNECTIONS]
 * (-k: connections to the server, default C; requests beyond them wait in libcurl's queue)
 * Prints "N OK SECONDS REQ_PER_S CPU_SECONDS". */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/loop.h"
#include "notifier/http_client.h"

struct run {
    struct loop *loop;
    struct http_client *hc;
    struct http_request rq;
    long total, started, done, ok;
};

static void on_done(void *arg, const struct http_response *r);

static void start_one(struct run *run)
{
    run->started++;
    if (http_client_send(run->hc, &run->rq, on_done, run) < 0) {
        fprintf(stderr, "bench_http_floor: cannot send\n");
        exit(1);
    }
}

static void on_done(void *arg, const struct http_response *r)
{
    struct run *run = arg;
    run->done++;
    run->ok += r->err == 0 && r->status == 200;
    if (run->started < run->total)
        start_one(run);
    else if (run->done == run->total)
        loop_stop(run->loop);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *body = "";
    long n = 100000, c = 256, conns = 0;
    int opt;
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'}, {"body", required_argument, NULL, 'b'}, {0}};
    while ((opt = getopt_long(argc, argv, "n:c:k:", longopts, NULL)) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'b')
            body = optarg;
        else if (opt == 'n')
            n = strtol(optarg, NULL, 10);
        else if (opt == 'c')
            c = strtol(optarg, NULL, 10);
        else if (opt == 'k')
            conns = strtol(optarg, NULL, 10);
        else
            return 2;
    }
    if (!url || n < 1 || c < 1) {
        fprintf(stderr, "usage: bench_http_floor --url URL --body BODY [-n N] [-c C]\n");
        return 2;
    }
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct run run = {.loop = loop_new(), .total = n};
    if (conns < 1)
        conns = c;
    struct http_client_opts o = {.max_total_connections = conns, .max_host_connections = conns};
    run.hc = http_client_new(run.loop, &o);
    run.rq = (struct http_request){
        .method = "POST", .url = url, .headers = headers, .body = body, .body_len = strlen(body)};
    double t0 = mono_s(), c0 = cpu_s();
    for (long i = 0; i < c && i < n; i++)
        start_one(&run);
    loop_run(run.loop);
    double secs = mono_s() - t0, cpu = cpu_s() - c0;
    printf("%ld %ld %.3f %.0f %.2f\n", run.done, run.ok, secs, (double)run.done / secs, cpu);
    http_client_free(run.hc);
    loop_free(run.loop);
    return run.ok == n ? 0 : 1;
}
