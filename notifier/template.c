#include "notifier/template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/scalar.h"
#include "core/log.h"
#include "core/strmap.h"
#include "core/tz.h"
#include "core/strbuf.h"
#include "core/xmalloc.h"
#include "notifier/sms_text.h"

/* Sections nest at most this deep; more is certainly a mistake in a one-SMS text. */
#define MAX_DEPTH 8
#define LOCALE_MAX 36

static const char *const type_names[TEMPLATE_TYPE_COUNT] = {
    "outage-opened",       "outage-updated",      "restored",
    "maintenance-notice",  "maintenance-started", "maintenance-ended",
    "maintenance-overrun", "usage-threshold",
};

static const char *const var_names[TEMPLATE_VAR_COUNT] = {
    "name",    "area", "cause", "eta",     "start",     "end",
    "percent", "used", "cap",   "message", "outage_id",
};

#define V(x) (1u << TEMPLATE_VAR_##x)
#define OUTAGE_VARS (V(NAME) | V(AREA) | V(CAUSE) | V(MESSAGE) | V(OUTAGE_ID))
#define MAINT_VARS (V(NAME) | V(AREA) | V(START) | V(END) | V(MESSAGE))
static const unsigned type_vars[TEMPLATE_TYPE_COUNT] = {
    [TEMPLATE_OUTAGE_OPENED] = OUTAGE_VARS | V(ETA),
    [TEMPLATE_OUTAGE_UPDATED] = OUTAGE_VARS | V(ETA),
    [TEMPLATE_RESTORED] = OUTAGE_VARS,
    [TEMPLATE_MAINTENANCE_NOTICE] = MAINT_VARS,
    [TEMPLATE_MAINTENANCE_STARTED] = MAINT_VARS,
    [TEMPLATE_MAINTENANCE_ENDED] = MAINT_VARS,
    [TEMPLATE_MAINTENANCE_OVERRUN] = MAINT_VARS | V(ETA),
    [TEMPLATE_USAGE_THRESHOLD] = V(NAME) | V(PERCENT) | V(USED) | V(CAP),
};

static const char *const rtl_languages[] = {"ar", "fa", "he", "iw", "ur", "ps", "yi", "ckb", "dv"};

enum node_kind { NODE_TEXT, NODE_VAR, NODE_IF, NODE_UNLESS, NODE_END };

struct node {
    enum node_kind kind;
    size_t start, len; /* NODE_TEXT: slice of the text; others: the tag's "{{" offset */
    int var;
    size_t end; /* NODE_IF/NODE_UNLESS: index of the matching NODE_END */
};

struct template_msg {
    enum template_type type;
    char *locale;
    char *text;
    int rtl;
    struct node *nodes;
    size_t n, cap;
};

struct template_set {
    char default_locale[LOCALE_MAX];
    struct strmap *map; /* "TYPE|locale" -> struct template_msg * */
};

const char *template_type_name(enum template_type t)
{
    return (unsigned)t < TEMPLATE_TYPE_COUNT ? type_names[t] : "?";
}

int template_type_parse(const char *name, enum template_type *out)
{
    for (int i = 0; i < TEMPLATE_TYPE_COUNT; i++)
        if (strcmp(name, type_names[i]) == 0) {
            *out = (enum template_type)i;
            return 0;
        }
    return -EINVAL;
}

const char *template_var_name(enum template_var v)
{
    return (unsigned)v < TEMPLATE_VAR_COUNT ? var_names[v] : "?";
}

unsigned template_type_vars(enum template_type t)
{
    return (unsigned)t < TEMPLATE_TYPE_COUNT ? type_vars[t] : 0;
}

/* ---- locales ---- */

/* Lower-case a BCP 47-ish tag ("pt_BR" -> "pt-br"): a 2-3 letter language, then subtags of
 * 1-8 letters or digits. Returns 0 or -EINVAL. */
static int locale_norm(const char *in, char *out)
{
    size_t n = in ? strlen(in) : 0, lang = strcspn(in ? in : "", "-_"), sub = 0;
    if (n == 0 || n >= LOCALE_MAX || lang < 2 || lang > 3)
        return -EINVAL;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '-' || c == '_' || c == '\0') {
            if (sub == 0 || sub > 8)
                return -EINVAL;
            out[i] = c ? '-' : '\0';
            sub = 0;
            continue;
        }
        if (!(i < lang ? isalpha(c) : isalnum(c)))
            return -EINVAL;
        out[i] = (char)tolower(c);
        sub++;
    }
    return 0;
}

