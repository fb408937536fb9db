/* topology_record: turning one record's key = value fields into a node, link, subscriber or
 * binding, with every value checked here (at import, never at send time). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
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
    uint32_t fidx;    /* file's index in t->files */
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

/* A duplicate id is reported with the first definition's position. */
static int unclaimed(struct rec *r, enum topology_ix ix, const struct topology_field *idf)
{
    uint32_t p = topology_index_get(r->t, ix, idf->value, NULL);
    if (p == TOPOLOGY_NONE)
        return 1;
    const struct topology_pos *at = ix == TOPOLOGY_IX_SUB ? &r->t->sub_pos[p] : &r->t->node_pos[p];
    bad(r, idf, "duplicate id (first defined at %s:%d)", r->t->files[at->file], at->line);
    return 0;
}

/* A reference to node id from a record: resolved now when that node exists (the usual order),
 * else its id is kept until topology_finish(). */
static void refer(struct rec *r, struct topology_refs *refs, uint32_t from, const char *id,
                  int line)
{
    struct topology_ref *ref = topology_refs_push(refs);
    ref->from = from, ref->file = r->fidx, ref->line = line;
    ref->to = topology_find_node(r->t, id);
    if (ref->to == TOPOLOGY_NONE)
        ref->id = topology_arena_strdup(&r->t->scratch, id);
}

