#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "notifier/sms_text.h"
#include "tests/support/check_run.h"

#define EMOJI "\xF0\x9F\x98\x80" /* U+1F600, a surrogate pair in UTF-16 */
#define A_TILDE "\xC3\xA3"       /* ã */
#define ELLIPSIS "\xE2\x80\xA6"  /* … */
#define FSI "\xE2\x81\xA8"
#define PDI "\xE2\x81\xA9"

/* Concatenates (count, piece) pairs until a 0 count: rep(3, "a", 1, "b", 0) == "aaab". */
static char *rep(int count, ...)
{
    va_list ap;
    size_t len = 0;
    char *s = xstrdup("");
    va_start(ap, count);
    for (int n = count; n > 0; n = va_arg(ap, int)) {
        const char *piece = va_arg(ap, const char *);
        size_t pl = strlen(piece);
        s = xrealloc(s, len + pl * (size_t)n + 1);
        for (int i = 0; i < n; i++, len += pl)
            memcpy(s + len, piece, pl);
        s[len] = '\0';
    }
    va_end(ap);
    return s;
}

static struct sms_text_info an(const char *s)
{
    struct sms_text_info info;
    ck_assert_int_eq(sms_text_analyze(s, strlen(s), &info), 0);
    return info;
}

static void expect(const char *s, enum sms_encoding enc, size_t units, unsigned segments)
{
    struct sms_text_info i = an(s);
    ck_assert_int_eq(i.encoding, enc);
    ck_assert_uint_eq(i.units, units);
    ck_assert_uint_eq(i.segments, segments);
}

START_TEST(whole_default_alphabet_is_gsm)
{
    const char *all = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    struct sms_text_info i = an(all);
    ck_assert_int_eq(i.encoding, SMS_ENC_GSM7);
    ck_assert_uint_eq(i.chars, 127); /* all but ESC */
    ck_assert_uint_eq(i.units, 127);
}
END_TEST

START_TEST(characters_outside_the_table_force_ucs2)
{
    /* TS 23.038 0x09 is capital C cedilla only: lower-case ç is not in the default alphabet */
    expect("Servi\xC3\x87O", SMS_ENC_GSM7, 7, 1);
    expect("servi\xC3\xA7o", SMS_ENC_UCS2, 7, 1);
    expect("n" A_TILDE "o", SMS_ENC_UCS2, 3, 1);
    expect("\xC3\xA1", SMS_ENC_UCS2, 1, 1); /* á */
    expect("a`b", SMS_ENC_UCS2, 3, 1);
    expect("a\tb", SMS_ENC_UCS2, 3, 1);
    expect("\xD0\x9F\xD1\x80\xD0\xB8", SMS_ENC_UCS2, 3, 1); /* Cyrillic */
    expect("", SMS_ENC_GSM7, 0, 1);
}
END_TEST

START_TEST(extension_characters_cost_two_septets)
{
    struct sms_text_info i = an("^{}\\[~]|\xE2\x82\xAC\f");
    ck_assert_int_eq(i.encoding, SMS_ENC_GSM7);
    ck_assert_uint_eq(i.chars, 10);
    ck_assert_uint_eq(i.units, 20);
    char *s = rep(80, "{", 0); /* 160 septets: still one part */
    expect(s, SMS_ENC_GSM7, 160, 1);
    free(s);
    s = rep(79, "{", 1, "a", 1, "b", 0); /* 160 septets */
    expect(s, SMS_ENC_GSM7, 160, 1);
    free(s);
    s = rep(80, "{", 1, "a", 0); /* 161 */
    expect(s, SMS_ENC_GSM7, 161, 2);
    free(s);
}
END_TEST

START_TEST(gsm_segment_boundaries)
{
    char *s = rep(160, "a", 0);
    struct sms_text_info i = an(s);
    ck_assert_uint_eq(i.segments, 1);
    ck_assert_uint_eq(i.per_segment, 160);
    ck_assert_uint_eq(i.remaining, 0);
    free(s);
    s = rep(161, "a", 0);
    i = an(s);
    ck_assert_uint_eq(i.segments, 2);
    ck_assert_uint_eq(i.per_segment, 153);
    ck_assert_uint_eq(i.remaining, 153 * 2 - 161);
    free(s);
    s = rep(153 * 2, "a", 0);
    expect(s, SMS_ENC_GSM7, 306, 2);
    free(s);
    s = rep(153 * 2 + 1, "a", 0);
    expect(s, SMS_ENC_GSM7, 307, 3);
    free(s);
}
END_TEST

