/* topology: the in-memory model of an ISP's access network: nodes (router ... onu, cpe) linked
 * to one or more parents (redundant uplinks), monitoring bindings (collector device + object ->
 * node) and subscribers attached to nodes.
 *
 * A model is built from records (topology_add, fed by topology_load.c or topology_store.c),
 * then checked and indexed once with topology_finish(). After that it is read-only except for
 * the scratch state of topology_cut(), so one model must not be cut from two threads at once.
 *
 * Service model: a node is cut off when it failed itself or when every one of its parents is
 * cut off (a root is cut off only when it failed). Single-node impact is answered from the
 * dominator tree of the node graph: the nodes that lose service when X alone fails are exactly
 * those X dominates, kept contiguous in one preorder, so topology_impact() costs nothing beyond
 * the answer. Multi-node failures go through topology_cut(), which walks only the failed region.
 *
 * struct topology is opaque and owned by its creator (topology_new / topology_free). Pointers
 * returned by accessors stay valid until topology_free(). Error messages are "FILE:LINE:
 * message", collected in a caller-owned struct topology_errs; phone numbers in them are masked. */
#ifndef FAROL_TOPOLOGY_H
#define FAROL_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#define TOPOLOGY_NONE UINT32_MAX

enum topology_kind {
    TOPOLOGY_ROUTER,
    TOPOLOGY_SWITCH,
    TOPOLOGY_OLT,
    TOPOLOGY_PON,
    TOPOLOGY_SPLITTER,
    TOPOLOGY_ONU,
    TOPOLOGY_CPE,
    TOPOLOGY_CUSTOM,
    TOPOLOGY_KINDS
};

/* Channels a subscriber can be reached on, in preference order (bit set + order string). */
enum topology_channel { TOPOLOGY_CH_SMS = 1, TOPOLOGY_CH_WHATSAPP = 2, TOPOLOGY_CH_TELEGRAM = 4 };

struct topology_node {
    const char *id;
    const char *name;   /* NULL when absent */
    const char *area;   /* NULL when absent */
    const char *label;  /* custom kind label ("custom:cabinet" -> "cabinet"), NULL otherwise */
    uint32_t *parents;  /* node indexes */
    uint32_t *children; /* node indexes */
    uint32_t *subs;     /* subscribers attached directly here */
    enum topology_kind kind;
    uint32_t nparents, nchildren, nsubs;
    /* Derived by topology_finish(): dominator tree and the ranges of topology_impact(). */
    uint32_t idom;           /* immediate dominator, TOPOLOGY_NONE under the virtual root */
    uint32_t pre, end;       /* [pre, end) in topology_node_order(): what this node dominates */
    uint32_t sub_lo, sub_hi; /* [sub_lo, sub_hi) in topology_sub_order() */
};

/* Contact fields are NULL (nphones 0, quiet hours off, opt_out 0) when loaded lean
 * (topology_store_load_lean): correlation needs none of them. */
struct topology_sub {
    const char *id;
    const char *name;
    const char **phones;  /* E.164, validated */
    const char *telegram; /* chat id or NULL */
    const char *channels; /* preference order, "whatsapp,sms"; never NULL ("sms" by default) */
    const char *locale;   /* BCP 47 tag or NULL */
    const char *timezone; /* IANA name or NULL */
    const char *plan;     /* plan name or NULL */
    uint64_t cap_bytes;   /* data cap, 0 = unlimited */
    uint32_t node;        /* attachment node index */
    uint32_t nphones;
    int16_t quiet_start; /* minutes after midnight, -1 = no quiet hours */
    int16_t quiet_end;   /* minutes after midnight */
    uint8_t opt_out;     /* 1: never notify */
    uint8_t cycle_day;   /* billing cycle day 1..28 */
};

struct topology_binding {
    const char *device;
    const char *object; /* "" = the device itself */
    uint32_t node;
};

/* Problems found while loading: every one, in order. Caller-owned. */
struct topology_errs {
    char **msgs;
    size_t n, cap;
};

/* One key = value of a record, with the line it came from (lists repeat the key). */
struct topology_field {
    const char *key;
    const char *value;
    int line;
};

