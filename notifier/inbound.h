/* inbound: what gateways call farol back with, on the embedded HTTP server (core/httpd.h):
 *   GET {prefix}/dlr?id=<hex>&type=N   Kannel delivery reports -> the message's record
 *                                      (notif_store) becomes delivered / failed / ...;
 *   GET {prefix}/mo?from=%p&text=%a    Kannel inbound messages: a stop word (STOP, SAIR, BAJA,
 *                                      СТОП, توقف, ...) opts the number out of every message, a
 *                                      start word (START, VOLTAR, ALTA, ...) opts it back in.
 * Opt-outs live in Redis (farol:optout:{E.164}) so every notifier instance honours them.
 * Kannel signs nothing: anyone who reaches these routes could forge reports or undo a STOP,
 * hence the optional shared key, compared in constant time and never logged.
 * The Redis connection comes from the caller's db callbacks (it may be reconnected). */
#ifndef FAROL_INBOUND_H
#define FAROL_INBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/store.h"

struct httpd;

struct inbound_db {
    struct store_sync *(*get)(void *arg);       /* NULL while Redis is unreachable */
    void (*failed)(void *arg, const char *err); /* the connection broke */
    void *arg;
};

struct inbound_stats {
    unsigned long dlrs, dlrs_unknown, mo, opt_outs, opt_ins, errors;
    unsigned long dlrs_stale; /* reports older than the record (kept as it was) */
    unsigned long refused;    /* calls without the configured key (403) */
};

struct inbound;

/* Route prefix ("/kannel") on h; db and key are copied. With a key (a secret), every call must
 * carry key=<it> in its query (put it in the channel's dlr_url and in Kannel's MO get-url):
 * else 403 and nothing is read. Returns NULL with a message in err. */
struct inbound *inbound_new(struct httpd *h, const char *prefix, const struct inbound_db *db,
                            const char *key, char *err, size_t errsz);
/* Free (NULL is fine); the routes must not be called afterwards (free the httpd first). */
void inbound_free(struct inbound *in);
/* Counters so far. */
void inbound_get_stats(const struct inbound *in, struct inbound_stats *out);
/* Is phone (E.164) opted out? 1 yes, 0 no, -EIO (do not send: the answer is unknown). */
int inbound_opted_out(struct store_sync *ss, const char *phone, char *err, size_t errsz);
/* 1 for a stop word, 2 for a start word, 0 otherwise (trimmed, case-insensitive for ASCII). */
int inbound_keyword(const char *text);

#endif
