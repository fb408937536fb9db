/* farol snmp get|walk|poll: read OIDs from many targets concurrently and print varbinds
 * numerically, or poll targets once with a profile and print the alarms it would raise. */
#include "daemon/cmd_snmp.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "collector/snmp_engine.h"
#include "collector/snmp_poller.h"
#include "config/config.h"
#include "core/loop.h"
#include "core/xmalloc.h"

static const char usage_text[] =
    "usage: farol snmp get|walk [OPTIONS] [-f FILE | TARGET[:PORT]...] OID\n"
    "       farol snmp poll --config FILE --profile NAME [OPTIONS] [-f FILE | TARGET[:PORT]...]\n"
    "\n"
    "poll reads what poll profile NAME (from collector.profiles in FILE, e.g. the shipped\n"
    "config/profiles.yaml) reads, once, and prints every alarm it would raise, then a summary\n"
    "per target: objects checked and alarms by kind.\n"
    "get reads OID from every TARGET; walk reads the subtree under OID (GETBULK for v2c/v3,\n"
    "GETNEXT for v1). TARGETs are IPv4/IPv6 literals ([v6]:port with a port); all are polled at\n"
    "once. One line per varbind: 'TARGET .1.3.6.1.2.1.1.3.0 = Timeticks: (1234) 0:00:12.34'\n"
    "(values formatted like net-snmp's tools with -On); errors go to stderr as\n"
    "'TARGET: error: MESSAGE'.\n"
    "  -v 1|2c|3            SNMP version (default 2c)\n"
    "  -c COMMUNITY         v1/v2c community (default public)\n"
    "  -u USER              v3 user\n"
    "  -l LEVEL             v3 noAuthNoPriv|authNoPriv|authPriv (default authPriv with -X,\n"
    "                       authNoPriv with -A, else noAuthNoPriv)\n"
    "  -a PROTO             v3 auth MD5|SHA|SHA-224|SHA-256|SHA-384|SHA-512 (default SHA)\n"
    "  -A PASS              v3 auth passphrase\n"
    "  -x PROTO             v3 priv DES|AES|AES-192|AES-256 (default AES)\n"
    "  -X PASS              v3 priv passphrase\n"
    "  -r RETRIES           retries per request (default 1)\n"
    "  -t MS                timeout per attempt in ms (default 1000)\n"
    "  --max-repetitions N  GETBULK max-repetitions (default 25)\n"
    "  --max-in-flight N    requests outstanding per target (default 1)\n"
    "  --rate N             requests per second per target (default unlimited)\n"
    "  -q                   print only a summary line per target on stderr\n"
    "  -f FILE              read targets from FILE, one per line ('-' is stdin; # comments)\n"
    "Exit status: 0 every target answered, 1 some failed, 2 usage or setup error.\n";

struct run {
    struct loop *loop;
    int walk, quiet;
    size_t pending, failed;
    uint64_t varbinds;
};

struct target {
    struct run *run;
    struct snmp_device *dev;
    const char *name;
};

static int parse_num(const char *s, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

static void print_vb(struct target *t, const struct snmp_varbind *vb)
{
    char o[SNMP_OID_MAX * 11 + 1], v[4096];
    t->run->varbinds++;
    if (t->run->quiet)
        return;
    printf("%s %s = %s\n", t->name, snmp_oid_format(&vb->oid, o, sizeof o),
           snmp_oid_value_format(vb, v, sizeof v));
}

static void target_done(struct target *t, int status, const char *msg)
{
    if (status) {
        fprintf(stderr, "%s: error: %s\n", t->name, msg ? msg : strerror(-status));
        t->run->failed++;
    }
    if (--t->run->pending == 0)
        loop_stop(t->run->loop);
}

static void on_get(void *arg, int status, const char *msg, const struct snmp_varbind *vbs, size_t n)
{
    struct target *t = arg;
    for (size_t i = 0; i < n; i++)
        print_vb(t, &vbs[i]);
    target_done(t, status, msg);
}

static void on_vb(void *arg, const struct snmp_varbind *vb)
{
    print_vb(arg, vb);
}

static void on_walk_done(void *arg, int status, const char *msg, size_t count)
{
    (void)count;
    target_done(arg, status, msg);
}

static int read_targets(const char *path, char ***list, size_t *n)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return -errno;
    char line[512];
    size_t cap = *n;
    while (fgets(line, sizeof line, f)) {
        char *s = line + strspn(line, " \t");
        s[strcspn(s, " \t\r\n#")] = '\0';
        if (!*s)
            continue;
        if (*n == cap)
            *list = xrealloc(*list, (cap = cap ? cap * 2 : 64) * sizeof **list);
        (*list)[(*n)++] = xstrdup(s);
    }
    if (f != stdin)
        fclose(f);
    return 0;
}

