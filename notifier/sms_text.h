/* sms_text: how a UTF-8 text travels as SMS. Decides the alphabet (GSM 03.38 7-bit default
 * alphabet with its extension table, or UCS-2/UTF-16 for anything else), counts septets or
 * UTF-16 units and segments the way handsets and SMSCs do, and fits a text into a maximum
 * number of segments (truncate with an ellipsis, or reject).
 *
 * Segment sizes: GSM-7 160 septets single, 153 per part when concatenated; UCS-2 70 units
 * single, 67 per part. Extension characters (^ { } \ [ ~ ] | € and form feed) cost 2 septets
 * (escape + code) and never straddle two parts; characters outside the BMP cost 2 UTF-16
 * units (a surrogate pair) and never straddle two parts either.
 * The GSM table is 3GPP TS 23.038 section 6.2.1: 0x09 is capital Ç only, so "ç" and "ã" force
 * UCS-2. National language shift tables are not used (many handsets do not support them).
 * Pure functions, no state; returned strings belong to the caller. */
#ifndef FAROL_SMS_TEXT_H
#define FAROL_SMS_TEXT_H

#include <stddef.h>
#include <stdint.h>

enum sms_encoding { SMS_ENC_GSM7, SMS_ENC_UCS2 };

struct sms_text_info {
    enum sms_encoding encoding;
    size_t chars;       /* Unicode code points */
    size_t units;       /* GSM-7: septets (extension chars count 2); UCS-2: UTF-16 units */
    unsigned segments;  /* SMS parts needed; an empty text still needs 1 */
    size_t per_segment; /* capacity of each part: 160/153 (GSM-7) or 70/67 (UCS-2) */
    size_t remaining;   /* units still free in the last part */
};

enum sms_fit_policy {
    SMS_FIT_TRUNCATE, /* cut at a character boundary and end with "..." (GSM) or "…" (UCS-2) */
    SMS_FIT_REJECT    /* fail with -EMSGSIZE */
};

/* Analyze len bytes of UTF-8. Returns 0, or -EINVAL for invalid UTF-8 (overlong forms,
 * encoded surrogates, code points above U+10FFFF, truncated sequences) or a NUL byte. */
int sms_text_analyze(const char *utf8, size_t len, struct sms_text_info *out);

/* Fit the NUL-terminated utf8 into at most max_segments parts. On success *out is a new
 * string (the text itself when it fits, else truncated under SMS_FIT_TRUNCATE) and info (may
 * be NULL) describes *out. The cut never splits a character, a surrogate pair, an extension
 * pair or a combining sequence; it prefers a word boundary close to the limit, and closes
 * directional isolates left open by the cut. Returns 0, -EINVAL (bad UTF-8, max_segments 0),
 * or -EMSGSIZE under SMS_FIT_REJECT; the reason goes to err. */
int sms_text_fit(const char *utf8, unsigned max_segments, enum sms_fit_policy policy, char **out,
                 struct sms_text_info *info, char *err, size_t errsz);

/* Decode the code point starting at s[*pos] (len bytes in all) and advance *pos. Returns the
 * code point, or -1 for an invalid or truncated sequence (*pos is left unchanged then).
 * Shared with the template module so both agree on what valid UTF-8 is. */
int32_t sms_text_utf8_next(const char *s, size_t len, size_t *pos);

/* True when code point c is in the GSM 03.38 default alphabet or its extension table;
 * *septets (may be NULL) gets 1 or 2. */
int sms_text_is_gsm(uint32_t c, unsigned *septets);

#endif
