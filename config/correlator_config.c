#include "config/correlator_config.h"

#include <stddef.h>

#include "config/schema.h"
#include "core/xmalloc.h"

#define SEC(n) ((int64_t)(n)*1000)
#define MIN(n) ((int64_t)(n)*60000)
#define HOUR(n) ((int64_t)(n)*3600000)

#define KF(m) offsetof(struct correlator_config, m)
#define DUR(key, m, d, lo, hi)                                                                     \
    {                                                                                              \
        key, SCHEMA_DURATION, KF(m), SCHEMA_DEFAULT, .def = d, .min = lo, .max = hi                \
    }
static const struct schema_field correlator_fields[] = {
    DUR("hold_down", hold_down_ms, SEC(60), 0, HOUR(1)),
    DUR("clear_hold", clear_hold_ms, SEC(30), 0, HOUR(1)),
    DUR("window", window_ms, SEC(120), SEC(1), HOUR(1)),
    {"infer_fraction", SCHEMA_NUMBER, KF(infer_fraction), SCHEMA_DEFAULT, .def_num = 0.8, .min = 0,
     .max = 1},
    {"infer_min", SCHEMA_INT, KF(infer_min), SCHEMA_DEFAULT, .size = sizeof(int64_t), .def = 4,
     .min = 1, .max = 100000},
    {"flap_count", SCHEMA_INT, KF(flap_count), SCHEMA_DEFAULT, .size = sizeof(int64_t), .def = 4,
     .min = 0, .max = 1000},
    DUR("flap_window", flap_window_ms, MIN(10), SEC(1), HOUR(24)),
    DUR("settle", settle_ms, SEC(60), 0, HOUR(1)),
    DUR("batch", batch_ms, 100, 1, SEC(10)),
    DUR("topology_poll", topology_poll_ms, SEC(5), 100, HOUR(1)),
    DUR("maintenance_prestart", maintenance_prestart_ms, MIN(10), 0, HOUR(48)),
    {"usage_thresholds", SCHEMA_INTS, KF(usage_thresholds), 0, .min = 1, .max = 1000,
     .count_offset = KF(n_usage_thresholds)},
    {0}};

static void correlator_init(void *obj)
{
    struct correlator_config *c = obj;
    c->usage_thresholds = xmalloc(2 * sizeof *c->usage_thresholds);
    c->usage_thresholds[0] = 80;
    c->usage_thresholds[1] = 100;
    c->n_usage_thresholds = 2;
}

static void correlator_validate(struct schema_ctx *ctx, void *obj, const struct schema_scope *scope)
{
    const struct correlator_config *c = obj;
    for (size_t i = 1; i < c->n_usage_thresholds; i++)
        if (c->usage_thresholds[i] <= c->usage_thresholds[i - 1]) {
            schema_error(ctx, scope->at, "%s.usage_thresholds must be ascending (%lld after %lld)",
                         scope->path, (long long)c->usage_thresholds[i],
                         (long long)c->usage_thresholds[i - 1]);
            return;
        }
}

const struct schema_section correlator_config_section = {
    .fields = correlator_fields, .init = correlator_init, .validate = correlator_validate};
