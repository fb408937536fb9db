#include "config/notifier_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/schema.h"

#define SEC(n) ((int64_t)(n)*1000)

static int check_url(const char *s, char *err, size_t errsz)
{
    if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8))
        return 0;
    snprintf(err, errsz, "'%s' is not an http:// or https:// URL", s);
    return -1;
}

/* Meta's rules: template names are lowercase letters, digits and '_'; API versions "vN.N". */
static int check_template(const char *s, char *err, size_t errsz)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s))
        return 0;
    snprintf(err, errsz, "'%s' is not a template name (lowercase letters, digits and '_')", s);
    return -1;
}

static int check_api_version(const char *s, char *err, size_t errsz)
{
    unsigned major, minor;
    char end;
    if (sscanf(s, "v%u.%u%c", &major, &minor, &end) == 2 && s[1] >= '0' && s[1] <= '9')
        return 0;
    snprintf(err, errsz, "'%s' is not a Graph API version (e.g. v21.0)", s);
    return -1;
}

static int check_language(const char *s, char *err, size_t errsz)
{
    size_t lang = strspn(s, "abcdefghijklmnopqrstuvwxyz");
    const char *region = s[lang] == '_' ? s + lang + 1 : NULL;
    int region_ok = !s[lang] || (region && strlen(region) == 2 &&
                                 strspn(region, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2);
    if ((lang == 2 || lang == 3) && region_ok)
        return 0;
    snprintf(err, errsz, "'%s' is not a WhatsApp language code (e.g. en, pt_BR)", s);
    return -1;
}

static const struct schema_enum channel_kinds[] = {{"kannel", CHANNEL_KIND_KANNEL},
                                                   {"twilio", CHANNEL_KIND_TWILIO},
                                                   {"http", CHANNEL_KIND_HTTP},
                                                   {"infobip", CHANNEL_KIND_INFOBIP},
                                                   {"whatsapp", CHANNEL_KIND_WHATSAPP},
                                                   {"telegram", CHANNEL_KIND_TELEGRAM},
                                                   {NULL, 0}};

const char *notifier_config_kind_name(int kind)
{
    for (const struct schema_enum *e = channel_kinds; e->name; e++)
        if (e->value == kind)
            return e->name;
    return "?";
}
static const struct schema_enum body_encodings[] = {
    {"raw", CHANNEL_BODY_RAW}, {"form", CHANNEL_BODY_FORM}, {"json", CHANNEL_BODY_JSON}, {NULL, 0}};

#define CHF(m) offsetof(struct channel_config, m)
static const struct schema_field channel_fields[] = {
    {"name", SCHEMA_STRING, CHF(name), .flags = SCHEMA_REQUIRED},
    {"kind", SCHEMA_ENUM, CHF(kind), SCHEMA_REQUIRED, .enums = channel_kinds},
    /* required by most kinds: channel_validate says which */
    {"url", SCHEMA_STRING, CHF(url), 0, .check = check_url},
    {"username", SCHEMA_STRING, CHF(username), .flags = 0},
    {"password", SCHEMA_STRING, CHF(password), .flags = SCHEMA_SECRET},
    {"from", SCHEMA_STRING, CHF(from), .flags = 0},
    {"smsc", SCHEMA_STRING, CHF(smsc), .flags = 0},
    {"service", SCHEMA_STRING, CHF(service), .flags = 0},
    {"method", SCHEMA_STRING, CHF(method), .flags = 0},
    {"body", SCHEMA_STRING, CHF(body), .flags = 0},
    {"body_encoding", SCHEMA_ENUM, CHF(body_encoding), SCHEMA_DEFAULT, .def = CHANNEL_BODY_RAW,
     .enums = body_encodings},
    {"headers", SCHEMA_STRMAP, CHF(headers), 0, .count_offset = CHF(n_headers)},
    {"success_contains", SCHEMA_STRING, CHF(success_contains), .flags = 0},
    {"id_field", SCHEMA_STRING, CHF(id_field), .flags = 0},
    {"dlr_url", SCHEMA_STRING, CHF(dlr_url), 0, .check = check_url},
    {"phone_number_id", SCHEMA_STRING, CHF(phone_number_id), .flags = 0},
    {"api_version", SCHEMA_STRING, CHF(api_version), SCHEMA_DEFAULT, .def_str = "v21.0",
     .check = check_api_version},
    {"template", SCHEMA_STRING, CHF(template_name), 0, .check = check_template},
    {"template_language", SCHEMA_STRING, CHF(template_language), 0, .check = check_language},
    {"timeout", SCHEMA_DURATION, CHF(timeout_ms), SCHEMA_DEFAULT, .def = SEC(10), .min = 100,
     .max = SEC(120)},
    {"rate", SCHEMA_NUMBER, CHF(rate), SCHEMA_DEFAULT, .def_num = 10, .min = 0, .max = 100000},
    {"burst", SCHEMA_INT, CHF(burst), SCHEMA_DEFAULT, .size = sizeof(int64_t), .def = 10, .min = 1,
     .max = 100000},
    {"cost", SCHEMA_NUMBER, CHF(cost), SCHEMA_DEFAULT, .def_num = 0, .min = 0, .max = 1000},
    {"fallback", SCHEMA_STRING, CHF(fallback), .flags = 0},
    {"verify_token", SCHEMA_STRING, CHF(verify_token), .flags = SCHEMA_SECRET},
    {"app_secret", SCHEMA_STRING, CHF(app_secret), .flags = SCHEMA_SECRET},
    {"fallback_after", SCHEMA_DURATION, CHF(fallback_after_ms), SCHEMA_DEFAULT, .def = SEC(300),
     .min = SEC(1), .max = SEC(86400)},
    {"daily_cap", SCHEMA_NUMBER, CHF(daily_cap), SCHEMA_DEFAULT, .def_num = 0, .min = 0,
     .max = 1000000000},
    {0}};

/* Present in the file, even with a value its check refused (that has its own message). */
static int given(const struct schema_scope *scope, const char *key)
{
    return yaml_tree_get(scope->map, key, NULL) != NULL;
}

/* Infobip, WhatsApp and Telegram: what each cannot do without. */
static void validate_api_kinds(struct schema_ctx *ctx, const struct channel_config *c,
                               const struct schema_scope *scope)
{
    if (c->kind == CHANNEL_KIND_INFOBIP && !c->password)
        schema_error(ctx, scope->at, "%s: an infobip channel needs password (the API key)",
                     scope->path);
    if (c->kind == CHANNEL_KIND_WHATSAPP &&
        (!c->password || !given(scope, "phone_number_id") || !given(scope, "template")))
        schema_error(ctx, scope->at,
                     "%s: a whatsapp channel needs password (the access token), "
                     "phone_number_id and template",
                     scope->path);
    if (c->kind == CHANNEL_KIND_TELEGRAM && !c->password)
        schema_error(ctx, scope->at, "%s: a telegram channel needs password (the bot token)",
                     scope->path);
    if (c->kind != CHANNEL_KIND_WHATSAPP &&
        (given(scope, "phone_number_id") || given(scope, "template") ||
         given(scope, "template_language")))
        schema_error(ctx, scope->at,
                     "%s: phone_number_id, template and template_language are for kind whatsapp",
                     scope->path);
    /* WhatsApp and Telegram have one public API; the others are per gateway or account */
    if (!given(scope, "url") && c->kind != CHANNEL_KIND_WHATSAPP &&
        c->kind != CHANNEL_KIND_TELEGRAM)
        schema_error(ctx, scope->at, "missing required key '%s.url'", scope->path);
}

static void channel_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct channel_config *c = obj;
    validate_api_kinds(ctx, c, scope);
    if (c->kind == CHANNEL_KIND_KANNEL && (!c->username || !c->password))
        schema_error(ctx, scope->at, "%s: a kannel channel needs username and password",
                     scope->path);
    if (c->kind == CHANNEL_KIND_TWILIO && (!c->username || !c->password))
        schema_error(ctx, scope->at,
                     "%s: a twilio channel needs username (the account SID) and password (the "
                     "auth token)",
                     scope->path);
    if (c->kind != CHANNEL_KIND_HTTP && (c->body || c->n_headers))
        schema_error(ctx, scope->at, "%s: body and headers are for kind http", scope->path);
    if (c->kind == CHANNEL_KIND_TWILIO && !c->from && !c->service)
        schema_error(ctx, scope->at, "%s: a twilio channel needs from or service", scope->path);
}

