#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yaml_tree.h"
#include "core/event.h"
#include "core/xmalloc.h"
#include "notifier/sms_text.h"
#include "notifier/template.h"
#include "tests/support/check_run.h"

#define FSI "\xE2\x81\xA8"
#define PDI "\xE2\x81\xA9"

/* Monday 2024-03-04 17:30:00 UTC */
#define MONDAY_1730_UTC ((time_t)1709573400)

struct vals {
    const char *v[TEMPLATE_VAR_COUNT];
};

static const char *lookup(const char *var, void *arg)
{
    struct vals *x = arg;
    for (int i = 0; i < TEMPLATE_VAR_COUNT; i++)
        if (strcmp(template_var_name((enum template_var)i), var) == 0)
            return x->v[i];
    ck_abort_msg("lookup of a variable that does not exist: %s", var);
    return NULL;
}

static char *render(const struct template_msg *t, struct vals *v)
{
    char *out = NULL;
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(template_render(t, lookup, v, &out), 0);
    return out;
}

/* Adds text for (type, locale) and expects success. */
static void add_ok(struct template_set *set, enum template_type type, const char *locale,
                   const char *text)
{
    char err[256] = "";
    size_t off = 0;
    int rc = template_set_add(set, type, locale, text, err, sizeof err, &off);
    ck_assert_msg(rc == 0, "'%s' rejected at %zu: %s", text, off, err);
}

/* Adds text expecting an error at byte offset want_off whose message contains want_msg. */
static void add_fails(enum template_type type, const char *text, size_t want_off,
                      const char *want_msg)
{
    struct template_set *set = template_set_new("en");
    char err[256] = "";
    size_t off = 12345;
    ck_assert_int_eq(template_set_add(set, type, "en", text, err, sizeof err, &off), -EINVAL);
    ck_assert_msg(off == want_off, "'%s': offset %zu, want %zu (%s)", text, off, want_off, err);
    ck_assert_msg(strstr(err, want_msg), "'%s': error '%s' lacks '%s'", text, err, want_msg);
    ck_assert_ptr_null(template_set_find(set, type, "en"));
    template_set_free(set);
}

START_TEST(type_and_variable_names)
{
    enum template_type t;
    for (int i = 0; i < TEMPLATE_TYPE_COUNT; i++) {
        ck_assert_int_eq(template_type_parse(template_type_name((enum template_type)i), &t), 0);
        ck_assert_int_eq(t, i);
    }
    ck_assert_int_eq(template_type_parse("outage", &t), -EINVAL);
    ck_assert_str_eq(template_type_name(TEMPLATE_MAINTENANCE_OVERRUN), "maintenance-overrun");
    unsigned usage = template_type_vars(TEMPLATE_USAGE_THRESHOLD);
    ck_assert(usage & (1u << TEMPLATE_VAR_PERCENT));
    ck_assert(!(usage & (1u << TEMPLATE_VAR_ETA)));
    ck_assert(!(template_type_vars(TEMPLATE_RESTORED) & (1u << TEMPLATE_VAR_ETA)));
}
END_TEST

START_TEST(render_with_every_variable)
{
    struct template_set *set = template_set_new("en");
    add_ok(set, TEMPLATE_OUTAGE_OPENED, "en",
           "{{name}}|{{ area }}|{{cause}}|{{eta}}|{{message}}|{{outage_id}}");
    add_ok(set, TEMPLATE_MAINTENANCE_OVERRUN, "en",
           "{{name}} {{area}} {{start}}-{{end}} {{eta}} {{message}}");
    add_ok(set, TEMPLATE_USAGE_THRESHOLD, "en", "{{name}}: {{percent}}% ({{used}}/{{cap}})");
    struct vals v = {{"Ana", "Centro", "fiber cut", "Mon 14:30", "02:00", "06:00", "80", "40 GB",
                      "50 GB", "Crew on site.", "o-17"}};
    char *out = render(template_set_find(set, TEMPLATE_OUTAGE_OPENED, "en"), &v);
    ck_assert_str_eq(out, "Ana|Centro|fiber cut|Mon 14:30|Crew on site.|o-17");
    free(out);
    out = render(template_set_find(set, TEMPLATE_MAINTENANCE_OVERRUN, "en"), &v);
    ck_assert_str_eq(out, "Ana Centro 02:00-06:00 Mon 14:30 Crew on site.");
    free(out);
    out = render(template_set_find(set, TEMPLATE_USAGE_THRESHOLD, "en"), &v);
    ck_assert_str_eq(out, "Ana: 80% (40 GB/50 GB)");
    free(out);
    template_set_free(set);
}
END_TEST

