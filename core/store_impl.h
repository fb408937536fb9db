/* store_impl: what the store's own files (store.c, store_sync.c, store_config.c) share.
 * Private to them; nothing else includes it. */
#ifndef FAROL_STORE_IMPL_H
#define FAROL_STORE_IMPL_H

#include <stddef.h>

/* A parsed store address: either unix_path or host + port is set; strings owned here. */
struct store_addr {
    char *unix_path;
    char *host;
    int port;
};

/* Parse "unix:/path", "host:port" or "[v6]:port". Returns 0 or -EINVAL with a message. */
int store_addr_parse(const char *address, struct store_addr *out, char *err, size_t errsz);
/* Free the strings of a parsed address. */
void store_addr_deinit(struct store_addr *a);
/* Copy a server error message into out for logging, withholding it if it echoes the
 * password (Redis messages do not today; this keeps it so). */
void store_scrub(const char *msg, const char *password, char *out, size_t outsz);

#endif
