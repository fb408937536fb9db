#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/scalar.h"
#include "config/schema.h"
#include "config/yaml_tree.h"
#include "core/xmalloc.h"

#define SEC(n) ((int64_t)(n)*1000)
#define MIN(n) ((int64_t)(n)*60000)
#define HOUR(n) ((int64_t)(n)*3600000)

/* ---- checks and resolvers ---- */

static int check_port(const char *port, char *err, size_t errsz)
{
    int64_t p;
    if (scalar_parse_int(port, &p) < 0 || *port == '+' || *port == '-') {
        snprintf(err, errsz, "port '%s' is not a number", port);
        return -1;
    }
    if (p < 1 || p > 65535) {
        snprintf(err, errsz, "port %s is out of range 1..65535", port);
        return -1;
    }
    return 0;
}

/* "host:port", "[v6]:port" or "unix:/absolute/path". */
static int check_address(const char *s, char *err, size_t errsz)
{
    if (strncmp(s, "unix:", 5) == 0) {
        if (s[5] == '/')
            return 0;
        snprintf(err, errsz, "'%s': the socket path must be absolute (unix:/path)", s);
        return -1;
    }
    const char *colon = strrchr(s, ':');
    size_t hostlen = colon ? (size_t)(colon - s) : 0;
    int v6 = hostlen > 2 && s[0] == '[' && s[hostlen - 1] == ']';
    int bad_host = hostlen == 0 || strpbrk(s, " \t") || (!v6 && memchr(s, ':', hostlen)) ||
                   (!v6 && memchr(s, '[', hostlen));
    if (bad_host) {
        snprintf(err, errsz, "'%s' is not host:port or unix:/path", s);
        return -1;
    }
    return check_port(colon + 1, err, errsz);
}

/* Kafka's own rule for topic names. */
static int check_topic(const char *s, char *err, size_t errsz)
{
    size_t n = strlen(s);
    if (n < 1 || n > 249 ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789._-") != n) {
        snprintf(err, errsz, "bad topic name '%s' (1 to 249 characters from A-Z a-z 0-9 . _ -)", s);
        return -1;
    }
    return 0;
}

static int check_nonempty(const char *s, char *err, size_t errsz)
{
    if (*s && !strpbrk(s, " \t"))
        return 0;
    snprintf(err, errsz, "must be non-empty and without spaces");
    return -1;
}

/* Reads the first line into buf; 0, or -1 with the reason in err. */
static int read_first_line(const char *path, const char *shown, char *buf, size_t bufsz, char *err,
                           size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "cannot read '%s': %s", shown, strerror(errno));
        return -1;
    }
    int rc = 0;
    if (!fgets(buf, (int)bufsz, f)) {
        if (ferror(f))
            snprintf(err, errsz, "cannot read '%s': %s", shown, strerror(errno));
        else
            snprintf(err, errsz, "'%s' is empty", shown);
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* A relative password_file is relative to the directory of the config file. */
static int resolve_password_file(struct schema_ctx *ctx, void *obj, const char *value, char *err,
                                 size_t errsz)
{
    struct store_config *redis = obj;
    const char *file = schema_file(ctx);
    const char *slash = strrchr(file, '/');
    char *path = value[0] == '/' || !slash ? xstrdup(value)
                                           : xasprintf("%.*s/%s", (int)(slash - file), file, value);
    char line[4096];
    int rc = read_first_line(path, value, line, sizeof line, err, errsz);
    free(path);
    if (rc < 0)
        return -1;
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) {
        snprintf(err, errsz, "the first line of '%s' is empty", value);
        return -1;
    }
    free(redis->password);
    redis->password = xstrdup(line);
    memset(line, 0, sizeof line);
    return 0;
}

/* ---- cross-field checks ---- */

static void redis_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct store_config *r = obj;
    const struct yaml_tree *kpass = NULL, *kfile = NULL;
    yaml_tree_get(scope->map, "password", &kpass);
    yaml_tree_get(scope->map, "password_file", &kfile);
    if (kpass && kfile)
        schema_error(ctx, kfile, "redis.password and redis.password_file are mutually exclusive");
    if (r->reconnect_max_ms < r->reconnect_min_ms) {
        const struct yaml_tree *at = yaml_tree_get(scope->map, "reconnect_max", NULL);
        if (!at)
            at = yaml_tree_get(scope->map, "reconnect_min", NULL);
        char lo[32], hi[32];
        scalar_format_duration(r->reconnect_min_ms, lo, sizeof lo);
        scalar_format_duration(r->reconnect_max_ms, hi, sizeof hi);
        schema_error(ctx, at ? at : scope->at,
                     "redis.reconnect_max (%s) must be >= redis.reconnect_min (%s)", hi, lo);
    }
}

