/* Kafka transport against an in-process librdkafka mock cluster (127.0.0.1 only):
 * setup errors, back-pressure (-ENOBUFS instead of growing), pending/flush, and the
 * BUS_RETRY path (same message again, order within the partition kept). */
#include <check.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/bus_kafka.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#include "tests/support/check_run.h"

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;
static struct loop *loop;

static void setup(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_ptr_nonnull(mock_rk);
    mock = rd_kafka_mock_cluster_new(mock_rk, 1);
    ck_assert_ptr_nonnull(mock);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, "farol.alarms", 2, 1), 0);
    loop = loop_new();
    log_setup(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
}

static void teardown(void)
{
    loop_free(loop);
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mock_rk);
}

static void add_prop(struct bus_config *cfg, const char *k, const char *v)
{
    cfg->properties = xrealloc(cfg->properties, (cfg->n_properties + 1) * sizeof(struct bus_kv));
    cfg->properties[cfg->n_properties].key = xstrdup(k);
    cfg->properties[cfg->n_properties].value = xstrdup(v);
    cfg->n_properties++;
}

static void kafka_config(struct bus_config *cfg)
{
    bus_config_init(cfg);
    cfg->transport = BUS_KAFKA;
    cfg->brokers = xstrdup(rd_kafka_mock_cluster_bootstraps(mock));
    cfg->flush_timeout_ms = 5000;
    add_prop(cfg, "session.timeout.ms", "6000");
    add_prop(cfg, "heartbeat.interval.ms", "500");
}

typedef int (*cond_fn)(void *arg);

/* Run the loop until cond holds or deadline_ms passes; returns cond's final value. */
static int run_until(cond_fn cond, void *arg, int64_t deadline_ms)
{
    int64_t end = loop_now_ms(loop) + deadline_ms;
    while (!cond(arg) && loop_now_ms(loop) < end)
        loop_run_once(loop, 1);
    return cond(arg);
}

START_TEST(unknown_property_fails_with_librdkafka_message)
{
    struct bus_config cfg;
    kafka_config(&cfg);
    add_prop(&cfg, "no.such.property", "1");
    char err[512] = "";
    struct bus *bus = bus_new(loop, &cfg, err, sizeof err);
    ck_assert_ptr_null(bus);
    ck_assert_ptr_nonnull(strstr(err, "no.such.property"));
    bus_config_deinit(&cfg);
}
END_TEST

START_TEST(secret_values_never_in_errors)
{
    struct bus_config cfg;
    kafka_config(&cfg);
    /* a bad value for a password-named property: the message must not echo the value */
    add_prop(&cfg, "ssl.key.password", "");
    add_prop(&cfg, "enable.idempotence", "hunter2-secret");
    char err[512] = "";
    ck_assert_ptr_null(bus_new(loop, &cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "enable.idempotence"));
    bus_config_deinit(&cfg);
    ck_assert(bus_kafka_conf_is_secret("sasl.password"));
    ck_assert(bus_kafka_conf_is_secret("sasl.oauthbearer.client.secret"));
    ck_assert(!bus_kafka_conf_is_secret("sasl.username"));
}
END_TEST

START_TEST(missing_brokers_fails)
{
    struct bus_config cfg;
    bus_config_init(&cfg);
    cfg.transport = BUS_KAFKA;
    char err[512] = "";
    ck_assert_ptr_null(bus_new(loop, &cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "brokers"));
    bus_config_deinit(&cfg);
}
END_TEST

static int nothing_pending(void *arg)
{
    return bus_pending(arg) == 0;
}

START_TEST(full_queue_refuses_with_enobufs)
{
    struct bus_config cfg;
    kafka_config(&cfg);
    add_prop(&cfg, "queue.buffering.max.messages", "5");
    add_prop(&cfg, "linger.ms", "200");
    char err[512];
    struct bus *bus = bus_new(loop, &cfg, err, sizeof err);
    ck_assert_msg(bus != NULL, "%s", err);
    int ok = 0, refused = 0;
    for (int i = 0; i < 20; i++) {
        int rc = bus_publish(bus, BUS_ALARMS, "olt-1", "x", 1);
        ck_assert(rc == 0 || rc == -ENOBUFS);
        rc == 0 ? ok++ : refused++;
    }
    ck_assert_int_eq(ok, 5);
    ck_assert_int_eq(refused, 15);
    /* pending counts queued messages plus librdkafka's own queued events: bounded, not 20 */
    ck_assert_uint_ge(bus_pending(bus), 5);
    ck_assert_uint_lt(bus_pending(bus), 20);
    struct bus_stats st;
    bus_get_stats(bus, &st);
    ck_assert_uint_eq(st.published, 5);
    ck_assert_uint_eq(st.publish_refused, 15);
    /* once the broker acknowledged, there is room again */
    ck_assert(run_until(nothing_pending, bus, 10000));
    ck_assert_int_eq(bus_publish(bus, BUS_ALARMS, "olt-1", "y", 1), 0);
    bus_free(bus);
    bus_config_deinit(&cfg);
}
END_TEST

