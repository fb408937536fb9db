/* farol ping: probe targets with the collector's ICMP prober and print fping-style results. */
#include "daemon/cmd_ping.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "collector/icmp_prober.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct ping {
    struct loop *loop;
    struct icmp_prober *prober;
    unsigned count; /* 0: alive mode (one round, "is alive" lines) */
    int quiet;
    int width; /* longest target name, to align columns like fping */
    unsigned nt;
    unsigned size;
};

static const char usage_text[] =
    "usage: farol ping [-c COUNT] [-i MS] [-t MS] [-r RETRIES] [-q] [--socket raw|dgram|auto]\n"
    "                  [-f FILE | TARGET...]\n"
    "\n"
    "Send ICMP echo requests to numeric IPv4/IPv6 TARGETs (no DNS) and report like fping.\n"
    "Without -c: one round per target, printing 'TARGET is alive' or 'is unreachable'.\n"
    "With -c: COUNT rounds, a line per reply or timeout (unless -q), then per target\n"
    "  'TARGET : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.03/0.04/0.06' (ms).\n"
    "  -c COUNT      rounds per target\n"
    "  -i MS         per-target period between rounds (default 1000); the probes of different\n"
    "                targets are spread across it (a single round is sent at once instead)\n"
    "  -t MS         timeout per probe (default 500)\n"
    "  -r RETRIES    extra probes in a round after a timeout (default 0 with -c, else 2)\n"
    "  -q            no per-reply lines\n"
    "  -f FILE       read targets from FILE, one per line ('-' is stdin; # comments)\n"
    "  --socket M    raw (needs CAP_NET_RAW), dgram (ping_group_range), auto (default)\n"
    "Exit status: 0 all targets answered, 1 some did not, 2 usage or setup error.\n";

static void usage(FILE *f)
{
    fputs(usage_text, f);
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > max)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* Add one numeric address; where names the argument or FILE:LINE in errors. */
static int add_target(struct ping *pg, const struct icmp_target_opts *to, const char *s,
                      const char *where)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_RAW};
    struct addrinfo *ai = NULL;
    char err[256];
    if (getaddrinfo(s, NULL, &hints, &ai) != 0 || !ai) {
        fprintf(stderr,
                "farol ping: %s: '%s' is not a numeric IPv4 or IPv6 address "
                "(farol ping does no DNS)\n",
                where, s);
        return -EINVAL;
    }
    int rc = icmp_prober_add(pg->prober, s, ai->ai_addr, ai->ai_addrlen, to, NULL, err, sizeof err);
    freeaddrinfo(ai);
    if (rc < 0) {
        fprintf(stderr, "farol ping: %s: %s\n", where, err);
        return rc;
    }
    int len = (int)strlen(s);
    if (len > pg->width)
        pg->width = len;
    pg->nt++;
    return 0;
}

