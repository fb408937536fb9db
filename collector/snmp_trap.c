/* snmp_trap: sockets, net-snmp sessions and hooks, acceptance and counters of the trap
 * receiver; the mapping itself is snmp_trap_map.c. Design notes in docs/collector-traps.md. */
#include "collector/snmp_trap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/snmp_engine.h"
#include "collector/snmp_netsnmp.h"
#include "collector/snmp_trap_map.h"
#include "collector/snmp_v3.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/strmap.h"
#include "core/xmalloc.h"
#include <net-snmp/library/large_fd_set.h>

#define READ_BUDGET 256 /* datagrams per wake-up: a flood must not starve the loop */
#define MAX_VARBINDS 64 /* more is no notification a profile maps */

struct listener {
    struct snmp_trap *t;
    char *addr;
    void *sess; /* net-snmp single session (owns the transport and socket) */
    int fd;
    struct loop_io *io;
    netsnmp_large_fd_set fds;
};

struct v3_user {
    const char *name;
    int level; /* SNMP_SEC_LEVEL_*: the least a message must have */
};

struct drop_log {
    int64_t last_ms;
    uint64_t suppressed;
};

struct snmp_trap {
    struct loop *loop;
    const struct collector_config *cc;
    struct profile_sink sink;
    struct listener *ls;
    size_t n_ls;
    struct strmap *devices;      /* canonical address -> const struct device_config */
    struct snmp_trap_map **maps; /* per profile, same order as cc->profiles */
    const char **communities;
    size_t n_communities;
    struct v3_user *users;
    size_t n_users;
    struct snmp_trap_stats st;
    struct drop_log logs[SNMP_TRAP_DROP_N];
};

static const char *const drop_names[SNMP_TRAP_DROP_N] = {
    "unknown_source", "bad_community", "unknown_user", "auth_failed",
    "unmapped",       "no_index",      "malformed",    "not_notification"};

const char *snmp_trap_drop_name(enum snmp_trap_drop d)
{
    return d < SNMP_TRAP_DROP_N ? drop_names[d] : "?";
}

void snmp_trap_stats(const struct snmp_trap *t, struct snmp_trap_stats *out)
{
    *out = t->st;
}

/* ---- addresses ---- */

/* The packet's source as canonical text (IPv4-mapped IPv6 as IPv4); "?" if unknown. net-snmp
 * hands UDP/IPv4 sources as netsnmp_indexed_addr_pair and UDP/IPv6 ones as sockaddr_in6:
 * both start with the source sockaddr. */
static const char *source_text(const void *opaque, int olen, char *buf, size_t bufsz)
{
    const struct sockaddr *sa = opaque;
    snprintf(buf, bufsz, "?");
    if (!sa || olen < (int)sizeof(struct sockaddr_in))
        return buf;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)opaque)->sin_addr, buf, (socklen_t)bufsz);
    } else if (sa->sa_family == AF_INET6 && olen >= (int)sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)opaque)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)bufsz);
        else
            inet_ntop(AF_INET6, a, buf, (socklen_t)bufsz);
    }
    return buf;
}

static void canonical(const char *addr, char *buf, size_t bufsz)
{
    unsigned char raw[16];
    if (inet_pton(AF_INET, addr, raw) == 1)
        inet_ntop(AF_INET, raw, buf, (socklen_t)bufsz);
    else if (inet_pton(AF_INET6, addr, raw) == 1)
        inet_ntop(AF_INET6, raw, buf, (socklen_t)bufsz);
    else
        snprintf(buf, bufsz, "%s", addr);
}

/* ---- drops ---- */

static void drop(struct snmp_trap *t, enum snmp_trap_drop why, const char *src, const char *detail)
{
    t->st.dropped[why]++;
    struct drop_log *l = &t->logs[why];
    int64_t now = loop_now_ms(t->loop);
    if (l->last_ms && now - l->last_ms < t->cc->traps.log_interval_ms) {
        l->suppressed++;
        return;
    }
    log_warn("snmp-trap", "dropped from %s: %s%s%s (%llu more since the last such line)", src,
             drop_names[why], detail ? ": " : "", detail ? detail : "",
             (unsigned long long)l->suppressed);
    l->last_ms = now ? now : 1;
    l->suppressed = 0;
}

/* ---- notifications ---- */

/* net-snmp varbinds as farol's (payloads borrowed from the PDU); OID values go to oids[].
 * Over-long OIDs are skipped. */