static void bus_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct bus_config *b = obj;
    const struct yaml_tree *kafka = yaml_tree_get(scope->map, "kafka", NULL);
    if (b->transport == BUS_KAFKA && !yaml_tree_get(kafka, "brokers", NULL))
        schema_error(ctx, scope->at, "bus.kafka.brokers is required when bus.transport is kafka");
}

/* ---- tables ---- */

static const struct schema_enum log_levels[] = {{"debug", LOG_LEVEL_DEBUG},
                                                {"info", LOG_LEVEL_INFO},
                                                {"warn", LOG_LEVEL_WARN},
                                                {"error", LOG_LEVEL_ERROR},
                                                {0}};
static const struct schema_enum log_formats[] = {
    {"text", LOG_FORMAT_TEXT}, {"json", LOG_FORMAT_JSON}, {0}};
static const struct schema_enum transports[] = {{"inproc", BUS_INPROC}, {"kafka", BUS_KAFKA}, {0}};

#define LOGF(m) (offsetof(struct config, log.m) - offsetof(struct config, log))
static const struct schema_field log_fields[] = {
    {"level", SCHEMA_ENUM, LOGF(level), SCHEMA_DEFAULT, .def = LOG_LEVEL_INFO, .enums = log_levels},
    {"format", SCHEMA_ENUM, LOGF(format), SCHEMA_DEFAULT, .def = LOG_FORMAT_TEXT,
     .enums = log_formats},
    {0}};
static const struct schema_section log_section = {.fields = log_fields};

#define DF(m) (offsetof(struct config, daemon.m) - offsetof(struct config, daemon))
static const struct schema_field daemon_fields[] = {{"drain_timeout", SCHEMA_DURATION,
                                                     DF(drain_timeout_ms), SCHEMA_DEFAULT,
                                                     .def = SEC(10), .min = 0, .max = MIN(10)},
                                                    {0}};
static const struct schema_section daemon_section = {.fields = daemon_fields};

#define RF(m) offsetof(struct store_config, m)
static const struct schema_field redis_fields[] = {
    {"address", SCHEMA_STRING, RF(address), 0, .check = check_address},
    {"password", SCHEMA_STRING, RF(password), .flags = SCHEMA_SECRET},
    {"password_file", SCHEMA_STRING, 0, SCHEMA_NOSTORE, .resolve = resolve_password_file},
    {"db", SCHEMA_INT, RF(db), 0, .size = sizeof(int), .min = 0, .max = 15},
    {"prefix", SCHEMA_STRING, RF(prefix), .flags = 0},
    {"connect_timeout", SCHEMA_DURATION, RF(connect_timeout_ms), 0, .min = 1, .max = HOUR(1)},
    {"command_timeout", SCHEMA_DURATION, RF(command_timeout_ms), 0, .min = 1, .max = HOUR(1)},
    {"reconnect_min", SCHEMA_DURATION, RF(reconnect_min_ms), 0, .min = 1, .max = HOUR(1)},
    {"reconnect_max", SCHEMA_DURATION, RF(reconnect_max_ms), 0, .min = 1, .max = HOUR(24)},
    {0}};
static void redis_init(void *obj)
{
    store_config_init(obj);
}
static void redis_deinit(void *obj)
{
    store_config_deinit(obj);
}
static const struct schema_section redis_section = {
    .fields = redis_fields, .init = redis_init, .deinit = redis_deinit, .validate = redis_validate};

#define BF(m) offsetof(struct bus_config, m)
#define TOPIC(name, t)                                                                             \
    {                                                                                              \
        name, SCHEMA_STRING, BF(topics[t]), 0, .check = check_topic                                \
    }
static const struct schema_field topic_fields[] = {
    TOPIC("alarms", BUS_ALARMS),           TOPIC("outages", BUS_OUTAGES),
    TOPIC("maintenance", BUS_MAINTENANCE), TOPIC("usage", BUS_USAGE),
    TOPIC("thresholds", BUS_THRESHOLDS),   TOPIC("notifications", BUS_NOTIFICATIONS),
    TOPIC("deadletter", BUS_DEADLETTER),   {0}};
/* Shares the bus_config object: freed by bus_config_deinit(). */
static const struct schema_section topics_section = {.fields = topic_fields};

static const struct schema_field kafka_fields[] = {
    {"brokers", SCHEMA_STRING, BF(brokers), 0, .check = check_nonempty},
    {"client_id", SCHEMA_STRING, BF(client_id), 0, .check = check_nonempty},
    {"group_prefix", SCHEMA_STRING, BF(group_prefix), 0, .check = check_nonempty},
    {"flush_timeout", SCHEMA_DURATION, BF(flush_timeout_ms), 0, .min = 0, .max = HOUR(1)},
    {"properties", SCHEMA_STRMAP, BF(properties), 0, .count_offset = BF(n_properties)},
    {0}};
