/* bench_storm_publish: the paced alarm publisher of bench/correlator.sh. Reads
 * "DEVICE<TAB>OBJECT<TAB>KIND" lines (the storm, in sending order) into memory, then publishes
 * one alarm raise per line at RATE per second, evenly spaced, stamped (ts, observed_at) with
 * the time it is sent, keyed by device (docs/events.md). librdkafka directly, so that the
 * delivery report of every alarm is timed: the figures are read by the script as
 * "name value" lines on stdout.
 *   bench_storm_publish --brokers B [--topic T] [--rate N] [--tag S] [-X k=v]... FILE
 * RATE 0 publishes as fast as the producer queue allows. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"

struct alarm_line {
    char *device, *object, *kind;
};

struct stats {
    long acked, failed;
    int64_t first_ms, last_ms, last_ack_ms;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rfc3339(int64_t ms, char *out, size_t sz)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sz, "%s.%03dZ", base, (int)(ms % 1000));
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct stats *st = opaque;
    (void)rk;
    if (m->err) {
        st->failed++;
        return;
    }
    st->acked++;
    st->last_ack_ms = wall_ms();
}

static struct alarm_line *read_storm(FILE *in, size_t *n)
{
    struct alarm_line *v = NULL;
    size_t cap = 0, lcap = 0;
    char *line = NULL;
    ssize_t len;
    *n = 0;
    while ((len = getline(&line, &lcap, in)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        char *obj = strchr(line, '\t'), *kind = obj ? strchr(obj + 1, '\t') : NULL;
        if (!kind)
            continue;
        *obj++ = '\0';
        *kind++ = '\0';
        if (*n == cap) {
            cap = cap ? cap * 2 : 4096;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[(*n)++] = (struct alarm_line){xstrdup(line), xstrdup(obj), xstrdup(kind)};
    }
    free(line);
    return v;
}

/* One alarm raise, stamped now; retried while the producer queue is full. */
static int publish(rd_kafka_t *rk, const char *topic, const char *tag, const struct alarm_line *a,
                   struct stats *st)
{
    char json[1024], ts[40];
    int64_t now = wall_ms();
    rfc3339(now, ts, sizeof ts);
    int len = snprintf(json, sizeof json,
                       "{\"v\":1,\"type\":\"alarm\",\"ts\":\"%s\",\"data\":{\"id\":\"%s/%s/%s/%s\","
                       "\"action\":\"raise\",\"device\":\"%s\",\"object\":\"%s\",\"kind\":\"%s\","
                       "\"severity\":\"major\",\"source\":\"snmp-trap\",\"observed_at\":\"%s\"}}",
                       ts, a->device, a->object, a->kind, tag, a->device, a->object, a->kind, ts);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(a->device, strlen(a->device)),
            RD_KAFKA_V_VALUE(json, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
            return -EIO;
        }
        rd_kafka_poll(rk, 1);
    }
    if (!st->first_ms)
        st->first_ms = now;
    st->last_ms = now;
    return 0;
}

static void sleep_until(double t)
{
    double d = t - mono_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Message i is due at start + i / rate: a late sender catches up instead of drifting. */
static int run_storm(rd_kafka_t *rk, const char *topic, const char *tag, double rate,
                     const struct alarm_line *v, size_t n, struct stats *st)
{
    double start = mono_s();
    for (size_t i = 0; i < n; i++) {
        if (rate > 0)
            sleep_until(start + (double)i / rate);
        if (publish(rk, topic, tag, &v[i], st) < 0)
            return -EIO;
        rd_kafka_poll(rk, 0);
    }
    return 0;
}

static rd_kafka_t *producer(const char *brokers, char **props, int nprops, struct stats *st)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *base[][2] = {{"bootstrap.servers", brokers},
                             {"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"linger.ms", "5"}};
    for (size_t i = 0; i < sizeof base / sizeof *base; i++)
        rd_kafka_conf_set(conf, base[i][0], base[i][1], err, sizeof err);
    for (int i = 0; i < nprops; i++) {
        char *eq = strchr(props[i], '=');
        if (eq)
            *eq = '\0';
        if (!eq || rd_kafka_conf_set(conf, props[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bad -X %s: %s\n", props[i], eq ? err : "no '='");
            exit(2);
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, st);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "producer: %s\n", err);
        exit(2);
    }
    return rk;
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *topic = "farol.alarms", *tag = "storm";
    double rate = 10000;
    char **props = xcalloc((size_t)argc, sizeof *props);
    int nprops = 0, i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        const char *o = argv[i], *a = argv[i + 1];
        if (!strcmp(o, "--brokers"))
            brokers = a;
        else if (!strcmp(o, "--topic"))
            topic = a;
        else if (!strcmp(o, "--rate"))
            rate = atof(a);
        else if (!strcmp(o, "--tag"))
            tag = a;
        else if (!strcmp(o, "-X"))
            props[nprops++] = argv[i + 1];
    }
    FILE *in = i + 1 == argc ? fopen(argv[i], "r") : NULL;
    if (!brokers || !in) {
        fprintf(stderr, "usage: bench_storm_publish --brokers B [--topic T] [--rate N] "
                        "[--tag S] [-X k=v]... FILE\n");
        return 2;
    }
    size_t n;
    struct alarm_line *v = read_storm(in, &n);
    fclose(in);
    struct stats st = {0};
    rd_kafka_t *rk = producer(brokers, props, nprops, &st);
    double t0 = mono_s();
    int rc = run_storm(rk, topic, tag, rate, v, n, &st);
    double sent_s = mono_s() - t0;
    rd_kafka_flush(rk, 60000);
    printf("sent %zu\nacked %ld\nfailed %ld\nfirst_ms %lld\nlast_ms %lld\nlast_ack_ms %lld\n"
           "send_s %.3f\n",
           n, st.acked, st.failed, (long long)st.first_ms, (long long)st.last_ms,
           (long long)st.last_ack_ms, sent_s);
    rd_kafka_destroy(rk);
    for (size_t k = 0; k < n; k++) {
        free(v[k].device);
        free(v[k].object);
        free(v[k].kind);
    }
    free(v);
    free(props);
    return rc == 0 && st.acked == (long)n ? 0 : 1;
}