static size_t varbinds(const netsnmp_variable_list *v, struct snmp_varbind *out,
                       struct snmp_oid *oids, size_t max)
{
    size_t n = 0;
    for (; v && n < max; v = v->next_variable)
        if (snmp_netsnmp_varbind(v, &out[n], &oids[n]) == 0)
            n++;
    return n;
}

/* snmpTrapOID.0's value (v2c/v3) or the RFC 3584 translation (v1); -1 when absent. */
static int trap_oid(const netsnmp_pdu *pdu, const struct snmp_varbind *vbs, size_t n,
                    struct snmp_oid *out)
{
    static const struct snmp_oid snmp_trap_oid0 = {11, {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}};
    if (pdu->command == SNMP_MSG_TRAP) {
        struct snmp_oid ent = {0};
        for (size_t i = 0; i < pdu->enterprise_length && i < SNMP_OID_MAX; i++)
            ent.sub[ent.len++] = (uint32_t)pdu->enterprise[i];
        snmp_trap_map_v1_oid(&ent, pdu->trap_type, pdu->specific_type, out);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (vbs[i].type == SNMP_VT_OID && !snmp_oid_cmp(&vbs[i].oid, &snmp_trap_oid0)) {
            *out = *vbs[i].v.oid;
            return 0;
        }
    }
    return -1;
}

static const struct device_config *device_of(struct snmp_trap *t, const netsnmp_pdu *pdu, char *src,
                                             size_t srcsz)
{
    source_text(pdu->transport_data, pdu->transport_data_length, src, srcsz);
    return strmap_get(t->devices, src);
}

/* Community or v3 user and level accepted; otherwise counted and 0. */
static int accepted(struct snmp_trap *t, const netsnmp_pdu *pdu, const char *src)
{
    if (pdu->version != SNMP_VERSION_3) {
        for (size_t i = 0; i < t->n_communities; i++)
            if (pdu->community && strlen(t->communities[i]) == pdu->community_len &&
                !memcmp(t->communities[i], pdu->community, pdu->community_len))
                return 1;
        drop(t, SNMP_TRAP_DROP_BAD_COMMUNITY, src, NULL); /* communities are secrets */
        return 0;
    }
    for (size_t i = 0; i < t->n_users; i++) {
        if (!pdu->securityName || strcmp(t->users[i].name, pdu->securityName) != 0)
            continue;
        if (pdu->securityLevel >= t->users[i].level)
            return 1;
        drop(t, SNMP_TRAP_DROP_AUTH_FAILED, src, "security level below the user's");
        return 0;
    }
    drop(t, SNMP_TRAP_DROP_UNKNOWN_USER, src, pdu->securityName);
    return 0;
}

static void acknowledge(struct listener *l, netsnmp_pdu *pdu)
{
    netsnmp_pdu *reply = snmp_clone_pdu(pdu);
    if (!reply)
        return;
    reply->command = SNMP_MSG_RESPONSE;
    reply->errstat = 0;
    reply->errindex = 0;
    if (!snmp_sess_send(l->sess, reply)) {
        snmp_free_pdu(reply);
        log_warn("snmp-trap", "cannot acknowledge an inform: %s", snmp_api_errstring(snmp_errno));
        return;
    }
    l->t->st.acked++;
}

static const struct snmp_trap_map *map_of(struct snmp_trap *t, const struct device_config *d)
{
    for (size_t i = 0; d->profile && i < t->cc->n_profiles; i++)
        if (strcmp(t->cc->profiles[i].name, d->profile) == 0)
            return t->maps[i];
    return NULL;
}

static void notification(struct listener *l, netsnmp_pdu *pdu)
{
    struct snmp_trap *t = l->t;
    char src[INET6_ADDRSTRLEN + 1], oidtxt[256], text[320];
    const struct device_config *d = device_of(t, pdu, src, sizeof src);
    if (!d) { /* pre_parse let it through: only a race with a config reload could do this */
        drop(t, SNMP_TRAP_DROP_UNKNOWN_SOURCE, src, NULL);
        return;
    }
    if (!accepted(t, pdu, src))
        return;
    int inform = pdu->command == SNMP_MSG_INFORM;
    if (inform)
        t->st.informs++;
    else
        t->st.traps++;
    static struct snmp_varbind vbs[MAX_VARBINDS];
    static struct snmp_oid oids[MAX_VARBINDS];
    size_t n = varbinds(pdu->variables, vbs, oids, MAX_VARBINDS);
    struct snmp_oid toid;
    if (trap_oid(pdu, vbs, n, &toid) < 0) {
        drop(t, SNMP_TRAP_DROP_MALFORMED, src, "no snmpTrapOID.0 varbind");
    } else {
        snmp_oid_format(&toid, oidtxt, sizeof oidtxt);
        snprintf(text, sizeof text, "%s %s%s",
                 pdu->version == SNMP_VERSION_1    ? "v1"
                 : pdu->version == SNMP_VERSION_2c ? "v2c"
                                                   : "v3",
                 inform ? "inform " : "trap ", oidtxt);
        struct snmp_trap_match m;
        snmp_trap_map_apply(map_of(t, d), d->name, &toid, vbs, n, loop_wall_ms(), text, &t->sink,
                            &m);
        t->st.reports += m.reported;
        log_debug("snmp-trap", "%s from %s: %zu reports", text, d->name, m.reported);
        if (!m.matched)
            drop(t, SNMP_TRAP_DROP_UNMAPPED, src, oidtxt);
        else if (m.no_index)
            drop(t, SNMP_TRAP_DROP_NO_INDEX, src, oidtxt);
    }
    /* acknowledged even when unmapped: the sender delivered it, retrying would not help */
    if (inform)
        acknowledge(l, pdu);
}

