/* topology_record: turning one record's key = value fields into a node, link, subscriber or
 * binding, with every value checked here (at import, never at send time). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/strmap.h"
#include "core/xmalloc.h"
#include "correlator/topology_impl.h"

#define ID_MAX 200

static const char *const kind_names[TOPOLOGY_KINDS] = {"router",   "switch", "olt", "pon",
                                                       "splitter", "onu",    "cpe", "custom"};

const char *topology_kind_name(enum topology_kind k)
{
    return (unsigned)k < TOPOLOGY_KINDS ? kind_names[k] : "?";
}

int topology_kind_parse(const char *s, enum topology_kind *k, const char **label)
{
    *label = NULL;
    for (int i = 0; i < TOPOLOGY_KINDS; i++)
        if (!strcmp(s, kind_names[i])) {
            *k = (enum topology_kind)i;
            return 0;
        }
    if (strncmp(s, "custom:", 7) || !s[7] || strlen(s + 7) > 32)
        return -EINVAL;
    for (const char *p = s + 7; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return -EINVAL;
    *k = TOPOLOGY_CUSTOM;
    *label = s + 7;
    return 0;
}

int topology_e164_valid(const char *s)
{
    if (s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    size_t n = strspn(s + 1, "0123456789");
    return s[1 + n] == '\0' && n >= 7 && n <= 15;
}

static int id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ID_MAX)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

static int all_of(const char *s, const char *set, size_t min, size_t max)
{
    size_t n = strspn(s, set);
    return s[n] == '\0' && n >= min && n <= max;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int locale_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n < 2 || n > 3)
        return 0;
    for (s += n; *s; s += n) {
        if (*s != '-' && *s != '_')
            return 0;
        n = strspn(++s, ALNUM);
        if (n < 2 || n > 8)
            return 0;
    }
    return 1;
}

static int timezone_valid(const char *s)
{
    if (!strcmp(s, "UTC"))
        return 1;
    return strchr(s, '/') && s[0] != '/' && !strstr(s, "..") && all_of(s, ALNUM "_+-/", 3, 64);
}

static int parse_hhmm(const char *s, int *min)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
    if (h > 23 || m > 59)
        return -1;
    *min = h * 60 + m;
    return 0;
}

static int parse_quiet(const char *s, int *start, int *end)
{
    if (strlen(s) != 11 || s[5] != '-')
        return -1;
    return parse_hhmm(s, start) < 0 || parse_hhmm(s + 6, end) < 0 || *start == *end ? -1 : 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"true", "yes", "1"}, *const f[] = {"false", "no", "0"};
    for (int i = 0; i < 3; i++) {
        if (!strcmp(s, t[i]))
            return *out = 1, 0;
        if (!strcmp(s, f[i]))
            return *out = 0, 0;
    }
    return -1;
}

/* "500GB", "1.5TB", "800GiB", "123456" bytes; "unlimited" or "0" = no cap. */
static int parse_cap(const char *s, uint64_t *out)
{
    static const struct {
        const char *u;
        double mul;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"KB", 1e3},
                 {"MB", 1e6},
                 {"GB", 1e9},
                 {"TB", 1e12},
                 {"KiB", 1024.0},
                 {"MiB", 1048576.0},
                 {"GiB", 1073741824.0},
                 {"TiB", 1099511627776.0}};
    if (!strcmp(s, "unlimited"))
        return *out = 0, 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].u) && v * units[i].mul < 1.8e19) {
            *out = (uint64_t)(v * units[i].mul + 0.5);
            return 0;
        }
    return -1;
}

static void *grow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return p;
    *cap = *cap ? *cap * 2 : 64;
    if (*cap < need)
        *cap = need;
    return xrealloc(p, *cap * sz);
}

/* Shared by every record type: one message per bad field, at that field's line. */
struct rec {
    struct topology *t;
    const char *file;
    const char *what; /* "node 'x'" for messages */
    struct topology_errs *errs;
    int bad;
};

