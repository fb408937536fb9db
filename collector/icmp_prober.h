/* icmp_prober: watches any number of ICMP targets (100,000+) from one loop: one socket per
 * address family, probes spread over each target's interval by a min-heap schedule, replies
 * matched through a token hash table (no 65,535-outstanding cap), per-target RTT and loss, and
 * DOWN/UP hysteresis (see icmp_state.h) reported once per transition.
 *
 * A round: one probe; when it times out and retries remain, another at once; the round is
 * answered when any of its probes is answered and lost when all timed out. Rounds start every
 * interval at a stable per-target phase (or back to back if a round outlasts the interval).
 *
 * Ownership: the prober copies names, addresses and options; `user` pointers are the caller's
 * and handed back untouched. Callbacks run inside the loop and must not add or remove targets
 * or free the prober (loop_stop() is fine); defer such work with a timer. */
#ifndef FAROL_ICMP_PROBER_H
#define FAROL_ICMP_PROBER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/icmp_sock.h"
#include "collector/icmp_state.h"

struct loop;
struct icmp_prober;

/* Per-target settings; a 0 picks the default in brackets. */
struct icmp_target_opts {
    unsigned interval_ms; /* between round starts [10000] */
    unsigned timeout_ms;  /* per probe [1000] */
    unsigned retries;     /* extra probes in a round after a timeout [0] */
    unsigned down_after;  /* N consecutive lost rounds -> DOWN [3] */
    unsigned up_after;    /* M consecutive answered rounds: DOWN -> UP [2] */
    unsigned rounds;      /* stop after this many rounds; 0 = run forever */
};

struct icmp_prober_opts {
    enum icmp_sock_mode socket_mode; /* AUTO: raw, else datagram where allowed */
    unsigned packet_size;            /* ICMP bytes with header [64] */
    int bufsize;                     /* socket buffers, bytes [16 MiB] */
    int no_spread;                   /* 1: first probes go out at once, paced only by the socket
                                      * (one-shot tools); 0: spread over the interval */
    /* A probe was answered (rtt in microseconds). */
    void (*on_reply)(void *arg, uint32_t target, uint64_t rtt_us, void *user);
    /* A probe timed out (retries may follow in the same round). */
    void (*on_lost)(void *arg, uint32_t target, void *user);
    /* The target's state changed; called exactly once per transition. */
    void (*on_state)(void *arg, uint32_t target, enum icmp_state old, enum icmp_state now,
                     void *user);
    /* Every target with a round limit has finished (and none runs forever). */
    void (*on_done)(void *arg);
    void *arg;
};

struct icmp_target_stats {
    uint64_t xmt, rcv; /* probes sent and answered */
    uint64_t rounds, lost_rounds;
    uint64_t rtt_min_us, rtt_max_us, rtt_sum_us, rtt_last_us; /* over answered probes */
    enum icmp_state state;
    int finished; /* the round limit was reached */
};

struct icmp_prober_stats {
    uint64_t sent, received, timeouts;
    uint64_t send_deferred; /* socket buffer full (EAGAIN/ENOBUFS): retried shortly */
    uint64_t send_errors;   /* other send errors: the probe counts as lost */
    uint64_t late;          /* reply after its probe timed out */
    uint64_t duplicates;    /* second reply to an answered probe */
    uint64_t foreign;       /* echo replies that are not ours (other tools, other cookie/id) */
    uint64_t not_target;    /* our token, but from another address than the target's */
    uint64_t malformed;     /* truncated, bad header or checksum */
    uint64_t other;         /* other ICMP types that got through */
    size_t targets, in_flight;
    int raw4, raw6; /* 1 raw, 0 datagram, -1 not opened */
};

/* A prober on loop; NULL with a sentence in err for bad options. */
struct icmp_prober *icmp_prober_new(struct loop *loop, const struct icmp_prober_opts *opts,
                                    char *err, size_t errsz);
/* Stop everything and free (NULL is fine); no callback runs afterwards. */
void icmp_prober_free(struct icmp_prober *p);
/* Watch addr (AF_INET or AF_INET6, port ignored) under name. Opens the family's socket on first
 * use. Returns the target id (>= 0, reused after removal) or -errno with a sentence in err. */
int icmp_prober_add(struct icmp_prober *p, const char *name, const struct sockaddr *addr,
                    socklen_t len, const struct icmp_target_opts *opts, void *user, char *err,
                    size_t errsz);
/* Stop watching target id: 0 or -ENOENT. No callback for it runs afterwards. */
int icmp_prober_remove(struct icmp_prober *p, uint32_t id);
/* The name given at add time (owned by the prober), or NULL for an unknown id. */
const char *icmp_prober_name(const struct icmp_prober *p, uint32_t id);
/* Copy target id's counters: 0 or -ENOENT. */
int icmp_prober_target_stats(const struct icmp_prober *p, uint32_t id,
                             struct icmp_target_stats *out);
/* Copy the prober-wide counters. */
void icmp_prober_stats(const struct icmp_prober *p, struct icmp_prober_stats *out);

#endif
