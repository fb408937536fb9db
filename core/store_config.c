/* store_config: the store's configuration, address parsing and key building, shared by the
 * asynchronous (store.c) and blocking (store_sync.c) connections. */
#include "core/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_impl.h"
#include "core/xmalloc.h"

void store_config_init(struct store_config *cfg)
{
    *cfg = (struct store_config){
        .address = xstrdup("127.0.0.1:6379"),
        .prefix = xstrdup("farol:"),
        .connect_timeout_ms = 1000,
        .command_timeout_ms = 2000,
        .reconnect_min_ms = 100,
        .reconnect_max_ms = 5000,
    };
}

static void free_secret(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void store_config_deinit(struct store_config *cfg)
{
    free(cfg->address);
    free_secret(cfg->password);
    free(cfg->prefix);
    cfg->address = cfg->password = cfg->prefix = NULL;
}

void store_config_copy(struct store_config *dst, const struct store_config *src)
{
    *dst = *src;
    dst->address = xstrdup(src->address);
    dst->password = xstrdup(src->password);
    dst->prefix = xstrdup(src->prefix);
}

int store_addr_parse(const char *address, struct store_addr *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    if (address && strncmp(address, "unix:", 5) == 0 && address[5] == '/') {
        out->unix_path = xstrdup(address + 5);
        return 0;
    }
    const char *colon = address ? strrchr(address, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == address || end == colon + 1 || *end || port < 1 || port > 65535) {
        snprintf(err, errsz, "'%s' is not host:port or unix:/path", address ? address : "");
        return -EINVAL;
    }
    const char *host = address;
    size_t hostlen = (size_t)(colon - address);
    if (hostlen > 2 && host[0] == '[' && host[hostlen - 1] == ']') {
        host++;
        hostlen -= 2;
    }
    out->host = xstrndup(host, hostlen);
    out->port = (int)port;
    return 0;
}

void store_addr_deinit(struct store_addr *a)
{
    free(a->unix_path);
    free(a->host);
    memset(a, 0, sizeof *a);
}

void store_scrub(const char *msg, const char *password, char *out, size_t outsz)
{
    if (!msg)
        msg = "";
    if (password && *password && strstr(msg, password))
        msg = "(server message withheld: it contains the password)";
    snprintf(out, outsz, "%s", msg);
}

int store_vkey(const char *prefix, char *buf, size_t bufsz, const char *fmt, va_list ap)
{
    int n = snprintf(buf, bufsz, "%s", prefix ? prefix : "farol:");
    if (n < 0 || (size_t)n >= bufsz)
        return -ENAMETOOLONG;
    int m = vsnprintf(buf + n, bufsz - (size_t)n, fmt, ap);
    if (m < 0 || (size_t)n + (size_t)m >= bufsz)
        return -ENAMETOOLONG;
    return n + m;
}
