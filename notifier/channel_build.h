/* channel_build: makes the channel a `notifier.channels` entry describes, whatever its kind, so
 * the stage and `farol notify test` build channels the same way. */
#ifndef FAROL_CHANNEL_BUILD_H
#define FAROL_CHANNEL_BUILD_H

#include <stddef.h>

#include "notifier/channel.h"

struct channel_config;
struct http_client;

/* A channel for cc over http (borrowed; it must outlive the channel). NULL with a message in
 * err when the kind's constructor refuses the settings. Free with channel_free(). */
struct channel *channel_build(const struct channel_config *cc, struct http_client *http, char *err,
                              size_t errsz);

#endif
