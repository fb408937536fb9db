#include "notifier/template_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yaml_tree.h"
#include "core/strmap.h"
#include "core/xmalloc.h"

struct template_file {
    struct template_set *set;
    struct strmap *causes; /* "locale\x1fcause" -> words */
    char *default_locale;
};

struct loading {
    const char *path;
    char **msgs;
    size_t n;
};

static void problem(struct loading *l, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct loading *l, int line, int col, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    l->msgs = xrealloc(l->msgs, (l->n + 1) * sizeof *l->msgs);
    l->msgs[l->n++] = xasprintf("%s:%d:%d: %s", l->path, line, col, text);
}

static void add_one(struct template_file *tf, struct loading *l, const char *locale,
                    const struct yaml_tree *k, const struct yaml_tree *text)
{
    enum template_type type;
    char err[256];
    size_t off = 0;
    if (template_type_parse(k->value, &type) < 0) {
        problem(l, k->line, k->col, "unknown message type '%s'", k->value);
        return;
    }
    if (text->type != YAML_TREE_SCALAR) {
        problem(l, text->line, text->col, "%s: the template must be text", k->value);
        return;
    }
    if (template_set_add(tf->set, type, locale, text->value, err, sizeof err, &off) == 0)
        return;
    unsigned line = 0, col = 0;
    if (off != TEMPLATE_NO_OFFSET)
        template_position(text->value, off, &line, &col);
    char where[64] = "";
    if (line)
        snprintf(where, sizeof where, " (template line %u, column %u)", line, col);
    problem(l, text->line, text->col, "%s%s", err, where);
}

static void load_templates(struct template_file *tf, struct loading *l, const struct yaml_tree *t)
{
    for (size_t i = 0; t && i < t->n; i++) {
        const struct yaml_tree *types = t->items[i];
        if (types->type != YAML_TREE_MAP) {
            problem(l, types->line, types->col, "templates.%s: expected a mapping",
                    t->keys[i]->value);
            continue;
        }
        for (size_t j = 0; j < types->n; j++)
            add_one(tf, l, t->keys[i]->value, types->keys[j], types->items[j]);
    }
}

static void load_causes(struct template_file *tf, struct loading *l, const struct yaml_tree *c)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const struct yaml_tree *m = c->items[i];
        for (size_t j = 0; m->type == YAML_TREE_MAP && j < m->n; j++) {
            enum outage_cause cause;
            if (outage_cause_parse(m->keys[j]->value, &cause) < 0 ||
                m->items[j]->type != YAML_TREE_SCALAR) {
                problem(l, m->keys[j]->line, m->keys[j]->col, "unknown cause '%s'",
                        m->keys[j]->value);
                continue;
            }
            char *key = xasprintf("%s\x1f%s", c->keys[i]->value, m->keys[j]->value);
            free(strmap_put(tf->causes, key, xstrdup(m->items[j]->value)));
            free(key);
        }
    }
}

static struct yaml_tree *read_tree(const char *path, struct loading *l)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        problem(l, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct yaml_tree *root = NULL;
    struct yaml_tree_errs errs = {.file = path};
    int rc = yaml_tree_load(f, &root, &errs);
    fclose(f);
    for (size_t i = 0; i < errs.n; i++)
        problem(l, errs.v[i].line, errs.v[i].col, "%s", errs.v[i].msg);
    yaml_tree_errs_deinit(&errs);
    if (rc < 0 || !root || root->type != YAML_TREE_MAP) {
        if (rc == 0)
            problem(l, 1, 1, "expected a mapping with templates and causes");
        yaml_tree_free(root);
        return NULL;
    }
    return root;
}

struct template_file *template_file_load(const char *path, char ***msgs, size_t *nmsgs)
{
    struct loading l = {.path = path};
    struct yaml_tree *root = read_tree(path, &l);
    struct template_file *tf = NULL;
    if (root) {
        const struct yaml_tree *def = yaml_tree_get(root, "default_locale", NULL);
        tf = xcalloc(1, sizeof *tf);
        tf->default_locale = xstrdup(def && def->type == YAML_TREE_SCALAR ? def->value : "en");
        tf->set = template_set_new(tf->default_locale);
        tf->causes = strmap_new();
        load_templates(tf, &l, yaml_tree_get(root, "templates", NULL));
        load_causes(tf, &l, yaml_tree_get(root, "causes", NULL));
        yaml_tree_free(root);
    }
    if (l.n) {
        template_file_free(tf);
        tf = NULL;
    }
    *msgs = l.msgs;
    *nmsgs = l.n;
    return tf;
}

void template_file_free(struct template_file *tf)
{
    if (!tf)
        return;
    template_set_free(tf->set);
    strmap_free(tf->causes, free);
    free(tf->default_locale);
    free(tf);
}

const struct template_set *template_file_set(const struct template_file *tf)
{
    return tf->set;
}

static const char *cause_in(const struct template_file *tf, const char *locale, size_t len,
                            enum outage_cause cause)
{
    char *key = xasprintf("%.*s\x1f%s", (int)len, locale, outage_cause_name(cause));
    const char *v = strmap_get(tf->causes, key);
    free(key);
    return v;
}

const char *template_file_cause(const struct template_file *tf, const char *locale,
                                enum outage_cause cause)
{
    const char *v = NULL;
    if (locale && *locale) {
        v = cause_in(tf, locale, strlen(locale), cause);
        if (!v)
            v = cause_in(tf, locale, strcspn(locale, "-_"), cause);
    }
    return v ? v : cause_in(tf, tf->default_locale, strlen(tf->default_locale), cause);
}
