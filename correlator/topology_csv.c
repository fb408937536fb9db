/* topology_csv: the CSV layouts ISPs export from OSS and billing. One file = one record type,
 * decided by its header row; RFC 4180 quoting on single lines; '|' separates list items. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "correlator/topology_load.h"

struct layout {
    enum topology_rec type;
    const char *name;
    const char *marker;         /* a header naming this column is this layout */
    const char *const *columns; /* allowed, NULL-terminated */
    const char *const *lists;   /* columns holding '|'-separated lists */
};

static const char *const node_cols[] = {"id", "kind", "name", "area", "parents", NULL};
static const char *const link_cols[] = {"child", "parent", NULL};
static const char *const sub_cols[] = {"id",       "node",   "name",      "phones",      "telegram",
                                       "channels", "locale", "timezone",  "quiet_hours", "opt_out",
                                       "plan",     "cap",    "cycle_day", NULL};
static const char *const bind_cols[] = {"device", "object", "node", NULL};
static const char *const node_lists[] = {"parents", NULL};
static const char *const sub_lists[] = {"phones", "channels", NULL};
static const char *const no_lists[] = {NULL};

/* Checked in this order: "kind" marks nodes before "node" can mark subscribers. */
static const struct layout layouts[] = {
    {TOPOLOGY_REC_NODE, "nodes", "kind", node_cols, node_lists},
    {TOPOLOGY_REC_BIND, "bindings", "device", bind_cols, no_lists},
    {TOPOLOGY_REC_LINK, "links", "child", link_cols, no_lists},
    {TOPOLOGY_REC_SUB, "subscribers", "node", sub_cols, sub_lists},
};

static int in(const char *const *set, const char *s)
{
    for (; *set; set++)
        if (!strcmp(*set, s))
            return 1;
    return 0;
}

/* Split one line into cells (in place). Returns the cell count, or -1 on a quoting error. */
static int split(char *line, char ***cells, size_t *cap)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *cells = xrealloc(*cells, *cap * sizeof(char *));
        }
        char *out = p;
        (*cells)[n++] = out;
        if (*p == '"') {
            for (p++;; p++) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"')
                    *out++ = '"', p++;
                else if (*p == '"')
                    break;
                else
                    *out++ = *p;
            }
            p++;
            if (*p != ',' && *p)
                return -1;
        } else {
            while (*p && *p != ',')
                out++, p++;
        }
        int more = *p == ',';
        *out = '\0';
        if (!more)
            return (int)n;
        p++;
    }
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

struct csv {
    struct topology *t;
    const char *file;
    struct topology_errs *errs;
    const struct layout *lay;
    char **cols;
    size_t ncols;
    struct topology_field *f;
    size_t fcap;
};

static int header(struct csv *c, char **cells, int n, int line)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0] && !c->lay; i++)
        for (int j = 0; j < n && !c->lay; j++)
            if (!strcmp(cells[j], layouts[i].marker))
                c->lay = &layouts[i];
    if (!c->lay) {
        topology_err(c->errs, c->file, line,
                     "header names no known layout: nodes (id,kind,...), links (child,parent), "
                     "subscribers (id,node,...) or bindings (device,object,node)");
        return -1;
    }
    int rc = 0;
    c->cols = xcalloc((size_t)n, sizeof(char *));
    c->ncols = (size_t)n;
    for (int j = 0; j < n; j++) {
        c->cols[j] = xstrdup(cells[j]);
        if (!in(c->lay->columns, cells[j])) {
            topology_err(c->errs, c->file, line, "%s: unknown column '%s'", c->lay->name, cells[j]);
            rc = -1;
        }
        for (int k = 0; k < j; k++)
            if (!strcmp(cells[k], cells[j])) {
                topology_err(c->errs, c->file, line, "column '%s' twice", cells[j]);
                rc = -1;
            }
    }
    return rc;
}

static void push(struct csv *c, size_t *nf, const char *key, const char *value, int line)
{
    if (*nf == c->fcap) {
        c->fcap = c->fcap ? c->fcap * 2 : 32;
        c->f = xrealloc(c->f, c->fcap * sizeof *c->f);
    }
    c->f[(*nf)++] = (struct topology_field){key, value, line};
}

static int row(struct csv *c, char **cells, int n, int line)
{
    if ((size_t)n != c->ncols) {
        topology_err(c->errs, c->file, line, "%d cells, the header has %zu", n, c->ncols);
        return -1;
    }
    size_t nf = 0;
    for (int j = 0; j < n; j++) {
        if (!*cells[j])
            continue;
        if (!in(c->lay->lists, c->cols[j])) {
            push(c, &nf, c->cols[j], cells[j], line);
            continue;
        }
        for (char *item = cells[j], *bar; item; item = bar) { /* list cells: a|b|c */
            if ((bar = strchr(item, '|')))
                *bar++ = '\0';
            if (*item)
                push(c, &nf, c->cols[j], item, line);
        }
    }
    return topology_add(c->t, c->lay->type, c->f, nf, c->file, line, c->errs);
}

int topology_load_csv(struct topology *t, FILE *f, const char *path,
                      const struct topology_load_opts *o, struct topology_errs *errs)
{
    struct csv c = {.t = t, .file = topology_file(t, path), .errs = errs};
    size_t every = o && o->progress_every ? o->progress_every : 100000, records = 0;
    char *line = NULL, **cells = NULL;
    size_t linecap = 0, cellcap = 0;
    int lineno = 0, rc = 0, have_header = 0;
    while (getline(&line, &linecap, f) >= 0) {
        lineno++;
        trim(line);
        if (!line[0] || line[0] == '#')
            continue;
        int n = split(line, &cells, &cellcap);
        if (n < 0) {
            topology_err(errs, c.file, lineno, "unterminated or misplaced quote");
            rc = -EINVAL;
        } else if (!have_header) {
            have_header = 1;
            if (header(&c, cells, n, lineno) < 0) {
                rc = -EINVAL;
                break; /* rows cannot be read without their columns */
            }
        } else {
            if (row(&c, cells, n, lineno) < 0)
                rc = -EINVAL;
            if (o && o->progress && ++records % every == 0)
                o->progress(o->progress_arg, c.file, records);
        }
    }
    if (!have_header) {
        topology_err(errs, c.file, 0, "no header row");
        rc = -EINVAL;
    }
    if (o && o->progress)
        o->progress(o->progress_arg, c.file, records);
    for (size_t j = 0; j < c.ncols; j++)
        free(c.cols[j]);
    free(c.cols), free(c.f), free(cells), free(line);
    return rc;
}
