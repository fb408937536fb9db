/* scalar: the text-level rules of farol's config values: ${ENV_VAR} expansion, integers,
 * durations, and the "did you mean" suggestion for misspelt names. Pure functions; returned
 * strings are owned by the caller. */
#ifndef FAROL_SCALAR_H
#define FAROL_SCALAR_H

#include <stddef.h>
#include <stdint.h>

/* Expand ${NAME} from the environment and "$$" to "$" ("$x" stays as it is). Returns the new
 * string, or NULL with the reason in err (an unset variable, a bad name, a missing '}');
 * all unset variables are named, not just the first. */
char *scalar_expand_env(const char *in, char *err, size_t errsz);
/* Parse a decimal integer (optional sign, nothing else). Returns 0, -EINVAL for a non-number,
 * -ERANGE when it does not fit an int64_t. */
int scalar_parse_int(const char *s, int64_t *out);
/* Parse "<n><unit>..." with units ms, s, m, h, d (e.g. "1m30s"), or "0", into milliseconds.
 * Returns 0, or -EINVAL for bad syntax, a missing unit or overflow. */
int scalar_parse_duration(const char *s, int64_t *ms);
/* Write ms in its largest exact unit ("10m", "1500ms", "0"). */
void scalar_format_duration(int64_t ms, char *buf, size_t bufsz);
/* Edit distance (with transpositions) between a and b, to suggest near misses. */
size_t scalar_distance(const char *a, const char *b);
/* True when candidate is close enough to word to be offered as "did you mean". */
int scalar_is_near(const char *word, const char *candidate);

#endif
