/* channel_kannel: SMS through Kannel's sendsms HTTP interface (smsbox). Texts in the GSM 03.38
 * alphabet go as coding=0, anything else as coding=2 (UCS-2), both with charset=UTF-8, since
 * Kannel turns characters outside GSM into '?' otherwise. With a dlr_url, every message asks
 * for delivery reports (dlr-mask 31) to dlr_url?id=<hex of farol's id>&type=%d; hex, because
 * Kannel expands '%' escapes inside dlr-url. channel_kannel_dlr() reads such a callback. */
#ifndef FAROL_CHANNEL_KANNEL_H
#define FAROL_CHANNEL_KANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "notifier/channel.h"

struct http_client;

struct channel_kannel_config {
    const char *name;        /* the channel's name in the configuration */
    const char *sendsms_url; /* e.g. http://127.0.0.1:13013/cgi-bin/sendsms */
    const char *username;
    const char *password; /* a secret: never logged */
    const char *from;     /* sender id, or NULL for Kannel's default */
    const char *smsc;     /* route to this smsc-id, or NULL */
    const char *dlr_url;  /* farol's receiver for delivery reports, or NULL for none */
    int64_t timeout_ms;   /* per attempt; 0: 10 s */
};

/* What a delivery report says. */
enum kannel_dlr {
    KANNEL_DLR_DELIVERED, /* type 1: on the handset */
    KANNEL_DLR_FAILED,    /* type 2 (undelivered) or 16 (rejected by the SMSC) */
    KANNEL_DLR_BUFFERED,  /* type 4: queued in the SMSC */
    KANNEL_DLR_ACCEPTED   /* type 8: the SMSC took it */
};

/* A Kannel channel sending through http (borrowed; must outlive the channel); cfg is copied.
 * NULL with a message in err when a required setting is missing. */
struct channel *channel_kannel_new(struct http_client *http,
                                   const struct channel_kannel_config *cfg, char *err,
                                   size_t errsz);
/* Read a delivery-report callback's query string: *id (farol's message id, caller frees) and
 * *dlr. Returns 0, or -EINVAL for a query that is not one of ours. */
int channel_kannel_dlr(const char *query, char **id, enum kannel_dlr *dlr);

#endif
