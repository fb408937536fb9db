#include "config/scalar.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/xmalloc.h"

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

/* Appends "'NAME'" to the list of unset variables kept in err. */
static void note_unset(char *err, size_t errsz, int *n_unset, const char *name, size_t n)
{
    size_t used = strlen(err);
    if (used < errsz)
        snprintf(err + used, errsz - used, "%s'%.*s'", *n_unset ? ", " : "", (int)n, name);
    (*n_unset)++;
}

/* One "${...}" at s (s[0] == '$', s[1] == '{'); returns bytes consumed or 0 on a hard error. */
static size_t expand_one(const char *s, struct strbuf *b, char *err, size_t errsz, int *n_unset)
{
    const char *end = strchr(s + 2, '}');
    if (!end) {
        snprintf(err, errsz, "unterminated '${' (write '$$' for a literal '$')");
        return 0;
    }
    const char *name = s + 2;
    size_t n = (size_t)(end - name);
    if (!valid_name(name, n)) {
        snprintf(err, errsz, "bad environment variable name '%.*s'", (int)n, name);
        return 0;
    }
    char *key = xstrndup(name, n);
    const char *val = getenv(key);
    free(key);
    if (val)
        strbuf_add(b, val, strlen(val));
    else
        note_unset(err, errsz, n_unset, name, n);
    return n + 3;
}

char *scalar_expand_env(const char *in, char *err, size_t errsz)
{
    struct strbuf b = {0};
    int n_unset = 0;
    char names[256] = "";
    for (const char *p = in; *p;) {
        if (p[0] == '$' && p[1] == '$') {
            strbuf_add(&b, "$", 1);
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            size_t used = expand_one(p, &b, names, sizeof names, &n_unset);
            if (!used) {
                snprintf(err, errsz, "%s", names);
                strbuf_deinit(&b);
                return NULL;
            }
            p += used;
        } else {
            strbuf_add(&b, p, 1);
            p++;
        }
    }
    if (n_unset) {
        snprintf(err, errsz, "environment variable%s %s %s not set", n_unset > 1 ? "s" : "", names,
                 n_unset > 1 ? "are" : "is");
        strbuf_deinit(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

int scalar_parse_int(const char *s, int64_t *out)
{
    const char *d = s + (*s == '-' || *s == '+');
    if (!isdigit((unsigned char)*d))
        return -EINVAL;
    for (const char *p = d; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    int64_t ms;
} units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

/* Length of the unit at s and its size in ms, or 0. "ms" is tried before "m". */
static size_t unit_at(const char *s, int64_t *ms)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(s, units[i].name, n) == 0 && !isalpha((unsigned char)s[n])) {
            *ms = units[i].ms;
            return n;
        }
    }
    return 0;
}

int scalar_parse_duration(const char *s, int64_t *ms)
{
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    int64_t total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        int64_t n = 0, unit;
        for (; isdigit((unsigned char)*s); s++) {
            if (n > (INT64_MAX - 9) / 10)
                return -EINVAL;
            n = n * 10 + (*s - '0');
        }
        size_t ul = unit_at(s, &unit);
        if (!ul || n > (INT64_MAX - total) / unit)
            return -EINVAL;
        total += n * unit;
        s += ul;
    }
    *ms = total;
    return 0;
}

void scalar_format_duration(int64_t ms, char *buf, size_t bufsz)
{
    if (ms == 0) {
        snprintf(buf, bufsz, "0");
        return;
    }
    for (size_t i = sizeof units / sizeof units[0]; i-- > 0;) {
        if (ms % units[i].ms == 0) {
            snprintf(buf, bufsz, "%lld%s", (long long)(ms / units[i].ms), units[i].name);
            return;
        }
    }
}

size_t scalar_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1; /* names are short; long input is never a near miss */
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

int scalar_is_near(const char *word, const char *candidate)
{
    size_t d = scalar_distance(word, candidate);
    size_t len = strlen(word);
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    return d <= limit && d < strlen(candidate);
}