enum topology_rec { TOPOLOGY_REC_NODE, TOPOLOGY_REC_LINK, TOPOLOGY_REC_SUB, TOPOLOGY_REC_BIND };

/* Result of topology_impact(): views into the model, valid until topology_free(). */
struct topology_impact {
    const uint32_t *nodes; /* the node itself first, then everything it dominates */
    size_t nnodes;
    const uint32_t *subs; /* subscriber indexes of every node above */
    size_t nsubs;
    uint32_t count[TOPOLOGY_KINDS]; /* nodes by kind */
};

/* Result of topology_cut(): owned by the caller, freed with topology_cut_deinit(). */
struct topology_cut {
    uint32_t *nodes; /* cut-off nodes: the failed ones, then those that lost every uplink */
    size_t nnodes;
    uint32_t count[TOPOLOGY_KINDS];
    size_t nsubs; /* subscribers attached to the cut nodes */
};

/* Record a "FILE:LINE: message" (line 0: "FILE: message"). */
void topology_err(struct topology_errs *e, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Free the collected messages. */
void topology_errs_deinit(struct topology_errs *e);

/* An empty model. */
struct topology *topology_new(void);
/* Free a model (NULL is fine). */
void topology_free(struct topology *t);
/* Intern a file name for records' positions; returns the model's copy. */
const char *topology_file(struct topology *t, const char *path);
/* Add one record read at file:line (file from topology_file); each bad field is reported into
 * errs at its own line. Returns 0 or -EINVAL. References are checked by topology_finish(). */
int topology_add(struct topology *t, enum topology_rec type, const struct topology_field *f,
                 size_t n, const char *file, int line, struct topology_errs *errs);
/* Resolve references, reject unknown parents/nodes, duplicate ids and cycles (every problem
 * into errs), then build the indexes. Returns 0 or -EINVAL (the model is then unusable). */
int topology_finish(struct topology *t, struct topology_errs *errs);

/* Kind names: "router" ... "custom". */
const char *topology_kind_name(enum topology_kind k);
/* Parse a kind ("custom" or "custom:LABEL" for custom); returns 0 or -EINVAL. */
int topology_kind_parse(const char *s, enum topology_kind *k, const char **label);
/* True for an E.164 number: '+', a non-zero digit, 7 to 15 digits in all. */
int topology_e164_valid(const char *s);

size_t topology_node_count(const struct topology *t);
size_t topology_sub_count(const struct topology *t);
size_t topology_binding_count(const struct topology *t);
/* Node by index (< topology_node_count). */
const struct topology_node *topology_node(const struct topology *t, uint32_t idx);
/* Subscriber by index. */
const struct topology_sub *topology_sub(const struct topology *t, uint32_t idx);
/* Binding by index. */
const struct topology_binding *topology_binding(const struct topology *t, uint32_t idx);
/* Node index by id, or TOPOLOGY_NONE. */
uint32_t topology_find_node(const struct topology *t, const char *id);
/* Subscriber index by id, or TOPOLOGY_NONE. */
uint32_t topology_find_sub(const struct topology *t, const char *id);
/* The node watched by (device, object); object NULL or "" is the device itself. Exact match
 * only (no fallback from an object to its device). TOPOLOGY_NONE when unbound. */
uint32_t topology_bind_lookup(const struct topology *t, const char *device, const char *object);
/* All nodes in dominator preorder (after topology_finish). */
const uint32_t *topology_node_order(const struct topology *t);
/* All subscribers ordered so that each node's [sub_lo, sub_hi) is what it cuts off. */
const uint32_t *topology_sub_order(const struct topology *t);

/* Who loses service if node alone fails (redundancy-aware): views, no allocation. */
void topology_impact(const struct topology *t, uint32_t node, struct topology_impact *out);
/* Nodes cut off when every node in failed[] is down: a node is cut off when it failed or every
 * parent is cut off. Cost: the cut region and its children. Fills out (caller deinits). */
void topology_cut(struct topology *t, const uint32_t *failed, size_t nfailed,
                  struct topology_cut *out);
/* Free what a cut result holds. */
void topology_cut_deinit(struct topology_cut *c);

#endif
