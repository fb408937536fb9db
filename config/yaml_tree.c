#include "config/yaml_tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/xmalloc.h"

/* Deeper nesting than any real config needs; the limit keeps hostile input off the stack. */
#define MAX_DEPTH 64

struct builder {
    yaml_parser_t parser;
    struct yaml_tree_errs *errs;
};

void yaml_tree_error(struct yaml_tree_errs *e, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->v = xrealloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n++] = (struct yaml_tree_err){.line = line, .col = col, .msg = msg};
}

void yaml_tree_errs_deinit(struct yaml_tree_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].msg);
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

void yaml_tree_free(struct yaml_tree *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            yaml_tree_free(n->keys[i]);
        yaml_tree_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->value);
    free(n);
}

static struct yaml_tree *node_new(enum yaml_tree_type type, const yaml_mark_t *m)
{
    struct yaml_tree *n = xcalloc(1, sizeof *n);
    n->type = type;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static void node_add(struct yaml_tree *n, struct yaml_tree *key, struct yaml_tree *item)
{
    /* Capacity is implicit: the arrays are grown to 2*n whenever n is a power of two. */
    if ((n->n & (n->n - 1)) == 0) {
        size_t cap = n->n ? n->n * 2 : 1;
        n->items = xrealloc(n->items, cap * sizeof *n->items);
        if (n->type == YAML_TREE_MAP)
            n->keys = xrealloc(n->keys, cap * sizeof *n->keys);
    }
    if (n->type == YAML_TREE_MAP)
        n->keys[n->n] = key;
    n->items[n->n++] = item;
}

static int syntax_error(struct builder *b)
{
    const yaml_parser_t *p = &b->parser;
    const yaml_mark_t *m = p->error == YAML_READER_ERROR ? &p->mark : &p->problem_mark;
    const char *problem = p->problem ? p->problem : "cannot parse";
    if (p->context)
        yaml_tree_error(b->errs, (int)m->line + 1, (int)m->column + 1, "syntax error: %s (%s)",
                        problem, p->context);
    else
        yaml_tree_error(b->errs, (int)m->line + 1, (int)m->column + 1, "syntax error: %s", problem);
    return -1;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return syntax_error(b);
    return 0;
}

static int parse_node(struct builder *b, yaml_event_t *ev, int depth, struct yaml_tree **out);

static void add_pair(struct builder *b, struct yaml_tree *map, struct yaml_tree *key,
                     struct yaml_tree *val)
{
    if (!key || !val) {
        /* an alias, already reported */
    } else if (key->type != YAML_TREE_SCALAR) {
        yaml_tree_error(b->errs, key->line, key->col, "mapping keys must be plain strings");
    } else {
        const struct yaml_tree *first = NULL;
        if (!yaml_tree_get(map, key->value, &first)) {
            node_add(map, key, val);
            return;
        }
        yaml_tree_error(b->errs, key->line, key->col,
                        "duplicate key '%s' (first defined at line %d)", key->value, first->line);
    }
    yaml_tree_free(key);
    yaml_tree_free(val);
}

/* Children of a mapping or sequence, up to its end event. */
static int parse_children(struct builder *b, struct yaml_tree *n, int depth)
{
    yaml_event_type_t end =
        n->type == YAML_TREE_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
    for (;;) {
        yaml_event_t ev;
        struct yaml_tree *key = NULL, *val = NULL;
        if (next_event(b, &ev) < 0)
            return -1;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (parse_node(b, &ev, depth + 1, n->type == YAML_TREE_MAP ? &key : &val) < 0)
            return -1;
        if (n->type == YAML_TREE_SEQ) {
            if (val)
                node_add(n, NULL, val);
            continue;
        }
        if (next_event(b, &ev) < 0 || parse_node(b, &ev, depth + 1, &val) < 0) {
            yaml_tree_free(key);
            return -1;
        }
        add_pair(b, n, key, val);
    }
}

static struct yaml_tree *scalar_node(struct builder *b, const yaml_event_t *ev)
{
    struct yaml_tree *n = node_new(YAML_TREE_SCALAR, &ev->start_mark);
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(v, '\0', len))
        yaml_tree_error(b->errs, n->line, n->col, "value contains a NUL character");
    n->value = xstrndup(v, len);
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return n;
}