/* Many targets need many sockets: one per device. */
static void raise_nofile(size_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct opts {
    struct snmp_device_cfg cfg;
    const char *level, *file;
    const char *config, *profile;
    int quiet;
};

static int parse_level(const char *s, enum snmp_seclevel *out)
{
    if (!strcasecmp(s, "noAuthNoPriv"))
        *out = SNMP_SEC_NOAUTH;
    else if (!strcasecmp(s, "authNoPriv"))
        *out = SNMP_SEC_AUTHNOPRIV;
    else if (!strcasecmp(s, "authPriv"))
        *out = SNMP_SEC_AUTHPRIV;
    else
        return -EINVAL;
    return 0;
}

static int parse_opt(int c, struct opts *o)
{
    struct snmp_device_cfg *cfg = &o->cfg;
    switch (c) {
    case 'v':
        cfg->version = !strcmp(optarg, "1")    ? SNMP_V1
                       : !strcmp(optarg, "2c") ? SNMP_V2C
                       : !strcmp(optarg, "3")  ? SNMP_V3
                                               : 0;
        return cfg->version ? 0 : -EINVAL;
    case 'c':
        cfg->community = optarg;
        return 0;
    case 'u':
        cfg->user = optarg;
        return 0;
    case 'l':
        o->level = optarg;
        return 0;
    case 'a':
        cfg->auth_proto = optarg;
        return 0;
    case 'A':
        cfg->auth_pass = optarg;
        return 0;
    case 'x':
        cfg->priv_proto = optarg;
        return 0;
    case 'X':
        cfg->priv_pass = optarg;
        return 0;
    case 'r':
        return parse_num(optarg, 100, &cfg->retries);
    case 't':
        return parse_num(optarg, 600000, &cfg->timeout_ms);
    case 'R':
        return parse_num(optarg, 1000, &cfg->max_repetitions);
    case 'I':
        return parse_num(optarg, 10000, &cfg->max_in_flight);
    case 'T': {
        int r;
        if (parse_num(optarg, 1000000, &r))
            return -EINVAL;
        cfg->max_rate = r;
        return 0;
    }
    case 'f':
        o->file = optarg;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case 'C':
        o->config = optarg;
        return 0;
    case 'P':
        o->profile = optarg;
        return 0;
    }
    return -EINVAL;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"max-repetitions", required_argument, 0, 'R'},
        {"max-in-flight", required_argument, 0, 'I'},
        {"rate", required_argument, 0, 'T'},
        {"config", required_argument, 0, 'C'},
        {"profile", required_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->cfg.version = SNMP_V2C;
    o->cfg.retries = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v:c:u:l:a:A:x:X:r:t:f:qh", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return 1;
        }
        if (c == '?' || parse_opt(c, o)) {
            if (c != '?')
                fprintf(stderr, "farol snmp: bad value for -%c: %s\n", c, optarg);
            return -EINVAL;
        }
    }
    if (o->level) {
        if (parse_level(o->level, &o->cfg.level))
            return fprintf(stderr, "farol snmp: bad -l %s\n", o->level), -EINVAL;
    } else {
        o->cfg.level = o->cfg.priv_pass   ? SNMP_SEC_AUTHPRIV
                       : o->cfg.auth_pass ? SNMP_SEC_AUTHNOPRIV
                                          : SNMP_SEC_NOAUTH;
    }
    return 0;
}

