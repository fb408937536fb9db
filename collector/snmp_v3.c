#include "collector/snmp_v3.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/strmap.h"
#include "core/xmalloc.h"

struct proto {
    const char *name;
    const oid *oid;
    size_t len;
};

static const struct proto auth_protos[] = {
    {"MD5", usmHMACMD5AuthProtocol, 10},           {"SHA", usmHMACSHA1AuthProtocol, 10},
    {"SHA1", usmHMACSHA1AuthProtocol, 10},         {"SHA-1", usmHMACSHA1AuthProtocol, 10},
    {"SHA-224", usmHMAC128SHA224AuthProtocol, 10}, {"SHA224", usmHMAC128SHA224AuthProtocol, 10},
    {"SHA-256", usmHMAC192SHA256AuthProtocol, 10}, {"SHA256", usmHMAC192SHA256AuthProtocol, 10},
    {"SHA-384", usmHMAC256SHA384AuthProtocol, 10}, {"SHA384", usmHMAC256SHA384AuthProtocol, 10},
    {"SHA-512", usmHMAC384SHA512AuthProtocol, 10}, {"SHA512", usmHMAC384SHA512AuthProtocol, 10},
};

static const struct proto priv_protos[] = {
    {"DES", usmDESPrivProtocol, 10},      {"AES", usmAESPrivProtocol, 10},
    {"AES128", usmAESPrivProtocol, 10},   {"AES-128", usmAESPrivProtocol, 10},
    {"AES192", usmAES192PrivProtocol, 9}, {"AES-192", usmAES192PrivProtocol, 9},
    {"AES256", usmAES256PrivProtocol, 9}, {"AES-256", usmAES256PrivProtocol, 9},
};

struct ku {
    u_char key[USM_AUTH_KU_LEN];
    size_t len;
};

struct snmp_v3_keys {
    struct strmap *map; /* "proto\npassphrase" -> struct ku */
};

static const struct proto *find(const struct proto *t, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (!strcasecmp(t[i].name, name))
            return &t[i];
    return NULL;
}

#define NPROTO(t) (sizeof t / sizeof t[0])

struct snmp_v3_keys *snmp_v3_keys_new(void)
{
    struct snmp_v3_keys *k = xcalloc(1, sizeof *k);
    k->map = strmap_new();
    return k;
}

void snmp_v3_keys_free(struct snmp_v3_keys *k)
{
    if (!k)
        return;
    strmap_free(k->map, free);
    free(k);
}

int snmp_v3_check(const struct snmp_device_cfg *cfg, char *err, size_t errsz)
{
    if (!cfg->user || !*cfg->user)
        return snprintf(err, errsz, "v3 needs a user name"), -EINVAL;
    if (cfg->level < SNMP_SEC_NOAUTH || cfg->level > SNMP_SEC_AUTHPRIV)
        return snprintf(err, errsz, "bad v3 security level"), -EINVAL;
    if (cfg->level >= SNMP_SEC_AUTHNOPRIV) {
        if (!find(auth_protos, NPROTO(auth_protos), cfg->auth_proto ? cfg->auth_proto : "SHA"))
            return snprintf(err, errsz, "unknown auth protocol '%s'", cfg->auth_proto), -EINVAL;
        /* RFC 3414: passphrases shorter than 8 characters are refused by agents too */
        if (!cfg->auth_pass || strlen(cfg->auth_pass) < 8)
            return snprintf(err, errsz, "auth passphrase needs at least 8 characters"), -EINVAL;
    }
    if (cfg->level == SNMP_SEC_AUTHPRIV) {
        if (!find(priv_protos, NPROTO(priv_protos), cfg->priv_proto ? cfg->priv_proto : "AES"))
            return snprintf(err, errsz, "unknown priv protocol '%s'", cfg->priv_proto), -EINVAL;
        if (!cfg->priv_pass || strlen(cfg->priv_pass) < 8)
            return snprintf(err, errsz, "priv passphrase needs at least 8 characters"), -EINVAL;
    }
    return 0;
}

/* Ku of pass under hash p, derived once and cached. */
static const struct ku *ku_get(struct snmp_v3_keys *k, const struct proto *p, const char *pass)
{
    char *key = xasprintf("%p\n%s", (const void *)p->oid, pass);
    struct ku *v = strmap_get(k->map, key);
    if (!v) {
        v = xcalloc(1, sizeof *v);
        v->len = sizeof v->key;
        if (generate_Ku(p->oid, (u_int)p->len, (const u_char *)pass, strlen(pass), v->key,
                        &v->len) != SNMPERR_SUCCESS) {
            free(v);
            v = NULL;
        } else {
            strmap_put(k->map, key, v);
        }
    }
    explicit_bzero(key, strlen(key));
    free(key);
    return v;
}

