#include "config/schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/scalar.h"
#include "core/xmalloc.h"

/* A check that can only run once the whole document is read. */
struct deferred {
    const struct schema_field *field;
    void *obj;
    char *value;
    char *path;
    const struct yaml_tree *at;
};

/* A name defined by a list item, for name references. */
struct defined {
    const char *kind;
    const char *name; /* borrowed from the object, which outlives the context */
    const struct yaml_tree *at;
    size_t seq; /* definition order, so that the first of duplicates stays first */
};

struct schema_ctx {
    struct yaml_tree_errs *errs;
    struct deferred *refs;
    size_t n_refs, cap_refs;
    struct defined *defs;
    size_t n_defs, cap_defs;
};

static void apply_section(struct schema_ctx *ctx, const struct schema_section *sec, void *obj,
                          const struct schema_scope *scope);

void schema_error(struct schema_ctx *ctx, const struct yaml_tree *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    yaml_tree_error(ctx->errs, at ? at->line : 0, at ? at->col : 0, "%s", msg);
}

const char *schema_file(const struct schema_ctx *ctx)
{
    return ctx->errs->file;
}

static void *at_offset(void *obj, size_t off)
{
    return (char *)obj + off;
}

static void set_string(void *obj, size_t off, char *s)
{
    char **slot = at_offset(obj, off);
    free(*slot);
    *slot = s;
}

static void set_int(const struct schema_field *f, void *obj, int64_t v)
{
    void *p = at_offset(obj, f->offset);
    if (f->kind == SCHEMA_DURATION || (f->kind == SCHEMA_INT && f->size == 8)) {
        int64_t x = v;
        memcpy(p, &x, sizeof x);
    } else if (f->kind == SCHEMA_INT && f->min >= 0) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
    } else {
        int x = (int)v; /* enums, bools and 4-byte signed integers */
        memcpy(p, &x, sizeof x);
    }
}

void schema_init(const struct schema_section *sec, void *obj)
{
    if (sec->init)
        sec->init(obj);
    for (const struct schema_field *f = sec->fields; f->key; f++) {
        if (f->kind == SCHEMA_MAP)
            schema_init(f->sub, at_offset(obj, f->offset));
        if (!(f->flags & SCHEMA_DEFAULT))
            continue;
        if (f->kind == SCHEMA_STRING)
            set_string(obj, f->offset, xstrdup(f->def_str));
        else if (f->kind == SCHEMA_NUMBER)
            memcpy(at_offset(obj, f->offset), &f->def_num, sizeof f->def_num);
        else if (f->kind != SCHEMA_MAP && f->kind != SCHEMA_LIST && f->kind != SCHEMA_STRMAP &&
                 f->kind != SCHEMA_INTS)
            set_int(f, obj, f->def);
    }
}

/* Pairs of { char *key; char *value; } as laid out by SCHEMA_STRMAP targets. */
static void free_strmap(void *obj, const struct schema_field *f)
{
    char **pairs = *(char ***)at_offset(obj, f->offset);
    size_t *count = at_offset(obj, f->count_offset);
    for (size_t i = 0; pairs && i < 2 * *count; i++)
        free(pairs[i]);
    free(pairs);
    *(char ***)at_offset(obj, f->offset) = NULL;
    *count = 0;
}

static void free_ints(void *obj, const struct schema_field *f)
{
    int64_t **v = at_offset(obj, f->offset);
    free(*v);
    *v = NULL;
    *(size_t *)at_offset(obj, f->count_offset) = 0;
}

static void free_list(void *obj, const struct schema_field *f)
{
    char *items = *(char **)at_offset(obj, f->offset);
    size_t *count = at_offset(obj, f->count_offset);
    for (size_t i = 0; items && i < *count; i++)
        schema_free(f->sub, items + i * f->sub->size);
    free(items);
    *(char **)at_offset(obj, f->offset) = NULL;
    *count = 0;
}

