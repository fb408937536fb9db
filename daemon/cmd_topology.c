/* farol topology import|show and farol impact: the planner's view of the topology in Redis.
 * Import validates every file completely before touching Redis; show and impact read only
 * the current version and never more than they print. */
#include "daemon/cmd_topology.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "correlator/topology_load.h"
#include "correlator/topology_store.h"

struct opts {
    const char *config;
    const char *format;
    long long limit, offset, repeat;
    int check;
};

static void help_import(FILE *f)
{
    fprintf(
        f, "usage: farol topology import FILE... --config FARCONF [--format auto|yaml|csv]\n"
           "       farol topology import FILE... --check\n"
           "       farol topology show NODE --config FARCONF\n\n"
           "import: read YAML or CSV topology files (nodes, links, subscribers, bindings;\n"
           "docs/topology.md), validate them completely and, when there is no problem, write\n"
           "them to Redis as a new version that replaces the current one atomically. Every\n"
           "problem is printed as FILE:LINE: message; any problem rejects the whole import and\n"
           "the running topology stays. --check validates without Redis. Progress goes to stderr.\n"
           "show: a node's kind, parents, children, bindings and what its failure would cut off.\n"
           "Exit status: 0 done, 1 invalid files or unknown node, 2 usage or Redis error.\n");
}

static void help_impact(FILE *f)
{
    fprintf(f,
            "usage: farol impact NODE --config FARCONF [--limit N] [--offset N] [--repeat N]\n\n"
            "Who would lose service if NODE failed, with redundant uplinks taken into account:\n"
            "nodes by kind, the subscriber count, and subscriber ids (--limit, default 100;\n"
            "--offset to page). --repeat N runs the query N times and prints its latency to\n"
            "stderr (for benchmarks). Exit status: 0, 1 unknown node, 2 usage or Redis error.\n");
}

static int parse(int argc, char **argv, struct opts *o, void (*help)(FILE *))
{
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'l'},  {"offset", required_argument, NULL, 'o'},
        {"repeat", required_argument, NULL, 'r'}, {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    *o = (struct opts){.format = "auto", .limit = 100, .repeat = 1};
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:f:l:o:r:kh", longs, NULL)) != -1) {
        char *end = NULL;
        long long *num = c == 'l'   ? &o->limit
                         : c == 'o' ? &o->offset
                         : c == 'r' ? &o->repeat
                                    : NULL;
        if (c == 'h') {
            help(stdout);
            return 1;
        } else if (c == 'c') {
            o->config = optarg;
        } else if (c == 'f') {
            o->format = optarg;
        } else if (c == 'k') {
            o->check = 1;
        } else if (num && (*num = strtoll(optarg, &end, 10), *end || *num < 0)) {
            fprintf(stderr, "farol: --%s needs a number >= 0\n",
                    longs[c == 'l'   ? 2
                          : c == 'o' ? 3
                                     : 4]
                        .name);
            return -EINVAL;
        } else if (!num) {
            help(stderr);
            return -EINVAL;
        }
    }
    return 0;
}

static struct store_sync *redis_connect(const struct opts *o)
{
    if (!o->config) {
        fprintf(stderr, "farol: --config FARCONF is required (it names the Redis server)\n");
        return NULL;
    }
    struct config cfg;
    struct config_diag diag;
    config_diag_init(&diag);
    int rc = config_load(o->config, &cfg, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.msgs[i]);
    config_diag_deinit(&diag);
    if (rc < 0)
        return NULL;
    char err[512];
    signal(SIGPIPE, SIG_IGN);
    struct store_sync *ss = store_sync_connect(&cfg.redis, err, sizeof err);
    if (!ss)
        fprintf(stderr, "farol: %s\n", err);
    config_deinit(&cfg);
    return ss;
}

static void read_progress(void *arg, const char *file, size_t records)
{
    (void)arg;
    fprintf(stderr, "topology: %s: %zu records read\n", file, records);
}

