/* snmp_engine: many SNMP devices polled at once on farol's loop. net-snmp encodes and decodes
 * PDUs (one single-session per device, its socket watched by the loop); farol owns timers,
 * queues, per-device concurrency and rate limits, and v3 engine-id discovery (never blocking).
 * See docs/collector-snmp.md.
 *
 * Ownership: the engine owns its devices; snmp_engine_free() cancels and frees them all. Config
 * strings are copied. Varbinds handed to callbacks (and their string/OID payloads) are valid only
 * during the callback. Every request ends with exactly one result/done callback, also when it is
 * cancelled (status -ECANCELED) by snmp_engine_remove() or snmp_engine_free().
 *
 * Status codes in callbacks: 0, or -ETIMEDOUT (no answer after retries), -EACCES (v3
 * authentication or decryption failure), -EPERM (unknown v3 user or unsupported security level),
 * -EPROTO (another Report PDU, or a malformed answer), -EREMOTEIO (the agent's error-status; the
 * message names it and its index), -ECANCELED, -EIO (send failed). */
#ifndef FAROL_SNMP_ENGINE_H
#define FAROL_SNMP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/snmp_oid.h"

struct loop;
struct snmp_engine;
struct snmp_device;

struct snmp_engine_opts {
    size_t queue_limit; /* per device: requests waiting beyond limits; 0 = 10000 */
};

enum snmp_version { SNMP_V1 = 1, SNMP_V2C = 2, SNMP_V3 = 3 };
enum snmp_seclevel { SNMP_SEC_NOAUTH = 1, SNMP_SEC_AUTHNOPRIV = 2, SNMP_SEC_AUTHPRIV = 3 };

struct snmp_device_cfg {
    const char *name;    /* for logs and output; defaults to address */
    const char *address; /* "127.0.0.1", "127.0.0.1:1161", "::1", "[::1]:1161" */
    enum snmp_version version;
    const char *community; /* v1/v2c; default "public" */
    const char *user;      /* v3 */
    enum snmp_seclevel level;
    const char *auth_proto; /* "MD5" "SHA" "SHA-224" "SHA-256" "SHA-384" "SHA-512" */
    const char *auth_pass;
    const char *priv_proto; /* "DES" "AES" (=AES-128) "AES-192" "AES-256" */
    const char *priv_pass;
    int timeout_ms;      /* per attempt; 0 = 1000 */
    int retries;         /* extra attempts; <0 = default 1 */
    int max_repetitions; /* GETBULK; 0 = 25 */
    int max_in_flight;   /* requests outstanding at once; 0 = 1 */
    double max_rate;     /* requests per second; 0 = unlimited */
};

struct snmp_device_stats {
    uint64_t sent, received, timeouts, errors;
    unsigned in_flight, peak_in_flight;
    size_t queued;
};

/* Result of snmp_get: status 0 with n varbinds in request order, or an error with msg. */
typedef void (*snmp_result_fn)(void *arg, int status, const char *msg,
                               const struct snmp_varbind *vbs, size_t n);
/* One varbind of a walk, in agent order. */
typedef void (*snmp_varbind_fn)(void *arg, const struct snmp_varbind *vb);
/* End of a walk: status 0 when the subtree ended normally; count = varbinds delivered. */
typedef void (*snmp_done_fn)(void *arg, int status, const char *msg, size_t count);

/* A new engine on loop (opts may be NULL). Initialises net-snmp once per process (no MIBs). */
struct snmp_engine *snmp_engine_new(struct loop *loop, const struct snmp_engine_opts *opts);
/* Cancel every request (callbacks run with -ECANCELED) and free all devices and the engine.
 * Not from inside an engine callback. */
void snmp_engine_free(struct snmp_engine *e);
/* Add a device; returns it, or NULL with a message in err (bad address, protocol, socket). */
struct snmp_device *snmp_engine_add(struct snmp_engine *e, const struct snmp_device_cfg *cfg,
                                    char *err, size_t errsz);
/* Cancel the device's requests (-ECANCELED) and free it; fine from inside its own callback. */
void snmp_engine_remove(struct snmp_device *d);
/* The device's name. */
const char *snmp_device_name(const struct snmp_device *d);
/* Counters for metrics and tests. */
void snmp_device_stats(const struct snmp_device *d, struct snmp_device_stats *out);

/* GET n OIDs (copied) in one PDU; cb runs once. Returns 0, -EINVAL, or -ENOBUFS (queue full). */
int snmp_get(struct snmp_device *d, const struct snmp_oid *oids, size_t n, snmp_result_fn cb,
             void *arg);
/* Walk the subtree under root (GETBULK for v2c/v3, GETNEXT for v1): each per varbind, then done
 * once. Stops at the subtree's end, endOfMibView, or a non-increasing OID (-EPROTO). Returns 0,
 * -EINVAL or -ENOBUFS. */
int snmp_walk(struct snmp_device *d, const struct snmp_oid *root, snmp_varbind_fn each,
              snmp_done_fn done, void *arg);

#endif
