#include "config/collector_config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/schema.h"

#define SEC(n) ((int64_t)(n)*1000)
#define HOUR(n) ((int64_t)(n)*3600000)

/* farol never resolves names (no DNS dependency on the alarm path): addresses are numeric. */
static int check_ip(const char *s, char *err, size_t errsz)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
        return 0;
    snprintf(err, errsz, "'%s' is not a numeric IPv4 or IPv6 address", s);
    return -1;
}

static int check_name(const char *s, char *err, size_t errsz)
{
    if (*s && !strpbrk(s, " \t|/\x1f"))
        return 0;
    snprintf(err, errsz, "'%s': a device name is non-empty, without spaces, '|' or '/'", s);
    return -1;
}

#define IF(m) offsetof(struct icmp_config, m)
static const struct schema_field icmp_fields[] = {
    {"interval", SCHEMA_DURATION, IF(interval_ms), SCHEMA_DEFAULT, .def = SEC(10), .min = 100,
     .max = HOUR(1)},
    {"timeout", SCHEMA_DURATION, IF(timeout_ms), SCHEMA_DEFAULT, .def = SEC(1), .min = 10,
     .max = SEC(60)},
    {"retries", SCHEMA_INT, IF(retries), SCHEMA_DEFAULT, .size = sizeof(int), .def = 1, .min = 0,
     .max = 10},
    {"down_after", SCHEMA_INT, IF(down_after), SCHEMA_DEFAULT, .size = sizeof(int), .def = 3,
     .min = 1, .max = 100},
    {"up_after", SCHEMA_INT, IF(up_after), SCHEMA_DEFAULT, .size = sizeof(int), .def = 2, .min = 1,
     .max = 100},
    {0}};

static void icmp_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct icmp_config *c = obj;
    if (c->timeout_ms * (c->retries + 1) > c->interval_ms)
        schema_error(ctx, scope->at,
                     "%s: timeout x (retries + 1) = %lld ms does not fit in the interval of "
                     "%lld ms",
                     scope->path, (long long)(c->timeout_ms * (c->retries + 1)),
                     (long long)c->interval_ms);
}

static const struct schema_section icmp_section = {.fields = icmp_fields,
                                                   .validate = icmp_validate};

/* ---- SNMP ---- */

static int check_oid(const char *s, char *err, size_t errsz)
{
    const char *p = s[0] == '.' ? s + 1 : s;
    int parts = 0;
    while (*p) {
        if (*p < '0' || *p > '9')
            break;
        while (*p >= '0' && *p <= '9')
            p++;
        parts++;
        if (*p == '.' && p[1])
            p++;
    }
    if (!*p && parts >= 2)
        return 0;
    snprintf(err, errsz,
             "'%s' is not a numeric OID (e.g. 1.3.6.1.2.1.1.3.0); MIB names are "
             "not loaded",
             s);
    return -1;
}

static const struct schema_enum snmp_versions[] = {{"1", 1}, {"2c", 2}, {"3", 3}, {0}};
static const struct schema_enum security_levels[] = {{"noAuthNoPriv", SNMP_NOAUTH_NOPRIV},
                                                     {"authNoPriv", SNMP_AUTH_NOPRIV},
                                                     {"authPriv", SNMP_AUTH_PRIV},
                                                     {0}};
static const struct schema_enum auth_protocols[] = {{"MD5", SNMP_AUTH_MD5},
                                                    {"SHA", SNMP_AUTH_SHA},
                                                    {"SHA-256", SNMP_AUTH_SHA256},
                                                    {"SHA-512", SNMP_AUTH_SHA512},
                                                    {0}};
static const struct schema_enum priv_protocols[] = {
    {"DES", SNMP_PRIV_DES}, {"AES", SNMP_PRIV_AES}, {"AES-256", SNMP_PRIV_AES256}, {0}};

#define CRF(m) offsetof(struct snmp_credentials_config, m)
static const struct schema_field credentials_fields[] = {
    {"name", SCHEMA_STRING, CRF(name), SCHEMA_REQUIRED, .check = check_name},
    {"version", SCHEMA_ENUM, CRF(version), SCHEMA_REQUIRED, .enums = snmp_versions},
    {"community", SCHEMA_STRING, CRF(community), .flags = SCHEMA_SECRET},
    {"user", SCHEMA_STRING, CRF(user), .flags = 0},
    {"security_level", SCHEMA_ENUM, CRF(security_level), SCHEMA_DEFAULT, .def = SNMP_AUTH_PRIV,
     .enums = security_levels},
    {"auth_protocol", SCHEMA_ENUM, CRF(auth_protocol), SCHEMA_DEFAULT, .def = SNMP_AUTH_SHA,
     .enums = auth_protocols},
    {"auth_password", SCHEMA_STRING, CRF(auth_password), .flags = SCHEMA_SECRET},
    {"priv_protocol", SCHEMA_ENUM, CRF(priv_protocol), SCHEMA_DEFAULT, .def = SNMP_PRIV_AES,
     .enums = priv_protocols},
    {"priv_password", SCHEMA_STRING, CRF(priv_password), .flags = SCHEMA_SECRET},
    {0}};