START_TEST(values_are_verbatim_and_not_expanded_again)
{
    struct template_set *set = template_set_new("en");
    add_ok(set, TEMPLATE_RESTORED, "en", "{ok} }} {{message}}");
    struct vals v = {{[TEMPLATE_VAR_MESSAGE] = "<b>{{name}}</b> & \"x\""}};
    char *out = render(template_set_find(set, TEMPLATE_RESTORED, "en"), &v);
    ck_assert_str_eq(out, "{ok} }} <b>{{name}}</b> & \"x\"");
    free(out);
    v.v[TEMPLATE_VAR_MESSAGE] = "bad \xC3";
    out = (char *)"untouched";
    ck_assert_int_eq(
        template_render(template_set_find(set, TEMPLATE_RESTORED, "en"), lookup, &v, &out),
        -EINVAL);
    ck_assert_ptr_null(out);
    template_set_free(set);
}
END_TEST

START_TEST(sections_follow_whether_a_value_is_known)
{
    struct template_set *set = template_set_new("en");
    add_ok(set, TEMPLATE_OUTAGE_UPDATED, "en",
           "Down{{#area}} in {{area}}{{#eta}} until {{eta}}{{/eta}}{{/area}}."
           "{{^eta}} No ETA.{{/eta}}");
    const struct template_msg *t = template_set_find(set, TEMPLATE_OUTAGE_UPDATED, "en");
    struct vals v = {{[TEMPLATE_VAR_AREA] = "Sul", [TEMPLATE_VAR_ETA] = "14:30"}};
    char *out = render(t, &v);
    ck_assert_str_eq(out, "Down in Sul until 14:30.");
    free(out);
    v.v[TEMPLATE_VAR_ETA] = ""; /* empty counts as unknown */
    out = render(t, &v);
    ck_assert_str_eq(out, "Down in Sul. No ETA.");
    free(out);
    v.v[TEMPLATE_VAR_AREA] = NULL;
    v.v[TEMPLATE_VAR_ETA] = "14:30"; /* the nested section goes with its parent */
    out = render(t, &v);
    ck_assert_str_eq(out, "Down.");
    free(out);
    template_set_free(set);
}
END_TEST

START_TEST(unknown_variable_reports_its_offset)
{
    add_fails(TEMPLATE_OUTAGE_OPENED, "Hi {{nmae}}, ok", 5, "did you mean 'name'");
    add_fails(TEMPLATE_OUTAGE_OPENED, "Hi {{ colour }}", 6, "unknown variable 'colour'");
    add_fails(TEMPLATE_OUTAGE_OPENED, "{{percent}}", 2, "not available in outage-opened");
    add_fails(TEMPLATE_USAGE_THRESHOLD, "{{percent}} {{eta}}", 14, "not available");
    add_fails(TEMPLATE_RESTORED, "{{#eta}}x{{/eta}}", 3, "not available");
    /* "Olá " is 5 bytes but 4 characters */
    add_fails(TEMPLATE_OUTAGE_OPENED, "Ol\xC3\xA1 {{nome}}", 7, "unknown variable 'nome'");
    unsigned line, col;
    template_position("Ol\xC3\xA1 {{nome}}", 7, &line, &col);
    ck_assert_uint_eq(line, 1);
    ck_assert_uint_eq(col, 7);
    const char *two = "First line.\nSegunda {{foo}}";
    add_fails(TEMPLATE_OUTAGE_OPENED, two, 22, "unknown variable 'foo'");
    template_position(two, 22, &line, &col);
    ck_assert_uint_eq(line, 2);
    ck_assert_uint_eq(col, 11);
}
END_TEST

