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

static const struct schema_enum channel_kinds[] = {{"kannel", CHANNEL_KIND_KANNEL},
                                                   {"twilio", CHANNEL_KIND_TWILIO},
                                                   {"http", CHANNEL_KIND_HTTP},
                                                   {NULL, 0}};
static const struct schema_enum body_encodings[] = {
    {"raw", CHANNEL_BODY_RAW}, {"form", CHANNEL_BODY_FORM}, {"json", CHANNEL_BODY_JSON}, {NULL, 0}};

#define CHF(m) offsetof(struct channel_config, m)
static const struct schema_field channel_fields[] = {
    {"name", SCHEMA_STRING, CHF(name), .flags = SCHEMA_REQUIRED},
    {"kind", SCHEMA_ENUM, CHF(kind), SCHEMA_REQUIRED, .enums = channel_kinds},
    {"url", SCHEMA_STRING, CHF(url), SCHEMA_REQUIRED, .check = check_url},
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
    {"timeout", SCHEMA_DURATION, CHF(timeout_ms), SCHEMA_DEFAULT, .def = SEC(10), .min = 100,
     .max = SEC(120)},
    {"rate", SCHEMA_NUMBER, CHF(rate), SCHEMA_DEFAULT, .def_num = 10, .min = 0, .max = 100000},
    {"burst", SCHEMA_INT, CHF(burst), SCHEMA_DEFAULT, .size = sizeof(int64_t), .def = 10, .min = 1,
     .max = 100000},
    {"cost", SCHEMA_NUMBER, CHF(cost), SCHEMA_DEFAULT, .def_num = 0, .min = 0, .max = 1000},
    {"daily_cap", SCHEMA_NUMBER, CHF(daily_cap), SCHEMA_DEFAULT, .def_num = 0, .min = 0,
     .max = 1000000000},
    {0}};

static void channel_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct channel_config *c = obj;
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

#define NF(m) offsetof(struct notifier_config, m)
static const struct schema_field notifier_fields[] = {
    {"templates", SCHEMA_STRING, NF(templates), .flags = 0},
    {"default_locale", SCHEMA_STRING, NF(default_locale), SCHEMA_DEFAULT, .def_str = "en"},
    {"channels", SCHEMA_LIST, NF(channels), 0, .sub = &channel_section,
     .count_offset = NF(n_channels)},
    {0}};

const struct schema_section notifier_config_section = {.fields = notifier_fields};
