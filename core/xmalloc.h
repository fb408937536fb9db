/* xmalloc: allocation that never returns NULL. Running out of memory is fatal for a daemon
 * that must not lose events silently, so every allocation in farol goes through here. */
#ifndef FAROL_XMALLOC_H
#define FAROL_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Allocate n bytes; aborts the process with a log line when memory is exhausted. */
void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
/* Allocate n zeroed elements of size sz; aborts on overflow or exhaustion. */
void *xcalloc(size_t n, size_t sz) __attribute__((malloc, returns_nonnull));
/* Resize p to n bytes; aborts on exhaustion. */
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
/* Duplicate a NUL-terminated string (NULL gives NULL). */
char *xstrdup(const char *s);
/* Duplicate the first n bytes of s and NUL-terminate. */
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));
/* Format into a newly allocated string, like asprintf, fatal on exhaustion. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The va_list form of xasprintf; ap is consumed. */
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
