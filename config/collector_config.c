#include "config/collector_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "core/event.h"
#include "core/xmalloc.h"

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

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

int collector_config_engine_id(const char *hex, unsigned char *out, size_t outsz)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t n = strlen(hex);
    if (n % 2 || n / 2 < 5 || n / 2 > 32 || n / 2 > outsz)
        return -EINVAL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

static int check_engine_id(const char *s, char *err, size_t errsz)
{
    unsigned char buf[32];
    if (collector_config_engine_id(s, buf, sizeof buf) >= 0)
        return 0;
    snprintf(err, errsz,
             "'%s' is not an snmpEngineID (5 to 32 octets in hex, e.g. 0x80001f8803...)", s);
    return -1;
}

int collector_config_list_next(const char **cursor, char *buf, size_t bufsz)
{
    const char *p = *cursor;
    while (*p == ',' || isspace((unsigned char)*p))
        p++;
    if (!*p)
        return 0;
    const char *end = strchr(p, ',');
    if (!end)
        end = p + strlen(p);
    *cursor = end;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    snprintf(buf, bufsz, "%.*s", (int)(end - p), p);
    return 1;
}

int collector_config_endpoint(const char *s, char *host, size_t hostsz, int *port)
{
    const char *colon;
    unsigned char buf[16];
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= hostsz)
            return -EINVAL;
        snprintf(host, hostsz, "%.*s", (int)(end - s - 1), s + 1);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)) || (size_t)(colon - s) >= hostsz)
            return -EINVAL;
        snprintf(host, hostsz, "%.*s", (int)(colon - s), s);
    }
    char *endp;
    long p = strtol(colon + 1, &endp, 10);
    if (!colon[1] || *endp || p < 1 || p > 65535)
        return -EINVAL;
    *port = (int)p;
    if (inet_pton(AF_INET, host, buf) == 1)
        return AF_INET;
    return inet_pton(AF_INET6, host, buf) == 1 ? AF_INET6 : -EINVAL;
}

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

static const struct schema_enum trap_actions[] = {
    {"raise", PROFILE_TRAP_RAISE}, {"clear", PROFILE_TRAP_CLEAR}, {0}};
static const struct schema_enum trap_indexes[] = {{"suffix", PROFILE_INDEX_SUFFIX},
                                                  {"value", PROFILE_INDEX_VALUE},
                                                  {"none", PROFILE_INDEX_NONE},
                                                  {0}};
static const struct schema_enum severities[] = {
    {"info", SEV_INFO},   {"warning", SEV_WARNING},   {"minor", SEV_MINOR},
    {"major", SEV_MAJOR}, {"critical", SEV_CRITICAL}, {0}};

static int check_kind(const char *s, char *err, size_t errsz)
{
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            goto bad;
    if (*s)
        return 0;
bad:
    snprintf(err, errsz, "'%s': an alarm kind is letters, digits, '-' and '_'", s);
    return -1;
}

#define PTF(m) offsetof(struct profile_trap, m)
static const struct schema_field trap_fields[] = {
    {"oid", SCHEMA_STRING, PTF(oid), SCHEMA_REQUIRED, .check = check_oid},
    {"kind", SCHEMA_STRING, PTF(kind), SCHEMA_REQUIRED, .check = check_kind},
    {"action", SCHEMA_ENUM, PTF(action), SCHEMA_REQUIRED, .enums = trap_actions},
    {"index", SCHEMA_ENUM, PTF(index), SCHEMA_DEFAULT, .def = PROFILE_INDEX_SUFFIX,
     .enums = trap_indexes},
    {"varbind", SCHEMA_STRING, PTF(varbind), 0, .check = check_oid},
    {"object", SCHEMA_STRING, PTF(object), .flags = 0},
    {"severity", SCHEMA_ENUM, PTF(severity), SCHEMA_DEFAULT, .def = SEV_MAJOR, .enums = severities},
    {0}};

static void trap_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct profile_trap *t = obj;
    if (t->index != PROFILE_INDEX_NONE && !t->varbind)
        schema_error(ctx, scope->at, "%s: index %s needs the varbind that carries it", scope->path,
                     t->index == PROFILE_INDEX_SUFFIX ? "suffix" : "value");
}

static const struct schema_section trap_section = {
    .fields = trap_fields, .size = sizeof(struct profile_trap), .validate = trap_validate};

/* A trap and the next poll must agree on (device, object, kind): a mapping without its own
 * object uses the object template of the poll rule that reports the same kind. */
