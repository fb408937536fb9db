/* template_file: a template file (the format of notifier/templates/default.yaml) read into a
 * template set plus the words for each outage cause per locale. Every problem is reported as
 * "FILE:LINE:COL: message" (the line and column of the offending spot inside a template are
 * added to its scalar's position), all of them in one load. struct template_file is opaque,
 * owned by the caller of template_file_load. */
#ifndef FAROL_TEMPLATE_FILE_H
#define FAROL_TEMPLATE_FILE_H

#include <stddef.h>

#include "core/event.h"
#include "notifier/template.h"

struct template_file;

/* Load path. Returns NULL when it cannot be used, with every problem in *msgs (caller frees
 * each and the array; *nmsgs set either way). */
struct template_file *template_file_load(const char *path, char ***msgs, size_t *nmsgs);
/* Free (NULL is fine). */
void template_file_free(struct template_file *tf);
/* The compiled templates (owned by tf). */
const struct template_set *template_file_set(const struct template_file *tf);
/* Words for cause in locale (exact, language, then the default locale), "" when the file says
 * to say nothing, NULL when it has none. */
const char *template_file_cause(const struct template_file *tf, const char *locale,
                                enum outage_cause cause);

#endif