START_TEST(malformed_tags_are_errors)
{
    add_fails(TEMPLATE_OUTAGE_OPENED, "Hi {{name", 3, "not closed");
    add_fails(TEMPLATE_OUTAGE_OPENED, "Hi {{name {{area}}", 3, "not closed");
    add_fails(TEMPLATE_OUTAGE_OPENED, "Hi {{}}", 5, "empty variable");
    add_fails(TEMPLATE_OUTAGE_OPENED, "Hi {{Name}}", 5, "bad character");
    add_fails(TEMPLATE_OUTAGE_OPENED, "ab {{#eta}} soon", 3, "never closed");
    add_fails(TEMPLATE_OUTAGE_OPENED, "ab {{/eta}}", 3, "closes no open section");
    add_fails(TEMPLATE_OUTAGE_OPENED, "{{#eta}}{{#area}}x{{/eta}}{{/area}}", 18, "does not match");
    add_fails(TEMPLATE_OUTAGE_OPENED, "ok \xC3(", 3, "invalid UTF-8");
    struct template_set *set = template_set_new("en");
    char err[128];
    size_t off = 0;
    ck_assert_int_eq(template_set_add(set, TEMPLATE_RESTORED, "p", "x", err, sizeof err, &off),
                     -EINVAL);
    ck_assert_uint_eq(off, TEMPLATE_NO_OFFSET);
    ck_assert_int_eq(template_set_add(set, TEMPLATE_RESTORED, "pt BR", "x", err, sizeof err, &off),
                     -EINVAL);
    template_set_free(set);
}
END_TEST

START_TEST(rtl_locales_isolate_left_to_right_values)
{
    struct template_set *set = template_set_new("en");
    const char *fa = "قطعی در {{area}}، رفع تا {{eta}}. {{message}}";
    add_ok(set, TEMPLATE_OUTAGE_OPENED, "fa", fa);
    add_ok(set, TEMPLATE_OUTAGE_OPENED, "en", "Outage in {{area}}, ETA {{eta}}. {{message}}");
    struct vals v = {{[TEMPLATE_VAR_AREA] = "تهران",
                      [TEMPLATE_VAR_ETA] = "14:30",
                      [TEMPLATE_VAR_MESSAGE] = "Zona Sul"}};
    char *out = render(template_set_find(set, TEMPLATE_OUTAGE_OPENED, "fa-IR"), &v);
    ck_assert_str_eq(out, "قطعی در تهران، رفع تا " FSI "14:30" PDI ". " FSI "Zona Sul" PDI);
    free(out);
    v.v[TEMPLATE_VAR_ETA] = "۱۴:۳۰"; /* Persian digits are weak too */
    v.v[TEMPLATE_VAR_MESSAGE] = "+98 21 5555 0101";
    out = render(template_set_find(set, TEMPLATE_OUTAGE_OPENED, "fa"), &v);
    ck_assert_ptr_nonnull(strstr(out, FSI "۱۴:۳۰" PDI));
    ck_assert_ptr_nonnull(strstr(out, FSI "+98 21 5555 0101" PDI));
    free(out);
    out = render(template_set_find(set, TEMPLATE_OUTAGE_OPENED, "en"), &v);
    ck_assert_ptr_null(strstr(out, FSI));
    free(out);
    ck_assert(template_locale_is_rtl("ar"));
    ck_assert(template_locale_is_rtl("he-IL"));
    ck_assert(!template_locale_is_rtl("pt-BR"));
    template_set_free(set);
}
END_TEST

static const char *found_locale(const struct template_set *set, enum template_type type,
                                const char *locale)
{
    const struct template_msg *t = template_set_find(set, type, locale);
    return t ? template_locale(t) : "(none)";
}

