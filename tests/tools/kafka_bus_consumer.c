/* kafka_bus_consumer: a deliberately slow bus consumer for the Kafka crash tests.
 *
 *   kafka_bus_consumer -b BROKERS -t TOPIC -g GROUP -o FILE [-r N] [-X prop=val]...
 *
 * Joins GROUP through the public bus API and appends each handled payload as one line to
 * FILE with write(2), before the handler returns 0, so whatever a kill -9 interrupts, every
 * committed message is already in FILE. It handles at most N messages per 100 ms tick and
 * answers BUS_RETRY beyond that, which exercises the transport's pause/redeliver path.
 * SIGTERM/SIGINT leave the group cleanly. Prints the bus counters on stderr at exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct state {
    struct loop *loop;
    int fd;
    long rate, tokens;
};

static int on_message(void *arg, const struct bus_msg *msg)
{
    struct state *st = arg;
    if (st->rate > 0 && st->tokens <= 0)
        return BUS_RETRY;
    struct iovec iov[2] = {{(void *)msg->payload, msg->len}, {"\n", 1}};
    if (writev(st->fd, iov, 2) != (ssize_t)msg->len + 1) {
        perror("kafka_bus_consumer: write");
        exit(1);
    }
    st->tokens--;
    return 0;
}

static void on_tick(void *arg)
{
    struct state *st = arg;
    st->tokens = st->rate;
}

static void on_signal(void *arg, int signum)
{
    (void)signum;
    struct state *st = arg;
    loop_stop(st->loop);
}

static void add_prop(struct bus_config *cfg, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq) {
        fprintf(stderr, "kafka_bus_consumer: -X wants prop=val\n");
        exit(2);
    }
    cfg->properties = xrealloc(cfg->properties, (cfg->n_properties + 1) * sizeof(struct bus_kv));
    cfg->properties[cfg->n_properties].key = xstrndup(arg, (size_t)(eq - arg));
    cfg->properties[cfg->n_properties].value = xstrdup(eq + 1);
    cfg->n_properties++;
}

static void report(struct bus *bus)
{
    struct bus_stats s;
    bus_get_stats(bus, &s);
    fprintf(stderr, "kafka_bus_consumer: delivered=%llu handled=%llu retried=%llu\n",
            (unsigned long long)s.delivered, (unsigned long long)s.handled,
            (unsigned long long)s.retried);
}

int main(int argc, char **argv)
{
    struct bus_config cfg;
    bus_config_init(&cfg);
    cfg.transport = BUS_KAFKA;
    const char *topic = NULL, *group = NULL, *out = NULL;
    struct state st = {.rate = 0};
    int opt;
    while ((opt = getopt(argc, argv, "b:t:g:o:r:X:")) != -1) {
        switch (opt) {
        case 'b':
            cfg.brokers = xstrdup(optarg);
            break;
        case 't':
            topic = optarg;
            break;
        case 'g':
            group = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'r':
            st.rate = atol(optarg);
            break;
        case 'X':
            add_prop(&cfg, optarg);
            break;
        default:
            return 2;
        }
    }
    enum bus_topic t;
    if (!cfg.brokers || !topic || !group || !out || bus_topic_parse(topic, &t) < 0) {
        fprintf(stderr, "usage: kafka_bus_consumer -b BROKERS -t TOPIC -g GROUP -o FILE "
                        "[-r N] [-X prop=val]...\n");
        return 2;
    }
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
    st.fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (st.fd < 0) {
        perror(out);
        return 2;
    }
    st.loop = loop_new();
    char err[512];
    struct bus *bus = bus_new(st.loop, &cfg, err, sizeof err);
    if (!bus) {
        fprintf(stderr, "kafka_bus_consumer: %s\n", err);
        return 2;
    }
    if (bus_subscribe(bus, t, group, on_message, &st) < 0)
        return 2;
    struct loop_timer *tick = loop_timer_new(st.loop, on_tick, &st);
    st.tokens = st.rate;
    if (st.rate > 0)
        loop_timer_start(tick, 100, 100);
    struct loop_signal *s1 = loop_signal_new(st.loop, SIGTERM, on_signal, &st);
    struct loop_signal *s2 = loop_signal_new(st.loop, SIGINT, on_signal, &st);
    loop_run(st.loop);
    bus_pause_consumers(bus);
    report(bus);
    loop_timer_free(tick);
    loop_signal_free(s1);
    loop_signal_free(s2);
    bus_free(bus);
    loop_free(st.loop);
    bus_config_deinit(&cfg);
    close(st.fd);
    return 0;
}
