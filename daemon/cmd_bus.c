/* farol bus publish|consume: put events on the Kafka bus and read them back, through the same
 * bus API the stages use. Exit status: 0 ok, 1 some lines/messages failed, 2 usage or setup. */
#include "daemon/cmd_bus.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/bus.h"
#include "core/event_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct bus_opts {
    const char *config;
    const char *brokers;
    const char *topic;
    const char *group;
    const char *input;
    long count;
    int64_t timeout_ms;
    int verbose;
    struct bus_kv *props;
    size_t n_props;
};

static const char usage_text[] =
    "usage: farol bus publish [--config FILE | --brokers B] [-X prop=val]... [--topic NAME]\n"
    "                         [--timeout DUR] [FILE.jsonl|-]\n"
    "       farol bus consume [--config FILE | --brokers B] [-X prop=val]... --topic NAME\n"
    "                         --group G [--count N] [--timeout DUR]\n"
    "\n"
    "publish  validates each line as an event and publishes it under its key to the topic of\n"
    "         its type (or to --topic); bad lines are reported as FILE:LINE: error and skipped.\n"
    "         Waits until Kafka acknowledged everything (at most --timeout, default 30s).\n"
    "consume  prints each message payload as one line; stops after --count messages or after\n"
    "         --timeout (exit 1 if --count was not reached). The group is <group_prefix>.G.\n"
    "NAME is a topic id (alarms, outages, ...) or its wire name (farol.alarms).\n"
    "  -c, --config FILE   take bus settings from farol's configuration\n"
    "  -b, --brokers B     host:port[,host:port...] (overrides the configuration)\n"
    "  -X prop=val         librdkafka property, passed through (repeatable)\n"
    "  -v, --verbose       more logging on stderr (twice for debug)\n";

static void usage(FILE *f)
{
    fputs(usage_text, f);
}

/* "250ms", "10s", "2m", "1h"; a bare number is seconds. */
static int parse_duration(const char *s, int64_t *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -EINVAL;
    double mult = strcmp(end, "ms") == 0             ? 1
                  : (strcmp(end, "s") == 0 || !*end) ? 1000
                  : strcmp(end, "m") == 0            ? 60000
                  : strcmp(end, "h") == 0            ? 3600000
                                                     : -1;
    if (mult < 0)
        return -EINVAL;
    *ms = (int64_t)(v * mult);
    return 0;
}

static int add_prop(struct bus_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return -EINVAL;
    o->props = xrealloc(o->props, (o->n_props + 1) * sizeof *o->props);
    o->props[o->n_props].key = xstrndup(arg, (size_t)(eq - arg));
    o->props[o->n_props].value = xstrdup(eq + 1);
    o->n_props++;
    return 0;
}

