/* icmp_state: DOWN/UP hysteresis over consecutive round outcomes. */
#include "collector/icmp_state.h"

enum icmp_state icmp_state_step(struct icmp_state_ctr *c, int answered, unsigned down_after,
                                unsigned up_after)
{
    if (answered) {
        c->answered_streak++;
        c->lost_streak = 0;
    } else {
        c->lost_streak++;
        c->answered_streak = 0;
    }
    unsigned up_need = c->state == ICMP_STATE_DOWN ? (up_after ? up_after : 1) : 1;
    if (answered && c->state != ICMP_STATE_UP && c->answered_streak >= up_need)
        c->state = ICMP_STATE_UP;
    else if (!answered && c->state != ICMP_STATE_DOWN &&
             c->lost_streak >= (down_after ? down_after : 1))
        c->state = ICMP_STATE_DOWN;
    return c->state;
}

const char *icmp_state_name(enum icmp_state s)
{
    switch (s) {
    case ICMP_STATE_UP:
        return "up";
    case ICMP_STATE_DOWN:
        return "down";
    default:
        return "unknown";
    }
}
