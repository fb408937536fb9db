/* strbuf: a growable, always NUL-terminated byte string for code that assembles text piece by
 * piece (config expansion, template rendering, HTTP bodies). Caller-owned: zero-initialise
 * (struct strbuf b = {0}), add, then take the string or strbuf_deinit. OOM is fatal (xmalloc). */
#ifndef FAROL_STRBUF_H
#define FAROL_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *s; /* NULL until the first add; then NUL-terminated */
    size_t len, cap;
};

/* Append n bytes of s (which need not be NUL-terminated); n may be 0. */
void strbuf_add(struct strbuf *b, const char *s, size_t n);
/* Append the NUL-terminated s. */
void strbuf_adds(struct strbuf *b, const char *s);
/* The string (never NULL: "" when nothing was added), now the caller's; b is reset. */
char *strbuf_take(struct strbuf *b);
/* Free what b holds and reset it. */
void strbuf_deinit(struct strbuf *b);

#endif