struct acks {
    int ok, failed;
};

static void on_ack(void *arg, int status)
{
    struct acks *a = arg;
    status == 0 ? a->ok++ : a->failed++;
}

static int acked_three(void *arg)
{
    return ((struct acks *)arg)->ok == 3;
}

START_TEST(confirmation_follows_the_brokers_acknowledgement)
{
    struct bus_config cfg;
    kafka_config(&cfg);
    char err[512];
    struct bus *bus = bus_new(loop, &cfg, err, sizeof err);
    ck_assert_msg(bus != NULL, "%s", err);
    struct acks a = {0};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(bus_publish_confirmed(bus, BUS_ALARMS, "olt-1", "x", 1, on_ack, &a), 0);
    ck_assert_int_eq(a.ok + a.failed, 0); /* not before the brokers answered */
    ck_assert(run_until(acked_three, &a, 10000));
    ck_assert_int_eq(a.failed, 0);
    bus_free(bus);
    bus_config_deinit(&cfg);
}
END_TEST

START_TEST(unacknowledged_at_free_are_reported_not_lost)
{
    struct bus_config cfg;
    kafka_config(&cfg);
    cfg.flush_timeout_ms = 200;
    char err[512];
    rd_kafka_mock_broker_set_down(mock, 1); /* nothing can be acknowledged */
    struct bus *bus = bus_new(loop, &cfg, err, sizeof err);
    ck_assert_msg(bus != NULL, "%s", err);
    struct acks a = {0};
    ck_assert_int_eq(bus_publish_confirmed(bus, BUS_ALARMS, "olt-1", "x", 1, on_ack, &a), 0);
    bus_free(bus);
    ck_assert_int_eq(a.ok, 0);
    ck_assert_int_eq(a.failed, 1);
    bus_config_deinit(&cfg);
}
END_TEST

struct seen {
    char payload[32][8];
    int n;
    int retries_left; /* for message "m3" */
    int delivered;
};

static int on_msg(void *arg, const struct bus_msg *msg)
{
    struct seen *s = arg;
    s->delivered++;
    if (msg->len == 2 && memcmp(msg->payload, "m3", 2) == 0 && s->retries_left > 0) {
        s->retries_left--;
        return BUS_RETRY;
    }
    ck_assert_int_lt(s->n, 32);
    ck_assert_uint_lt(msg->len, 8);
    memcpy(s->payload[s->n], msg->payload, msg->len);
    s->payload[s->n][msg->len] = '\0';
    ck_assert_uint_eq(msg->key_len, 5);
    ck_assert(memcmp(msg->key, "olt-7", 5) == 0);
    s->n++;
    return 0;
}

static int got_ten(void *arg)
{
    return ((struct seen *)arg)->n >= 10;
}

START_TEST(retry_redelivers_same_message_in_order)
{
    struct bus_config cfg;
    kafka_config(&cfg);
    char err[512];
    struct bus *bus = bus_new(loop, &cfg, err, sizeof err);
    ck_assert_msg(bus != NULL, "%s", err);
    for (int i = 0; i < 10; i++) {
        char p[8];
        snprintf(p, sizeof p, "m%d", i);
        ck_assert_int_eq(bus_publish(bus, BUS_ALARMS, "olt-7", p, strlen(p)), 0);
    }
    struct seen s = {.retries_left = 2};
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "unit", on_msg, &s), 0);
    ck_assert_int_eq(bus_subscribe(bus, BUS_ALARMS, "unit", on_msg, &s), -EEXIST);
    ck_assert_msg(run_until(got_ten, &s, 30000), "handled %d of 10", s.n);
    for (int i = 0; i < 10; i++) {
        char p[8];
        snprintf(p, sizeof p, "m%d", i);
        ck_assert_str_eq(s.payload[i], p);
    }
    struct bus_stats st;
    bus_get_stats(bus, &st);
    ck_assert_uint_eq(st.retried, 2);
    ck_assert_uint_eq(st.handled, 10);
    ck_assert_uint_eq(st.delivered, 12);
    bus_pause_consumers(bus);
    bus_free(bus);
    bus_config_deinit(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus_kafka");
    TCase *tc = tcase_create("mock");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, unknown_property_fails_with_librdkafka_message);
    tcase_add_test(tc, secret_values_never_in_errors);
    tcase_add_test(tc, missing_brokers_fails);
    tcase_add_test(tc, full_queue_refuses_with_enobufs);
    tcase_add_test(tc, retry_redelivers_same_message_in_order);
    tcase_add_test(tc, confirmation_follows_the_brokers_acknowledgement);
    tcase_add_test(tc, unacknowledged_at_free_are_reported_not_lost);
    suite_add_tcase(s, tc);
    return check_run(s, CK_FORK_GETENV);
}
