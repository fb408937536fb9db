/* topology_load: reading topology files (YAML, CSV) into a struct topology.
 * Formats and validation rules: docs/topology.md. Every problem in every file is collected as
 * "FILE:LINE: message"; the caller rejects the whole import when there is any. */
#ifndef FAROL_TOPOLOGY_LOAD_H
#define FAROL_TOPOLOGY_LOAD_H

#include <stddef.h>
#include <stdio.h>

#include "correlator/topology.h"

enum topology_format { TOPOLOGY_FORMAT_AUTO, TOPOLOGY_FORMAT_YAML, TOPOLOGY_FORMAT_CSV };

/* Called every `every` records read, and once at the end of each file (lines so far). */
typedef void (*topology_progress_fn)(void *arg, const char *file, size_t records);

struct topology_load_opts {
    enum topology_format format;   /* AUTO: by extension (.csv -> CSV, otherwise YAML) */
    topology_progress_fn progress; /* NULL = silent */
    void *progress_arg;
    size_t progress_every; /* 0 = 100000 */
};

/* Parse "yaml" / "csv" / "auto"; returns 0 or -EINVAL. */
int topology_format_parse(const char *s, enum topology_format *out);
/* Read one YAML document (top-level keys nodes, links, subscribers, bindings) from f; path is
 * for messages. Returns 0 or -EINVAL (problems in errs). */
int topology_load_yaml(struct topology *t, FILE *f, const char *path, struct topology_errs *errs);
/* Read one CSV file whose header row decides the record type (docs/topology.md). */
int topology_load_csv(struct topology *t, FILE *f, const char *path,
                      const struct topology_load_opts *o, struct topology_errs *errs);
/* Read every file into a new model and topology_finish() it. Returns the model, or NULL when
 * any file had any problem (all of them in errs). opts NULL = defaults. Caller frees. */
struct topology *topology_load_files(const char *const *paths, size_t n,
                                     const struct topology_load_opts *opts,
                                     struct topology_errs *errs);

#endif