static const struct schema_section channel_section = {.fields = channel_fields,
                                                      .size = sizeof(struct channel_config),
                                                      .validate = channel_validate,
                                                      .defines = "channel",
                                                      .name_key = "name"};

/* the order of enum noc_format (notifier/noc_webhook.h) */
static const struct schema_enum noc_formats[] = {
    {"json", 0}, {"slack", 1}, {"alertmanager", 2}, {NULL, 0}};

static const struct schema_enum sms_overflows[] = {{"truncate", 0}, {"reject", 1}, {NULL, 0}};

#define NF(m) offsetof(struct notifier_config, m)
static const struct schema_field notifier_fields[] = {
    {"templates", SCHEMA_STRING, NF(templates), .flags = 0},
    {"default_locale", SCHEMA_STRING, NF(default_locale), SCHEMA_DEFAULT, .def_str = "en"},
    {"channels", SCHEMA_LIST, NF(channels), 0, .sub = &channel_section,
     .count_offset = NF(n_channels)},
    {"listen", SCHEMA_STRING, NF(listen), .flags = 0},
    {"kannel_key", SCHEMA_STRING, NF(kannel_key), .flags = SCHEMA_SECRET},
    {"noc_url", SCHEMA_STRING, NF(noc_url), 0, .check = check_url},
    {"noc_format", SCHEMA_ENUM, NF(noc_format), SCHEMA_DEFAULT, .def = 0, .enums = noc_formats},
    {"notify_delay", SCHEMA_DURATION, NF(notify_delay_ms), SCHEMA_DEFAULT, .def = SEC(60), .min = 0,
     .max = SEC(86400)},
    {"quiet_hours_outages", SCHEMA_BOOL, NF(quiet_outages), SCHEMA_DEFAULT, .def = 0},
    {"maintenance_notice_hours", SCHEMA_INTS, NF(notice_hours), 0, .min = 1, .max = 24 * 30,
     .count_offset = NF(n_notice_hours)},
    {"retry_min", SCHEMA_DURATION, NF(retry_min_ms), SCHEMA_DEFAULT, .def = SEC(1), .min = 10,
     .max = SEC(3600)},
    {"retry_max", SCHEMA_DURATION, NF(retry_max_ms), SCHEMA_DEFAULT, .def = SEC(30), .min = 10,
     .max = SEC(86400)},
    {"max_age", SCHEMA_DURATION, NF(max_age_ms), SCHEMA_DEFAULT, .def = SEC(86400), .min = SEC(1),
     .max = SEC(30 * 86400)},
    {"max_attempts", SCHEMA_INT, NF(max_attempts), SCHEMA_DEFAULT, .size = sizeof(int64_t),
     .def = 12, .min = 1, .max = 1000},
    {"inflight_grace", SCHEMA_DURATION, NF(inflight_grace_ms), SCHEMA_DEFAULT, .def = SEC(30),
     .min = 100, .max = SEC(86400)},
    {"batch", SCHEMA_INT, NF(batch), SCHEMA_DEFAULT, .size = sizeof(int64_t), .def = 500, .min = 1,
     .max = 10000},
    {"sms_max_segments", SCHEMA_INT, NF(sms_max_segments), SCHEMA_DEFAULT, .size = sizeof(int64_t),
     .def = 3, .min = 0, .max = 255},
    {"sms_overflow", SCHEMA_ENUM, NF(sms_overflow), SCHEMA_DEFAULT, .def = 0,
     .enums = sms_overflows},
    {"max_inflight", SCHEMA_INT, NF(max_inflight), SCHEMA_DEFAULT, .size = sizeof(int64_t),
     .def = 256, .min = 1, .max = 100000},
    {0}};

const struct schema_section notifier_config_section = {.fields = notifier_fields};
