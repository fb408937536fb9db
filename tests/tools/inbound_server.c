/* inbound_server: farol's inbound routes (notifier/inbound.c) on an embedded HTTP server, for
 * the integration test against a real Kannel. Usage: inbound_server REDIS_ADDRESS PORT_FILE.
 * Listens on 127.0.0.1 (any port, written to PORT_FILE), serves /kannel/dlr and /kannel/mo
 * until SIGTERM, then prints its counters on stderr. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "notifier/inbound.h"

struct db {
    struct store_config cfg;
    struct store_sync *ss;
};

static struct store_sync *db_get(void *arg)
{
    struct db *d = arg;
    char err[256];
    if (!d->ss)
        d->ss = store_sync_connect(&d->cfg, err, sizeof err);
    return d->ss;
}

static void db_failed(void *arg, const char *err)
{
    struct db *d = arg;
    fprintf(stderr, "inbound_server: redis: %s\n", err);
    store_sync_free(d->ss);
    d->ss = NULL;
}

static void on_term(void *arg, int signum)
{
    (void)signum;
    loop_stop(arg);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: inbound_server REDIS_ADDRESS PORT_FILE [KEY]\n");
        return 2;
    }
    char err[256];
    struct db d = {0};
    store_config_init(&d.cfg);
    free(d.cfg.address);
    d.cfg.address = strdup(argv[1]);
    struct loop *loop = loop_new();
    struct httpd *h = httpd_new(loop, "127.0.0.1:0", 65536, err, sizeof err);
    struct inbound_db idb = {db_get, db_failed, &d};
    struct inbound *in =
        h ? inbound_new(h, "/kannel", &idb, argc == 4 ? argv[3] : NULL, err, sizeof err) : NULL;
    if (!in) {
        fprintf(stderr, "inbound_server: %s\n", err);
        httpd_free(h);
        loop_free(loop);
        store_config_deinit(&d.cfg);
        return 1;
    }
    FILE *f = fopen(argv[2], "w");
    fprintf(f, "%d\n", httpd_port(h));
    fclose(f);
    struct loop_signal *s = loop_signal_new(loop, SIGTERM, on_term, loop);
    loop_run(loop);
    struct inbound_stats st;
    inbound_get_stats(in, &st);
    fprintf(stderr,
            "dlrs=%lu unknown=%lu mo=%lu opt_outs=%lu opt_ins=%lu errors=%lu stale=%lu "
            "refused=%lu\n",
            st.dlrs, st.dlrs_unknown, st.mo, st.opt_outs, st.opt_ins, st.errors, st.dlrs_stale,
            st.refused);
    loop_signal_free(s);
    httpd_free(h);
    inbound_free(in);
    loop_free(loop);
    store_sync_free(d.ss);
    store_config_deinit(&d.cfg);
    return 0;
}