START_TEST(escape_pair_never_straddles_parts)
{
    /* 306 septets would be two parts by division, but the euro sign cannot start at septet 153 */
    char *s = rep(152, "a", 1, "\xE2\x82\xAC", 152, "a", 0);
    struct sms_text_info i = an(s);
    ck_assert_uint_eq(i.units, 306);
    ck_assert_uint_eq(i.segments, 3);
    free(s);
}
END_TEST

START_TEST(ucs2_segment_boundaries)
{
    char *s = rep(70, A_TILDE, 0);
    expect(s, SMS_ENC_UCS2, 70, 1);
    free(s);
    s = rep(71, A_TILDE, 0);
    struct sms_text_info i = an(s);
    ck_assert_uint_eq(i.segments, 2);
    ck_assert_uint_eq(i.per_segment, 67);
    free(s);
    s = rep(67 * 2, A_TILDE, 0);
    expect(s, SMS_ENC_UCS2, 134, 2);
    free(s);
    s = rep(67 * 2 + 1, A_TILDE, 0);
    expect(s, SMS_ENC_UCS2, 135, 3);
    free(s);
}
END_TEST

START_TEST(emoji_count_two_units_and_never_straddle)
{
    struct sms_text_info i = an("ok " EMOJI);
    ck_assert_int_eq(i.encoding, SMS_ENC_UCS2);
    ck_assert_uint_eq(i.chars, 4);
    ck_assert_uint_eq(i.units, 5);
    char *s = rep(68, A_TILDE, 1, EMOJI, 0); /* exactly 70 units */
    expect(s, SMS_ENC_UCS2, 70, 1);
    free(s);
    s = rep(69, A_TILDE, 1, EMOJI, 0);
    expect(s, SMS_ENC_UCS2, 71, 2);
    free(s);
    /* 134 units divide into two parts, but the pair would sit on units 67-68 */
    s = rep(66, A_TILDE, 1, EMOJI, 66, A_TILDE, 0);
    expect(s, SMS_ENC_UCS2, 134, 3);
    free(s);
}
END_TEST

START_TEST(invalid_utf8_is_rejected)
{
    static const char *const bad[] = {
        "\xC3",             /* truncated */
        "a\x80",            /* lone continuation */
        "\xC0\xAF",         /* overlong '/' */
        "\xE0\x80\xAF",     /* overlong, 3 bytes */
        "\xED\xA0\x80",     /* encoded surrogate U+D800 */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xFF",
        "\xE2\x82",
    };
    struct sms_text_info i;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        ck_assert_int_eq(sms_text_analyze(bad[k], strlen(bad[k]), &i), -EINVAL);
    ck_assert_int_eq(sms_text_analyze("a\0b", 3, &i), -EINVAL);
    char *out = NULL, err[128] = "";
    ck_assert_int_eq(sms_text_fit("bad \xC3", 1, SMS_FIT_TRUNCATE, &out, NULL, err, sizeof err),
                     -EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(err, "UTF-8"));
}
END_TEST

static char *fit(const char *in, unsigned max, struct sms_text_info *info)
{
    char *out = NULL, err[128];
    ck_assert_int_eq(sms_text_fit(in, max, SMS_FIT_TRUNCATE, &out, info, err, sizeof err), 0);
    ck_assert_int_eq(sms_text_analyze(out, strlen(out), info), 0); /* still valid UTF-8 */
    ck_assert_uint_le(info->segments, max);
    return out;
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

START_TEST(fitting_text_is_returned_unchanged)
{
    struct sms_text_info i;
    char *s = rep(306, "a", 0);
    char *out = fit(s, 2, &i);
    ck_assert_str_eq(out, s);
    ck_assert_uint_eq(i.segments, 2);
    free(out);
    free(s);
}
END_TEST

START_TEST(reject_policy_refuses_long_text)
{
    char *s = rep(161, "a", 0), *out = NULL, err[128] = "";
    ck_assert_int_eq(sms_text_fit(s, 1, SMS_FIT_REJECT, &out, NULL, err, sizeof err), -EMSGSIZE);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(err, "2 SMS parts"));
    ck_assert_int_eq(sms_text_fit(s, 0, SMS_FIT_TRUNCATE, &out, NULL, err, sizeof err), -EINVAL);
    free(s);
}
END_TEST

START_TEST(truncation_fills_gsm_parts_exactly)
{
    struct sms_text_info i;
    char *s = rep(1000, "a", 0);
    char *out = fit(s, 1, &i);
    ck_assert_int_eq(i.encoding, SMS_ENC_GSM7);
    ck_assert_uint_eq(i.units, 160);
    ck_assert(ends_with(out, "aaa..."));
    free(out);
    out = fit(s, 2, &i);
    ck_assert_uint_eq(i.units, 306);
    ck_assert_uint_eq(i.segments, 2);
    free(out);
    free(s);
}
END_TEST

