/* yaml_tree: one YAML document parsed (libyaml) into a plain node tree that keeps every node's
 * 1-based line and column, so that later checks can point at the offending text.
 * Also the error sink shared by the config modules: problems are collected with their
 * position and formatted "FILE:LINE:COL: message" only at the end.
 * The tree is owned by the caller of yaml_tree_load() and freed with yaml_tree_free(). */
#ifndef FAROL_YAML_TREE_H
#define FAROL_YAML_TREE_H

#include <stddef.h>
#include <stdio.h>

enum yaml_tree_type { YAML_TREE_SCALAR, YAML_TREE_MAP, YAML_TREE_SEQ };

struct yaml_tree {
    enum yaml_tree_type type;
    int line, col;            /* 1-based start of the node */
    char *value;              /* scalar text (never NULL for scalars) */
    int plain;                /* scalar was unquoted (only plain scalars can be null) */
    size_t n;                 /* map: pairs, seq: items */
    struct yaml_tree **keys;  /* map keys (scalars), n of them */
    struct yaml_tree **items; /* map values or sequence items, n of them */
};

struct yaml_tree_err {
    int line, col;
    char *msg;
};

/* Problems collected while loading one file. file is borrowed. */
struct yaml_tree_errs {
    const char *file;
    struct yaml_tree_err *v;
    size_t n, cap;
};

/* Record a problem at line:col (1-based; 0:0 means "the file itself"). */
void yaml_tree_error(struct yaml_tree_errs *e, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Free the collected problems. */
void yaml_tree_errs_deinit(struct yaml_tree_errs *e);

/* Parse the single document in f. *root is NULL for an empty stream. Duplicate keys are
 * reported and dropped (the first one wins); aliases and extra documents are rejected.
 * Returns 0, or -EINVAL when anything was reported (a syntax error leaves *root NULL). */
int yaml_tree_load(FILE *f, struct yaml_tree **root, struct yaml_tree_errs *errs);
/* Free a tree (NULL is fine). */
void yaml_tree_free(struct yaml_tree *n);
/* True for an unquoted empty, "~", "null", "Null" or "NULL" scalar. */
int yaml_tree_is_null(const struct yaml_tree *n);
/* Value of key in map (NULL when absent or n is not a map); *key_out gets the key node. */
const struct yaml_tree *yaml_tree_get(const struct yaml_tree *map, const char *key,
                                      const struct yaml_tree **key_out);
/* "a mapping", "a sequence" or "a scalar", for messages. */
const char *yaml_tree_kind(const struct yaml_tree *n);

#endif
