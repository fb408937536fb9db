#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level min_level = LOG_LEVEL_INFO;
static enum log_format line_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level level, enum log_format format)
{
    min_level = level;
    line_format = format;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

int log_enabled(enum log_level level)
{
    return level >= min_level;
}

static void put_timestamp(FILE *f)
{
    struct timeval tv;
    struct tm tm;
    char buf[32];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%03dZ", buf, (int)(tv.tv_usec / 1000));
}

/* JSON string escaping; also used for quoted text values so both formats stay one line. */
static void put_escaped(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
}

static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\')
            return 1;
    return 0;
}

static void put_fields(FILE *f, const char *const *fields)
{
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        if (line_format == LOG_FORMAT_JSON) {
            fputs(",\"", f);
            put_escaped(f, fields[i]);
            fputs("\":\"", f);
            put_escaped(f, fields[i + 1]);
            fputc('"', f);
        } else if (needs_quotes(fields[i + 1])) {
            fprintf(f, " %s=\"", fields[i]);
            put_escaped(f, fields[i + 1]);
            fputc('"', f);
        } else {
            fprintf(f, " %s=%s", fields[i], fields[i + 1]);
        }
    }
}

void log_kv(enum log_level level, const char *subsys, const char *const *fields, const char *fmt,
            ...)
{
    if (level < min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    FILE *f = stderr;
    flockfile(f);
    if (line_format == LOG_FORMAT_JSON) {
        fputs("{\"ts\":\"", f);
        put_timestamp(f);
        fprintf(f, "\",\"level\":\"%s\",\"subsys\":\"", level_names[level]);
        put_escaped(f, subsys);
        fputs("\",\"msg\":\"", f);
        put_escaped(f, msg);
        fputc('"', f);
        put_fields(f, fields);
        fputs("}\n", f);
    } else {
        put_timestamp(f);
        fprintf(f, " %-5s %s: %s", level_names[level], subsys, msg);
        put_fields(f, fields);
        fputc('\n', f);
    }
    fflush(f);
    funlockfile(f);
}

const char *log_mask_phone(const char *phone, char *buf, size_t bufsz)
{
    if (!bufsz)
        return buf;
    size_t n = phone ? strlen(phone) : 0;
    size_t i = 0;
    /* Keep "+" and the first two digits (the country prefix, roughly) and the last two;
     * anything too short to keep that much of is masked whole. */
    int short_number = n < 8;
    for (; i < n && i + 1 < bufsz; i++) {
        int keep = !short_number && (i < 3 || i + 2 >= n);
        buf[i] = keep ? phone[i] : '*';
    }
    buf[i] = '\0';
    return buf;
}
