/* snmp_request: PDUs for gets, walks and engine-id probes, and turning answers into farol
 * varbinds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "collector/snmp_engine_impl.h"
#include "collector/snmp_netsnmp.h"
#include "core/xmalloc.h"

static void add_oid(netsnmp_pdu *pdu, const struct snmp_oid *o)
{
    oid tmp[SNMP_OID_MAX];
    for (uint32_t i = 0; i < o->len; i++)
        tmp[i] = o->sub[i];
    snmp_add_null_var(pdu, tmp, o->len);
}

static netsnmp_pdu *probe_pdu(void)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    pdu->version = SNMP_VERSION_3;
    pdu->securityName = xstrdup("");
    pdu->securityNameLen = 0;
    pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
    pdu->securityModel = SNMP_SEC_MODEL_USM;
    return pdu;
}

netsnmp_pdu *snmp_request_pdu(struct snmp_device *d, struct snmp_op *op)
{
    netsnmp_pdu *pdu;
    switch (op->kind) {
    case SNMP_OP_PROBE:
        return probe_pdu();
    case SNMP_OP_GET:
        pdu = snmp_pdu_create(SNMP_MSG_GET);
        for (size_t i = 0; i < op->n; i++)
            add_oid(pdu, &op->oids[i]);
        return pdu;
    case SNMP_OP_WALK:
        if (d->cfg.version == SNMP_V1) {
            pdu = snmp_pdu_create(SNMP_MSG_GETNEXT);
        } else {
            pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
            pdu->errstat = 0;                       /* non-repeaters */
            pdu->errindex = d->cfg.max_repetitions; /* max-repetitions */
        }
        add_oid(pdu, &op->cursor);
        return pdu;
    }
    return NULL;
}

void snmp_request_finish(struct snmp_op *op, int status, const char *msg)
{
    if (status && op->dev && op->kind != SNMP_OP_PROBE)
        op->dev->st.errors++;
    if (op->kind == SNMP_OP_GET && op->result)
        op->result(op->arg, status, msg, NULL, 0);
    else if (op->kind == SNMP_OP_WALK && op->done)
        op->done(op->arg, status, msg, op->count);
    free(op->oids);
    op->oids = NULL;
    op->finished = 1;
    struct snmp_device *d = op->dev;
    if (d && d->busy) {
        op->next = d->graveyard;
        d->graveyard = op;
    } else {
        free(op);
    }
}

static int error_status(netsnmp_pdu *pdu, char *msg, size_t msgsz)
{
    snprintf(msg, msgsz, "%s at index %ld", snmp_errstring((int)pdu->errstat), pdu->errindex);
    return -EREMOTEIO;
}

static int get_response(struct snmp_op *op, netsnmp_pdu *pdu)
{
    char msg[160];
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        snmp_request_finish(op, error_status(pdu, msg, sizeof msg), msg);
        return 1;
    }
    size_t n = 0;
    for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable)
        n++;
    struct snmp_varbind *vbs = xcalloc(n ? n : 1, sizeof *vbs);
    struct snmp_oid *vals = xcalloc(n ? n : 1, sizeof *vals);
    size_t i = 0;
    int rc = 0;
    for (netsnmp_variable_list *v = pdu->variables; v && !rc; v = v->next_variable, i++)
        rc = snmp_netsnmp_varbind(v, &vbs[i], &vals[i]);
    if (rc) {
        snmp_request_finish(op, rc, "malformed varbind in the answer");
    } else {
        op->result(op->arg, 0, NULL, vbs, n);
        op->result = NULL;
        snmp_request_finish(op, 0, NULL);
    }
    free(vbs);
    free(vals);
    return 1;
}

static int walk_response(struct snmp_device *d, struct snmp_op *op, netsnmp_pdu *pdu)
{
    char msg[160];
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        /* v1 agents signal the end of their MIB with noSuchName */
        if (d->cfg.version == SNMP_V1 && pdu->errstat == SNMP_ERR_NOSUCHNAME)
            snmp_request_finish(op, 0, NULL);
        else
            snmp_request_finish(op, error_status(pdu, msg, sizeof msg), msg);
        return 1;
    }
    struct snmp_varbind vb;
    struct snmp_oid val;
    if (!pdu->variables) {
        snmp_request_finish(op, 0, NULL);
        return 1;
    }
    for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
        if (snmp_netsnmp_varbind(v, &vb, &val)) {
            snmp_request_finish(op, -EPROTO, "malformed varbind in the answer");
            return 1;
        }
        if (vb.type == SNMP_VT_END_OF_MIB || !snmp_oid_under(&op->root, &vb.oid)) {
            snmp_request_finish(op, 0, NULL);
            return 1;
        }
        if (snmp_oid_cmp(&vb.oid, &op->cursor) <= 0) {
            snmp_request_finish(op, -EPROTO, "OID not increasing");
            return 1;
        }
        op->count++;
        if (op->each)
            op->each(op->arg, &vb);
        op->cursor = vb.oid;
    }
    return 0;
}

int snmp_request_response(struct snmp_device *d, struct snmp_op *op, netsnmp_pdu *pdu)
{
    if (op->kind == SNMP_OP_GET)
        return get_response(op, pdu);
    if (op->kind == SNMP_OP_WALK)
        return walk_response(d, op, pdu);
    /* a probe answered with a Response instead of a Report: no USM there */
    snmp_request_finish(op, -EPROTO, "engine-id discovery got no Report");
    return 1;
}
