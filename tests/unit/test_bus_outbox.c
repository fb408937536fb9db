#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/bus_outbox.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tests/support/check_run.h"

struct sink {
    struct loop *loop;
    int got[64];
    int n;
};

static int take(void *arg, const struct bus_msg *m)
{
    struct sink *s = arg;
    char text[32]; /* payloads carry a length, not a NUL */
    snprintf(text, sizeof text, "%.*s", (int)m->len, (const char *)m->payload);
    s->got[s->n++] = atoi(text);
    if (s->n == 20)
        loop_stop(s->loop);
    return 0;
}

START_TEST(refused_messages_wait_and_arrive_in_order)
{
    struct loop *lp = loop_new();
    struct bus_config cfg;
    char err[64];
    bus_config_init(&cfg);
    cfg.queue_limit = 5; /* the bus refuses the 6th until its consumer catches up */
    struct bus *bus = bus_new(lp, &cfg, err, sizeof err);
    bus_config_deinit(&cfg);
    struct sink s = {.loop = lp};
    ck_assert_int_eq(bus_subscribe(bus, BUS_USAGE, "billing", take, &s), 0);
    struct bus_outbox *o = bus_outbox_new(lp, bus);
    for (int i = 0; i < 20; i++)
        bus_outbox_publish(o, BUS_USAGE, "sub-1", xasprintf("%d", i));
    ck_assert_uint_eq(bus_outbox_pending(o), 15);
    loop_run(lp);
    ck_assert_int_eq(s.n, 20);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(s.got[i], i);
    ck_assert_uint_eq(bus_outbox_pending(o), 0);
    bus_outbox_free(o);
    bus_free(bus);
    loop_free(lp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_outbox");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, refused_messages_wait_and_arrive_in_order);
    suite_add_tcase(s, tc);
    return check_run(s, CK_NOFORK);
}