static void profile_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    struct profile *p = obj;
    (void)ctx;
    (void)scope;
    for (size_t i = 0; i < p->n_traps; i++) {
        struct profile_trap *t = &p->traps[i];
        if (t->object || !t->kind)
            continue;
        const char *def = t->index == PROFILE_INDEX_NONE ? "" : "{index}";
        if (strcmp(t->kind, "link-down") == 0)
            def = p->links.object;
        else if (strncmp(t->kind, "onu-", 4) == 0 || strcmp(t->kind, "low-rx-power") == 0)
            def = p->onus.object;
        t->object = xstrdup(def ? def : "{index}");
    }
}

#define PF(m) offsetof(struct profile, m)
static const struct schema_field profile_fields[] = {
    {"name", SCHEMA_STRING, PF(name), SCHEMA_REQUIRED, .check = check_name},
    {"uptime", SCHEMA_STRING, PF(uptime), 0, .check = check_oid},
    {"links", SCHEMA_MAP, PF(links), 0, .sub = &links_section},
    {"onus", SCHEMA_MAP, PF(onus), 0, .sub = &onus_section},
    {"counters", SCHEMA_MAP, PF(counters), 0, .sub = &counters_section},
    {"traps", SCHEMA_LIST, PF(traps), 0, .sub = &trap_section, .count_offset = PF(n_traps)},
    {0}};
static const struct schema_section profile_section = {.fields = profile_fields,
                                                      .size = sizeof(struct profile),
                                                      .validate = profile_validate,
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
    {"engine_id", SCHEMA_STRING, DVF(engine_id), 0, .check = check_engine_id},
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

/* ---- traps ---- */

static int check_listen(const char *s, char *err, size_t errsz)
{
    char item[128], host[64];
    int port, n = 0;
    for (const char *cur = s; collector_config_list_next(&cur, item, sizeof item); n++) {
        if (collector_config_endpoint(item, host, sizeof host, &port) < 0) {
            snprintf(err, errsz, "'%s' is not IP:PORT or [IPv6]:PORT", item);
            return -1;
        }
    }
    if (n)
        return 0;
    snprintf(err, errsz, "no address to listen on");
    return -1;
}

#define TF(m) offsetof(struct traps_config, m)
static const struct schema_field traps_fields[] = {
    {"listen", SCHEMA_STRING, TF(listen), 0, .check = check_listen},
    {"credentials", SCHEMA_STRING, TF(credentials), .flags = 0},
    {"engine_id", SCHEMA_STRING, TF(engine_id), 0, .check = check_engine_id},
    {"log_interval", SCHEMA_DURATION, TF(log_interval_ms), SCHEMA_DEFAULT, .def = SEC(10), .min = 0,
     .max = HOUR(1)},
    {0}};

static void traps_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    (void)obj;
    if (scope->map && !yaml_tree_get(scope->map, "listen", NULL))
        schema_error(ctx, scope->at, "%s: the receiver needs a listen address", scope->path);
    if (scope->map && !yaml_tree_get(scope->map, "credentials", NULL))
        schema_error(ctx, scope->at, "%s: list the credentials the receiver accepts", scope->path);
}
static const struct schema_section traps_section = {.fields = traps_fields,
                                                    .validate = traps_validate};

/* traps.credentials names credentials defined in the same section. */
static void collector_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct collector_config *c = obj;
    const struct yaml_tree *traps = yaml_tree_get(scope->map, "traps", NULL), *key = NULL;
    const struct yaml_tree *v = yaml_tree_get(traps, "credentials", &key);
    if (!c->traps.credentials || !v)
        return;
    char name[128];
    for (const char *cur = c->traps.credentials;
         collector_config_list_next(&cur, name, sizeof name);) {
        size_t i = 0;
        while (i < c->n_credentials && strcmp(c->credentials[i].name, name) != 0)
            i++;
        if (i == c->n_credentials)
            schema_error(ctx, v, "collector.traps.credentials: unknown credentials '%s'", name);
    }
}

#define CF(m) offsetof(struct collector_config, m)
static const struct schema_field collector_fields[] = {
    {"icmp", SCHEMA_MAP, CF(icmp), 0, .sub = &icmp_section},
    {"snmp", SCHEMA_MAP, CF(snmp), 0, .sub = &snmp_poll_section},
    {"credentials", SCHEMA_LIST, CF(credentials), 0, .sub = &credentials_section,
     .count_offset = CF(n_credentials)},
    {"profiles", SCHEMA_LIST, CF(profiles), 0, .sub = &profile_section,
     .count_offset = CF(n_profiles)},
    {"devices", SCHEMA_LIST, CF(devices), 0, .sub = &device_section, .count_offset = CF(n_devices)},
    {"traps", SCHEMA_MAP, CF(traps), 0, .sub = &traps_section},
    {0}};

const struct schema_section collector_config_section = {.fields = collector_fields,
                                                        .validate = collector_validate};