void schema_free(const struct schema_section *sec, void *obj)
{
    if (sec->deinit) {
        sec->deinit(obj);
        return;
    }
    for (const struct schema_field *f = sec->fields; f->key; f++) {
        if (f->kind == SCHEMA_STRING && !(f->flags & SCHEMA_NOSTORE))
            set_string(obj, f->offset, NULL);
        else if (f->kind == SCHEMA_MAP)
            schema_free(f->sub, at_offset(obj, f->offset));
        else if (f->kind == SCHEMA_LIST)
            free_list(obj, f);
        else if (f->kind == SCHEMA_STRMAP)
            free_strmap(obj, f);
        else if (f->kind == SCHEMA_INTS)
            free_ints(obj, f);
    }
}

static char *join_path(const char *parent, const char *key)
{
    return xasprintf("%s%s%s", parent, *parent ? "." : "", key);
}

/* The expanded text of a scalar value, or NULL after reporting why there is none. */
static char *scalar_text(struct schema_ctx *ctx, const struct yaml_tree *v, const char *path,
                         const char *want)
{
    if (v->type != YAML_TREE_SCALAR) {
        schema_error(ctx, v, "%s: expected %s, got %s", path, want, yaml_tree_kind(v));
        return NULL;
    }
    if (yaml_tree_is_null(v)) {
        schema_error(ctx, v, "%s: missing value (expected %s)", path, want);
        return NULL;
    }
    char err[512];
    char *s = scalar_expand_env(v->value, err, sizeof err);
    if (!s)
        schema_error(ctx, v, "%s: %s", path, err);
    return s;
}

static void defer(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                  const char *value, const char *path, const struct yaml_tree *at)
{
    if (ctx->n_refs == ctx->cap_refs) {
        ctx->cap_refs = ctx->cap_refs ? ctx->cap_refs * 2 : 8;
        ctx->refs = xrealloc(ctx->refs, ctx->cap_refs * sizeof *ctx->refs);
    }
    ctx->refs[ctx->n_refs++] = (struct deferred){
        .field = f, .obj = obj, .value = xstrdup(value), .path = xstrdup(path), .at = at};
}

static void apply_string(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                         const struct yaml_tree *v, const char *path, char *s)
{
    char err[512];
    if (f->check && f->check(s, err, sizeof err) < 0) {
        schema_error(ctx, v, "%s: %s", path, err);
        free(s);
        return;
    }
    if (f->ref || f->resolve)
        defer(ctx, f, obj, s, path, v);
    if (f->flags & SCHEMA_NOSTORE)
        free(s);
    else
        set_string(obj, f->offset, s);
}

static void apply_number(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                         const struct yaml_tree *v, const char *path, const char *s)
{
    int64_t n = 0;
    int rc = f->kind == SCHEMA_INT ? scalar_parse_int(s, &n) : scalar_parse_duration(s, &n);
    const char *shown = f->flags & SCHEMA_SECRET ? "(secret)" : s;
    if (rc == -EINVAL && f->kind == SCHEMA_INT) {
        schema_error(ctx, v, "%s: expected an integer, got '%s'", path, shown);
    } else if (rc == -EINVAL) {
        schema_error(ctx, v,
                     "%s: bad duration '%s' (expected a number with a unit: ms, s, m, h, d; "
                     "e.g. 30s)",
                     path, shown);
    } else if (rc < 0 || n < f->min || n > f->max) {
        if (f->kind == SCHEMA_INT) {
            schema_error(ctx, v, "%s: %s is out of range %lld..%lld", path, shown,
                         (long long)f->min, (long long)f->max);
        } else {
            char lo[32], hi[32];
            scalar_format_duration(f->min, lo, sizeof lo);
            scalar_format_duration(f->max, hi, sizeof hi);
            schema_error(ctx, v, "%s: %s is out of range %s..%s", path, shown, lo, hi);
        }
    } else {
        set_int(f, obj, n);
    }
}