static void credentials_validate(struct schema_ctx *ctx, void *obj,
                                 const struct schema_scope *scope)
{
    const struct snmp_credentials_config *c = obj;
    if (c->version != 3 && !c->community)
        schema_error(ctx, scope->at, "%s: SNMP v1/v2c needs a community", scope->path);
    if (c->version == 3 && !c->user)
        schema_error(ctx, scope->at, "%s: SNMP v3 needs a user", scope->path);
    if (c->version == 3 && c->security_level != SNMP_NOAUTH_NOPRIV && !c->auth_password)
        schema_error(ctx, scope->at, "%s: this security level needs an auth_password", scope->path);
    if (c->version == 3 && c->security_level == SNMP_AUTH_PRIV && !c->priv_password)
        schema_error(ctx, scope->at, "%s: authPriv needs a priv_password", scope->path);
}

static const struct schema_section credentials_section = {
    .fields = credentials_fields,
    .size = sizeof(struct snmp_credentials_config),
    .validate = credentials_validate,
    .defines = "credentials",
    .name_key = "name"};

#define SPF(m) offsetof(struct snmp_poll_config, m)
static const struct schema_field snmp_poll_fields[] = {
    {"interval", SCHEMA_DURATION, SPF(interval_ms), SCHEMA_DEFAULT, .def = SEC(60), .min = 1000,
     .max = HOUR(24)},
    {"timeout", SCHEMA_DURATION, SPF(timeout_ms), SCHEMA_DEFAULT, .def = SEC(2), .min = 10,
     .max = SEC(60)},
    {"retries", SCHEMA_INT, SPF(retries), SCHEMA_DEFAULT, .size = sizeof(int), .def = 1, .min = 0,
     .max = 10},
    {"max_repetitions", SCHEMA_INT, SPF(max_repetitions), SCHEMA_DEFAULT, .size = sizeof(int),
     .def = 25, .min = 1, .max = 1000},
    {"max_in_flight", SCHEMA_INT, SPF(max_in_flight), SCHEMA_DEFAULT, .size = sizeof(int), .def = 2,
     .min = 1, .max = 64},
    {"max_rate", SCHEMA_INT, SPF(max_rate), SCHEMA_DEFAULT, .size = sizeof(int), .def = 50,
     .min = 1, .max = 100000},
    {0}};
static const struct schema_section snmp_poll_section = {.fields = snmp_poll_fields};

/* ---- profiles ---- */

#define PLF(m) offsetof(struct profile_links, m)
static const struct schema_field links_fields[] = {
    {"object", SCHEMA_STRING, PLF(object), SCHEMA_DEFAULT, .def_str = "if:{index}"},
    {"oper", SCHEMA_STRING, PLF(oper), SCHEMA_REQUIRED, .check = check_oid},
    {"admin", SCHEMA_STRING, PLF(admin), 0, .check = check_oid},
    {0}};
static const struct schema_section links_section = {.fields = links_fields};

#define POF(m) offsetof(struct profile_onus, m)
#define VALUES(key, m)                                                                             \
    {                                                                                              \
        key, SCHEMA_INTS, POF(m.v), 0, .min = INT32_MIN, .max = INT64_MAX,                         \
                                       .count_offset = POF(m.n)                                    \
    }
static const struct schema_field onus_fields[] = {
    {"object", SCHEMA_STRING, POF(object), SCHEMA_DEFAULT, .def_str = "onu:{index}"},
    {"status", SCHEMA_STRING, POF(status), SCHEMA_REQUIRED, .check = check_oid},
    VALUES("online", online),
    {"cause", SCHEMA_STRING, POF(cause), 0, .check = check_oid},
    VALUES("los", los),
    VALUES("dying_gasp", dying_gasp),
    {"rx_power", SCHEMA_STRING, POF(rx_power), 0, .check = check_oid},
    {"rx_power_scale", SCHEMA_NUMBER, POF(rx_power_scale), SCHEMA_DEFAULT, .def_num = 1,
     .min = -1000, .max = 1000},
    {"rx_power_invalid", SCHEMA_INT, POF(rx_power_invalid), SCHEMA_DEFAULT, .size = 8,
     .def = INT32_MAX, .min = INT32_MIN, .max = INT64_MAX},
    {"low_rx_power", SCHEMA_NUMBER, POF(low_rx_power), SCHEMA_DEFAULT, .def_num = -27, .min = -100,
     .max = 20},
    {0}};