/* Add every target and start one get or walk on each. */
static int start(struct run *run, struct opts *o, char **targets, size_t n, struct target *ts,
                 const struct snmp_oid *oid, struct snmp_engine *eng)
{
    char err[256];
    for (size_t i = 0; i < n; i++) {
        struct snmp_device_cfg cfg = o->cfg;
        cfg.name = cfg.address = targets[i];
        ts[i].run = run;
        ts[i].name = targets[i];
        ts[i].dev = snmp_engine_add(eng, &cfg, err, sizeof err);
        if (!ts[i].dev)
            return fprintf(stderr, "farol snmp: %s\n", err), -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = run->walk ? snmp_walk(ts[i].dev, oid, on_vb, on_walk_done, &ts[i])
                           : snmp_get(ts[i].dev, oid, 1, on_get, &ts[i]);
        if (rc)
            return fprintf(stderr, "farol snmp: %s: %s\n", targets[i], strerror(-rc)), rc;
        run->pending++;
    }
    return 0;
}

/* Targets from -f FILE and from argv[optind..end). Returns 0 or 2 (message printed). */
static int collect_targets(const struct opts *o, char **argv, int end, char ***targets, size_t *n)
{
    if (o->file && read_targets(o->file, targets, n))
        return fprintf(stderr, "farol snmp: cannot read %s\n", o->file), 2;
    for (int i = optind; i < end; i++) {
        *targets = xrealloc(*targets, (*n + 1) * sizeof **targets);
        (*targets)[(*n)++] = xstrdup(argv[i]);
    }
    if (!*n)
        return fprintf(stderr, "farol snmp: no targets\n"), 2;
    raise_nofile(*n);
    return 0;
}

static void free_targets(char **targets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(targets[i]);
    free(targets);
}

static int run_read(int argc, char **argv, int walk)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    char **targets = NULL;
    size_t n = 0;
    struct snmp_oid oid;
    if (optind >= argc || snmp_oid_parse(argv[argc - 1], &oid))
        return fprintf(stderr, "farol snmp: the last argument must be a numeric OID\n%s",
                       usage_text),
               2;
    if (collect_targets(&o, argv, argc - 1, &targets, &n))
        return 2;
    struct run run = {.loop = loop_new(), .walk = walk, .quiet = o.quiet};
    struct snmp_engine *eng = snmp_engine_new(run.loop, NULL);
    struct target *ts = xcalloc(n, sizeof *ts);
    rc = start(&run, &o, targets, n, ts, &oid, eng);
    if (!rc && run.pending)
        loop_run(run.loop);
    snmp_engine_free(eng);
    loop_free(run.loop);
    fflush(stdout);
    if (o.quiet)
        fprintf(stderr, "%zu targets, %zu failed, %llu varbinds\n", n, run.failed,
                (unsigned long long)run.varbinds);
    free_targets(targets, n);
    free(ts);
    return rc ? 2 : run.failed ? 1 : 0;
}

static int cmd_get(int argc, char **argv)
{
    return run_read(argc, argv, 0);
}
static int cmd_walk(int argc, char **argv)
{
    return run_read(argc, argv, 1);
}

/* ---- poll ---- */

#define MAX_KINDS 16

struct poll_target {
    const char *name;
    const char *kinds[MAX_KINDS];
    unsigned raised[MAX_KINDS], checked[MAX_KINDS];
    size_t n_kinds;
};

struct poll_run {
    struct loop *loop;
    struct poll_target *ts;
    size_t n, pending, failed;
    int quiet;
};

static struct poll_target *poll_target(struct poll_run *pr, const char *name)
{
    for (size_t i = 0; i < pr->n; i++)
        if (!strcmp(pr->ts[i].name, name))
            return &pr->ts[i];
    return NULL;
}