static void write_progress(void *arg, const char *phase, size_t done, size_t total)
{
    (void)arg;
    if (total)
        fprintf(stderr, "topology: %s %zu/%zu written\n", phase, done, total);
    else if (done % 100000 == 0)
        fprintf(stderr, "topology: old version: %zu keys deleted\n", done);
}

static double secs_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int import(int argc, char **argv, const struct opts *o)
{
    struct topology_load_opts lo = {.progress = read_progress};
    if (topology_format_parse(o->format, &lo.format) < 0) {
        fprintf(stderr, "farol: --format must be auto, yaml or csv\n");
        return 2;
    }
    if (optind >= argc) {
        help_import(stderr);
        return 2;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct topology_errs errs = {0};
    struct topology *t = topology_load_files((const char *const *)argv + optind,
                                             (size_t)(argc - optind), &lo, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    if (!t) {
        fprintf(stderr, "topology: %zu problem%s; nothing imported, the running topology stays\n",
                errs.n, errs.n == 1 ? "" : "s");
        topology_errs_deinit(&errs);
        return 1;
    }
    topology_errs_deinit(&errs);
    fprintf(stderr, "topology: valid: %zu nodes, %zu subscribers, %zu bindings (%.2f s)\n",
            topology_node_count(t), topology_sub_count(t), topology_binding_count(t),
            secs_since(&t0));
    int rc = 0;
    if (!o->check) {
        struct store_sync *ss = redis_connect(o);
        char v[64], err[512], *src = xstrdup(argv[optind]);
        struct topology_store_write_opts wo = {.source = src, .progress = write_progress};
        if (!ss)
            rc = 2;
        else if (topology_store_write(ss, t, &wo, v, sizeof v, err, sizeof err) < 0)
            fprintf(stderr, "topology: import failed, the running topology stays: %s\n", err),
                rc = 2;
        else
            printf("topology version %s is current (%.2f s)%s%s\n", v, secs_since(&t0),
                   err[0] ? "; " : "", err);
        free(src);
        store_sync_free(ss);
    }
    topology_free(t);
    return rc;
}

static void print_counts(const uint64_t *count)
{
    const char *sep = "";
    for (int k = 0; k < TOPOLOGY_KINDS; k++)
        if (count[k]) {
            printf("%s%s %llu", sep, topology_kind_name(k), (unsigned long long)count[k]);
            sep = ", ";
        }
    printf("\n");
}

static int show(struct store_sync *ss, const char *v, const char *id)
{
    struct topology_store_node n;
    char err[512];
    int rc = topology_store_node_get(ss, v, id, &n, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "farol: %s\n", err);
        return rc == -ENOENT ? 1 : 2;
    }
    printf("node %s\nkind: %s\n", n.id, n.kind ? n.kind : "?");
    if (n.name)
        printf("name: %s\n", n.name);
    if (n.area)
        printf("area: %s\n", n.area);
    printf("parents: %s\nbindings: %s\nchildren: %llu", n.parents ? n.parents : "[]",
           n.bindings ? n.bindings : "[]", (unsigned long long)n.nchildren);
    unsigned long long cursor = 0;
    size_t shown = 0;
    do { /* one SSCAN page at most: the list is for orientation, the count is exact */
        char **ids;
        size_t cnt;
        if (topology_store_children(ss, v, id, &cursor, &ids, &cnt, err, sizeof err) < 0)
            break;
        for (size_t i = 0; i < cnt; i++, shown++) {
            printf("%s%s", shown ? " " : ": ", ids[i]);
            free(ids[i]);
        }
        free(ids);
    } while (cursor && shown < 500);
    printf("%s\nattached subscribers: %llu\nif it fails: %llu subscribers; nodes: ",
           cursor ? " ..." : "", (unsigned long long)n.direct_subs, (unsigned long long)n.subs);
    print_counts(n.count);
    printf("topology version: %s\n", v);
    topology_store_node_deinit(&n);
    return 0;
}

static int with_current(const struct opts *o, const char *id,
                        int (*fn)(struct store_sync *, const char *, const char *,
                                  const struct opts *))
{
    struct store_sync *ss = redis_connect(o);
    if (!ss)
        return 2;
    char v[64], err[512];
    int rc = topology_store_current(ss, v, sizeof v, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "farol: %s\n", err);
    else
        rc = fn(ss, v, id, o);
    store_sync_free(ss);
    return rc == -ENOENT ? 1 : rc < 0 ? 2 : rc;
}

static int show_fn(struct store_sync *ss, const char *v, const char *id, const struct opts *o)
{
    (void)o;
    return show(ss, v, id);
}

int cmd_topology(int argc, char **argv)
{
    struct opts o;
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help_import(stdout);
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "import") && strcmp(argv[1], "show"))) {
        help_import(stderr);
        return 2;
    }
    int rc = parse(argc - 1, argv + 1, &o, help_import);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!strcmp(argv[1], "import"))
        return import(argc - 1, argv + 1, &o);
    if (optind + 1 != argc - 1) {
        help_import(stderr);
        return 2;
    }
    return with_current(&o, argv[1 + optind], show_fn);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One impact query: the node record (counts precomputed) and one page of subscribers. */