static const struct schema_section kafka_section = {.fields = kafka_fields};

static const struct schema_field bus_fields[] = {
    {"transport", SCHEMA_ENUM, BF(transport), 0, .enums = transports},
    {"queue_limit", SCHEMA_INT, BF(queue_limit), 0, .size = sizeof(uint32_t), .min = 1,
     .max = 10000000},
    {"topics", SCHEMA_MAP, 0, 0, .sub = &topics_section},
    {"kafka", SCHEMA_MAP, 0, 0, .sub = &kafka_section},
    {0}};
static void bus_init(void *obj)
{
    bus_config_init(obj);
}
static void bus_deinit(void *obj)
{
    bus_config_deinit(obj);
}
static const struct schema_section bus_section = {
    .fields = bus_fields, .init = bus_init, .deinit = bus_deinit, .validate = bus_validate};

static const struct schema_field root_fields[] = {
    {"log", SCHEMA_MAP, offsetof(struct config, log), 0, .sub = &log_section},
    {"daemon", SCHEMA_MAP, offsetof(struct config, daemon), 0, .sub = &daemon_section},
    {"redis", SCHEMA_MAP, offsetof(struct config, redis), 0, .sub = &redis_section},
    {"bus", SCHEMA_MAP, offsetof(struct config, bus), 0, .sub = &bus_section},
    {"collector", SCHEMA_MAP, offsetof(struct config, collector), 0,
     .sub = &collector_config_section},
    {"correlator", SCHEMA_MAP, offsetof(struct config, correlator), 0,
     .sub = &correlator_config_section},
    {"notifier", SCHEMA_MAP, offsetof(struct config, notifier), 0, .sub = &notifier_config_section},
    {0}};
static const struct schema_section root_section = {.fields = root_fields};

/* ---- diagnostics and loading ---- */

void config_diag_init(struct config_diag *d)
{
    d->msgs = NULL;
    d->n = 0;
}

void config_diag_deinit(struct config_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    config_diag_init(d);
}

static void diag_add(struct config_diag *d, char *msg)
{
    d->msgs = xrealloc(d->msgs, (d->n + 1) * sizeof *d->msgs);
    d->msgs[d->n++] = msg;
}

/* Moves the problems into diag in file order (stable: same position keeps report order). */
static void diag_take(struct config_diag *d, struct yaml_tree_errs *e)
{
    for (size_t i = 1; i < e->n; i++) {
        struct yaml_tree_err x = e->v[i];
        size_t j = i;
        for (; j > 0 && (e->v[j - 1].line > x.line ||
                         (e->v[j - 1].line == x.line && e->v[j - 1].col > x.col));
             j--)
            e->v[j] = e->v[j - 1];
        e->v[j] = x;
    }
    for (size_t i = 0; i < e->n; i++) {
        const struct yaml_tree_err *x = &e->v[i];
        if (x->line > 0)
            diag_add(d, xasprintf("%s:%d:%d: %s", e->file, x->line, x->col, x->msg));
        else
            diag_add(d, xasprintf("%s: %s", e->file, x->msg));
    }
}

static FILE *open_config(const char *path, struct config_diag *diag, int *err)
{
    struct stat st;
    FILE *f = fopen(path, "r");
    *err = errno;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        f = NULL;
        *err = EISDIR;
    }
    if (!f)
        diag_add(diag, xasprintf("%s: cannot open: %s", path, strerror(*err)));
    return f;
}

int config_load(const char *path, struct config *cfg, struct config_diag *diag)
{
    int err;
    memset(cfg, 0, sizeof *cfg);
    FILE *f = open_config(path, diag, &err);
    if (!f)
        return -err;
    struct yaml_tree_errs errs = {.file = path};
    struct yaml_tree *root = NULL;
    yaml_tree_load(f, &root, &errs);
    fclose(f);
    schema_init(&root_section, cfg);
    /* Without a tree there was a syntax error: nothing more to check. */
    if (root || errs.n == 0)
        schema_apply(&root_section, cfg, root, &errs);
    yaml_tree_free(root);
    int rc = errs.n ? -EINVAL : 0;
    diag_take(diag, &errs);
    yaml_tree_errs_deinit(&errs);
    if (rc == 0)
        cfg->path = xstrdup(path);
    else
        config_deinit(cfg);
    return rc;
}

void config_deinit(struct config *cfg)
{
    schema_free(&root_section, cfg);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}
