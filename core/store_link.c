#include "core/store_link.h"

#include <string.h>

#include "core/log.h"
#include "core/loop.h"

#define RETRY_MS 1000

void store_link_init(struct store_link *db, struct loop *loop, const struct store_config *cfg,
                     const char *subsys)
{
    memset(db, 0, sizeof *db);
    db->subsys = subsys;
    db->loop = loop;
    store_config_copy(&db->cfg, cfg);
}

struct store_sync *store_link_get(struct store_link *db)
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
            log_error(db->subsys, "Redis unreachable: %s (retrying every second)", err);
        db->down = true;
        return NULL;
    }
    if (db->down)
        log_info(db->subsys, "Redis reachable again");
    db->down = false;
    return db->ss;
}

void store_link_failed(struct store_link *db, const char *err)
{
    log_error(db->subsys, "Redis: %s", err);
    store_sync_free(db->ss);
    db->ss = NULL;
    db->down = true;
    db->retry_at = loop_now_ms(db->loop) + RETRY_MS;
}

void store_link_deinit(struct store_link *db)
{
    store_sync_free(db->ss);
    store_config_deinit(&db->cfg);
    memset(db, 0, sizeof *db);
}