static void bad(struct rec *r, const struct topology_field *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad(struct rec *r, const struct topology_field *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    topology_err(r->errs, r->file, f->line, "%s: %s", r->what, msg);
    free(msg);
    r->bad = 1;
}

static void unknown_key(struct rec *r, const struct topology_field *f)
{
    bad(r, f, "unknown field '%s'", f->key);
}

/* The value of key (first occurrence), or NULL; the record's id for messages. */
static const struct topology_field *field(const struct topology_field *f, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i].key, key))
            return &f[i];
    return NULL;
}

static int require_id(struct rec *r, const struct topology_field *idf, const char *rectype,
                      int line, char *what, size_t whatsz)
{
    if (!idf) {
        topology_err(r->errs, r->file, line, "%s without an id", rectype);
        return -1;
    }
    snprintf(what, whatsz, "%s '%.*s'", rectype, 64, idf->value);
    r->what = what;
    if (!id_valid(idf->value)) {
        bad(r, idf, "bad id (1 to %d characters, no spaces or control characters)", ID_MAX);
        return -1;
    }
    return 0;
}

/* Claim id in map; reports a duplicate with the first definition's position. */
static int claim(struct rec *r, struct strmap *m, const struct topology_field *idf, uint32_t idx,
                 int is_sub)
{
    void *prev = strmap_get(m, idf->value);
    if (prev) {
        uint32_t p = TOPOLOGY_IDX(prev);
        const char *f = is_sub ? r->t->subs[p].file : r->t->nodes[p].file;
        int l = is_sub ? r->t->subs[p].line : r->t->nodes[p].line;
        bad(r, idf, "duplicate id (first defined at %s:%d)", f, l);
        return -1;
    }
    strmap_put(m, idf->value, TOPOLOGY_PTR(idx));
    return 0;
}

static void node_field(struct rec *r, struct topology_node *nd, const struct topology_field *f)
{
    if (!strcmp(f->key, "id")) {
    } else if (!strcmp(f->key, "kind")) {
        const char *label;
        if (topology_kind_parse(f->value, &nd->kind, &label) < 0)
            bad(r, f,
                "unknown kind '%s' (router, switch, olt, pon, splitter, onu, cpe, custom, "
                "custom:LABEL)",
                f->value);
        else
            nd->label = label ? xstrdup(label) : NULL;
    } else if (!strcmp(f->key, "name")) {
        nd->name = xstrdup(f->value);
    } else if (!strcmp(f->key, "area")) {
        nd->area = xstrdup(f->value);
    } else if (!strcmp(f->key, "parents") || !strcmp(f->key, "parent")) {
        nd->parent_ids = xrealloc(nd->parent_ids, (nd->nparent_ids + 1) * sizeof(char *));
        nd->parent_lines = xrealloc(nd->parent_lines, (nd->nparent_ids + 1) * sizeof(int));
        nd->parent_lines[nd->nparent_ids] = f->line;
        nd->parent_ids[nd->nparent_ids++] = xstrdup(f->value);
    } else {
        unknown_key(r, f);
    }
}

static int add_node(struct rec *r, const struct topology_field *f, size_t n, int line)
{
    struct topology *t = r->t;
    char what[96];
    const struct topology_field *idf = field(f, n, "id");
    if (require_id(r, idf, "node", line, what, sizeof what) < 0)
        return -EINVAL;
    t->nodes = grow(t->nodes, &t->capnodes, t->nnodes + 1, sizeof *t->nodes);
    struct topology_node *nd = &t->nodes[t->nnodes];
    memset(nd, 0, sizeof *nd);
    nd->kind = TOPOLOGY_KINDS;
    nd->file = r->file;
    nd->line = line;
    for (size_t i = 0; i < n; i++)
        node_field(r, nd, &f[i]);
    if (!field(f, n, "kind"))
        bad(r, idf, "no kind");
    /* a node with bad fields is still added, so references to it raise no extra errors (the
     * import fails anyway) */
    if (claim(r, t->node_ids, idf, (uint32_t)t->nnodes, 0) == 0) {
        if (nd->kind == TOPOLOGY_KINDS)
            nd->kind = TOPOLOGY_CUSTOM;
        nd->id = xstrdup(idf->value);
        t->nnodes++;
        return r->bad ? -EINVAL : 0;
    }
    for (uint32_t i = 0; i < nd->nparent_ids; i++)
        free(nd->parent_ids[i]);
    free(nd->parent_ids);
    free(nd->parent_lines);
    free(nd->name), free(nd->area), free(nd->label);
    return -EINVAL;
}