START_TEST(locale_fallback_chain)
{
    struct template_set *set = template_set_new("en");
    enum template_type o = TEMPLATE_OUTAGE_OPENED;
    add_ok(set, o, "en", "en");
    add_ok(set, o, "pt", "pt");
    add_ok(set, o, "pt-BR", "pt-BR");
    add_ok(set, o, "es", "es");
    ck_assert_str_eq(found_locale(set, o, "pt-BR"), "pt-BR");
    ck_assert_str_eq(found_locale(set, o, "pt_br"), "pt-BR");
    ck_assert_str_eq(found_locale(set, o, "pt-PT"), "pt");
    ck_assert_str_eq(found_locale(set, o, "es-MX"), "es");
    ck_assert_str_eq(found_locale(set, o, "de-DE"), "en");
    ck_assert_str_eq(found_locale(set, o, NULL), "en");
    ck_assert_str_eq(found_locale(set, o, "not a locale"), "en");
    ck_assert_str_eq(found_locale(set, TEMPLATE_RESTORED, "pt-BR"), "(none)");
    /* a later add replaces: operator templates override the shipped ones */
    add_ok(set, o, "PT-br", "override");
    struct vals v = {{0}};
    char *out = render(template_set_find(set, o, "pt-BR"), &v);
    ck_assert_str_eq(out, "override");
    free(out);
    template_set_free(set);
    set = template_set_new("pt-BR"); /* a default with a region */
    add_ok(set, o, "pt-BR", "pt-BR");
    ck_assert_str_eq(found_locale(set, o, "ru"), "pt-BR");
    template_set_free(set);
}
END_TEST