START_TEST(truncation_prefers_a_word_boundary)
{
    struct sms_text_info i;
    char *s = rep(40, "word ", 0); /* 200 septets */
    char *out = fit(s, 1, &i);
    ck_assert(ends_with(out, "word..."));
    ck_assert_uint_le(i.units, 160);
    ck_assert_uint_ge(i.units, 150);
    free(out);
    free(s);
}
END_TEST

START_TEST(truncation_keeps_multibyte_characters_whole)
{
    struct sms_text_info i;
    char *s = rep(200, A_TILDE, 0);
    char *out = fit(s, 1, &i);
    ck_assert_int_eq(i.encoding, SMS_ENC_UCS2);
    ck_assert_uint_eq(i.units, 70);
    char *want = rep(69, A_TILDE, 1, ELLIPSIS, 0);
    ck_assert_str_eq(out, want);
    free(want);
    free(out);
    free(s);
    /* an extension pair that does not fit is dropped whole */
    s = rep(156, "a", 1, "\xE2\x82\xAC", 10, "a", 0);
    out = fit(s, 1, &i);
    ck_assert_uint_eq(i.units, 159);
    ck_assert_ptr_null(strstr(out, "\xE2\x82\xAC"));
    free(out);
    free(s);
}
END_TEST

START_TEST(truncation_never_splits_a_surrogate_pair)
{
    struct sms_text_info i;
    /* 68 + 2 units would fill the part, leaving no room for the ellipsis: the emoji goes */
    char *s = rep(68, A_TILDE, 3, EMOJI, 0);
    char *out = fit(s, 1, &i);
    char *want = rep(68, A_TILDE, 1, ELLIPSIS, 0);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(i.units, 69);
    free(want);
    free(out);
    free(s);
    s = rep(67, A_TILDE, 3, EMOJI, 0); /* 67 + 2 + 1 = 70: the emoji stays */
    out = fit(s, 1, &i);
    want = rep(67, A_TILDE, 1, EMOJI, 1, ELLIPSIS, 0);
    ck_assert_str_eq(out, want);
    free(want);
    free(out);
    free(s);
}
END_TEST

START_TEST(truncation_keeps_combining_sequences_and_flags)
{
    struct sms_text_info i;
    /* the cut would fall between 'e' and its combining acute accent */
    char *s = rep(68, "x", 20, "e\xCC\x81", 0);
    char *out = fit(s, 1, &i);
    char *want = rep(68, "x", 1, "...", 0); /* what is left is GSM: the ellipsis follows suit */
    ck_assert_str_eq(out, want);
    free(want);
    free(out);
    free(s);
    /* a flag is two regional indicators (2 units each): never keep half of one */
    s = rep(66, "x", 4, "\xF0\x9F\x87\xA7\xF0\x9F\x87\xB7", 0); /* BR flags */
    out = fit(s, 1, &i);
    want = rep(66, "x", 1, "...", 0);
    ck_assert_str_eq(out, want);
    free(want);
    free(out);
    free(s);
}
END_TEST

START_TEST(truncation_closes_open_isolates)
{
    struct sms_text_info i;
    char *s = rep(30, "\xD8\xB3", 1, FSI, 100, "1", 1, PDI, 0); /* Arabic letters, then digits */
    char *out = fit(s, 1, &i);
    ck_assert(ends_with(out, PDI ELLIPSIS));
    ck_assert_uint_eq(i.units, 70);
    free(out);
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sms_text");
    TCase *tc = tcase_create("analyze");
    tcase_add_test(tc, whole_default_alphabet_is_gsm);
    tcase_add_test(tc, characters_outside_the_table_force_ucs2);
    tcase_add_test(tc, extension_characters_cost_two_septets);
    tcase_add_test(tc, gsm_segment_boundaries);
    tcase_add_test(tc, escape_pair_never_straddles_parts);
    tcase_add_test(tc, ucs2_segment_boundaries);
    tcase_add_test(tc, emoji_count_two_units_and_never_straddle);
    tcase_add_test(tc, invalid_utf8_is_rejected);
    suite_add_tcase(s, tc);
    tc = tcase_create("fit");
    tcase_add_test(tc, fitting_text_is_returned_unchanged);
    tcase_add_test(tc, reject_policy_refuses_long_text);
    tcase_add_test(tc, truncation_fills_gsm_parts_exactly);
    tcase_add_test(tc, truncation_prefers_a_word_boundary);
    tcase_add_test(tc, truncation_keeps_multibyte_characters_whole);
    tcase_add_test(tc, truncation_never_splits_a_surrogate_pair);
    tcase_add_test(tc, truncation_keeps_combining_sequences_and_flags);
    tcase_add_test(tc, truncation_closes_open_isolates);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
