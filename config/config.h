/* config: farol's YAML configuration, loaded into typed structs.
 * Every key is validated (type, range, enum, duration, required, unknown keys rejected);
 * every problem found is reported as "FILE:LINE:COL: message", all of them in one run.
 * ${ENV_VAR} in a scalar is replaced by the variable's value; an unset variable is an error.
 * struct config is caller-owned: config_load() fills it, config_deinit() frees what it owns.
 * Layers: yaml_tree.h (YAML -> node tree with positions), schema.h (table-driven validator),
 * scalar.h (env expansion, durations); the section tables live in config.c.
 * Reference for users: docs/configuration.md. */
#ifndef FAROL_CONFIG_H
#define FAROL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config/collector_config.h"
#include "config/correlator_config.h"
#include "config/notifier_config.h"
#include "core/bus.h"
#include "core/log.h"
#include "core/store.h"

struct config {
    char *path;
    struct {
        enum log_level level;
        enum log_format format;
    } log;
    struct store_config redis;
    struct bus_config bus;
    struct {
        int64_t drain_timeout_ms; /* how long SIGTERM waits for in-flight work */
    } daemon;
    struct collector_config collector;
    struct correlator_config correlator;
    struct notifier_config notifier;
};

/* All problems found in one load, each "FILE:LINE:COL: message". Caller-owned. */
struct config_diag {
    char **msgs;
    size_t n;
};

void config_diag_init(struct config_diag *d);
void config_diag_deinit(struct config_diag *d);

/* Load and validate path into cfg. Returns 0, or a negative errno with every problem in diag
 * (cfg then holds nothing to free). */
int config_load(const char *path, struct config *cfg, struct config_diag *diag);
/* Free what cfg owns and zero it. */
void config_deinit(struct config *cfg);

#endif