static void apply_decimal(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                          const struct yaml_tree *v, const char *path, const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno || d != d) {
        schema_error(ctx, v, "%s: expected a number, got '%s'", path, s);
    } else if (d < (double)f->min || d > (double)f->max) {
        schema_error(ctx, v, "%s: %s is out of range %lld..%lld", path, s, (long long)f->min,
                     (long long)f->max);
    } else {
        memcpy(at_offset(obj, f->offset), &d, sizeof d);
    }
}

/* A sequence of integers, each checked against the field's range where it stands. */
static void apply_ints(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                       const struct yaml_tree *v, const char *path)
{
    if (yaml_tree_is_null(v))
        return;
    if (v->type != YAML_TREE_SEQ) {
        schema_error(ctx, v, "%s: expected a sequence of integers, got %s", path,
                     yaml_tree_kind(v));
        return;
    }
    free_ints(obj, f);
    int64_t *vals = xcalloc(v->n, sizeof *vals);
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        char *ipath = xasprintf("%s[%zu]", path, i);
        char *s = scalar_text(ctx, v->items[i], ipath, "an integer");
        int64_t x;
        if (s && scalar_parse_int(s, &x) < 0)
            schema_error(ctx, v->items[i], "%s: expected an integer, got '%s'", ipath, s);
        else if (s && (x < f->min || x > f->max))
            schema_error(ctx, v->items[i], "%s: %s is out of range %lld..%lld", ipath, s,
                         (long long)f->min, (long long)f->max);
        else if (s)
            vals[n++] = x;
        free(s);
        free(ipath);
    }
    *(int64_t **)at_offset(obj, f->offset) = vals;
    *(size_t *)at_offset(obj, f->count_offset) = n;
}

static void apply_enum(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                       const struct yaml_tree *v, const char *path, const char *s)
{
    char names[256] = "";
    const char *near = NULL;
    for (const struct schema_enum *e = f->enums; e->name; e++) {
        if (strcmp(e->name, s) == 0) {
            set_int(f, obj, e->value);
            return;
        }
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", e->name);
        if (!near && scalar_is_near(s, e->name))
            near = e->name;
    }
    if (near)
        schema_error(ctx, v, "%s: '%s' is not one of: %s (did you mean '%s'?)", path, s, names,
                     near);
    else
        schema_error(ctx, v, "%s: '%s' is not one of: %s", path, s, names);
}

static void apply_scalar(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                         const struct yaml_tree *v, const char *path)
{
    static const char *const want[] = {
        [SCHEMA_STRING] = "a string",     [SCHEMA_INT] = "an integer",
        [SCHEMA_DURATION] = "a duration", [SCHEMA_BOOL] = "true or false",
        [SCHEMA_ENUM] = "a name",         [SCHEMA_NUMBER] = "a number",
    };
    char *s = scalar_text(ctx, v, path, want[f->kind]);
    if (!s)
        return;
    if (f->kind == SCHEMA_STRING) {
        apply_string(ctx, f, obj, v, path, s);
        return;
    }
    if (f->kind == SCHEMA_INT || f->kind == SCHEMA_DURATION)
        apply_number(ctx, f, obj, v, path, s);
    else if (f->kind == SCHEMA_NUMBER)
        apply_decimal(ctx, f, obj, v, path, s);
    else if (f->kind == SCHEMA_ENUM)
        apply_enum(ctx, f, obj, v, path, s);
    else if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        set_int(f, obj, s[0] == 't');
    else
        schema_error(ctx, v, "%s: expected true or false, got '%s'", path, s);
    free(s);
}