static void onus_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct profile_onus *o = obj;
    if (o->status && o->online.n == 0)
        schema_error(ctx, scope->at, "%s: list the status values that mean online", scope->path);
}
static const struct schema_section onus_section = {.fields = onus_fields,
                                                   .validate = onus_validate};

#define PCF(m) offsetof(struct profile_counters, m)
static const struct schema_field counters_fields[] = {
    {"object", SCHEMA_STRING, PCF(object), SCHEMA_DEFAULT, .def_str = "if:{index}"},
    {"rx", SCHEMA_STRING, PCF(rx), SCHEMA_REQUIRED, .check = check_oid},
    {"tx", SCHEMA_STRING, PCF(tx), 0, .check = check_oid},
    {"bits", SCHEMA_INT, PCF(bits), SCHEMA_DEFAULT, .size = sizeof(int), .def = 64, .min = 32,
     .max = 64},
    {"max_bps", SCHEMA_INT, PCF(max_bps), SCHEMA_DEFAULT, .size = 8, .def = 100000000000LL,
     .min = 1000, .max = INT64_MAX},
    {0}};

static void counters_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct profile_counters *c = obj;
    if (c->rx && c->bits != 32 && c->bits != 64)
        schema_error(ctx, scope->at, "%s.bits: counters are 32 or 64 bits", scope->path);
}
static const struct schema_section counters_section = {.fields = counters_fields,
                                                       .validate = counters_validate};

#define PF(m) offsetof(struct profile, m)
static const struct schema_field profile_fields[] = {
    {"name", SCHEMA_STRING, PF(name), SCHEMA_REQUIRED, .check = check_name},
    {"uptime", SCHEMA_STRING, PF(uptime), 0, .check = check_oid},
    {"links", SCHEMA_MAP, PF(links), 0, .sub = &links_section},
    {"onus", SCHEMA_MAP, PF(onus), 0, .sub = &onus_section},
    {"counters", SCHEMA_MAP, PF(counters), 0, .sub = &counters_section},
    {0}};
static const struct schema_section profile_section = {.fields = profile_fields,
                                                      .size = sizeof(struct profile),
                                                      .defines = "profile",
                                                      .name_key = "name"};

/* ---- devices ---- */

#define DVF(m) offsetof(struct device_config, m)
static const struct schema_field device_fields[] = {
    {"name", SCHEMA_STRING, DVF(name), SCHEMA_REQUIRED, .check = check_name},
    {"address", SCHEMA_STRING, DVF(address), SCHEMA_REQUIRED, .check = check_ip},
    {"icmp", SCHEMA_BOOL, DVF(icmp), SCHEMA_DEFAULT, .def = 1},
    {"profile", SCHEMA_STRING, DVF(profile), 0, .ref = "profile"},
    {"credentials", SCHEMA_STRING, DVF(credentials), 0, .ref = "credentials"},
    {"snmp_port", SCHEMA_INT, DVF(snmp_port), SCHEMA_DEFAULT, .size = sizeof(int), .def = 161,
     .min = 1, .max = 65535},
    {0}};

static void device_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct device_config *d = obj;
    if (d->profile && !d->credentials)
        schema_error(ctx, scope->at, "%s: a device with a profile needs credentials", scope->path);
}

static const struct schema_section device_section = {.fields = device_fields,
                                                     .validate = device_validate,
                                                     .size = sizeof(struct device_config),
                                                     .defines = "device",
                                                     .name_key = "name"};

#define CF(m) offsetof(struct collector_config, m)
static const struct schema_field collector_fields[] = {
    {"icmp", SCHEMA_MAP, CF(icmp), 0, .sub = &icmp_section},
    {"snmp", SCHEMA_MAP, CF(snmp), 0, .sub = &snmp_poll_section},
    {"credentials", SCHEMA_LIST, CF(credentials), 0, .sub = &credentials_section,
     .count_offset = CF(n_credentials)},
    {"profiles", SCHEMA_LIST, CF(profiles), 0, .sub = &profile_section,
     .count_offset = CF(n_profiles)},
    {"devices", SCHEMA_LIST, CF(devices), 0, .sub = &device_section, .count_offset = CF(n_devices)},
    {0}};

const struct schema_section collector_config_section = {.fields = collector_fields};
