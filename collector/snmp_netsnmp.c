/* snmp_netsnmp: see snmp_netsnmp.h. */
#include "collector/snmp_netsnmp.h"

#include <errno.h>
#include <stdlib.h>

#include "collector/snmp_v3.h"

static int netsnmp_ready;

void snmp_netsnmp_init(void)
{
    if (netsnmp_ready)
        return;
    /* numeric OIDs only: no MIB loading, no persistent files written from a poller */
    setenv("MIBS", "", 0);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    init_snmp("farol");
    snmp_v3_probe_user();
    netsnmp_ready = 1;
}

int snmp_netsnmp_varbind(const netsnmp_variable_list *v, struct snmp_varbind *vb,
                         struct snmp_oid *oidval)
{
    if (v->name_length > SNMP_OID_MAX)
        return -EPROTO;
    vb->oid.len = (uint32_t)v->name_length;
    for (size_t i = 0; i < v->name_length; i++)
        vb->oid.sub[i] = (uint32_t)v->name[i];
    vb->v.u = 0;
    switch (v->type) {
    case ASN_INTEGER:
        vb->type = SNMP_VT_INTEGER;
        vb->v.i = *v->val.integer;
        break;
    case ASN_GAUGE:
    case ASN_UINTEGER:
        vb->type = SNMP_VT_UNSIGNED;
        vb->v.u = (uint32_t)*v->val.integer;
        break;
    case ASN_COUNTER:
        vb->type = SNMP_VT_COUNTER32;
        vb->v.u = (uint32_t)*v->val.integer;
        break;
    case ASN_TIMETICKS:
        vb->type = SNMP_VT_TIMETICKS;
        vb->v.u = (uint32_t)*v->val.integer;
        break;
    case ASN_COUNTER64:
        vb->type = SNMP_VT_COUNTER64;
        vb->v.u = ((uint64_t)v->val.counter64->high << 32) | (uint32_t)v->val.counter64->low;
        break;
    case ASN_OCTET_STR:
    case ASN_IPADDRESS:
    case ASN_OPAQUE:
        vb->type = v->type == ASN_OCTET_STR   ? SNMP_VT_OCTETS
                   : v->type == ASN_IPADDRESS ? SNMP_VT_IPADDR
                                              : SNMP_VT_OPAQUE;
        vb->v.s.ptr = v->val.string;
        vb->v.s.len = v->val_len;
        break;
    case ASN_OBJECT_ID: {
        size_t n = v->val_len / sizeof(oid);
        if (n > SNMP_OID_MAX)
            return -EPROTO;
        oidval->len = (uint32_t)n;
        for (size_t i = 0; i < n; i++)
            oidval->sub[i] = (uint32_t)v->val.objid[i];
        vb->type = SNMP_VT_OID;
        vb->v.oid = oidval;
        break;
    }
    case SNMP_NOSUCHOBJECT:
        vb->type = SNMP_VT_NO_SUCH_OBJECT;
        break;
    case SNMP_NOSUCHINSTANCE:
        vb->type = SNMP_VT_NO_SUCH_INSTANCE;
        break;
    case SNMP_ENDOFMIBVIEW:
        vb->type = SNMP_VT_END_OF_MIB;
        break;
    default:
        vb->type = SNMP_VT_NULL;
        break;
    }
    return 0;
}