static int on_pdu(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
    (void)reqid;
    /* USM calls back with an unauthenticated PDU on authentication failure: ignore it (the
     * post-parse hook counts it) */
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || s->s_snmp_errno || !pdu)
        return 1;
    notification(magic, pdu);
    return 1;
}

/* Before decoding: only configured devices get parsed, let alone answered with Reports. */
static int pre_parse(netsnmp_session *s, netsnmp_transport *tr, void *opaque, int olen)
{
    (void)tr;
    struct listener *l = s->callback_magic;
    char src[INET6_ADDRSTRLEN + 1];
    l->t->st.packets++;
    if (strmap_get(l->t->devices, source_text(opaque, olen, src, sizeof src)))
        return 1;
    drop(l->t, SNMP_TRAP_DROP_UNKNOWN_SOURCE, src, NULL);
    return 0;
}

static enum snmp_trap_drop parse_failure(int rc, int *handshake)
{
    *handshake = 0;
    switch (rc) {
    case SNMPERR_USM_UNKNOWNSECURITYNAME:
        return SNMP_TRAP_DROP_UNKNOWN_USER;
    case SNMPERR_USM_AUTHENTICATIONFAILURE:
    case SNMPERR_USM_DECRYPTIONERROR:
    case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
        return SNMP_TRAP_DROP_AUTH_FAILED;
    case SNMPERR_USM_UNKNOWNENGINEID:
    case SNMPERR_USM_NOTINTIMEWINDOW:
    case SNMPERR_JUST_A_CONTEXT_PROBE:
        *handshake = 1; /* net-snmp has answered with a Report: v3 discovery, as designed */
        return SNMP_TRAP_DROP_N;
    default:
        return SNMP_TRAP_DROP_MALFORMED;
    }
}

/* After decoding: count failures by reason; pass notifications only. */
static int post_parse(netsnmp_session *s, netsnmp_pdu *pdu, int rc)
{
    struct listener *l = s->callback_magic;
    char src[INET6_ADDRSTRLEN + 1];
    source_text(pdu->transport_data, pdu->transport_data_length, src, sizeof src);
    if (rc != SNMPERR_SUCCESS) {
        int handshake;
        enum snmp_trap_drop why = parse_failure(rc, &handshake);
        if (handshake)
            l->t->st.handshakes++;
        else
            drop(l->t, why, src, why == SNMP_TRAP_DROP_UNKNOWN_USER ? pdu->securityName : NULL);
        return 1;
    }
    if (pdu->command == SNMP_MSG_TRAP || pdu->command == SNMP_MSG_TRAP2 ||
        pdu->command == SNMP_MSG_INFORM)
        return 1;
    drop(l->t, SNMP_TRAP_DROP_NOT_NOTIFICATION, src, NULL);
    return 0;
}

/* ---- sockets ---- */

static void on_readable(void *arg, int revents)
{
    struct listener *l = arg;
    (void)revents;
    netsnmp_session *s = snmp_sess_session(l->sess);
    for (int i = 0; i < READ_BUDGET; i++) {
        NETSNMP_LARGE_FD_SET(l->fd, &l->fds);
        if (snmp_sess_read2(l->sess, &l->fds) < 0 && s->s_snmp_errno == SNMPERR_BAD_RECVFROM)
            break; /* drained (EAGAIN) or a socket error: either way, wait for the loop */
    }
}