static int add_link(struct rec *r, const struct topology_field *f, size_t n, int line)
{
    const struct topology_field *c = field(f, n, "child"), *p = field(f, n, "parent");
    r->what = "link";
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].key, "child") && strcmp(f[i].key, "parent"))
            unknown_key(r, &f[i]);
    if (!c || !p) {
        topology_err(r->errs, r->file, line, "link: needs both child and parent");
        return -EINVAL;
    }
    if (r->bad)
        return -EINVAL;
    struct topology *t = r->t;
    t->links = grow(t->links, &t->caplinks, t->nlinks + 1, sizeof *t->links);
    t->links[t->nlinks++] =
        (struct topology_link){xstrdup(c->value), xstrdup(p->value), r->file, c->line};
    return 0;
}

static void add_channel(struct rec *r, struct topology_sub *s, const struct topology_field *f)
{
    static const char *const ch[] = {"sms", "whatsapp", "telegram"};
    int ok = 0;
    for (int i = 0; i < 3; i++)
        ok |= !strcmp(f->value, ch[i]);
    if (!ok) {
        bad(r, f, "unknown channel '%s' (sms, whatsapp, telegram)", f->value);
        return;
    }
    char *prev = s->channels;
    s->channels = prev ? xasprintf("%s,%s", prev, f->value) : xstrdup(f->value);
    free(prev);
}

static void sub_phone(struct rec *r, struct topology_sub *s, const struct topology_field *f)
{
    if (!topology_e164_valid(f->value)) {
        char masked[40];
        bad(r, f, "phone number '%s' is not E.164 (+, country code, 7 to 15 digits)",
            log_mask_phone(f->value, masked, sizeof masked));
        return;
    }
    s->phones = xrealloc(s->phones, (s->nphones + 1) * sizeof(char *));
    s->phones[s->nphones++] = xstrdup(f->value);
}

static void sub_field(struct rec *r, struct topology_sub *s, const struct topology_field *f)
{
    const char *k = f->key, *v = f->value;
    if (!strcmp(k, "id") || !strcmp(k, "node")) {
    } else if (!strcmp(k, "name")) {
        s->name = xstrdup(v);
    } else if (!strcmp(k, "phones") || !strcmp(k, "phone")) {
        sub_phone(r, s, f);
    } else if (!strcmp(k, "telegram")) {
        if (!all_of(v[0] == '-' ? v + 1 : v, "0123456789", 1, 20))
            bad(r, f, "telegram chat id must be a number");
        else
            s->telegram = xstrdup(v);
    } else if (!strcmp(k, "channels") || !strcmp(k, "channel")) {
        add_channel(r, s, f);
    } else if (!strcmp(k, "locale")) {
        if (!locale_valid(v))
            bad(r, f, "bad locale '%s' (like pt-BR or en)", v);
        else
            s->locale = xstrdup(v);
    } else if (!strcmp(k, "timezone")) {
        if (!timezone_valid(v))
            bad(r, f, "bad timezone '%s' (an IANA name like America/Sao_Paulo, or UTC)", v);
        else
            s->timezone = xstrdup(v);
    } else if (!strcmp(k, "quiet_hours")) {
        if (parse_quiet(v, &s->quiet_start, &s->quiet_end) < 0)
            bad(r, f, "bad quiet_hours '%s' (HH:MM-HH:MM)", v);
    } else if (!strcmp(k, "opt_out")) {
        if (parse_bool(v, &s->opt_out) < 0)
            bad(r, f, "opt_out must be true or false");
    } else if (!strcmp(k, "plan")) {
        s->plan = xstrdup(v);
    } else if (!strcmp(k, "cap")) {
        if (parse_cap(v, &s->cap_bytes) < 0)
            bad(r, f, "bad cap '%s' (like 500GB, 1.5TB, 800GiB or unlimited)", v);
    } else if (!strcmp(k, "cycle_day")) {
        char *end;
        long d = strtol(v, &end, 10);
        if (*end || end == v || d < 1 || d > 28)
            bad(r, f, "cycle_day must be 1 to 28");
        else
            s->cycle_day = (int)d;
    } else {
        unknown_key(r, f);
    }
}