static char *trim(char *s)
{
    char *hash = strchr(s, '#');
    if (hash)
        *hash = '\0';
    s += strspn(s, " \t\r\n");
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int add_file(struct ping *pg, const struct icmp_target_opts *to, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "farol ping: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    char *line = NULL, where[512];
    size_t cap = 0;
    int rc = 0;
    for (unsigned lineno = 1; rc == 0 && getline(&line, &cap, f) >= 0; lineno++) {
        char *s = trim(line);
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        if (*s)
            rc = add_target(pg, to, s, where);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static unsigned loss_pct(const struct icmp_target_stats *s)
{
    return s->xmt ? (unsigned)((s->xmt - s->rcv) * 100 / s->xmt) : 0;
}

static double avg_ms(const struct icmp_target_stats *s)
{
    return s->rcv ? (double)s->rtt_sum_us / (double)s->rcv / 1000.0 : 0.0;
}

static void on_reply(void *arg, uint32_t id, uint64_t rtt_us, void *user)
{
    struct ping *pg = arg;
    struct icmp_target_stats s;
    (void)user;
    if (pg->quiet || !pg->count || icmp_prober_target_stats(pg->prober, id, &s) < 0)
        return;
    printf("%-*s : [%llu], %u bytes, %.2f ms (%.2f avg, %u%% loss)\n", pg->width,
           icmp_prober_name(pg->prober, id), (unsigned long long)(s.xmt - 1), pg->size,
           (double)rtt_us / 1000.0, avg_ms(&s), loss_pct(&s));
}

static void on_lost(void *arg, uint32_t id, void *user)
{
    struct ping *pg = arg;
    struct icmp_target_stats s;
    (void)user;
    if (pg->quiet || !pg->count || icmp_prober_target_stats(pg->prober, id, &s) < 0)
        return;
    printf("%-*s : [%llu], timed out (%.2f avg, %u%% loss)\n", pg->width,
           icmp_prober_name(pg->prober, id), (unsigned long long)(s.xmt - 1), avg_ms(&s),
           loss_pct(&s));
}

static void on_done(void *arg)
{
    struct ping *pg = arg;
    loop_stop(pg->loop);
}

static void on_signal(void *arg, int signum)
{
    struct ping *pg = arg;
    (void)signum;
    loop_stop(pg->loop);
}

static void print_summary(const struct ping *pg, uint32_t id, const struct icmp_target_stats *s)
{
    const char *name = icmp_prober_name(pg->prober, id);
    if (!pg->count) {
        printf("%s is %s\n", name, s->rcv ? "alive" : "unreachable");
        return;
    }
    printf("%-*s : xmt/rcv/%%loss = %llu/%llu/%u%%", pg->width, name, (unsigned long long)s->xmt,
           (unsigned long long)s->rcv, loss_pct(s));
    if (s->rcv)
        printf(", min/avg/max = %.2f/%.2f/%.2f", (double)s->rtt_min_us / 1000.0, avg_ms(s),
               (double)s->rtt_max_us / 1000.0);
    printf("\n");
}

/* Print every target's result; returns how many never answered. */
static unsigned report(const struct ping *pg)
{
    unsigned dead = 0;
    if (pg->count && !pg->quiet)
        printf("\n");
    for (uint32_t id = 0; id < pg->nt; id++) {
        struct icmp_target_stats s;
        if (icmp_prober_target_stats(pg->prober, id, &s) < 0)
            continue;
        print_summary(pg, id, &s);
        dead += s.rcv == 0;
    }
    if (pg->count)
        printf("%u targets: %u alive, %u unreachable\n", pg->nt, pg->nt - dead, dead);
    return dead;
}

struct args {
    struct icmp_target_opts to;
    struct icmp_prober_opts po;
    const char *file;
    int retries_set;
};

static int parse_socket_mode(const char *s, enum icmp_sock_mode *m)
{
    if (!strcmp(s, "auto"))
        *m = ICMP_SOCK_AUTO;
    else if (!strcmp(s, "raw"))
        *m = ICMP_SOCK_RAW;
    else if (!strcmp(s, "dgram"))
        *m = ICMP_SOCK_DGRAM;
    else
        return -EINVAL;
    return 0;
}

/* Returns -1 to go on, else the exit status (help or usage error). */
static int parse_args(int argc, char **argv, struct ping *pg, struct args *a)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"socket", required_argument, NULL, 'S'},
                                             {NULL, 0, NULL, 0}};
    unsigned v = 0;
    int c, bad = 0;
    optind = 1;
    while (!bad && (c = getopt_long(argc, argv, "c:i:t:r:qf:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            bad = parse_uint(optarg, 1000000, &pg->count) || !pg->count;
            break;
        case 'i':
            bad = parse_uint(optarg, 86400000, &a->to.interval_ms);
            break;
        case 't':
            bad = parse_uint(optarg, 600000, &v) || !v, a->to.timeout_ms = v;
            break;
        case 'r':
            bad = parse_uint(optarg, 100, &a->to.retries), a->retries_set = 1;
            break;
        case 'q':
            pg->quiet = 1;
            break;
        case 'f':
            a->file = optarg;
            break;
        case 'S':
            bad = parse_socket_mode(optarg, &a->po.socket_mode);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "farol ping: bad value for -%c: '%s'\n", c == 'S' ? 'S' : c, optarg);
            return 2;
        }
    }
    if ((a->file != NULL) == (optind < argc)) {
        fprintf(stderr,
                "farol ping: give targets on the command line or with -f FILE (one of the two)\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

static void setup_opts(struct ping *pg, struct args *a)
{
    if (!a->to.interval_ms)
        a->to.interval_ms = 1000;
    if (!a->to.timeout_ms)
        a->to.timeout_ms = 500;
    if (!a->retries_set && !pg->count)
        a->to.retries = 2;
    a->to.rounds = pg->count ? pg->count : 1;
    a->po.no_spread = a->to.rounds == 1;
    a->po.on_reply = on_reply;
    a->po.on_lost = on_lost;
    a->po.on_done = on_done;
    a->po.arg = pg;
    pg->size = a->po.packet_size = 64;
}

static int run(struct ping *pg, int argc, char **argv, struct args *a)
{
    char err[256];
    pg->prober = icmp_prober_new(pg->loop, &a->po, err, sizeof err);
    if (!pg->prober) {
        fprintf(stderr, "farol ping: %s\n", err);
        return 2;
    }
    int rc = 0;
    if (a->file)
        rc = add_file(pg, &a->to, a->file);
    for (int i = optind; rc == 0 && i < argc; i++)
        rc = add_target(pg, &a->to, argv[i], argv[i]);
    if (rc < 0)
        return 2;
    if (pg->nt == 0) {
        fprintf(stderr, "farol ping: no targets in %s\n", a->file);
        return 2;
    }
    struct loop_signal *sig_int = loop_signal_new(pg->loop, SIGINT, on_signal, pg);
    struct loop_signal *sig_term = loop_signal_new(pg->loop, SIGTERM, on_signal, pg);
    loop_run(pg->loop);
    loop_signal_free(sig_int);
    loop_signal_free(sig_term);
    return report(pg) ? 1 : 0;
}

int cmd_ping(int argc, char **argv)
{
    struct ping pg = {0};
    struct args a = {0};
    int rc = parse_args(argc, argv, &pg, &a);
    if (rc >= 0)
        return rc;
    setup_opts(&pg, &a);
    pg.loop = loop_new();
    rc = run(&pg, argc, argv, &a);
    icmp_prober_free(pg.prober);
    loop_free(pg.loop);
    fflush(stdout);
    return rc;
}
