/* correlator_config: the `correlator:` section of farol's configuration
 * (docs/configuration.md): correlation timers and thresholds, usage thresholds and the
 * maintenance pre-start recomputation. Filled by config_load() as part of struct config and
 * freed with it. */
#ifndef FAROL_CORRELATOR_CONFIG_H
#define FAROL_CORRELATOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct schema_section;

struct correlator_config {
    int64_t hold_down_ms;            /* suspected -> confirmed */
    int64_t clear_hold_ms;           /* root clear this long -> resolved */
    int64_t window_ms;               /* correlation window (inference, unknown subtrees) */
    double infer_fraction;           /* of the monitored ONUs below a PON/splitter */
    int64_t infer_min;               /* least monitored ONUs for inference */
    int64_t flap_count;              /* more changes than this within flap_window: flapping */
    int64_t flap_window_ms;          /* ... and how long a flapping node must stay up */
    int64_t settle_ms;               /* after a root recovers, children wait this long */
    int64_t batch_ms;                /* alarms applied within this delay are correlated together */
    int64_t topology_poll_ms;        /* how often a new topology version is looked for */
    int64_t maintenance_prestart_ms; /* windows' affected sets are recomputed this early */
    int64_t *usage_thresholds;       /* percents of the cap, ascending (first: list shape) */
    size_t n_usage_thresholds;
};

/* The schema of the section, for config.c's root table. */
extern const struct schema_section correlator_config_section;

#endif