static void poll_alarm(void *arg, const struct alarm_report *r)
{
    struct poll_run *pr = arg;
    struct poll_target *t = poll_target(pr, r->device);
    size_t k = 0;
    while (k < t->n_kinds && strcmp(t->kinds[k], r->kind))
        k++;
    if (k == t->n_kinds && t->n_kinds < MAX_KINDS)
        t->kinds[t->n_kinds++] = r->kind; /* kinds are the profile's static strings */
    if (k == MAX_KINDS)
        return;
    t->checked[k]++;
    t->raised[k] += r->active;
    if (!r->active || pr->quiet)
        return;
    char value[32] = "";
    if (r->has_value)
        snprintf(value, sizeof value, " value=%.2f", r->value);
    printf("%s RAISE %s %s%s%s%s\n", r->device, r->kind, *r->object ? r->object : "-", value,
           r->text ? " " : "", r->text ? r->text : "");
}

static void poll_done(void *arg, const char *device, int status, const char *msg)
{
    struct poll_run *pr = arg;
    struct poll_target *t = poll_target(pr, device);
    if (status) {
        fprintf(stderr, "%s: error: %s\n", device, msg);
        pr->failed++;
    } else {
        printf("%s: ok:", device);
        for (size_t k = 0; k < t->n_kinds; k++)
            printf(" %s %u/%u", t->kinds[k], t->raised[k], t->checked[k]);
        printf(" (raised/checked)\n");
    }
    if (--pr->pending == 0)
        loop_stop(pr->loop);
}

static const struct profile *find_profile(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->collector.n_profiles; i++)
        if (!strcmp(cfg->collector.profiles[i].name, name))
            return &cfg->collector.profiles[i];
    return NULL;
}

static int load_profile(const struct opts *o, struct config *cfg, const struct profile **p)
{
    struct config_diag diag;
    if (!o->config || !o->profile)
        return fprintf(stderr, "farol snmp poll: --config FILE and --profile NAME are needed\n"), 2;
    config_diag_init(&diag);
    int rc = config_load(o->config, cfg, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.msgs[i]);
    config_diag_deinit(&diag);
    if (rc < 0)
        return 2;
    if (!(*p = find_profile(cfg, o->profile))) {
        fprintf(stderr, "farol snmp poll: no profile '%s' in %s\n", o->profile, o->config);
        config_deinit(cfg);
        return 2;
    }
    return 0;
}

static int cmd_poll(int argc, char **argv)
{
    struct opts o;
    struct config cfg;
    const struct profile *prof;
    char **targets = NULL, err[256];
    size_t n = 0;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (load_profile(&o, &cfg, &prof))
        return 2;
    if (collect_targets(&o, argv, argc, &targets, &n)) {
        config_deinit(&cfg);
        return 2;
    }
    struct poll_run pr = {.loop = loop_new(), .n = n, .quiet = o.quiet};
    pr.ts = xcalloc(n, sizeof *pr.ts);
    struct snmp_engine *eng = snmp_engine_new(pr.loop, NULL);
    struct profile_sink sink = {.alarm = poll_alarm, .arg = &pr};
    struct snmp_poller *poller = snmp_poller_new(pr.loop, eng, &sink);
    snmp_poller_on_done(poller, poll_done, &pr);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct snmp_device_cfg dc = o.cfg;
        dc.name = dc.address = pr.ts[i].name = targets[i];
        if (snmp_poller_add(poller, targets[i], &dc, prof, 0, err, sizeof err) < 0) {
            fprintf(stderr, "farol snmp poll: %s\n", err);
            rc = 2;
        }
    }
    pr.pending = n;
    if (rc == 0) {
        snmp_poller_poll_all(poller);
        loop_run(pr.loop);
    }
    fflush(stdout);
    snmp_poller_free(poller);
    snmp_engine_free(eng);
    loop_free(pr.loop);
    free(pr.ts);
    free_targets(targets, n);
    config_deinit(&cfg);
    return rc ? 2 : pr.failed ? 1 : 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} subs[] = {
    {"get", cmd_get},
    {"walk", cmd_walk},
    {"poll", cmd_poll},
};

int cmd_snmp(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "farol snmp: unknown sub-command '%s'\n%s", argv[1], usage_text);
    return 2;
}