/* Takes ownership of ev. *out is NULL (and 0 returned) for a rejected alias. */
static int parse_node(struct builder *b, yaml_event_t *ev, int depth, struct yaml_tree **out)
{
    int rc = 0;
    *out = NULL;
    if (depth > MAX_DEPTH) {
        yaml_tree_error(b->errs, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "nesting deeper than %d levels", MAX_DEPTH);
        yaml_event_delete(ev);
        return -1;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        *out = scalar_node(b, ev);
        break;
    case YAML_ALIAS_EVENT:
        yaml_tree_error(b->errs, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "YAML aliases (*%s) are not supported; write the value out",
                        (const char *)ev->data.alias.anchor);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        *out = node_new(ev->type == YAML_MAPPING_START_EVENT ? YAML_TREE_MAP : YAML_TREE_SEQ,
                        &ev->start_mark);
        rc = parse_children(b, *out, depth);
        break;
    default:
        yaml_tree_error(b->errs, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "unexpected YAML event");
        rc = -1;
    }
    yaml_event_delete(ev);
    if (rc < 0) {
        yaml_tree_free(*out);
        *out = NULL;
    }
    return rc;
}

/* After the first document: only the end of the stream may follow. */
static int parse_stream_end(struct builder *b)
{
    yaml_event_t ev;
    if (next_event(b, &ev) < 0)
        return -1;
    int rc = 0;
    if (ev.type == YAML_DOCUMENT_START_EVENT) {
        yaml_tree_error(b->errs, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                        "only one YAML document is allowed");
        rc = -1;
    }
    yaml_event_delete(&ev);
    return rc;
}

static int parse_stream(struct builder *b, struct yaml_tree **root)
{
    yaml_event_t ev;
    if (next_event(b, &ev) < 0)
        return -1;
    yaml_event_delete(&ev); /* STREAM-START */
    if (next_event(b, &ev) < 0)
        return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(b, &ev) < 0 || parse_node(b, &ev, 0, root) < 0)
        return -1;
    if (next_event(b, &ev) < 0)
        return -1;
    yaml_event_delete(&ev); /* DOCUMENT-END */
    return parse_stream_end(b);
}

int yaml_tree_load(FILE *f, struct yaml_tree **root, struct yaml_tree_errs *errs)
{
    struct builder b = {.errs = errs};
    size_t before = errs->n;
    *root = NULL;
    if (!yaml_parser_initialize(&b.parser)) {
        yaml_tree_error(errs, 0, 0, "cannot initialise the YAML parser");
        return -EINVAL;
    }
    yaml_parser_set_input_file(&b.parser, f);
    int rc = parse_stream(&b, root);
    yaml_parser_delete(&b.parser);
    if (rc < 0) {
        yaml_tree_free(*root);
        *root = NULL;
    }
    return errs->n > before ? -EINVAL : 0;
}

int yaml_tree_is_null(const struct yaml_tree *n)
{
    if (!n || n->type != YAML_TREE_SCALAR || !n->plain)
        return 0;
    const char *v = n->value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

const struct yaml_tree *yaml_tree_get(const struct yaml_tree *map, const char *key,
                                      const struct yaml_tree **key_out)
{
    if (!map || map->type != YAML_TREE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i]->value, key) == 0) {
            if (key_out)
                *key_out = map->keys[i];
            return map->items[i];
        }
    }
    return NULL;
}

const char *yaml_tree_kind(const struct yaml_tree *n)
{
    switch (n->type) {
    case YAML_TREE_MAP:
        return "a mapping";
    case YAML_TREE_SEQ:
        return "a sequence";
    default:
        return "a scalar";
    }
}
