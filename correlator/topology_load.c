/* topology_load: YAML topology files (through config's yaml_tree, which keeps line numbers)
 * and the multi-file import that rejects everything when any file has any problem. */
#include "correlator/topology_load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/yaml_tree.h"
#include "core/xmalloc.h"

int topology_format_parse(const char *s, enum topology_format *out)
{
    if (!strcmp(s, "yaml"))
        *out = TOPOLOGY_FORMAT_YAML;
    else if (!strcmp(s, "csv"))
        *out = TOPOLOGY_FORMAT_CSV;
    else if (!strcmp(s, "auto"))
        *out = TOPOLOGY_FORMAT_AUTO;
    else
        return -EINVAL;
    return 0;
}

struct yrec {
    struct topology_field *f;
    size_t n, cap;
};

static void yput(struct yrec *r, const char *key, const struct yaml_tree *v)
{
    if (yaml_tree_is_null(v))
        return;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->f = xrealloc(r->f, r->cap * sizeof *r->f);
    }
    r->f[r->n++] = (struct topology_field){key, v->value, v->line};
}

/* One value: a scalar, a list of scalars (the key repeats), or the plan mapping, whose
 * name/cap/cycle_day become the flat keys plan/cap/cycle_day shared with CSV. */
static int yvalue(struct yrec *r, const char *key, const struct yaml_tree *v, const char *file,
                  struct topology_errs *errs)
{
    if (v->type == YAML_TREE_SCALAR) {
        yput(r, key, v);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < v->n; i++) {
        const struct yaml_tree *item = v->items[i];
        const char *k = key;
        if (v->type == YAML_TREE_MAP) {
            k = v->keys[i]->value;
            if (strcmp(key, "plan")) {
                topology_err(errs, file, v->line, "'%s' must not be a mapping", key);
                return -EINVAL;
            }
            if (!strcmp(k, "name"))
                k = "plan";
            else if (strcmp(k, "cap") && strcmp(k, "cycle_day"))
                k = v->keys[i]->value; /* reported as unknown by the record */
        }
        if (item->type != YAML_TREE_SCALAR) {
            topology_err(errs, file, item->line, "'%s': expected a scalar, found %s", k,
                         yaml_tree_kind(item));
            rc = -EINVAL;
            continue;
        }
        yput(r, k, item);
    }
    return rc;
}

static int ysection(struct topology *t, enum topology_rec type, const struct yaml_tree *seq,
                    const char *file, struct topology_errs *errs)
{
    if (seq->type != YAML_TREE_SEQ) {
        if (yaml_tree_is_null(seq))
            return 0;
        topology_err(errs, file, seq->line, "expected a sequence, found %s", yaml_tree_kind(seq));
        return -EINVAL;
    }
    int rc = 0;
    struct yrec r = {0};
    for (size_t i = 0; i < seq->n; i++) {
        const struct yaml_tree *m = seq->items[i];
        if (m->type != YAML_TREE_MAP) {
            topology_err(errs, file, m->line, "expected a mapping, found %s", yaml_tree_kind(m));
            rc = -EINVAL;
            continue;
        }
        r.n = 0;
        for (size_t k = 0; k < m->n; k++)
            rc |= yvalue(&r, m->keys[k]->value, m->items[k], file, errs);
        rc |= topology_add(t, type, r.f, r.n, file, m->line, errs);
    }
    free(r.f);
    return rc ? -EINVAL : 0;
}

int topology_load_yaml(struct topology *t, FILE *f, const char *path, struct topology_errs *errs)
{
    static const struct {
        const char *key;
        enum topology_rec type;
    } sections[] = {{"nodes", TOPOLOGY_REC_NODE},
                    {"links", TOPOLOGY_REC_LINK},
                    {"subscribers", TOPOLOGY_REC_SUB},
                    {"bindings", TOPOLOGY_REC_BIND}};
    const char *file = topology_file(t, path);
    struct yaml_tree_errs ye = {.file = file};
    struct yaml_tree *root = NULL;
    int rc = yaml_tree_load(f, &root, &ye);
    for (size_t i = 0; i < ye.n; i++)
        topology_err(errs, file, ye.v[i].line, "%s", ye.v[i].msg);
    yaml_tree_errs_deinit(&ye);
    if (root && root->type != YAML_TREE_MAP) {
        topology_err(errs, file, root->line,
                     "expected a mapping with nodes, links, "
                     "subscribers, bindings");
        rc = -EINVAL;
    }
    for (size_t i = 0; root && root->type == YAML_TREE_MAP && i < root->n; i++) {
        size_t s = 0;
        while (s < 4 && strcmp(root->keys[i]->value, sections[s].key))
            s++;
        if (s == 4) {
            topology_err(errs, file, root->keys[i]->line,
                         "unknown section '%s' (nodes, links, subscribers, bindings)",
                         root->keys[i]->value);
            rc = -EINVAL;
        } else {
            rc |= ysection(t, sections[s].type, root->items[i], file, errs);
        }
    }
    yaml_tree_free(root);
    return rc ? -EINVAL : 0;
}

static enum topology_format format_of(const char *path, enum topology_format f)
{
    if (f != TOPOLOGY_FORMAT_AUTO)
        return f;
    size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".csv") ? TOPOLOGY_FORMAT_CSV : TOPOLOGY_FORMAT_YAML;
}

struct topology *topology_load_files(const char *const *paths, size_t n,
                                     const struct topology_load_opts *opts,
                                     struct topology_errs *errs)
{
    struct topology_load_opts o = opts ? *opts : (struct topology_load_opts){0};
    struct topology *t = topology_new();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f) {
            topology_err(errs, paths[i], 0, "cannot open: %s", strerror(errno));
            rc = -ENOENT;
            continue;
        }
        if (format_of(paths[i], o.format) == TOPOLOGY_FORMAT_CSV)
            rc |= topology_load_csv(t, f, paths[i], &o, errs);
        else
            rc |= topology_load_yaml(t, f, paths[i], errs);
        fclose(f);
    }
    /* references and cycles are checked even after record errors, so one run lists all */
    if (topology_finish(t, errs) < 0 || rc || errs->n) {
        topology_free(t);
        return NULL;
    }
    return t;
}
