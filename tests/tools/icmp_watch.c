/* icmp_watch: run the collector's ICMP prober over targets and print each state transition as
 * one line "TARGET OLD->NEW rounds=R lost_rounds=L xmt=X rcv=Y" (stdout, flushed), for tests
 * that await transitions. SIGUSR1 prints the prober's counters to stderr; SIGTERM or SIGINT (or
 * -n rounds done everywhere) prints them and exits.
 * usage: icmp_watch [-i MS] [-t MS] [-r RETRIES] [-d DOWN] [-u UP] [-n ROUNDS] TARGET... */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "collector/icmp_prober.h"
#include "core/loop.h"

static struct icmp_prober *prober;
static struct loop *loop;

static void on_state(void *arg, uint32_t id, enum icmp_state old, enum icmp_state now, void *user)
{
    struct icmp_target_stats st;
    (void)arg, (void)user;
    icmp_prober_target_stats(prober, id, &st);
    printf("%s %s->%s rounds=%llu lost_rounds=%llu xmt=%llu rcv=%llu\n",
           icmp_prober_name(prober, id), icmp_state_name(old), icmp_state_name(now),
           (unsigned long long)st.rounds, (unsigned long long)st.lost_rounds,
           (unsigned long long)st.xmt, (unsigned long long)st.rcv);
    fflush(stdout);
}

static void stop(void *arg, int signum)
{
    (void)arg, (void)signum;
    loop_stop(loop);
}

static void print_stats(void);

static void dump(void *arg, int signum)
{
    (void)arg, (void)signum;
    print_stats();
}

static void on_done(void *arg)
{
    stop(arg, 0);
}

static void print_stats(void)
{
    struct icmp_prober_stats s;
    icmp_prober_stats(prober, &s);
    fprintf(stderr,
            "stats: sent=%llu received=%llu timeouts=%llu deferred=%llu send_errors=%llu "
            "late=%llu duplicates=%llu foreign=%llu malformed=%llu\n",
            (unsigned long long)s.sent, (unsigned long long)s.received,
            (unsigned long long)s.timeouts, (unsigned long long)s.send_deferred,
            (unsigned long long)s.send_errors, (unsigned long long)s.late,
            (unsigned long long)s.duplicates, (unsigned long long)s.foreign,
            (unsigned long long)s.malformed);
}

static int add_all(char **names, int n, const struct icmp_target_opts *to)
{
    for (int i = 0; i < n; i++) {
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_RAW}, *ai;
        char err[256];
        if (getaddrinfo(names[i], NULL, &hints, &ai) != 0) {
            fprintf(stderr, "icmp_watch: bad address %s\n", names[i]);
            return -1;
        }
        int rc = icmp_prober_add(prober, names[i], ai->ai_addr, ai->ai_addrlen, to, NULL, err,
                                 sizeof err);
        freeaddrinfo(ai);
        if (rc < 0) {
            fprintf(stderr, "icmp_watch: %s\n", err);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct icmp_target_opts to = {.interval_ms = 100, .timeout_ms = 80};
    int c;
    while ((c = getopt(argc, argv, "i:t:r:d:u:n:")) != -1) {
        unsigned v = (unsigned)strtoul(optarg, NULL, 10);
        switch (c) {
        case 'i':
            to.interval_ms = v;
            break;
        case 't':
            to.timeout_ms = v;
            break;
        case 'r':
            to.retries = v;
            break;
        case 'd':
            to.down_after = v;
            break;
        case 'u':
            to.up_after = v;
            break;
        case 'n':
            to.rounds = v;
            break;
        default:
            return 2;
        }
    }
    loop = loop_new();
    struct icmp_prober_opts po = {.on_state = on_state, .on_done = on_done};
    char err[256];
    prober = icmp_prober_new(loop, &po, err, sizeof err);
    if (!prober || optind >= argc || add_all(argv + optind, argc - optind, &to) < 0)
        return 2;
    struct loop_signal *s1 = loop_signal_new(loop, SIGTERM, stop, NULL);
    struct loop_signal *s2 = loop_signal_new(loop, SIGINT, stop, NULL);
    struct loop_signal *s3 = loop_signal_new(loop, SIGUSR1, dump, NULL);
    fprintf(stderr, "icmp_watch: watching %d targets\n", argc - optind);
    loop_run(loop);
    print_stats();
    loop_signal_free(s1);
    loop_signal_free(s2);
    loop_signal_free(s3);
    icmp_prober_free(prober);
    loop_free(loop);
    return 0;
}
