#include "correlator/corr_db.h"

#include <string.h>

#include "core/log.h"
#include "core/loop.h"

#define RETRY_MS 1000

void corr_db_init(struct corr_db *db, struct loop *loop, const struct store_config *cfg)
{
    memset(db, 0, sizeof *db);
    db->loop = loop;
    store_config_copy(&db->cfg, cfg);
}

struct store_sync *corr_db_get(struct corr_db *db)
{
    if (db->ss)
        return db->ss;
    int64_t now = loop_now_ms(db->loop);
    if (now < db->retry_at)
        return NULL;
    char err[256];
    db->ss = store_sync_connect(&db->cfg, err, sizeof err);
    if (!db->ss) {
        db->retry_at = now + RETRY_MS;
        if (!db->down)
            log_error("correlator", "Redis unreachable: %s (retrying every second)", err);
        db->down = true;
        return NULL;
    }
    if (db->down)
        log_info("correlator", "Redis reachable again");
    db->down = false;
    return db->ss;
}

void corr_db_failed(struct corr_db *db, const char *err)
{
    log_error("correlator", "Redis: %s", err);
    store_sync_free(db->ss);
    db->ss = NULL;
    db->down = true;
    db->retry_at = loop_now_ms(db->loop) + RETRY_MS;
}

void corr_db_deinit(struct corr_db *db)
{
    store_sync_free(db->ss);
    store_config_deinit(&db->cfg);
    memset(db, 0, sizeof *db);
}
