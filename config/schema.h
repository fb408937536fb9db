/* schema: a table-driven validator that reads a yaml_tree into typed C structs.
 * A section is a table of fields (key, kind, offset into the target object, limits); sections
 * nest (maps), repeat (lists of maps into a dynamically sized array) and carry free-form string
 * maps. Scalars get ${ENV_VAR} expansion ("$$" is a literal '$'). Name references (a field
 * naming an item that a list defines elsewhere) and resolvers (e.g. "this file must be
 * readable") are checked after the whole document has been read.
 * Every problem is reported with the position of the offending key or value; one pass reports
 * all of them. Tables are static and owned by their module; target objects are owned by the
 * caller and freed with schema_free(). */
#ifndef FAROL_SCHEMA_H
#define FAROL_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "config/yaml_tree.h"

enum schema_kind {
    SCHEMA_STRING,   /* char *, owned by the object */
    SCHEMA_INT,      /* integer in [min, max], stored in `size` bytes (4 or 8) */
    SCHEMA_DURATION, /* "500ms", "30s", "5m", "1h", "2d" (or "0") -> int64_t ms in [min, max] */
    SCHEMA_BOOL,     /* true | false -> int */
    SCHEMA_ENUM,     /* one of `enums` -> int (C enums) */
    SCHEMA_MAP,      /* nested section `sub`, its object at offset (0 = same object) */
    SCHEMA_LIST,     /* sequence of `sub` mappings -> array pointer at offset, size_t count at
                      * count_offset */
    SCHEMA_STRMAP,   /* mapping of string -> scalar text -> array of { char *key; char *value; }
                      * at offset, size_t count at count_offset */
    SCHEMA_INTS,     /* sequence of integers in [min, max] -> int64_t array at offset, size_t
                      * count at count_offset */
    SCHEMA_NUMBER,   /* decimal number in [min, max] -> double (default: def_num) */
};

#define SCHEMA_REQUIRED 0x1u /* a missing key is an error */
#define SCHEMA_SECRET 0x2u   /* never echo the value in messages */
#define SCHEMA_NOSTORE 0x4u  /* STRING: only checked and resolved, not stored */
#define SCHEMA_DEFAULT 0x8u  /* schema_init() stores def / def_str */

struct schema_enum {
    const char *name;
    int value;
};

struct schema_ctx;
struct schema_section;

/* Check a string's form; on failure write the reason into err and return -1. */
typedef int (*schema_check_fn)(const char *value, char *err, size_t errsz);
/* Deferred action on a string once the document is read (obj is the object holding the
 * field); on failure write the reason into err and return -1. */
typedef int (*schema_resolve_fn)(struct schema_ctx *ctx, void *obj, const char *value, char *err,
                                 size_t errsz);

/* Where a section sits, for its validate callback and for section-level messages. */
struct schema_scope {
    const char *path;            /* dotted path ("redis", "devices[2]", "" for the root) */
    const struct yaml_tree *map; /* the section's mapping, NULL when empty */
    const struct yaml_tree *at;  /* where section-level problems point: its key or item */
};

/* Cross-field checks, run after the section's keys have been read. */
typedef void (*schema_validate_fn)(struct schema_ctx *ctx, void *obj,
                                   const struct schema_scope *scope);

struct schema_field {
    const char *key; /* NULL ends a table */
    enum schema_kind kind;
    size_t offset;
    unsigned flags;
    size_t size;                      /* INT: sizeof the target (4 or 8) */
    int64_t min, max;                 /* INT, DURATION */
    int64_t def;                      /* INT, DURATION, ENUM, BOOL with SCHEMA_DEFAULT */
    const char *def_str;              /* STRING with SCHEMA_DEFAULT */
    double def_num;                   /* NUMBER with SCHEMA_DEFAULT */
    const struct schema_enum *enums;  /* ENUM: ends with a NULL name */
    const struct schema_section *sub; /* MAP, LIST */
    size_t count_offset;              /* LIST, STRMAP */
    schema_check_fn check;            /* STRING */
    const char *ref;                  /* STRING: names an item of this kind ("profile") */
    schema_resolve_fn resolve;        /* STRING */
};

struct schema_section {
    const struct schema_field *fields;
    size_t size;                 /* LIST elements: sizeof one element */
    void (*init)(void *obj);     /* defaults, applied before field defaults; NULL = none */
    void (*deinit)(void *obj);   /* frees all obj owns; NULL = free along the fields */
    schema_validate_fn validate; /* NULL = none */
    const char *defines;         /* LIST elements: kind of name they define ("profile") */
    const char *name_key;        /* ... and the STRING key holding that name */
};

/* Fill obj with the section's defaults (init callbacks, field defaults, nested maps). */
void schema_init(const struct schema_section *sec, void *obj);
/* Read doc (a mapping, a null scalar or NULL) into obj, which schema_init() prepared. Every
 * problem goes into errs. Returns 0 or -EINVAL; obj must be freed with schema_free() either
 * way. */
int schema_apply(const struct schema_section *sec, void *obj, const struct yaml_tree *doc,
                 struct yaml_tree_errs *errs);
/* Free what obj owns according to the section, leaving the freed pointers NULL. */
void schema_free(const struct schema_section *sec, void *obj);

/* Report a problem at node at (for validate callbacks and resolvers). */
void schema_error(struct schema_ctx *ctx, const struct yaml_tree *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The file being read (for resolving relative paths). */
const char *schema_file(const struct schema_ctx *ctx);

#endif