/* Records the name a list item defines; duplicates are found once all are known. */
static void define_name(struct schema_ctx *ctx, const struct schema_section *sec, void *item,
                        const struct schema_scope *scope)
{
    const struct yaml_tree *v = yaml_tree_get(scope->map, sec->name_key, NULL);
    const struct schema_field *f = sec->fields;
    while (f->key && strcmp(f->key, sec->name_key) != 0)
        f++;
    const char *name = v && f->key ? *(char **)at_offset(item, f->offset) : NULL;
    if (!name)
        return; /* absent or invalid: already reported */
    if (ctx->n_defs == ctx->cap_defs) {
        ctx->cap_defs = ctx->cap_defs ? ctx->cap_defs * 2 : 8;
        ctx->defs = xrealloc(ctx->defs, ctx->cap_defs * sizeof *ctx->defs);
    }
    ctx->defs[ctx->n_defs] = (struct defined){sec->defines, name, v, ctx->n_defs};
    ctx->n_defs++;
}

static void apply_list(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                       const struct yaml_tree *v, const char *path)
{
    if (yaml_tree_is_null(v))
        return;
    if (v->type != YAML_TREE_SEQ) {
        schema_error(ctx, v, "%s: expected a sequence, got %s", path, yaml_tree_kind(v));
        return;
    }
    free_list(obj, f);
    /* Sized once: deferred checks keep pointers to the items. */
    char *items = xcalloc(v->n, f->sub->size);
    *(char **)at_offset(obj, f->offset) = items;
    *(size_t *)at_offset(obj, f->count_offset) = v->n;
    for (size_t i = 0; i < v->n; i++) {
        char *ipath = xasprintf("%s[%zu]", path, i);
        const struct yaml_tree *item = v->items[i];
        struct schema_scope scope = {ipath, yaml_tree_is_null(item) ? NULL : item, item};
        schema_init(f->sub, items + i * f->sub->size);
        apply_section(ctx, f->sub, items + i * f->sub->size, &scope);
        if (f->sub->defines && scope.map && scope.map->type == YAML_TREE_MAP)
            define_name(ctx, f->sub, items + i * f->sub->size, &scope);
        free(ipath);
    }
}

static void apply_strmap(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                         const struct yaml_tree *v, const char *path)
{
    if (yaml_tree_is_null(v))
        return;
    if (v->type != YAML_TREE_MAP) {
        schema_error(ctx, v, "%s: expected a mapping, got %s", path, yaml_tree_kind(v));
        return;
    }
    free_strmap(obj, f);
    char **pairs = xcalloc(2 * v->n + 1, sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        char *kpath = join_path(path, v->keys[i]->value);
        char *s = scalar_text(ctx, v->items[i], kpath, "a scalar");
        free(kpath);
        if (!s)
            continue;
        pairs[2 * n] = xstrdup(v->keys[i]->value);
        pairs[2 * n + 1] = s;
        n++;
    }
    *(char ***)at_offset(obj, f->offset) = pairs;
    *(size_t *)at_offset(obj, f->count_offset) = n;
}

static void apply_field(struct schema_ctx *ctx, const struct schema_field *f, void *obj,
                        const struct yaml_tree *key, const struct yaml_tree *v, const char *parent)
{
    char *path = join_path(parent, f->key);
    if (f->kind == SCHEMA_MAP) {
        struct schema_scope scope = {path, yaml_tree_is_null(v) ? NULL : v, key};
        apply_section(ctx, f->sub, at_offset(obj, f->offset), &scope);
    } else if (f->kind == SCHEMA_LIST) {
        apply_list(ctx, f, obj, v, path);
    } else if (f->kind == SCHEMA_STRMAP) {
        apply_strmap(ctx, f, obj, v, path);
    } else if (f->kind == SCHEMA_INTS) {
        apply_ints(ctx, f, obj, v, path);
    } else {
        apply_scalar(ctx, f, obj, v, path);
    }
    free(path);
}

static void unknown_key(struct schema_ctx *ctx, const struct schema_section *sec,
                        const struct yaml_tree *key)
{
    for (const struct schema_field *f = sec->fields; f->key; f++) {
        if (scalar_is_near(key->value, f->key)) {
            schema_error(ctx, key, "unknown key '%s' (did you mean '%s'?)", key->value, f->key);
            return;
        }
    }
    schema_error(ctx, key, "unknown key '%s'", key->value);
}

