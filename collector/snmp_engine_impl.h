/* snmp_engine_impl: internals shared by snmp_engine.c (devices, sessions, sockets, timers,
 * queues) and snmp_request.c (the PDUs of gets, walks and engine-id probes). Not for callers. */
#ifndef FAROL_SNMP_ENGINE_IMPL_H
#define FAROL_SNMP_ENGINE_IMPL_H

#include "collector/snmp_engine.h"
#include "collector/snmp_v3.h"

/* net-snmp spells GETBULK's fields as macros over errstat/errindex; they would rename ours */
#undef max_repetitions
#undef non_repeaters

struct loop_io;
struct loop_timer;

struct snmp_engine {
    struct loop *loop;
    size_t queue_limit;
    netsnmp_large_fd_set fds; /* snmp_sess_read2 wants one; sized to the highest fd */
    int fds_size;
    struct snmp_v3_keys *keys;
    struct snmp_device *devices;
};

enum snmp_op_kind { SNMP_OP_GET, SNMP_OP_WALK, SNMP_OP_PROBE };

/* One caller request (a get, a whole walk) or an internal engine-id probe. A walk goes back to
 * the head of its device's queue between GETBULK steps, so it holds one in-flight slot at most. */
struct snmp_op {
    struct snmp_device *dev;
    struct snmp_op *next; /* queue or in-flight list */
    enum snmp_op_kind kind;
    int64_t deadline_ms; /* while in flight: when net-snmp will retry or give up */
    int rediscovered;    /* sent again once after the agent's engine id changed */
    int finished;        /* net-snmp may still call back for it within the same read */
    size_t n;
    struct snmp_oid *oids;        /* get */
    struct snmp_oid root, cursor; /* walk */
    size_t count;
    snmp_result_fn result;
    snmp_varbind_fn each;
    snmp_done_fn done;
    void *arg;
};

struct snmp_device {
    struct snmp_engine *eng;
    struct snmp_device *prev, *next;
    struct snmp_device_cfg cfg; /* strings owned (copied) */
    char *peer;                 /* net-snmp peer name: "udp:127.0.0.1:161" */
    void *sess; /* net-snmp single session; a probe session until v3 is discovered */
    int sess_is_probe;
    int fd;
    struct loop_io *io;
    struct loop_timer *timer;
    unsigned char engine_id[64];
    size_t engine_id_len;
    int probing;
    struct snmp_op *sending; /* inside snmp_sess_async_send */
    struct snmp_op *q_head, *q_tail, *flight;
    struct snmp_op *graveyard; /* finished while busy: freed once net-snmp has returned */
    size_t queued;
    int64_t tat_us; /* rate limit: earliest time of the next send */
    int busy;       /* inside net-snmp (read or timeout): defer pumping, closing and freeing */
    int dead, reopen, closing;
    struct snmp_device_stats st;
};

/* A new request PDU for op on d (NULL on allocation failure). */
netsnmp_pdu *snmp_request_pdu(struct snmp_device *d, struct snmp_op *op);
/* Handle a response to op. Returns 1 when op is finished (and freed), 0 when a walk goes on. */
int snmp_request_response(struct snmp_device *d, struct snmp_op *op, netsnmp_pdu *pdu);
/* End op with status (callbacks run) and free it. */
void snmp_request_finish(struct snmp_op *op, int status, const char *msg);

#endif