static void node_field(struct rec *r, struct topology_node *nd, const struct topology_field *f)
{
    struct topology *t = r->t;
    if (!strcmp(f->key, "id") || !strcmp(f->key, "parents") || !strcmp(f->key, "parent")) {
    } else if (!strcmp(f->key, "kind")) {
        const char *label;
        if (topology_kind_parse(f->value, &nd->kind, &label) < 0)
            bad(r, f,
                "unknown kind '%s' (router, switch, olt, pon, splitter, onu, cpe, custom, "
                "custom:LABEL)",
                f->value);
        else
            nd->label = label ? topology_intern(t, label) : NULL;
    } else if (!strcmp(f->key, "name")) {
        nd->name = topology_arena_strdup(&t->strs, f->value);
    } else if (!strcmp(f->key, "area")) {
        nd->area = topology_intern(t, f->value);
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
    size_t cap = t->capnodes;
    t->nodes = grow(t->nodes, &t->capnodes, t->nnodes + 1, sizeof *t->nodes);
    if (t->capnodes != cap || !t->node_pos)
        t->node_pos = xrealloc(t->node_pos, t->capnodes * sizeof *t->node_pos);
    struct topology_node *nd = &t->nodes[t->nnodes];
    memset(nd, 0, sizeof *nd);
    nd->kind = TOPOLOGY_KINDS;
    for (size_t i = 0; i < n; i++)
        node_field(r, nd, &f[i]);
    if (!field(f, n, "kind"))
        bad(r, idf, "no kind");
    /* a node with bad fields is still added, so references to it raise no extra errors (the
     * import fails anyway) */
    if (!unclaimed(r, TOPOLOGY_IX_NODE, idf))
        return -EINVAL;
    if (nd->kind == TOPOLOGY_KINDS)
        nd->kind = TOPOLOGY_CUSTOM;
    nd->id = topology_arena_strdup(&t->strs, idf->value);
    uint32_t idx = (uint32_t)t->nnodes++;
    t->node_pos[idx] = (struct topology_pos){r->fidx, line};
    topology_index_put(t, TOPOLOGY_IX_NODE, idx);
    for (size_t i = 0; i < n; i++) /* after indexing: a node naming itself is caught */
        if (!strcmp(f[i].key, "parents") || !strcmp(f[i].key, "parent"))
            refer(r, &t->parents, idx, f[i].value, f[i].line);
    return r->bad ? -EINVAL : 0;
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
        (struct topology_link){topology_arena_strdup(&t->scratch, c->value),
                               topology_arena_strdup(&t->scratch, p->value), r->fidx, c->line};
    return 0;
}

/* A subscriber being read: lists grow in temporaries, moved into the model when it is added. */
struct sub_rec {
    struct topology_sub s;
    char *channels;
    const char **phones;
};

static void add_channel(struct rec *r, struct sub_rec *b, const struct topology_field *f)
{
    static const char *const ch[] = {"sms", "whatsapp", "telegram"};
    int ok = 0;
    for (int i = 0; i < 3; i++)
        ok |= !strcmp(f->value, ch[i]);
    if (!ok) {
        bad(r, f, "unknown channel '%s' (sms, whatsapp, telegram)", f->value);
        return;
    }
    char *prev = b->channels;
    b->channels = prev ? xasprintf("%s,%s", prev, f->value) : xstrdup(f->value);
    free(prev);
}

static void sub_phone(struct rec *r, struct sub_rec *b, const struct topology_field *f)
{
    if (!topology_e164_valid(f->value)) {
        char masked[40];
        bad(r, f, "phone number '%s' is not E.164 (+, country code, 7 to 15 digits)",
            log_mask_phone(f->value, masked, sizeof masked));
        return;
    }
    b->phones = xrealloc(b->phones, (b->s.nphones + 1) * sizeof(char *));
    b->phones[b->s.nphones++] = topology_arena_strdup(&r->t->strs, f->value);
}

/* Fields with a range of values to check. */
static int sub_checked(struct rec *r, struct topology_sub *s, const struct topology_field *f)
{
    const char *k = f->key, *v = f->value;
    int a, b;
    if (!strcmp(k, "quiet_hours")) {
        if (parse_quiet(v, &a, &b) < 0)
            bad(r, f, "bad quiet_hours '%s' (HH:MM-HH:MM)", v);
        else
            s->quiet_start = (int16_t)a, s->quiet_end = (int16_t)b;
    } else if (!strcmp(k, "opt_out")) {
        if (parse_bool(v, &a) < 0)
            bad(r, f, "opt_out must be true or false");
        else
            s->opt_out = (uint8_t)a;
    } else if (!strcmp(k, "cap")) {
        if (parse_cap(v, &s->cap_bytes) < 0)
            bad(r, f, "bad cap '%s' (like 500GB, 1.5TB, 800GiB or unlimited)", v);
    } else if (!strcmp(k, "cycle_day")) {
        char *end;
        long d = strtol(v, &end, 10);
        if (*end || end == v || d < 1 || d > 28)
            bad(r, f, "cycle_day must be 1 to 28");
        else
            s->cycle_day = (uint8_t)d;
    } else {
        return 0;
    }
    return 1;
}

static void sub_field(struct rec *r, struct sub_rec *b, const struct topology_field *f)
{
    struct topology *t = r->t;
    struct topology_sub *s = &b->s;
    const char *k = f->key, *v = f->value;
    if (!strcmp(k, "id") || !strcmp(k, "node") || sub_checked(r, s, f)) {
    } else if (!strcmp(k, "name")) {
        s->name = topology_arena_strdup(&t->strs, v);
    } else if (!strcmp(k, "phones") || !strcmp(k, "phone")) {
        sub_phone(r, b, f);
    } else if (!strcmp(k, "telegram")) {
        if (!all_of(v[0] == '-' ? v + 1 : v, "0123456789", 1, 20))
            bad(r, f, "telegram chat id must be a number");
        else
            s->telegram = topology_arena_strdup(&t->strs, v);
    } else if (!strcmp(k, "channels") || !strcmp(k, "channel")) {
        add_channel(r, b, f);
    } else if (!strcmp(k, "locale")) {
        if (!locale_valid(v))
            bad(r, f, "bad locale '%s' (like pt-BR or en)", v);
        else
            s->locale = topology_intern(t, v);
    } else if (!strcmp(k, "timezone")) {
        if (!timezone_valid(v))
            bad(r, f, "bad timezone '%s' (an IANA name like America/Sao_Paulo, or UTC)", v);
        else
            s->timezone = topology_intern(t, v);
    } else if (!strcmp(k, "plan")) {
        s->plan = topology_intern(t, v);
    } else {
        unknown_key(r, f);
    }
}

/* Every preferred channel needs its contact. */
static void sub_check_channels(struct rec *r, struct sub_rec *b, const struct topology_field *at)
{
    const char *ch = b->channels     ? b->channels
                     : b->s.nphones  ? "sms"
                     : b->s.telegram ? "telegram"
                                     : "";
    if (!b->s.nphones && (strstr(ch, "sms") || strstr(ch, "whatsapp")))
        bad(r, at, "channel sms/whatsapp needs a phone number");
    if (!b->s.telegram && strstr(ch, "telegram"))
        bad(r, at, "channel telegram needs a telegram chat id");
    b->s.channels = topology_intern(r->t, ch);
    free(b->channels);
    b->channels = NULL;
}

/* Store s at the end of subs, its phone list moved into the arena. */
static uint32_t sub_store(struct topology *t, struct sub_rec *b, const char *id)
{
    size_t cap = t->capsubs;
    t->subs = grow(t->subs, &t->capsubs, t->nsubs + 1, sizeof *t->subs);
    if (t->capsubs != cap || !t->sub_pos)
        t->sub_pos = xrealloc(t->sub_pos, t->capsubs * sizeof *t->sub_pos);
    if (b->s.nphones) {
        b->s.phones = topology_arena_alloc(&t->strs, b->s.nphones * sizeof(char *));
        memcpy(b->s.phones, b->phones, b->s.nphones * sizeof(char *));
    }
    b->s.id = topology_arena_strdup(&t->strs, id);
    t->subs[t->nsubs] = b->s;
    topology_index_put(t, TOPOLOGY_IX_SUB, (uint32_t)t->nsubs);
    return (uint32_t)t->nsubs++;
}

static int add_sub(struct rec *r, const struct topology_field *f, size_t n, int line)
{
    struct topology *t = r->t;
    char what[96];
    const struct topology_field *idf = field(f, n, "id"), *nf = field(f, n, "node");
    if (require_id(r, idf, "subscriber", line, what, sizeof what) < 0)
        return -EINVAL;
    struct sub_rec b = {
        .s = {.quiet_start = -1, .quiet_end = -1, .cycle_day = 1, .node = TOPOLOGY_NONE}};
    for (size_t i = 0; i < n; i++)
        sub_field(r, &b, &f[i]);
    sub_check_channels(r, &b, idf);
    if (!nf)
        bad(r, idf, "no node");
    int rc = -EINVAL;
    if (nf && unclaimed(r, TOPOLOGY_IX_SUB, idf)) {
        uint32_t idx = sub_store(t, &b, idf->value);
        t->sub_pos[idx] = (struct topology_pos){r->fidx, line};
        t->subs[idx].node = topology_find_node(t, nf->value);
        if (t->subs[idx].node == TOPOLOGY_NONE)
            refer(r, &t->sub_refs, idx, nf->value, line);
        rc = r->bad ? -EINVAL : 0;
    }
    free(b.phones);
    return rc;
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
    const char *obj = o ? o->value : "";
    if (topology_index_get(t, TOPOLOGY_IX_BIND, d->value, obj) != TOPOLOGY_NONE)
        bad(r, d, "device '%s' object '%s' is bound twice", d->value, obj);
    if (r->bad)
        return -EINVAL;
    t->binds = grow(t->binds, &t->capbinds, t->nbinds + 1, sizeof *t->binds);
    uint32_t idx = (uint32_t)t->nbinds++;
    /* devices repeat across their objects: one copy each */
    t->binds[idx] = (struct topology_binding){topology_intern(t, d->value),
                                              topology_arena_strdup(&t->strs, obj),
                                              topology_find_node(t, nf->value)};
    topology_index_put(t, TOPOLOGY_IX_BIND, idx);
    if (t->binds[idx].node == TOPOLOGY_NONE)
        refer(r, &t->bind_refs, idx, nf->value, line);
    return 0;
}

int topology_add(struct topology *t, enum topology_rec type, const struct topology_field *f,
                 size_t n, const char *file, int line, struct topology_errs *errs)
{
    struct rec r = {.t = t, .file = file, .what = "record", .errs = errs};
    r.fidx = topology_file_index(t, file);
    r.file = t->files[r.fidx];
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