static void apply_section(struct schema_ctx *ctx, const struct schema_section *sec, void *obj,
                          const struct schema_scope *scope)
{
    const struct yaml_tree *map = scope->map;
    if (map && map->type != YAML_TREE_MAP) {
        schema_error(ctx, map, "%s%sexpected a mapping, got %s", scope->path,
                     *scope->path ? ": " : "", yaml_tree_kind(map));
        return;
    }
    for (size_t i = 0; map && i < map->n; i++) {
        const struct schema_field *f = sec->fields;
        while (f->key && strcmp(f->key, map->keys[i]->value) != 0)
            f++;
        if (f->key)
            apply_field(ctx, f, obj, map->keys[i], map->items[i], scope->path);
        else
            unknown_key(ctx, sec, map->keys[i]);
    }
    for (const struct schema_field *f = sec->fields; f->key; f++) {
        if ((f->flags & SCHEMA_REQUIRED) && !yaml_tree_get(map, f->key, NULL)) {
            char *path = join_path(scope->path, f->key);
            schema_error(ctx, scope->at, "missing required key '%s'", path);
            free(path);
        }
    }
    if (sec->validate)
        sec->validate(ctx, obj, scope);
}

static int cmp_defined(const void *a, const void *b)
{
    const struct defined *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    if (!c)
        c = strcmp(x->name, y->name);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorted, so that lookups stay cheap with thousands of items; reports duplicates. */
static void sort_definitions(struct schema_ctx *ctx)
{
    if (ctx->n_defs)
        qsort(ctx->defs, ctx->n_defs, sizeof *ctx->defs, cmp_defined);
    for (size_t i = 1, first = 0; i < ctx->n_defs; i++) {
        const struct defined *a = &ctx->defs[first], *b = &ctx->defs[i];
        if (strcmp(a->kind, b->kind) || strcmp(a->name, b->name)) {
            first = i;
            continue;
        }
        schema_error(ctx, b->at, "duplicate %s '%s' (first defined at line %d)", b->kind, b->name,
                     a->at->line);
    }
}

static int is_defined(const struct schema_ctx *ctx, const char *kind, const char *name)
{
    struct defined key = {.kind = kind, .name = name, .seq = 0};
    size_t lo = 0, hi = ctx->n_defs;
    while (lo < hi) { /* first entry >= key */
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_defined(&ctx->defs[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ctx->n_defs && !strcmp(ctx->defs[lo].kind, kind) &&
           !strcmp(ctx->defs[lo].name, name);
}

static void run_deferred(struct schema_ctx *ctx)
{
    sort_definitions(ctx);
    for (size_t i = 0; i < ctx->n_refs; i++) {
        const struct deferred *d = &ctx->refs[i];
        char err[512];
        if (d->field->ref && !is_defined(ctx, d->field->ref, d->value))
            schema_error(ctx, d->at, "%s: unknown %s '%s'", d->path, d->field->ref, d->value);
        else if (d->field->resolve && d->field->resolve(ctx, d->obj, d->value, err, sizeof err) < 0)
            schema_error(ctx, d->at, "%s: %s", d->path, err);
    }
}

int schema_apply(const struct schema_section *sec, void *obj, const struct yaml_tree *doc,
                 struct yaml_tree_errs *errs)
{
    struct schema_ctx ctx = {.errs = errs};
    size_t before = errs->n;
    struct schema_scope scope = {"", yaml_tree_is_null(doc) ? NULL : doc, doc};
    apply_section(&ctx, sec, obj, &scope);
    run_deferred(&ctx);
    for (size_t i = 0; i < ctx.n_refs; i++) {
        free(ctx.refs[i].value);
        free(ctx.refs[i].path);
    }
    free(ctx.refs);
    free(ctx.defs);
    return errs->n > before ? -EINVAL : 0;
}
