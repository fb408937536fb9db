/* collector_config: the `collector:` section of farol's configuration (docs/configuration.md):
 * ICMP probing defaults and the devices the collector watches. Filled by config_load() as part
 * of struct config and freed with it. */
#ifndef FAROL_COLLECTOR_CONFIG_H
#define FAROL_COLLECTOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct schema_section;

struct icmp_config {
    int64_t interval_ms; /* period between probes to one device */
    int64_t timeout_ms;  /* how long a probe waits for its reply */
    int retries;         /* extra probes within a round before the round counts as lost */
    int down_after;      /* consecutive lost rounds before a device is down */
    int up_after;        /* consecutive answered rounds before it is up again */
};

struct device_config {
    char *name;    /* unique; the `device` of its alarms and its topology binding */
    char *address; /* numeric IPv4 or IPv6 address */
    int icmp;      /* probe it with ICMP (default true) */
};

struct collector_config {
    struct icmp_config icmp;
    struct device_config *devices;
    size_t n_devices;
};

/* The schema of the section, for config.c's root table. */
extern const struct schema_section collector_config_section;

#endif