static int parse_one(struct bus_opts *o, int c, const char *arg)
{
    char *end;
    switch (c) {
    case 'c':
        o->config = arg;
        return 0;
    case 'b':
        o->brokers = arg;
        return 0;
    case 't':
        o->topic = arg;
        return 0;
    case 'g':
        o->group = arg;
        return 0;
    case 'v':
        o->verbose++;
        return 0;
    case 'X':
        return add_prop(o, arg);
    case 'T':
        return parse_duration(arg, &o->timeout_ms);
    case 'n':
        o->count = strtol(arg, &end, 10);
        return *end || o->count <= 0 ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

/* 0 parsed, 1 help shown, -EINVAL bad usage (already reported). */
static int parse_opts(int argc, char **argv, struct bus_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 'T'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 0; /* full re-initialisation: main may have used getopt already */
    while ((c = getopt_long(argc, argv, "c:b:t:g:n:T:X:vh", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == '?' || parse_one(o, c, optarg) < 0) {
            if (c != '?')
                fprintf(stderr, "farol bus: bad value for -%c: %s\n", c, optarg);
            usage(stderr);
            return -EINVAL;
        }
    }
    o->input = optind < argc ? argv[optind] : "-";
    return 0;
}

/* ---- bus setup ---- */

static int load_bus_config(const struct bus_opts *o, struct config *conf)
{
    memset(conf, 0, sizeof *conf);
    if (o->config) {
        struct config_diag diag;
        config_diag_init(&diag);
        int rc = config_load(o->config, conf, &diag);
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "%s\n", diag.msgs[i]);
        config_diag_deinit(&diag);
        if (rc < 0)
            return rc;
    } else {
        bus_config_init(&conf->bus);
    }
    return 0;
}

static void release_config(const struct bus_opts *o, struct config *conf)
{
    if (o->config)
        config_deinit(conf);
    else
        bus_config_deinit(&conf->bus);
}

/* Moves the -X properties into cfg (after the configuration's, so they win). */
static int apply_opts(struct bus_opts *o, struct bus_config *cfg)
{
    cfg->transport = BUS_KAFKA;
    if (o->brokers) {
        free(cfg->brokers);
        cfg->brokers = xstrdup(o->brokers);
    }
    if (!cfg->brokers) {
        fprintf(stderr, "farol bus: no brokers: give --brokers or a --config with bus.brokers\n");
        return -EINVAL;
    }
    size_t n = cfg->n_properties + o->n_props;
    cfg->properties = xrealloc(cfg->properties, (n ? n : 1) * sizeof *cfg->properties);
    if (o->n_props) /* memcpy from NULL is undefined even for zero bytes */
        memcpy(cfg->properties + cfg->n_properties, o->props, o->n_props * sizeof *o->props);
    cfg->n_properties = n;
    free(o->props);
    o->props = NULL;
    o->n_props = 0;
    return 0;
}

/* Topic id ("alarms") or wire name ("farol.alarms"). */
static int resolve_topic(struct bus *bus, const char *name, enum bus_topic *out)
{
    if (bus_topic_parse(name, out) == 0)
        return 0;
    for (int t = 0; t < BUS_TOPIC_COUNT; t++) {
        if (strcmp(bus_topic_name(bus, (enum bus_topic)t), name) == 0) {
            *out = (enum bus_topic)t;
            return 0;
        }
    }
    fprintf(stderr, "farol bus: unknown topic %s\n", name);
    return -EINVAL;
}

/* ---- publish ---- */

struct pub_state {
    struct loop *loop;
    struct bus *bus;
    const char *fname;
    bool fixed_topic;
    enum bus_topic topic;
    size_t published, bad;
};

static int publish_retrying(struct pub_state *st, enum bus_topic topic, const char *key,
                            const char *line, size_t len)
{
    int rc;
    /* back-pressure: let delivery reports drain the queue, then try again */
    while ((rc = bus_publish(st->bus, topic, key, line, len)) == -ENOBUFS)
        loop_run_once(st->loop, 1);
    return rc;
}

static void publish_line(struct pub_state *st, size_t lineno, char *line, size_t len)
{
    struct event ev;
    char err[256];
    int rc = event_decode(line, len, &ev, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s:%zu: %s\n", st->fname, lineno, err);
        st->bad++;
        return;
    }
    enum bus_topic topic = st->fixed_topic ? st->topic : bus_topic_for(ev.type);
    rc = publish_retrying(st, topic, event_key(&ev), line, len);
    if (rc < 0) {
        fprintf(stderr, "%s:%zu: publish failed: %s\n", st->fname, lineno, strerror(-rc));
        st->bad++;
    } else {
        st->published++;
    }
    event_deinit(&ev);
}

static int publish_stream(struct pub_state *st, FILE *in)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0)
            publish_line(st, lineno, line, (size_t)n);
    }
    free(line);
    return ferror(in) ? -EIO : 0;
}

static int wait_acknowledged(struct pub_state *st, int64_t timeout_ms)
{
    int64_t deadline = loop_now_ms(st->loop) + timeout_ms;
    while (bus_pending(st->bus) > 0 && loop_now_ms(st->loop) < deadline)
        loop_run_once(st->loop, 1);
    size_t left = bus_pending(st->bus);
    if (left > 0)
        fprintf(stderr, "farol bus: %zu message(s) not acknowledged by Kafka in time\n", left);
    return left > 0 ? -ETIMEDOUT : 0;
}

