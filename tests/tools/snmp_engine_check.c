/* snmp_engine_check: drives collector/snmp_engine.h for tests/integration/test_snmp_engine.sh,
 * checking what the command line cannot show. Prints one result line; exit 0 when the check holds.
 *   inflight ADDR N MAX_IN_FLIGHT  N gets at once: all answer, peak in flight == MAX_IN_FLIGHT
 *   rate ADDR N RATE               N gets limited to RATE/s: elapsed >= (N-1)/RATE
 *   get ADDR TIMEOUT_MS RETRIES    one get of sysUpTime: prints "status=S elapsed_ms=E"
 *   dead-v3 BASEPORT N TIMEOUT_MS  N v3 devices on silent ports: all time out while a 10 ms loop
 *                                  timer stays on schedule (max lateness printed, < 100 ms)
 *   queue ADDR LIMIT               LIMIT+1 gets on one device: the last is refused -ENOBUFS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/snmp_engine.h"
#include "core/loop.h"
#include "core/xmalloc.h"

static struct loop *L;
static int pending, failures, last_status;
static int64_t tick_prev, tick_late_max;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_get(void *arg, int status, const char *msg, const struct snmp_varbind *vbs, size_t n)
{
    (void)arg;
    (void)vbs;
    last_status = status;
    if (status || n != 1) {
        failures++;
        if (getenv("VERBOSE"))
            fprintf(stderr, "get: %d %s\n", status, msg ? msg : "");
    }
    if (--pending == 0)
        loop_stop(L);
}

static struct snmp_device *add(struct snmp_engine *e, const char *addr, int version, int inflight,
                               double rate, int timeout, int retries)
{
    char err[256];
    struct snmp_device_cfg c = {.address = addr,
                                .version = version,
                                .max_in_flight = inflight,
                                .max_rate = rate,
                                .timeout_ms = timeout,
                                .retries = retries,
                                .user = "usha",
                                .level = SNMP_SEC_AUTHPRIV,
                                .auth_proto = "SHA",
                                .auth_pass = "authpass1",
                                .priv_proto = "AES",
                                .priv_pass = "privpass1"};
    struct snmp_device *d = snmp_engine_add(e, &c, err, sizeof err);
    if (!d) {
        fprintf(stderr, "add %s: %s\n", addr, err);
        exit(2);
    }
    return d;
}

static struct snmp_oid uptime(void)
{
    struct snmp_oid o;
    snmp_oid_parse("1.3.6.1.2.1.1.3.0", &o);
    return o;
}

static void tick(void *arg)
{
    (void)arg;
    int64_t t = now_ms();
    if (tick_prev && t - tick_prev - 10 > tick_late_max)
        tick_late_max = t - tick_prev - 10;
    tick_prev = t;
}

static int many_gets(struct snmp_device *d, int n)
{
    struct snmp_oid o = uptime();
    for (int i = 0; i < n; i++) {
        int rc = snmp_get(d, &o, 1, on_get, NULL);
        if (rc)
            return rc;
        pending++;
    }
    loop_run(L);
    return 0;
}

static int check_inflight(struct snmp_engine *e, char **av)
{
    int n = atoi(av[1]), m = atoi(av[2]);
    struct snmp_device *d = add(e, av[0], SNMP_V2C, m, 0, 1000, 1);
    many_gets(d, n);
    struct snmp_device_stats st;
    snmp_device_stats(d, &st);
    printf("answered=%d failures=%d peak_in_flight=%u sent=%llu\n", n - failures, failures,
           st.peak_in_flight, (unsigned long long)st.sent);
    return failures == 0 && st.peak_in_flight == (unsigned)m ? 0 : 1;
}

static int check_rate(struct snmp_engine *e, char **av)
{
    int n = atoi(av[1]);
    double rate = atof(av[2]);
    struct snmp_device *d = add(e, av[0], SNMP_V2C, 8, rate, 1000, 1);
    int64_t t0 = now_ms();
    many_gets(d, n);
    int64_t el = now_ms() - t0, min = (int64_t)((n - 1) * 1000 / rate);
    printf("answered=%d elapsed_ms=%lld min_ms=%lld\n", n - failures, (long long)el,
           (long long)min);
    return failures == 0 && el >= min ? 0 : 1;
}

static int check_get(struct snmp_engine *e, char **av)
{
    struct snmp_device *d = add(e, av[0], SNMP_V2C, 1, 0, atoi(av[1]), atoi(av[2]));
    int64_t t0 = now_ms();
    many_gets(d, 1);
    printf("status=%d elapsed_ms=%lld\n", last_status, (long long)(now_ms() - t0));
    return 0;
}

static int check_dead_v3(struct snmp_engine *e, char **av)
{
    int base = atoi(av[0]), n = atoi(av[1]), timeout = atoi(av[2]);
    struct snmp_oid o = uptime();
    for (int i = 0; i < n; i++) {
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", base + i);
        if (snmp_get(add(e, addr, SNMP_V3, 1, 0, timeout, 1), &o, 1, on_get, NULL))
            return 2;
        pending++;
    }
    struct loop_timer *t = loop_timer_new(L, tick, NULL);
    loop_timer_start(t, 10, 10);
    int64_t t0 = now_ms();
    loop_run(L);
    int64_t el = now_ms() - t0;
    loop_timer_free(t);
    printf("timed_out=%d of %d elapsed_ms=%lld max_tick_late_ms=%lld\n", failures, n, (long long)el,
           (long long)tick_late_max);
    return failures == n && tick_late_max < 100 && el < 2 * timeout * 2 + 500 ? 0 : 1;
}

static int check_queue(struct snmp_engine *e, char **av)
{
    struct snmp_device *d = add(e, av[0], SNMP_V2C, 1, 0, 1000, 1);
    int limit = atoi(av[1]);
    struct snmp_oid o = uptime();
    int rc = 0;
    /* one goes straight into flight, LIMIT wait in the queue, the next is refused */
    for (int i = 0; i <= limit + 1 && !rc; i++)
        if (!(rc = snmp_get(d, &o, 1, on_get, NULL)))
            pending++;
    int accepted = pending;
    snmp_engine_remove(d); /* every accepted request ends, cancelled */
    printf("accepted=%d refused_with=%d cancelled=%d\n", accepted, rc, failures);
    return rc == -ENOBUFS && accepted == limit + 1 && failures == accepted ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return fprintf(stderr, "usage: see the source\n"), 2;
    L = loop_new();
    struct snmp_engine_opts opts = {.queue_limit = 0};
    if (!strcmp(argv[1], "queue"))
        opts.queue_limit = (size_t)atoi(argv[3]);
    struct snmp_engine *e = snmp_engine_new(L, &opts);
    int rc = 2;
    if (!strcmp(argv[1], "inflight") && argc == 5)
        rc = check_inflight(e, argv + 2);
    else if (!strcmp(argv[1], "rate") && argc == 5)
        rc = check_rate(e, argv + 2);
    else if (!strcmp(argv[1], "get") && argc == 5)
        rc = check_get(e, argv + 2);
    else if (!strcmp(argv[1], "dead-v3") && argc == 5)
        rc = check_dead_v3(e, argv + 2);
    else if (!strcmp(argv[1], "queue") && argc == 4)
        rc = check_queue(e, argv + 2);
    snmp_engine_free(e);
    loop_free(L);
    return rc;
}