int snmp_v3_session(struct snmp_v3_keys *k, const struct snmp_device_cfg *cfg, netsnmp_session *s,
                    char *err, size_t errsz)
{
    static const int levels[] = {0, SNMP_SEC_LEVEL_NOAUTH, SNMP_SEC_LEVEL_AUTHNOPRIV,
                                 SNMP_SEC_LEVEL_AUTHPRIV};
    s->securityName = (char *)cfg->user;
    s->securityNameLen = strlen(cfg->user);
    s->securityLevel = levels[cfg->level];
    s->securityModel = SNMP_SEC_MODEL_USM;
    if (cfg->level < SNMP_SEC_AUTHNOPRIV)
        return 0;
    const struct proto *a =
        find(auth_protos, NPROTO(auth_protos), cfg->auth_proto ? cfg->auth_proto : "SHA");
    const struct ku *ku = ku_get(k, a, cfg->auth_pass);
    if (!ku)
        return snprintf(err, errsz, "cannot derive the auth key"), -EINVAL;
    s->securityAuthProto = (oid *)a->oid;
    s->securityAuthProtoLen = a->len;
    memcpy(s->securityAuthKey, ku->key, ku->len);
    s->securityAuthKeyLen = ku->len;
    if (cfg->level < SNMP_SEC_AUTHPRIV)
        return 0;
    const struct proto *p =
        find(priv_protos, NPROTO(priv_protos), cfg->priv_proto ? cfg->priv_proto : "AES");
    /* the privacy key is derived with the authentication hash (RFC 3414 / 3826) */
    const struct ku *kp = ku_get(k, a, cfg->priv_pass);
    if (!kp)
        return snprintf(err, errsz, "cannot derive the priv key"), -EINVAL;
    s->securityPrivProto = (oid *)p->oid;
    s->securityPrivProtoLen = p->len;
    memcpy(s->securityPrivKey, kp->key, kp->len);
    s->securityPrivKeyLen = kp->len;
    return 0;
}

void snmp_v3_probe_user(void)
{
    /* net-snmp's own probe adds this blank user too; without it the probe cannot be built */
    if (usm_get_user(NULL, 0, ""))
        return;
    struct usmUser *u = usm_create_user();
    u->name = strdup("");
    u->secName = strdup("");
    u->authProtocolLen = OID_LENGTH(usmNoAuthProtocol);
    u->authProtocol = snmp_duplicate_objid(usmNoAuthProtocol, u->authProtocolLen);
    u->privProtocolLen = OID_LENGTH(usmNoPrivProtocol);
    u->privProtocol = snmp_duplicate_objid(usmNoPrivProtocol, u->privProtocolLen);
    usm_add_user(u);
}

int snmp_v3_send_status(int snmperr, const char **msg)
{
    switch (snmperr) {
    case SNMPERR_AUTHENTICATION_FAILURE:
    case SNMPERR_USM_AUTHENTICATIONFAILURE:
    case SNMPERR_USM_ENCRYPTIONERROR:
        *msg = "cannot authenticate or encrypt the request";
        return -EACCES;
    case SNMPERR_UNKNOWN_USER_NAME:
    case SNMPERR_USM_UNKNOWNSECURITYNAME:
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
    case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
        *msg = "user or security level not usable";
        return -EPERM;
    default:
        *msg = snmp_api_errstring(snmperr);
        return -EIO;
    }
}

int snmp_v3_report_status(netsnmp_pdu *report, const char **msg)
{
    switch (snmpv3_get_report_type(report)) {
    case SNMPERR_AUTHENTICATION_FAILURE:
        *msg = "authentication failure (wrong auth passphrase or protocol)";
        return -EACCES;
    case SNMPERR_DECRYPTION_ERR:
        *msg = "decryption error (wrong priv passphrase or protocol)";
        return -EACCES;
    case SNMPERR_UNKNOWN_USER_NAME:
        *msg = "unknown user name";
        return -EPERM;
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
        *msg = "unsupported security level for this user";
        return -EPERM;
    case SNMPERR_NOT_IN_TIME_WINDOW:
        *msg = "not in time window";
        return -EPROTO;
    case SNMPERR_UNKNOWN_ENG_ID:
        *msg = "unknown engine id";
        return -EPROTO;
    default:
        *msg = "unexpected report PDU";
        return -EPROTO;
    }
}