int template_locale_is_rtl(const char *locale)
{
    char norm[LOCALE_MAX];
    if (locale_norm(locale, norm) < 0)
        return 0;
    norm[strcspn(norm, "-")] = '\0';
    for (size_t i = 0; i < sizeof rtl_languages / sizeof rtl_languages[0]; i++)
        if (strcmp(norm, rtl_languages[i]) == 0)
            return 1;
    return 0;
}

/* ---- compiling ---- */

struct parse {
    struct template_msg *t;
    const char *text;
    char *err;
    size_t errsz, err_off;
    size_t stack[MAX_DEPTH]; /* node indexes of open sections */
    size_t depth;
};

static int fail(struct parse *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct parse *p, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (p->err && p->errsz)
        vsnprintf(p->err, p->errsz, fmt, ap);
    va_end(ap);
    p->err_off = off;
    return -EINVAL;
}

static size_t add_node(struct template_msg *t, enum node_kind kind, size_t start, size_t len,
                       int var)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->nodes = xrealloc(t->nodes, t->cap * sizeof *t->nodes);
    }
    t->nodes[t->n] = (struct node){kind, start, len, var, 0};
    return t->n++;
}

/* Lists the variables type may use, for the error message. */
static void allowed_list(enum template_type type, char *buf, size_t bufsz)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int v = 0; v < TEMPLATE_VAR_COUNT && used < bufsz; v++)
        if (type_vars[type] & (1u << v))
            used +=
                (size_t)snprintf(buf + used, bufsz - used, "%s%s", used ? " " : "", var_names[v]);
}

static int unknown_var(struct parse *p, size_t off, const char *name)
{
    const char *near = NULL;
    for (int v = 0; v < TEMPLATE_VAR_COUNT && !near; v++)
        if ((type_vars[p->t->type] & (1u << v)) && scalar_is_near(name, var_names[v]))
            near = var_names[v];
    if (near)
        return fail(p, off, "unknown variable '%s' (did you mean '%s'?)", name, near);
    char list[128];
    allowed_list(p->t->type, list, sizeof list);
    return fail(p, off, "unknown variable '%s' (%s templates may use: %s)", name,
                type_names[p->t->type], list);
}

/* Resolve the name at text[off, off+n) to a variable type may use. */
static int resolve_var(struct parse *p, size_t off, size_t n, int *var)
{
    const char *s = p->text + off;
    if (n == 0)
        return fail(p, off, "empty variable name");
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
            return fail(p, off + i, "bad character in variable name '%.*s'", (int)n, s);
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)n, s);
    for (int v = 0; v < TEMPLATE_VAR_COUNT; v++)
        if (n == strlen(var_names[v]) && memcmp(s, var_names[v], n) == 0) {
            if (type_vars[p->t->type] & (1u << v)) {
                *var = v;
                return 0;
            }
            char list[128];
            allowed_list(p->t->type, list, sizeof list);
            return fail(p, off, "variable '%s' is not available in %s templates (they may use: %s)",
                        name, type_names[p->t->type], list);
        }
    return unknown_var(p, off, name);
}

static int section(struct parse *p, char sigil, size_t open, int var)
{
    struct template_msg *t = p->t;
    if (sigil != '/') {
        if (p->depth == MAX_DEPTH)
            return fail(p, open, "sections nested deeper than %d", MAX_DEPTH);
        p->stack[p->depth++] = add_node(t, sigil == '#' ? NODE_IF : NODE_UNLESS, open, 0, var);
        return 0;
    }
    if (p->depth == 0)
        return fail(p, open, "'{{/%s}}' closes no open section", var_names[var]);
    struct node *top = &t->nodes[p->stack[p->depth - 1]];
    if (top->var != var)
        return fail(p, open, "'{{/%s}}' does not match the open section '{{%c%s}}'", var_names[var],
                    top->kind == NODE_IF ? '#' : '^', var_names[top->var]);
    p->depth--;
    size_t end = add_node(t, NODE_END, open, 0, var);
    t->nodes[p->stack[p->depth]].end = end;
    return 0;
}