static int impact_once(struct store_sync *ss, const char *v, const char *id, const struct opts *o,
                       struct topology_store_node *n, char ***ids, size_t *cnt)
{
    char err[512];
    int rc = topology_store_node_get(ss, v, id, n, err, sizeof err);
    if (rc == 0 &&
        (rc = topology_store_impact_subs(ss, v, n, (uint64_t)o->offset, (uint64_t)o->limit, ids,
                                         cnt, err, sizeof err)) < 0)
        topology_store_node_deinit(n);
    if (rc < 0)
        fprintf(stderr, "farol: %s\n", err);
    return rc;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static int impact_fn(struct store_sync *ss, const char *v, const char *id, const struct opts *o)
{
    struct topology_store_node n = {0};
    char **ids = NULL;
    size_t cnt = 0;
    long long runs = o->repeat > 0 ? o->repeat : 1;
    double *lat = xcalloc((size_t)runs, sizeof(double));
    for (long long r = 0; r < runs; r++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = impact_once(ss, v, id, o, &n, &ids, &cnt);
        lat[r] = secs_since(&t0) * 1e6;
        if (rc < 0) {
            free(lat);
            return rc;
        }
        if (r + 1 < runs)
            topology_store_node_deinit(&n), free_ids(ids, cnt);
    }
    printf("impact of %s (%s), topology version %s\nnodes cut off: ", n.id, n.kind, v);
    print_counts(n.count);
    printf("subscribers cut off: %llu\n", (unsigned long long)n.subs);
    for (size_t i = 0; i < cnt; i++)
        printf("%s\n", ids[i]);
    if ((uint64_t)o->offset + cnt < n.subs)
        printf("(subscribers %llu-%llu of %llu; --offset %llu for more)\n",
               (unsigned long long)(o->offset + (cnt ? 1 : 0)),
               (unsigned long long)(o->offset + (long long)cnt), (unsigned long long)n.subs,
               (unsigned long long)(o->offset + (long long)cnt));
    if (runs > 1) {
        qsort(lat, (size_t)runs, sizeof(double), cmp_double);
        double sum = 0;
        for (long long r = 0; r < runs; r++)
            sum += lat[r];
        fprintf(stderr, "impact latency over %lld runs: avg %.0f us, p50 %.0f us, p99 %.0f us\n",
                runs, sum / (double)runs, lat[runs / 2], lat[runs * 99 / 100]);
    }
    free(lat);
    topology_store_node_deinit(&n);
    free_ids(ids, cnt);
    return 0;
}

int cmd_impact(int argc, char **argv)
{
    struct opts o;
    int rc = parse(argc, argv, &o, help_impact);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (optind + 1 != argc) {
        help_impact(stderr);
        return 2;
    }
    return with_current(&o, argv[optind], impact_fn);
}
