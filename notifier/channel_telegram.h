/* channel_telegram: messages to a Telegram chat through the Bot API: POST
 * {base}/bot<token>/sendMessage with JSON {"chat_id", "text"}. The token sits in the URL path,
 * so the URL is never logged or put into an error (http_client logs only the host; curl's own
 * messages are scrubbed of the token here). {"ok": true, "result": {"message_id": N}} is sent
 * with provider id N; {"ok": false, "error_code", "description", "parameters"} errors are
 * failures ("bot was blocked by the user", "chat not found"), except 429 (retried after
 * parameters.retry_after seconds, else Retry-After) and 5xx. */
#ifndef FAROL_CHANNEL_TELEGRAM_H
#define FAROL_CHANNEL_TELEGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "notifier/channel.h"

struct http_client;

struct channel_telegram_config {
    const char *name;
    const char *base_url; /* NULL: https://api.telegram.org */
    const char *token;    /* the bot's token, "123456:ABC...": a secret, never logged */
    int64_t timeout_ms;   /* 0: 10 s */
};

/* A Telegram channel over http (borrowed; must outlive the channel); cfg is copied. Messages'
 * `to` is a chat id (digits, "-100..." for groups) or "@channelusername". NULL with a message in
 * err when the token is missing. */
struct channel *channel_telegram_new(struct http_client *http,
                                     const struct channel_telegram_config *cfg, char *err,
                                     size_t errsz);

#endif
