/* template: subscriber message templates per message type and locale.
 *
 * Syntax (docs/notifier-templates.md):
 *   {{var}}            the variable's value, inserted verbatim (no escaping of any kind);
 *   {{#var}}...{{/var}} the enclosed text only when var has a non-empty value;
 *   {{^var}}...{{/var}} the enclosed text only when var is empty or unknown.
 * Spaces inside the braces are allowed ("{{ eta }}"). There is no escape for a literal "{{";
 * a single "{" or "}" and a "}}" without an opening are plain text.
 *
 * Message types and the variables each may use (anything else is an error when the template is
 * added, so a shipped or configured template can never render a hole):
 *   outage-opened, outage-updated  name area cause eta message outage_id
 *   restored                       name area cause message outage_id
 *   maintenance-notice, maintenance-started, maintenance-ended
 *                                  name area start end message
 *   maintenance-overrun            name area start end eta message
 *   usage-threshold                name percent used cap
 * name: subscriber's name; area: affected area; cause: cause in words; eta: expected
 * restoration time; start/end: the window, already formatted in the subscriber's timezone
 * (template_format_time); percent/used/cap: data-cap threshold, usage and cap as text;
 * message: the operator's public message or the window's description; outage_id: reference.
 *
 * Locales: a template is found by the exact locale ("pt-BR", case and '_' vs '-' ignored),
 * then its language ("pt"), then the set's default locale. Templates in right-to-left
 * locales (ar fa he ur ps yi ckb dv) wrap every inserted value that is not purely
 * right-to-left text (digits, Latin, phone numbers, times) in U+2068 FSI ... U+2069 PDI.
 *
 * Ownership: struct template_set owns its templates and their copies of the texts; a
 * const struct template_msg * from template_set_find() lives as long as the set. */
#ifndef FAROL_TEMPLATE_H
#define FAROL_TEMPLATE_H

#include <stddef.h>
#include <time.h>

enum template_type {
    TEMPLATE_OUTAGE_OPENED,
    TEMPLATE_OUTAGE_UPDATED,
    TEMPLATE_RESTORED,
    TEMPLATE_MAINTENANCE_NOTICE,
    TEMPLATE_MAINTENANCE_STARTED,
    TEMPLATE_MAINTENANCE_ENDED,
    TEMPLATE_MAINTENANCE_OVERRUN,
    TEMPLATE_USAGE_THRESHOLD,
    TEMPLATE_TYPE_COUNT
};

enum template_var {
    TEMPLATE_VAR_NAME,
    TEMPLATE_VAR_AREA,
    TEMPLATE_VAR_CAUSE,
    TEMPLATE_VAR_ETA,
    TEMPLATE_VAR_START,
    TEMPLATE_VAR_END,
    TEMPLATE_VAR_PERCENT,
    TEMPLATE_VAR_USED,
    TEMPLATE_VAR_CAP,
    TEMPLATE_VAR_MESSAGE,
    TEMPLATE_VAR_OUTAGE_ID,
    TEMPLATE_VAR_COUNT
};

/* err_offset value for errors that are not about a place in the text (a bad locale). */
#define TEMPLATE_NO_OFFSET ((size_t)-1)

struct template_set;
struct template_msg;

/* Returns the value of variable var ("eta") for one message, or NULL when it has none.
 * The string must stay valid until template_render() returns. */
typedef const char *(*template_lookup_fn)(const char *var, void *arg);

/* "outage-opened", ...; "?" for a value out of range. */
const char *template_type_name(enum template_type t);
/* Parse a message type name; returns 0 or -EINVAL. */
int template_type_parse(const char *name, enum template_type *out);
/* "name", "eta", ...; "?" for a value out of range. */
const char *template_var_name(enum template_var v);
/* Bit (1u << var) set for each variable type t may use. */
unsigned template_type_vars(enum template_type t);
/* True when locale's language is written right to left. */
int template_locale_is_rtl(const char *locale);

/* An empty set whose last fallback is default_locale (copied; e.g. "en"). */
struct template_set *template_set_new(const char *default_locale);
/* Free the set and every template in it (NULL is fine). */
void template_set_free(struct template_set *set);
/* Compile text (copied) for (type, locale) and add it, replacing an earlier one for the same
 * pair, so operator templates added after the shipped defaults override them. Returns 0, or
 * -EINVAL with the reason in err and, in *err_offset (may be NULL), the byte offset in text
 * of the offending spot (TEMPLATE_NO_OFFSET for a bad locale or type). */
int template_set_add(struct template_set *set, enum template_type type, const char *locale,
                     const char *text, char *err, size_t errsz, size_t *err_offset);
/* The template for type in locale after the fallback chain (exact, language, default), or
 * NULL when none of them has one. locale may be NULL (straight to the default). */
const struct template_msg *template_set_find(const struct template_set *set,
                                             enum template_type type, const char *locale);
/* The locale a template was added under (after fallback this may differ from the request). */
const char *template_locale(const struct template_msg *tpl);
/* Render tpl with values from lookup(var, arg) into *out (a new string, caller frees).
 * Returns 0, or -EINVAL when a value is not valid UTF-8 (*out is NULL then). */
int template_render(const struct template_msg *tpl, template_lookup_fn lookup, void *arg,
                    char **out);
/* 1-based line and column (in characters) of byte offset in text, for FILE:LINE:COL messages;
 * the config loader adds the scalar's own position. */
void template_position(const char *text, size_t offset, unsigned *line, unsigned *col);
/* Format t in IANA timezone tz for locale: "Mon 14:30" for English, "dd.mm HH:MM" for
 * Russian, "dd/mm HH:MM" otherwise (24 h, Latin digits). Switches TZ under a lock and restores
 * it, so it must not race with other threads reading TZ. Returns 0, -EINVAL for an unknown
 * timezone, -ENOSPC when bufsz is too small. */
int template_format_time(time_t t, const char *tz, const char *locale, char *buf, size_t bufsz);

#endif