/* Every preferred channel needs its contact. */
static void sub_check_channels(struct rec *r, struct topology_sub *s,
                               const struct topology_field *at)
{
    if (!s->channels)
        s->channels = xstrdup(s->nphones ? "sms" : s->telegram ? "telegram" : "");
    if (!s->nphones && (strstr(s->channels, "sms") || strstr(s->channels, "whatsapp")))
        bad(r, at, "channel sms/whatsapp needs a phone number");
    if (!s->telegram && strstr(s->channels, "telegram"))
        bad(r, at, "channel telegram needs a telegram chat id");
}

static void sub_free_fields(struct topology_sub *s)
{
    for (uint32_t i = 0; i < s->nphones; i++)
        free(s->phones[i]);
    free(s->phones);
    free(s->name), free(s->telegram), free(s->channels), free(s->locale);
    free(s->timezone), free(s->plan), free(s->node_id), free(s->id);
}

static int add_sub(struct rec *r, const struct topology_field *f, size_t n, int line)
{
    struct topology *t = r->t;
    char what[96];
    const struct topology_field *idf = field(f, n, "id"), *nf = field(f, n, "node");
    if (require_id(r, idf, "subscriber", line, what, sizeof what) < 0)
        return -EINVAL;
    struct topology_sub s = {.quiet_start = -1,
                             .quiet_end = -1,
                             .cycle_day = 1,
                             .file = r->file,
                             .line = line,
                             .node = TOPOLOGY_NONE};
    for (size_t i = 0; i < n; i++)
        sub_field(r, &s, &f[i]);
    sub_check_channels(r, &s, idf);
    if (!nf)
        bad(r, idf, "no node");
    if (nf && claim(r, t->sub_ids, idf, (uint32_t)t->nsubs, 1) == 0) {
        s.id = xstrdup(idf->value);
        s.node_id = xstrdup(nf->value);
        t->subs = grow(t->subs, &t->capsubs, t->nsubs + 1, sizeof *t->subs);
        t->subs[t->nsubs++] = s;
        return r->bad ? -EINVAL : 0;
    }
    sub_free_fields(&s);
    return -EINVAL;
}

static int add_bind(struct rec *r, const struct topology_field *f, size_t n, int line)
{
    const struct topology_field *d = field(f, n, "device"), *o = field(f, n, "object"),
                                *nf = field(f, n, "node");
    r->what = "binding";
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].key, "device") && strcmp(f[i].key, "object") && strcmp(f[i].key, "node"))
            unknown_key(r, &f[i]);
    if (!d || !nf || !id_valid(d->value)) {
        topology_err(r->errs, r->file, line, "binding: needs a device (no spaces) and a node");
        return -EINVAL;
    }
    struct topology *t = r->t;
    char *key = topology_bind_key(d->value, o ? o->value : "");
    if (strmap_get(t->bind_ids, key))
        bad(r, d, "device '%s' object '%s' is bound twice", d->value, o ? o->value : "");
    if (r->bad) {
        free(key);
        return -EINVAL;
    }
    strmap_put(t->bind_ids, key, TOPOLOGY_PTR(t->nbinds));
    free(key);
    t->binds = grow(t->binds, &t->capbinds, t->nbinds + 1, sizeof *t->binds);
    t->binds[t->nbinds++] = (struct topology_binding){
        xstrdup(d->value), xstrdup(o ? o->value : ""), TOPOLOGY_NONE, r->file, line,
        xstrdup(nf->value)};
    return 0;
}

int topology_add(struct topology *t, enum topology_rec type, const struct topology_field *f,
                 size_t n, const char *file, int line, struct topology_errs *errs)
{
    struct rec r = {.t = t, .file = file, .what = "record", .errs = errs};
    switch (type) {
    case TOPOLOGY_REC_NODE:
        return add_node(&r, f, n, line);
    case TOPOLOGY_REC_LINK:
        return add_link(&r, f, n, line);
    case TOPOLOGY_REC_SUB:
        return add_sub(&r, f, n, line);
    case TOPOLOGY_REC_BIND:
        return add_bind(&r, f, n, line);
    }
    return -EINVAL;
}
