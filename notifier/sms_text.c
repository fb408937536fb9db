#include "notifier/sms_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define GSM_SINGLE 160
#define GSM_MULTI 153
#define UCS2_SINGLE 70
#define UCS2_MULTI 67
/* How far back from the hard limit a truncation looks for a space to cut at. */
#define WORD_LOOKBACK 20

#define CP_ZWJ 0x200D
#define CP_PDI 0x2069

/* TS 23.038 6.2.1 default alphabet above ASCII (ASCII is handled by gsm_ascii()). */
static const uint16_t gsm_basic_high[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
    0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
    0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

/* ASCII in the default alphabet: 1, in the extension table: 2, absent: 0. Backtick is the one
 * printable ASCII character GSM lacks entirely. */
static unsigned gsm_ascii(uint32_t c)
{
    if (c == '\n' || c == '\r')
        return 1;
    if (c == '\f' || (c && strchr("^{}\\[~]|", (int)c)))
        return 2;
    return c >= 0x20 && c < 0x7F && c != '`' ? 1 : 0;
}

int sms_text_is_gsm(uint32_t c, unsigned *septets)
{
    unsigned n = 0;
    if (c < 0x80)
        n = gsm_ascii(c);
    else if (c == 0x20AC)
        n = 2;
    else
        for (size_t i = 0; i < sizeof gsm_basic_high / sizeof gsm_basic_high[0]; i++)
            if (gsm_basic_high[i] == c)
                n = 1;
    if (septets)
        *septets = n;
    return n != 0;
}

int32_t sms_text_utf8_next(const char *s, size_t len, size_t *pos)
{
    const unsigned char *p = (const unsigned char *)s + *pos;
    size_t left = len - *pos;
    if (left == 0)
        return -1;
    if (p[0] < 0x80) {
        *pos += 1;
        return p[0];
    }
    size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
    if (n == 0 || n > left || p[0] > 0xF4)
        return -1;
    uint32_t c = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *pos += n;
    return (int32_t)c;
}

/* Greedy packing into parts of cap units; a character of cost 2 never straddles two parts,
 * which is what makes the count differ from a plain division. */
struct packer {
    size_t total, parts, used, cap;
};

static void pack_add(struct packer *p, size_t cost)
{
    p->total += cost;
    if (p->used + cost > p->cap) {
        p->parts++;
        p->used = cost;
    } else {
        p->used += cost;
    }
}

static void finish(struct sms_text_info *out, const struct packer *p, size_t single)
{
    out->units = p->total;
    if (p->total <= single) {
        out->segments = 1;
        out->per_segment = single;
        out->remaining = single - p->total;
    } else {
        out->segments = (unsigned)p->parts;
        out->per_segment = p->cap;
        out->remaining = p->cap - p->used;
    }
}

int sms_text_analyze(const char *utf8, size_t len, struct sms_text_info *out)
{
    struct packer gsm = {0, 1, 0, GSM_MULTI}, ucs = {0, 1, 0, UCS2_MULTI};
    int all_gsm = 1;
    size_t chars = 0, pos = 0;
    while (pos < len) {
        int32_t c = sms_text_utf8_next(utf8, len, &pos);
        if (c <= 0)
            return -EINVAL;
        unsigned septets;
        if (all_gsm && sms_text_is_gsm((uint32_t)c, &septets))
            pack_add(&gsm, septets);
        else
            all_gsm = 0;
        pack_add(&ucs, c > 0xFFFF ? 2 : 1);
        chars++;
    }
    memset(out, 0, sizeof *out);
    out->chars = chars;
    out->encoding = all_gsm ? SMS_ENC_GSM7 : SMS_ENC_UCS2;
    if (all_gsm)
        finish(out, &gsm, GSM_SINGLE);
    else
        finish(out, &ucs, UCS2_SINGLE);
    return 0;
}

static void set_err(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* The decoded text: code points and the byte offset where each starts (off[n] == length). */
struct decoded {
    uint32_t *cp;
    size_t *off;
    size_t n;
};

static void decode_all(const char *s, size_t len, struct decoded *d)
{
    d->cp = xcalloc(len + 1, sizeof *d->cp);
    d->off = xcalloc(len + 1, sizeof *d->off);
    d->n = 0;
    size_t pos = 0;
    while (pos < len) {
        d->off[d->n] = pos;
        d->cp[d->n++] = (uint32_t)sms_text_utf8_next(s, len, &pos); /* validated before */
    }
    d->off[d->n] = len;
}

static int is_space(uint32_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Marks, joiners, variation selectors, skin tones and tags belong to the character before
 * them: cutting in front of one would leave a broken glyph. */
static int attaches_left(uint32_t c)
{
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x0483 && c <= 0x0489) ||
           (c >= 0x0591 && c <= 0x05C7) || (c >= 0x064B && c <= 0x065F) || c == 0x0670 ||
           (c >= 0x06D6 && c <= 0x06ED) || (c >= 0x1AB0 && c <= 0x1AFF) ||
           (c >= 0x1DC0 && c <= 0x1DFF) || c == CP_ZWJ || (c >= 0x20D0 && c <= 0x20FF) ||
           (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFE20 && c <= 0xFE2F) ||
           (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0020 && c <= 0xE007F) ||
           (c >= 0xE0100 && c <= 0xE01EF);
}

static int is_regional(uint32_t c)
{
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

/* Move a cut at code point k back until it does not split a combining sequence, a ZWJ emoji
 * sequence or a flag (a pair of regional indicators). */
static size_t safe_cut(const struct decoded *d, size_t k)
{
    while (k > 0 && k < d->n && (attaches_left(d->cp[k]) || d->cp[k - 1] == CP_ZWJ))
        k--;
    if (k > 0 && k < d->n && is_regional(d->cp[k]) && is_regional(d->cp[k - 1])) {
        size_t run = 0;
        while (run < k && is_regional(d->cp[k - 1 - run]))
            run++;
        if (run % 2)
            k--;
    }
    return k;
}

/* The candidate text for keeping k code points: trailing spaces dropped, open isolates closed,
 * then the ellipsis in the alphabet the kept text already needs. */
static char *build_cut(const char *s, const struct decoded *d, size_t k)
{
    while (k > 0 && is_space(d->cp[k - 1]))
        k--;
    int open = 0, gsm = 1;
    for (size_t i = 0; i < k; i++) {
        if (d->cp[i] >= 0x2066 && d->cp[i] <= 0x2068)
            open++;
        else if (d->cp[i] == CP_PDI && open > 0)
            open--;
        gsm = gsm && sms_text_is_gsm(d->cp[i], NULL);
    }
    size_t n = d->off[k];
    char *out = xmalloc(n + (size_t)open * 3 + 4);
    memcpy(out, s, n);
    for (int i = 0; i < open; i++, n += 3)
        memcpy(out + n, "\xE2\x81\xA9", 3); /* PDI */
    /* both spellings are 3 bytes plus the NUL */
    memcpy(out + n, gsm && open == 0 ? "..." : "\xE2\x80\xA6", 4);
    return out;
}

static int cut_fits(const char *s, const struct decoded *d, size_t k, unsigned max)
{
    char *c = build_cut(s, d, k);
    struct sms_text_info info;
    sms_text_analyze(c, strlen(c), &info);
    free(c);
    return info.segments <= max;
}

static char *truncate_to(const char *s, size_t len, unsigned max)
{
    struct decoded d;
    decode_all(s, len, &d);
    size_t lo = 0, hi = d.n; /* lo always fits: the ellipsis alone is one part */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (cut_fits(s, &d, mid, max))
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t k = lo;
    for (size_t back = 1; back <= WORD_LOOKBACK && back < k; back++)
        if (is_space(d.cp[k - back])) {
            k -= back;
            break;
        }
    char *out = build_cut(s, &d, safe_cut(&d, k));
    free(d.cp);
    free(d.off);
    return out;
}

int sms_text_fit(const char *utf8, unsigned max_segments, enum sms_fit_policy policy, char **out,
                 struct sms_text_info *info, char *err, size_t errsz)
{
    struct sms_text_info in;
    size_t len = strlen(utf8);
    if (max_segments == 0) {
        set_err(err, errsz, "max_segments must be at least 1");
        return -EINVAL;
    }
    if (sms_text_analyze(utf8, len, &in) < 0) {
        set_err(err, errsz, "text is not valid UTF-8");
        return -EINVAL;
    }
    if (in.segments > max_segments && policy == SMS_FIT_REJECT) {
        set_err(err, errsz, "text needs %u SMS parts (%zu %s), at most %u allowed", in.segments,
                in.units, in.encoding == SMS_ENC_GSM7 ? "GSM-7 septets" : "UCS-2 units",
                max_segments);
        return -EMSGSIZE;
    }
    *out = in.segments <= max_segments ? xstrdup(utf8) : truncate_to(utf8, len, max_segments);
    if (info)
        sms_text_analyze(*out, strlen(*out), info);
    return 0;
}
