/* icmp_state: a target's reachability as a pure state machine over round outcomes, so the
 * DOWN/UP hysteresis is testable without sockets. Semantics:
 *   UNKNOWN -> UP    on the first answered round (no wait: nothing is known to be wrong);
 *   UNKNOWN -> DOWN  after down_after consecutive lost rounds;
 *   UP -> DOWN       after down_after consecutive lost rounds;
 *   DOWN -> UP       after up_after consecutive answered rounds.
 * A round outcome of the other kind resets the opposite streak. */
#ifndef FAROL_ICMP_STATE_H
#define FAROL_ICMP_STATE_H

enum icmp_state { ICMP_STATE_UNKNOWN, ICMP_STATE_UP, ICMP_STATE_DOWN };

struct icmp_state_ctr {
    enum icmp_state state;
    unsigned lost_streak;     /* consecutive lost rounds */
    unsigned answered_streak; /* consecutive answered rounds */
};

/* Feed one round outcome; returns the new state (compare with the old one for a transition).
 * Thresholds below 1 count as 1. */
enum icmp_state icmp_state_step(struct icmp_state_ctr *c, int answered, unsigned down_after,
                                unsigned up_after);
/* "unknown", "up" or "down". */
const char *icmp_state_name(enum icmp_state s);

#endif