static int run_publish(struct bus_opts *o, struct loop *loop, struct bus *bus)
{
    struct pub_state st = {.loop = loop, .bus = bus, .fname = o->input};
    if (o->topic) {
        if (resolve_topic(bus, o->topic, &st.topic) < 0)
            return 2;
        st.fixed_topic = true;
    }
    bool is_stdin = strcmp(o->input, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(o->input, "r");
    if (!in) {
        fprintf(stderr, "farol bus: %s: %s\n", o->input, strerror(errno));
        return 2;
    }
    if (is_stdin)
        st.fname = "<stdin>";
    int rc = publish_stream(&st, in);
    if (!is_stdin)
        fclose(in);
    if (wait_acknowledged(&st, o->timeout_ms > 0 ? o->timeout_ms : 30000) < 0)
        rc = -ETIMEDOUT;
    fprintf(stderr, "farol bus: published %zu, bad %zu\n", st.published, st.bad);
    return rc < 0 || st.bad > 0 ? 1 : 0;
}

/* ---- consume ---- */

struct con_state {
    struct loop *loop;
    struct bus *bus;
    long want, got;
    bool timed_out;
};

static int on_message(void *arg, const struct bus_msg *msg)
{
    struct con_state *st = arg;
    fwrite(msg->payload, 1, msg->len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    st->got++;
    if (st->want > 0 && st->got >= st->want) {
        bus_pause_consumers(st->bus);
        loop_stop(st->loop);
    }
    return 0;
}

static void on_timeout(void *arg)
{
    struct con_state *st = arg;
    st->timed_out = true;
    loop_stop(st->loop);
}

static void on_signal(void *arg, int signum)
{
    (void)signum;
    struct con_state *st = arg;
    loop_stop(st->loop);
}

static int run_consume(struct bus_opts *o, struct loop *loop, struct bus *bus)
{
    enum bus_topic topic;
    if (!o->topic || !o->group) {
        fprintf(stderr, "farol bus consume: --topic and --group are required\n");
        return 2;
    }
    if (resolve_topic(bus, o->topic, &topic) < 0)
        return 2;
    struct con_state st = {.loop = loop, .bus = bus, .want = o->count};
    int rc = bus_subscribe(bus, topic, o->group, on_message, &st);
    if (rc < 0) {
        fprintf(stderr, "farol bus consume: subscribe: %s\n", strerror(-rc));
        return 2;
    }
    struct loop_timer *t = loop_timer_new(loop, on_timeout, &st);
    if (o->timeout_ms > 0)
        loop_timer_start(t, o->timeout_ms, 0);
    struct loop_signal *sint = loop_signal_new(loop, SIGINT, on_signal, &st);
    struct loop_signal *sterm = loop_signal_new(loop, SIGTERM, on_signal, &st);
    loop_run(loop);
    bus_pause_consumers(bus);
    loop_signal_free(sint);
    loop_signal_free(sterm);
    loop_timer_free(t);
    if (st.want > 0 && st.got < st.want) {
        fprintf(stderr, "farol bus consume: got %ld of %ld message(s)%s\n", st.got, st.want,
                st.timed_out ? " before the timeout" : "");
        return 1;
    }
    return 0;
}

/* ---- entry ---- */

static int run(struct bus_opts *o, bool publish)
{
    struct config conf;
    if (load_bus_config(o, &conf) < 0)
        return 2;
    log_setup(o->verbose > 1 ? LOG_LEVEL_DEBUG
              : o->verbose   ? LOG_LEVEL_INFO
                             : LOG_LEVEL_WARN,
              o->config ? conf.log.format : LOG_FORMAT_TEXT);
    int rc = 2;
    if (apply_opts(o, &conf.bus) == 0) {
        struct loop *loop = loop_new();
        char err[512];
        struct bus *bus = bus_new(loop, &conf.bus, err, sizeof err);
        if (!bus) {
            fprintf(stderr, "farol bus: %s\n", err);
        } else {
            rc = publish ? run_publish(o, loop, bus) : run_consume(o, loop, bus);
            bus_free(bus);
        }
        loop_free(loop);
    }
    release_config(o, &conf);
    return rc;
}

int cmd_bus(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    bool publish = strcmp(argv[1], "publish") == 0;
    if (!publish && strcmp(argv[1], "consume") != 0) {
        fprintf(stderr, "farol bus: unknown subcommand %s\n", argv[1]);
        usage(stderr);
        return 2;
    }
    struct bus_opts o = {0};
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc == 0)
        rc = run(&o, publish);
    else
        rc = rc > 0 ? 0 : 2;
    for (size_t i = 0; i < o.n_props; i++) {
        free(o.props[i].key);
        free(o.props[i].value);
    }
    free(o.props);
    return rc;
}