/* One tag: text[open] is "{{", text[close] is "}}". */
static int parse_tag(struct parse *p, size_t open, size_t close)
{
    size_t i = open + 2, end = close;
    char sigil = 0;
    while (i < end && p->text[i] == ' ')
        i++;
    if (i < end && strchr("#^/", p->text[i]))
        sigil = p->text[i++];
    while (i < end && p->text[i] == ' ')
        i++;
    while (end > i && p->text[end - 1] == ' ')
        end--;
    int var = -1, rc = resolve_var(p, i, end - i, &var);
    if (rc < 0)
        return rc;
    if (sigil)
        return section(p, sigil, open, var);
    add_node(p->t, NODE_VAR, open, 0, var);
    return 0;
}

static int check_utf8(struct parse *p)
{
    size_t pos = 0, len = strlen(p->text);
    while (pos < len)
        if (sms_text_utf8_next(p->text, len, &pos) < 0)
            return fail(p, pos, "invalid UTF-8");
    return 0;
}

static int compile(struct parse *p)
{
    const char *s = p->text;
    size_t lit = 0;
    const char *open;
    int rc = check_utf8(p);
    while (rc == 0 && (open = strstr(s + lit, "{{")) != NULL) {
        const char *close = strstr(open + 2, "}}"), *next = strstr(open + 2, "{{");
        if (!close || (next && next < close))
            return fail(p, (size_t)(open - s), "'{{' is not closed by '}}'");
        if (open > s + lit)
            add_node(p->t, NODE_TEXT, lit, (size_t)(open - s) - lit, -1);
        rc = parse_tag(p, (size_t)(open - s), (size_t)(close - s));
        lit = (size_t)(close - s) + 2;
    }
    if (rc < 0)
        return rc;
    if (p->depth > 0) {
        const struct node *top = &p->t->nodes[p->stack[p->depth - 1]];
        return fail(p, top->start, "section '{{%c%s}}' is never closed",
                    top->kind == NODE_IF ? '#' : '^', var_names[top->var]);
    }
    if (s[lit])
        add_node(p->t, NODE_TEXT, lit, strlen(s + lit), -1);
    return 0;
}

static void template_free(void *v)
{
    struct template_msg *t = v;
    if (!t)
        return;
    free(t->locale);
    free(t->text);
    free(t->nodes);
    free(t);
}

/* ---- the set ---- */

struct template_set *template_set_new(const char *default_locale)
{
    struct template_set *set = xcalloc(1, sizeof *set);
    if (locale_norm(default_locale, set->default_locale) < 0) {
        log_warn("notifier", "bad default locale '%s', using 'en'",
                 default_locale ? default_locale : "(null)");
        strcpy(set->default_locale, "en");
    }
    set->map = strmap_new();
    return set;
}

void template_set_free(struct template_set *set)
{
    if (!set)
        return;
    strmap_free(set->map, template_free);
    free(set);
}

static void set_err(char *err, size_t errsz, size_t *err_offset, const char *msg)
{
    if (err && errsz)
        snprintf(err, errsz, "%s", msg);
    if (err_offset)
        *err_offset = TEMPLATE_NO_OFFSET;
}

int template_set_add(struct template_set *set, enum template_type type, const char *locale,
                     const char *text, char *err, size_t errsz, size_t *err_offset)
{
    char norm[LOCALE_MAX], key[LOCALE_MAX + 8];
    if ((unsigned)type >= TEMPLATE_TYPE_COUNT || !text) {
        set_err(err, errsz, err_offset, "bad message type or missing text");
        return -EINVAL;
    }
    if (locale_norm(locale, norm) < 0) {
        set_err(err, errsz, err_offset, "bad locale (expected e.g. 'pt-BR' or 'fa')");
        return -EINVAL;
    }
    struct template_msg *t = xcalloc(1, sizeof *t);
    t->type = type;
    t->locale = xstrdup(locale);
    t->text = xstrdup(text);
    t->rtl = template_locale_is_rtl(norm);
    struct parse p = {.t = t, .text = t->text, .err = err, .errsz = errsz};
    if (compile(&p) < 0) {
        if (err_offset)
            *err_offset = p.err_off;
        template_free(t);
        return -EINVAL;
    }
    snprintf(key, sizeof key, "%d|%s", (int)type, norm);
    template_free(strmap_put(set->map, key, t));
    return 0;
}

