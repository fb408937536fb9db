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
    {"up_after", SCHEMA_INT, IF(up_after), SCHEMA_DEFAULT, .size = sizeof(int), .def = 2,
     .min = 1, .max = 100},
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

#define DVF(m) offsetof(struct device_config, m)
static const struct schema_field device_fields[] = {
    {"name", SCHEMA_STRING, DVF(name), SCHEMA_REQUIRED, .check = check_name},
    {"address", SCHEMA_STRING, DVF(address), SCHEMA_REQUIRED, .check = check_ip},
    {"icmp", SCHEMA_BOOL, DVF(icmp), SCHEMA_DEFAULT, .def = 1},
    {0}};
static const struct schema_section device_section = {.fields = device_fields,
                                                     .size = sizeof(struct device_config),
                                                     .defines = "device",
                                                     .name_key = "name"};

#define CF(m) offsetof(struct collector_config, m)
static const struct schema_field collector_fields[] = {
    {"icmp", SCHEMA_MAP, CF(icmp), 0, .sub = &icmp_section},
    {"devices", SCHEMA_LIST, CF(devices), 0, .sub = &device_section,
     .count_offset = CF(n_devices)},
    {0}};

const struct schema_section collector_config_section = {.fields = collector_fields};