static int listen_on(struct snmp_trap *t, struct listener *l, const char *addr, char *err,
                     size_t errsz)
{
    char host[64], spec[96];
    int port, af = collector_config_endpoint(addr, host, sizeof host, &port);
    if (af < 0)
        return snprintf(err, errsz, "traps: bad listen address '%s'", addr), -EINVAL;
    snprintf(spec, sizeof spec, af == AF_INET ? "udp:%s:%d" : "udp6:[%s]:%d", host, port);
    netsnmp_transport *tr = netsnmp_transport_open_server("farol", spec);
    if (!tr)
        return snprintf(err, errsz, "traps: cannot listen on %s: %s", addr, strerror(errno)),
               -EADDRINUSE;
    netsnmp_session s;
    snmp_sess_init(&s);
    s.version = SNMP_DEFAULT_VERSION; /* any: v1, v2c and v3 on one port */
    s.isAuthoritative = SNMP_SESS_UNKNOWNAUTH;
    s.flags |= SNMP_FLAGS_DONT_PROBE;
    s.callback = on_pdu;
    s.callback_magic = l;
    l->t = t;
    l->addr = xstrdup(addr);
    l->sess = snmp_sess_add_ex(&s, tr, pre_parse, NULL, post_parse, NULL, NULL, NULL, NULL);
    if (!l->sess)
        return snprintf(err, errsz, "traps: cannot open a session on %s", addr), -EIO;
    l->fd = tr->sock;
    fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
    netsnmp_large_fd_set_init(&l->fds, l->fd + 1);
    l->io = loop_io_new(t->loop, l->fd, LOOP_READ, on_readable, l);
    log_info("snmp-trap", "listening on %s", addr);
    return 0;
}

/* ---- credentials and engine ids ---- */

static const char *const auth_names[] = {"MD5", "SHA", "SHA-256", "SHA-512"};
static const char *const priv_names[] = {"DES", "AES", "AES-256"};

/* Register cr's user at engine id eid in net-snmp's USM table, keys localised to it. */
static int add_user(struct snmp_v3_keys *keys, const struct snmp_credentials_config *cr,
                    const u_char *eid, size_t eidlen, char *err, size_t errsz)
{
    struct snmp_device_cfg dc = {.version = SNMP_V3,
                                 .user = cr->user,
                                 .level = (enum snmp_seclevel)(cr->security_level + 1),
                                 .auth_proto = auth_names[cr->auth_protocol],
                                 .auth_pass = cr->auth_password,
                                 .priv_proto = priv_names[cr->priv_protocol],
                                 .priv_pass = cr->priv_password};
    netsnmp_session s;
    snmp_sess_init(&s);
    if (snmp_v3_check(&dc, err, errsz) < 0 || snmp_v3_session(keys, &dc, &s, err, errsz) < 0)
        return -EINVAL;
    s.version = SNMP_VERSION_3;
    s.securityEngineID = (u_char *)eid;
    s.securityEngineIDLen = eidlen;
    if (usm_create_user_from_session(&s) != SNMPERR_SUCCESS)
        return snprintf(err, errsz, "traps: cannot add v3 user %s", cr->user), -EINVAL;
    return 0;
}

/* The receiver's own engine id, which v3 inform senders discover: configured, or derived from
 * the host name so that it stays the same across restarts (RFC 3411 text format, net-snmp's
 * enterprise number). */
