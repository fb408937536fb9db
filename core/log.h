/* log: the one logger. Every line carries a level and a subsystem tag and is written either as
 * text ("ts level subsys message key=value ...") or as one JSON object per line.
 * Secrets never reach it; phone numbers go through log_mask_phone() first.
 * Levels are LOG_LEVEL_*: <syslog.h> (pulled in by net-snmp) owns LOG_DEBUG and friends. */
#ifndef FAROL_LOG_H
#define FAROL_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Set the minimum level and the line format; safe to call again on reload. */
void log_setup(enum log_level level, enum log_format format);
/* Parse "debug|info|warn|error"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* True when lines at this level are written (lets callers skip expensive formatting). */
int log_enabled(enum log_level level);
/* Write one line. fields is NULL or a NULL-terminated list of alternating key, value strings
 * (values are quoted/escaped as needed). */
void log_kv(enum log_level level, const char *subsys, const char *const *fields, const char *fmt,
            ...) __attribute__((format(printf, 4, 5)));
/* Mask a phone number for logs, keeping the country prefix and the last two digits:
 * "+5511987654321" -> "+55*********21". Writes into buf (always NUL-terminated). */
const char *log_mask_phone(const char *phone, char *buf, size_t bufsz);

#define log_debug(sub, ...) log_kv(LOG_LEVEL_DEBUG, sub, NULL, __VA_ARGS__)
#define log_info(sub, ...) log_kv(LOG_LEVEL_INFO, sub, NULL, __VA_ARGS__)
#define log_warn(sub, ...) log_kv(LOG_LEVEL_WARN, sub, NULL, __VA_ARGS__)
#define log_error(sub, ...) log_kv(LOG_LEVEL_ERROR, sub, NULL, __VA_ARGS__)

#endif