static const struct template_msg *lookup(const struct template_set *set, enum template_type type,
                                         const char *norm)
{
    char key[LOCALE_MAX + 8];
    snprintf(key, sizeof key, "%d|%s", (int)type, norm);
    return strmap_get(set->map, key);
}

const struct template_msg *template_set_find(const struct template_set *set,
                                             enum template_type type, const char *locale)
{
    char norm[LOCALE_MAX];
    const struct template_msg *t = NULL;
    if (locale && locale_norm(locale, norm) == 0) {
        t = lookup(set, type, norm);
        norm[strcspn(norm, "-")] = '\0';
        if (!t)
            t = lookup(set, type, norm);
    }
    return t ? t : lookup(set, type, set->default_locale);
}

const char *template_locale(const struct template_msg *tpl)
{
    return tpl->locale;
}

/* ---- rendering ---- */

/* Right-to-left letters (Hebrew, Arabic and their presentation forms) but not the
 * Arabic-Indic digits, which are weak and reorder like European ones. */
static int is_rtl_letter(uint32_t c)
{
    if ((c >= 0x0660 && c <= 0x066C) || (c >= 0x06F0 && c <= 0x06F9))
        return 0;
    return (c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
           (c >= 0xFE70 && c <= 0xFEFF) || c == 0x200C || c == 0x200D;
}

/* A value needs an isolate unless it is right-to-left words with spaces and punctuation:
 * digits, Latin, phone numbers and times would otherwise be reordered by their neighbours.
 * Returns -1 for invalid UTF-8. */
static int needs_isolate(const char *v, size_t len)
{
    size_t pos = 0;
    int need = 0;
    while (pos < len) {
        int32_t c = sms_text_utf8_next(v, len, &pos);
        if (c < 0)
            return -1;
        int neutral = c < 0x80 && (ispunct(c) || isspace(c));
        if (!neutral && !is_rtl_letter((uint32_t)c))
            need = 1;
    }
    return need;
}

static int put_value(const struct template_msg *tpl, const char *v, struct strbuf *b)
{
    size_t len = v ? strlen(v) : 0;
    int iso = needs_isolate(v ? v : "", len);
    if (iso < 0)
        return -EINVAL;
    iso = iso && tpl->rtl;
    if (iso)
        strbuf_add(b, "\xE2\x81\xA8", 3); /* FSI */
    strbuf_add(b, v ? v : "", len);
    if (iso)
        strbuf_add(b, "\xE2\x81\xA9", 3); /* PDI */
    return 0;
}

int template_render(const struct template_msg *tpl, template_lookup_fn fn, void *arg, char **out)
{
    struct strbuf b = {0};
    *out = NULL;
    for (size_t i = 0; i < tpl->n; i++) {
        const struct node *nd = &tpl->nodes[i];
        if (nd->kind == NODE_TEXT) {
            strbuf_add(&b, tpl->text + nd->start, nd->len);
            continue;
        }
        if (nd->kind == NODE_END)
            continue;
        const char *v = fn(var_names[nd->var], arg);
        int set = v && *v;
        if (nd->kind != NODE_VAR) {
            if ((nd->kind == NODE_IF) != set)
                i = nd->end; /* skip the section, nested ones included */
        } else if (put_value(tpl, v, &b) < 0) {
            strbuf_deinit(&b);
            return -EINVAL;
        }
    }
    *out = strbuf_take(&b);
    return 0;
}

void template_position(const char *text, size_t offset, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

/* ---- times ---- */

int template_format_time(time_t t, const char *tz, const char *locale, char *buf, size_t bufsz)
{
    static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    char norm[LOCALE_MAX] = "en";
    struct tm tm;
    int rc = tz_local(t, tz, &tm), n;
    if (rc < 0)
        return rc;
    if (locale && locale_norm(locale, norm) == 0)
        norm[strcspn(norm, "-")] = '\0';
    if (strcmp(norm, "en") == 0)
        n = snprintf(buf, bufsz, "%s %02d:%02d", wday[tm.tm_wday], tm.tm_hour, tm.tm_min);
    else
        n = snprintf(buf, bufsz, "%02d%c%02d %02d:%02d", tm.tm_mday,
                     strcmp(norm, "ru") == 0 ? '.' : '/', tm.tm_mon + 1, tm.tm_hour, tm.tm_min);
    return n < 0 || (size_t)n >= bufsz ? -ENOSPC : 0;
}