START_TEST(times_in_the_subscriber_timezone)
{
    char buf[32];
    setenv("TZ", "Europe/Moscow", 1);
    time_t t = MONDAY_1730_UTC;
    ck_assert_int_eq(template_format_time(t, "America/Sao_Paulo", "pt-BR", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "04/03 14:30");
    ck_assert_int_eq(template_format_time(t, "America/Sao_Paulo", "en-US", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "Mon 14:30");
    ck_assert_int_eq(template_format_time(t, "Asia/Tehran", "fa", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "04/03 21:00");
    ck_assert_int_eq(template_format_time(t, "Europe/Moscow", "ru", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "04.03 20:30");
    ck_assert_int_eq(
        template_format_time(t + 4 * 3600, "America/Mexico_City", "es", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "04/03 15:30");
    ck_assert_int_eq(template_format_time(t, NULL, "en", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "Mon 17:30");
    ck_assert_int_eq(template_format_time(t, "Mars/Olympus", "en", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(template_format_time(t, "../../etc/passwd", "en", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(template_format_time(t, "UTC", "pt", buf, 5), -ENOSPC);
    ck_assert_str_eq(getenv("TZ"), "Europe/Moscow"); /* the caller's TZ is restored */
    unsetenv("TZ");
    ck_assert_int_eq(template_format_time(t, "Asia/Tehran", "fa", buf, sizeof buf), 0);
    ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

/* ---- the shipped templates ---- */

static const char *const locales[] = {"pt-BR", "es", "en", "ru", "fa"};
#define N_LOCALES (sizeof locales / sizeof locales[0])

struct defaults {
    char *path;
    struct yaml_tree *root;
    const struct yaml_tree *templates, *causes;
};

static void load_defaults(struct defaults *d)
{
    const char *src = getenv("FAROL_SRCDIR");
    ck_assert_msg(src != NULL, "FAROL_SRCDIR is not set");
    d->path = xasprintf("%s/notifier/templates/default.yaml", src);
    FILE *f = fopen(d->path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", d->path);
    struct yaml_tree_errs errs = {.file = d->path};
    int rc = yaml_tree_load(f, &d->root, &errs);
    fclose(f);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", d->path, errs.v[i].line, errs.v[i].col, errs.v[i].msg);
    yaml_tree_errs_deinit(&errs);
    ck_assert_int_eq(rc, 0);
    d->templates = yaml_tree_get(d->root, "templates", NULL);
    d->causes = yaml_tree_get(d->root, "causes", NULL);
    ck_assert(d->templates && d->templates->type == YAML_TREE_MAP);
    ck_assert(d->causes && d->causes->type == YAML_TREE_MAP);
}

static void free_defaults(struct defaults *d)
{
    yaml_tree_free(d->root);
    free(d->path);
}

/* Compiles every template in the file into a new set; fails with FILE:LINE:COL otherwise. */
static struct template_set *compile_defaults(const struct defaults *d)
{
    const struct yaml_tree *def = yaml_tree_get(d->root, "default_locale", NULL);
    ck_assert(def && def->type == YAML_TREE_SCALAR);
    struct template_set *set = template_set_new(def->value);
    for (size_t l = 0; l < d->templates->n; l++) {
        const struct yaml_tree *lk = d->templates->keys[l], *types = d->templates->items[l];
        ck_assert_msg(types->type == YAML_TREE_MAP, "%s:%d: not a map", d->path, lk->line);
        for (size_t i = 0; i < types->n; i++) {
            const struct yaml_tree *k = types->keys[i], *text = types->items[i];
            enum template_type type;
            char err[256] = "";
            size_t off = 0;
            unsigned line = 0, col = 0;
            ck_assert_msg(template_type_parse(k->value, &type) == 0, "%s:%d:%d: unknown type %s",
                          d->path, k->line, k->col, k->value);
            ck_assert(text->type == YAML_TREE_SCALAR);
            int rc = template_set_add(set, type, lk->value, text->value, err, sizeof err, &off);
            if (rc < 0 && off != TEMPLATE_NO_OFFSET)
                template_position(text->value, off, &line, &col);
            ck_assert_msg(rc == 0, "%s:%d:%d: %s/%s (text line %u col %u): %s", d->path, text->line,
                          text->col, lk->value, k->value, line, col, err);
        }
    }
    return set;
}

START_TEST(shipped_templates_compile_and_cover_every_type_and_locale)
{
    struct defaults d;
    load_defaults(&d);
    struct template_set *set = compile_defaults(&d);
    for (size_t l = 0; l < N_LOCALES; l++)
        for (int t = 0; t < TEMPLATE_TYPE_COUNT; t++) {
            const struct template_msg *tpl =
                template_set_find(set, (enum template_type)t, locales[l]);
            ck_assert_msg(tpl && strcmp(template_locale(tpl), locales[l]) == 0,
                          "%s: no %s template for %s", d.path,
                          template_type_name((enum template_type)t), locales[l]);
        }
    template_set_free(set);
    free_defaults(&d);
}
END_TEST

START_TEST(shipped_causes_cover_every_cause)
{
    struct defaults d;
    load_defaults(&d);
    for (size_t l = 0; l < N_LOCALES; l++) {
        const struct yaml_tree *m = yaml_tree_get(d.causes, locales[l], NULL);
        ck_assert_msg(m && m->type == YAML_TREE_MAP, "no causes for %s", locales[l]);
        for (int c = CAUSE_UNKNOWN; c <= CAUSE_OVERRUN; c++)
            ck_assert_msg(yaml_tree_get(m, outage_cause_name((enum outage_cause)c), NULL),
                          "%s: cause %s missing", locales[l],
                          outage_cause_name((enum outage_cause)c));
        for (size_t i = 0; i < m->n; i++) {
            enum outage_cause c;
            ck_assert_msg(outage_cause_parse(m->keys[i]->value, &c) == 0, "%s:%d: bad cause %s",
                          d.path, m->keys[i]->line, m->keys[i]->value);
        }
    }
    free_defaults(&d);
}
END_TEST

/* Values as the notifier would fill them for a subscriber in Sao Paulo. */
static void sample_values(const struct defaults *d, const char *locale, struct vals *v,
                          char times[3][32])
{
    const char *tz = "America/Sao_Paulo";
    memset(v, 0, sizeof *v);
    ck_assert_int_eq(template_format_time(MONDAY_1730_UTC, tz, locale, times[0], 32), 0);
    ck_assert_int_eq(template_format_time(MONDAY_1730_UTC + 7200, tz, locale, times[1], 32), 0);
    ck_assert_int_eq(template_format_time(MONDAY_1730_UTC + 14400, tz, locale, times[2], 32), 0);
    v->v[TEMPLATE_VAR_NAME] = "Maria";
    v->v[TEMPLATE_VAR_AREA] = "Jardim Paulista";
    v->v[TEMPLATE_VAR_CAUSE] =
        yaml_tree_get(yaml_tree_get(d->causes, locale, NULL), "power-outage", NULL)->value;
    v->v[TEMPLATE_VAR_ETA] = times[0];
    v->v[TEMPLATE_VAR_START] = times[1];
    v->v[TEMPLATE_VAR_END] = times[2];
    v->v[TEMPLATE_VAR_PERCENT] = "80";
    v->v[TEMPLATE_VAR_USED] = "40 GB";
    v->v[TEMPLATE_VAR_CAP] = "50 GB";
    v->v[TEMPLATE_VAR_OUTAGE_ID] = "o-20240304-17";
}

static void check_rendered(const char *locale, enum template_type t, const char *out)
{
    struct sms_text_info info;
    int latin = strcmp(locale, "en") == 0 || strcmp(locale, "es") == 0;
    ck_assert_int_eq(sms_text_analyze(out, strlen(out), &info), 0);
    ck_assert_msg(!strstr(out, "{{") && !strstr(out, "  ") && !strstr(out, " .") &&
                      !strstr(out, " ,"),
                  "%s/%s renders badly: '%s'", locale, template_type_name(t), out);
    if (latin)
        ck_assert_msg(info.encoding == SMS_ENC_GSM7 && info.segments == 1,
                      "%s/%s should be one GSM-7 SMS: %zu units, '%s'", locale,
                      template_type_name(t), info.units, out);
    else
        ck_assert_msg(info.segments <= 2, "%s/%s needs %u parts: '%s'", locale,
                      template_type_name(t), info.segments, out);
}

START_TEST(shipped_templates_fit_their_sms_budget)
{
    struct defaults d;
    load_defaults(&d);
    struct template_set *set = compile_defaults(&d);
    for (size_t l = 0; l < N_LOCALES; l++)
        for (int t = 0; t < TEMPLATE_TYPE_COUNT; t++) {
            struct vals full, bare = {{0}};
            char times[3][32];
            sample_values(&d, locales[l], &full, times);
            bare.v[TEMPLATE_VAR_START] = times[1]; /* a window always has its times */
            bare.v[TEMPLATE_VAR_END] = times[2];
            bare.v[TEMPLATE_VAR_PERCENT] = "100";
            bare.v[TEMPLATE_VAR_USED] = "50 GB";
            bare.v[TEMPLATE_VAR_CAP] = "50 GB";
            const struct template_msg *tpl =
                template_set_find(set, (enum template_type)t, locales[l]);
            char *out = render(tpl, &full);
            check_rendered(locales[l], (enum template_type)t, out);
            if (strcmp(locales[l], "fa") == 0 && t == TEMPLATE_OUTAGE_OPENED)
                ck_assert_ptr_nonnull(strstr(out, FSI "04/03 14:30" PDI));
            free(out);
            out = render(tpl, &bare);
            check_rendered(locales[l], (enum template_type)t, out);
            free(out);
        }
    template_set_free(set);
    free_defaults(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("compile_render");
    tcase_add_test(tc, type_and_variable_names);
    tcase_add_test(tc, render_with_every_variable);
    tcase_add_test(tc, values_are_verbatim_and_not_expanded_again);
    tcase_add_test(tc, sections_follow_whether_a_value_is_known);
    tcase_add_test(tc, unknown_variable_reports_its_offset);
    tcase_add_test(tc, malformed_tags_are_errors);
    tcase_add_test(tc, rtl_locales_isolate_left_to_right_values);
    tcase_add_test(tc, locale_fallback_chain);
    tcase_add_test(tc, times_in_the_subscriber_timezone);
    suite_add_tcase(s, tc);
    tc = tcase_create("shipped");
    tcase_add_test(tc, shipped_templates_compile_and_cover_every_type_and_locale);
    tcase_add_test(tc, shipped_causes_cover_every_cause);
    tcase_add_test(tc, shipped_templates_fit_their_sms_budget);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