static size_t local_engine_id(const struct traps_config *tc, u_char *out, size_t outsz)
{
    int n = tc->engine_id ? collector_config_engine_id(tc->engine_id, out, outsz) : -1;
    if (n < 0) {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        static const u_char head[] = {0x80, 0x00, 0x1f, 0x88, 0x04};
        memcpy(out, head, sizeof head);
        n = snprintf((char *)out + 5, outsz - 5, "farol-%.20s", host) + 5;
        if ((size_t)n > outsz - 1)
            n = (int)outsz - 1;
    }
    set_exact_engineID(out, (size_t)n);
    /* as net-snmp's own start-up does for its engine id: USM only answers for known engines */
    set_enginetime(out, (u_int)n, snmpv3_local_snmpEngineBoots(), snmpv3_local_snmpEngineTime(),
                   TRUE);
    char hex[2 * 32 + 3] = "0x";
    for (int i = 0; i < n && i < 32; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", out[i]);
    log_info("snmp-trap", "engine id for v3 informs: %s", hex);
    return (size_t)n;
}

static int add_v3_credential(struct snmp_trap *t, struct snmp_v3_keys *keys,
                             const struct snmp_credentials_config *cr, const u_char *own,
                             size_t ownlen, char *err, size_t errsz)
{
    t->users[t->n_users++] = (struct v3_user){cr->user, cr->security_level + 1};
    if (add_user(keys, cr, own, ownlen, err, errsz) < 0)
        return -EINVAL;
    for (size_t i = 0; i < t->cc->n_devices; i++) {
        const struct device_config *d = &t->cc->devices[i];
        u_char eid[32];
        int n = d->engine_id ? collector_config_engine_id(d->engine_id, eid, sizeof eid) : -1;
        if (n > 0 && add_user(keys, cr, eid, (size_t)n, err, errsz) < 0)
            return -EINVAL;
    }
    return 0;
}

static int setup_credentials(struct snmp_trap *t, char *err, size_t errsz)
{
    const struct collector_config *cc = t->cc;
    t->communities = xcalloc(cc->n_credentials + 1, sizeof *t->communities);
    t->users = xcalloc(cc->n_credentials + 1, sizeof *t->users);
    u_char own[33];
    size_t ownlen = local_engine_id(&cc->traps, own, sizeof own);
    struct snmp_v3_keys *keys = snmp_v3_keys_new();
    char name[128];
    int rc = 0;
    for (const char *cur = cc->traps.credentials ? cc->traps.credentials : "";
         rc == 0 && collector_config_list_next(&cur, name, sizeof name);) {
        const struct snmp_credentials_config *cr = NULL;
        for (size_t i = 0; i < cc->n_credentials && !cr; i++)
            if (strcmp(cc->credentials[i].name, name) == 0)
                cr = &cc->credentials[i];
        if (!cr) {
            snprintf(err, errsz, "traps: unknown credentials '%s'", name);
            rc = -EINVAL;
        } else if (cr->version != 3)
            t->communities[t->n_communities++] = cr->community;
        else
            rc = add_v3_credential(t, keys, cr, own, ownlen, err, errsz);
    }
    /* the USM table holds localised copies: the Ku cache is no longer needed */
    snmp_v3_keys_free(keys);
    return rc;
}

static int setup_devices(struct snmp_trap *t, char *err, size_t errsz)
{
    const struct collector_config *cc = t->cc;
    t->maps = xcalloc(cc->n_profiles + 1, sizeof *t->maps);
    for (size_t i = 0; i < cc->n_profiles; i++)
        if (!(t->maps[i] = snmp_trap_map_new(&cc->profiles[i], err, errsz)))
            return -EINVAL;
    t->devices = strmap_new();
    for (size_t i = 0; i < cc->n_devices; i++) {
        char addr[INET6_ADDRSTRLEN + 1];
        canonical(cc->devices[i].address, addr, sizeof addr);
        if (strmap_get(t->devices, addr)) {
            log_debug("snmp-trap", "%s shares address %s: its traps count as the first's",
                      cc->devices[i].name, addr);
            continue;
        }
        strmap_put(t->devices, addr, (void *)&cc->devices[i]);
    }
    return 0;
}

struct snmp_trap *snmp_trap_new(struct loop *loop, const struct collector_config *cc,
                                const struct profile_sink *sink, char *err, size_t errsz)
{
    if (errsz)
        err[0] = '\0';
    if (!cc->traps.listen)
        return NULL;
    snmp_netsnmp_init();
    struct snmp_trap *t = xcalloc(1, sizeof *t);
    t->loop = loop;
    t->cc = cc;
    t->sink = *sink;
    size_t n = 0;
    char addr[128];
    for (const char *cur = cc->traps.listen; collector_config_list_next(&cur, addr, sizeof addr);)
        n++;
    t->ls = xcalloc(n ? n : 1, sizeof *t->ls);
    if (setup_devices(t, err, errsz) < 0 || setup_credentials(t, err, errsz) < 0)
        goto fail;
    for (const char *cur = cc->traps.listen; collector_config_list_next(&cur, addr, sizeof addr);)
        if (listen_on(t, &t->ls[t->n_ls++], addr, err, errsz) < 0)
            goto fail;
    return t;
fail:
    snmp_trap_free(t);
    return NULL;
}

static void nothing(void *v)
{
    (void)v;
}

void snmp_trap_free(struct snmp_trap *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_ls; i++) {
        struct listener *l = &t->ls[i];
        loop_io_free(l->io);
        if (l->sess) {
            snmp_sess_close(l->sess);
            netsnmp_large_fd_set_cleanup(&l->fds);
        }
        free(l->addr);
    }
    free(t->ls);
    for (size_t i = 0; t->maps && i < t->cc->n_profiles; i++)
        snmp_trap_map_free(t->maps[i]);
    free(t->maps);
    if (t->devices)
        strmap_free(t->devices, nothing);
    free(t->communities);
    free(t->users);
    free(t);
}
