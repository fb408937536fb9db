/* test_notif_store: the notifier's exactly-once records in a private redis-server: one claim
 * per message across connections, outcomes keep the TTL, delivery reports find their message,
 * a released claim can be retried but a finished one cannot, records read back exactly, a
 * report faster than the send's outcome waits for it, and a dead Redis never says "send". */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "notifier/notif_store.h"
#include "tests/support/check_run.h"
#include "tests/support/redis_server.h"

static struct redis_server *rs;
static struct store_sync *ss;

static struct store_sync *connect_one(void)
{
    char err[256];
    struct store_sync *s = redis_server_sync(rs, 0, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static void setup(void)
{
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    rs = redis_server_start(NULL, NULL, err, sizeof err);
    ck_assert_msg(rs != NULL, "%s", err);
    ss = connect_one();
}

static void teardown(void)
{
    store_sync_free(ss);
    redis_server_free(rs);
}

static long long ttl(const char *key)
{
    redisReply *r = store_sync_command(ss, "TTL %s", key);
    long long t = r->integer;
    freeReplyObject(r);
    return t;
}

START_TEST(ids_are_checked)
{
    char id[128];
    ck_assert_int_eq(notif_store_id(id, sizeof id, "sub-1", "o-olt-1-17", "outage-opened"), 0);
    ck_assert_str_eq(id, "sub-1:o-olt-1-17:outage-opened");
    ck_assert_int_eq(notif_store_id(id, sizeof id, "sub:1", "o", "t"), -EINVAL);
    ck_assert_int_eq(notif_store_id(id, sizeof id, "", "o", "t"), -EINVAL);
    ck_assert_int_eq(notif_store_id(id, 8, "sub-1", "o-1", "restored"), -EINVAL);
}
END_TEST

START_TEST(one_claim_per_message_across_connections)
{
    char err[256];
    struct store_sync *other = connect_one();
    ck_assert_int_eq(notif_store_claim(ss, "s1:o1:outage-opened", "sms", 3600, err, sizeof err), 1);
    ck_assert_int_eq(notif_store_claim(other, "s1:o1:outage-opened", "sms", 3600, err, sizeof err),
                     0);
    ck_assert_int_eq(notif_store_claim(ss, "s1:o1:outage-opened", "sms", 3600, err, sizeof err), 0);
    /* another phase of the same outage is another message */
    ck_assert_int_eq(notif_store_claim(other, "s1:o1:restored", "sms", 3600, err, sizeof err), 1);
    store_sync_free(other);
    struct notif_record rec;
    ck_assert_int_eq(notif_store_get(ss, "s1:o1:outage-opened", &rec, err, sizeof err), 0);
    ck_assert_str_eq(rec.status, "sending");
    ck_assert_str_eq(rec.channel, "sms");
    ck_assert_int_gt(rec.ts_ms, 0);
    notif_record_deinit(&rec);
}
END_TEST

START_TEST(outcome_keeps_ttl_and_maps_the_provider_id)
{
    char err[256], *id = NULL;
    ck_assert_int_eq(notif_store_claim(ss, "s2:o1:outage-opened", "twilio", 3600, err, sizeof err),
                     1);
    ck_assert_int_eq(notif_store_outcome(ss, "s2:o1:outage-opened", "sent", "twilio", "SM123", NULL,
                                         err, sizeof err),
                     0);
    long long t = ttl("farol:notif:s2:o1:outage-opened");
    ck_assert_int_gt(t, 3500);
    ck_assert_int_le(t, 3600);
    ck_assert_int_eq(notif_store_by_provider(ss, "twilio", "SM123", &id, err, sizeof err), 0);
    ck_assert_str_eq(id, "s2:o1:outage-opened");
    free(id);
    ck_assert_int_eq(notif_store_by_provider(ss, "twilio", "SM999", &id, err, sizeof err), -ENOENT);
    struct notif_record rec;
    ck_assert_int_eq(notif_store_get(ss, "s2:o1:outage-opened", &rec, err, sizeof err), 0);
    ck_assert_str_eq(rec.status, "sent");
    ck_assert_str_eq(rec.provider_id, "SM123");
    notif_record_deinit(&rec);
    ck_assert_int_eq(notif_store_get(ss, "nope:x:y", &rec, err, sizeof err), -ENOENT);
}
END_TEST

START_TEST(release_only_while_sending)
{
    char err[256];
    ck_assert_int_eq(notif_store_claim(ss, "s3:o1:t", "sms", 60, err, sizeof err), 1);
    ck_assert_int_eq(notif_store_release(ss, "s3:o1:t", err, sizeof err), 0);
    ck_assert_int_eq(notif_store_claim(ss, "s3:o1:t", "sms", 60, err, sizeof err), 1);
    ck_assert_int_eq(
        notif_store_outcome(ss, "s3:o1:t", "failed", "sms", NULL, "HTTP 403", err, sizeof err), 0);
    ck_assert_int_eq(notif_store_release(ss, "s3:o1:t", err, sizeof err), 0);
    ck_assert_int_eq(notif_store_claim(ss, "s3:o1:t", "sms", 60, err, sizeof err), 0);
}
END_TEST

/* A retried send gives back only its own claim: after a takeover (its instance seemed dead
 * while Redis was away) the claim is the other instance's, and deleting it would let a third
 * instance send the message again. */
START_TEST(release_gives_back_only_its_own_claim)
{
    struct store_batch b;
    store_batch_init(&b, ss);
    notif_store_claim_add(&b, "s5:o1:t", "sms", "111-1", 60);
    notif_store_release_add(&b, "s5:o1:t", "222-2"); /* not its claim: kept */
    redisReply *claim = store_batch_next(&b), *other = store_batch_next(&b);
    ck_assert(claim && claim->type == REDIS_REPLY_STATUS);
    ck_assert(other && other->type == REDIS_REPLY_INTEGER && other->integer == 0);
    freeReplyObject(claim);
    freeReplyObject(other);
    notif_store_release_add(&b, "s5:o1:t", "111"); /* a prefix of the owner is not the owner */
    notif_store_release_add(&b, "s5:o1:t", "111-1");
    redisReply *prefix = store_batch_next(&b), *own = store_batch_next(&b);
    ck_assert(prefix && prefix->type == REDIS_REPLY_INTEGER && prefix->integer == 0);
    ck_assert(own && own->type == REDIS_REPLY_INTEGER && own->integer == 1);
    freeReplyObject(prefix);
    freeReplyObject(own);
    ck_assert_int_eq(store_batch_end(&b), 0);
}
END_TEST

static const char *status_of(const char *id);

static long long int_reply(const char *fmt, const char *a, const char *b)
{
    redisReply *r = store_sync_command(ss, fmt, a, b);
    ck_assert(r && r->type == REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static long long final(const char *id, const char *old, const char *status, const char *letter)
{
    struct store_batch b;
    store_batch_init(&b, ss);
    notif_store_final_add(&b, id, old, status, "sms", "why", 60, "farol:notif:q:0", letter, 9);
    redisReply *r = store_batch_next(&b);
    ck_assert(r && r->type == REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    ck_assert_int_eq(store_batch_end(&b), 0);
    return v;
}

/* A message one instance finds dead (max_age, no channel) while another has just claimed it
 * for sending: the dead record must not overwrite that claim, nor the queue entry and dead
 * letter go; with nothing there, or the dead instance's claim as read, all three happen. */
START_TEST(final_records_never_overwrite_a_live_claim)
{
    char err[256];
    ck_assert_int_eq(int_reply("ZADD %s 1 %s", "farol:notif:q:0", "s6:o1:t"), 1);
    ck_assert_int_eq(notif_store_claim(ss, "s6:o1:t", "sms", 60, err, sizeof err), 1);
    ck_assert_int_eq(final("s6:o1:t", NULL, "dead", "{\"id\":\"s6:o1:t\"}"), 0);
    ck_assert_str_eq(status_of("s6:o1:t"), "sending");
    ck_assert_int_eq(int_reply("ZCARD %s%s", "farol:notif:q:0", ""), 1);
    ck_assert_int_eq(int_reply("LLEN %s%s", "farol:notif:dead", ""), 0);
    /* the claim as another instance read it, now stale: replaced */
    redisReply *r = store_sync_command(ss, "GET %s", "farol:notif:s6:o1:t");
    ck_assert(r && r->type == REDIS_REPLY_STRING);
    ck_assert_int_eq(final("s6:o1:t", "{\"status\":\"sending\"}", "dead", NULL), 0);
    ck_assert_int_eq(final("s6:o1:t", r->str, "dead", "{\"id\":\"s6:o1:t\"}"), 1);
    freeReplyObject(r);
    ck_assert_str_eq(status_of("s6:o1:t"), "dead");
    ck_assert_int_eq(int_reply("ZCARD %s%s", "farol:notif:q:0", ""), 0);
    ck_assert_int_eq(int_reply("LLEN %s%s", "farol:notif:dead", ""), 1);
    /* nothing there: written, with its TTL; an opt-out has no dead letter */
    ck_assert_int_eq(int_reply("ZADD %s 1 %s", "farol:notif:q:0", "s7:o1:t"), 1);
    ck_assert_int_eq(final("s7:o1:t", NULL, "opted-out", NULL), 1);
    ck_assert_str_eq(status_of("s7:o1:t"), "opted-out");
    ck_assert_int_gt(ttl("farol:notif:s7:o1:t"), 0);
    ck_assert_int_eq(int_reply("ZCARD %s%s", "farol:notif:q:0", ""), 0);
    ck_assert_int_eq(int_reply("LLEN %s%s", "farol:notif:dead", ""), 1);
}
END_TEST

/* Records are written by hand (no JSON library on the hot path): what they hold must read
 * back exactly, quotes, backslashes, control characters and UTF-8 included. */
START_TEST(records_read_back_exactly)
{
    char err[256];
    const char *why =
        "HTTP 400: {\"error\":\"bad \\\"to\\\"\"}\n\tlinha 2 \x01 \xc3\xa7\xe2\x80\x8f";
    ck_assert_int_eq(notif_store_claim(ss, "s5:o1:t", "sms", 60, err, sizeof err), 1);
    ck_assert_int_eq(
        notif_store_outcome(ss, "s5:o1:t", "failed", "sms", "id\"1", why, err, sizeof err), 0);
    struct notif_record rec;
    ck_assert_int_eq(notif_store_get(ss, "s5:o1:t", &rec, err, sizeof err), 0);
    ck_assert_str_eq(rec.status, "failed");
    ck_assert_str_eq(rec.channel, "sms");
    ck_assert_str_eq(rec.provider_id, "id\"1");
    ck_assert_str_eq(rec.error, why);
    ck_assert_int_gt(rec.ts_ms, 1700000000000LL);
    notif_record_deinit(&rec);
    /* a gateway answering in Latin-1: the stray bytes become U+FFFD, the record still parses */
    ck_assert_int_eq(notif_store_outcome(ss, "s5:o1:t", "failed", "sms", NULL,
                                         "n\xe3o autorizado \xed\xa0\x80 \xc3", err, sizeof err),
                     0);
    ck_assert_int_eq(notif_store_get(ss, "s5:o1:t", &rec, err, sizeof err), 0);
    ck_assert_str_eq(rec.error, "n\xef\xbf\xbdo autorizado \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                                "\xef\xbf\xbd");
    notif_record_deinit(&rec);
}
END_TEST

static const char *status_of(const char *id)
{
    static char st[32];
    char err[256];
    struct notif_record rec;
    ck_assert_int_eq(notif_store_get(ss, id, &rec, err, sizeof err), 0);
    snprintf(st, sizeof st, "%s", rec.status);
    notif_record_deinit(&rec);
    return st;
}

static void settle(const char *id, const char *status, const char *channel, const char *pid)
{
    struct store_batch b;
    store_batch_init(&b, ss);
    notif_store_settle_add(&b, id, status, channel, pid, NULL);
    ck_assert_int_eq(store_batch_end(&b), 0);
}

/* A delivery report can beat the send's own outcome to Redis: it waits for the mapping and the
 * settle applies it; once mapped, parking answers with the message instead. */
START_TEST(early_reports_wait_for_their_mapping)
{
    char err[256], *id = NULL;
    ck_assert_int_eq(notif_store_claim(ss, "s6:o1:t", "wa", 60, err, sizeof err), 1);
    ck_assert_int_eq(notif_store_park(ss, "wa", "wamid.6", "delivered", NULL, &id, err, sizeof err),
                     0);
    /* a late "sent" does not replace the parked "delivered"; "read" does */
    ck_assert_int_eq(notif_store_park(ss, "wa", "wamid.6", "sent", NULL, &id, err, sizeof err), 0);
    ck_assert_str_eq(status_of("s6:o1:t"), "sending");
    settle("s6:o1:t", "sent", "wa", "wamid.6");
    ck_assert_str_eq(status_of("s6:o1:t"), "delivered");
    ck_assert_int_eq(ttl("farol:notif:early:wa:wamid.6"), -2); /* applied, gone */
    ck_assert_int_eq(notif_store_park(ss, "wa", "wamid.6", "read", NULL, &id, err, sizeof err), 1);
    ck_assert_str_eq(id, "s6:o1:t");
    free(id);
    /* without a report, the settle writes its own outcome */
    ck_assert_int_eq(notif_store_claim(ss, "s7:o1:t", "wa", 60, err, sizeof err), 1);
    settle("s7:o1:t", "sent", "wa", "wamid.7");
    ck_assert_str_eq(status_of("s7:o1:t"), "sent");
    /* a report for an id nobody ever maps expires */
    ck_assert_int_eq(notif_store_park(ss, "wa", "wamid.x", "failed", "no", &id, err, sizeof err),
                     0);
    long long t = ttl("farol:notif:early:wa:wamid.x");
    ck_assert_int_gt(t, NOTIF_STORE_PARK_S - 100);
    ck_assert_int_le(t, NOTIF_STORE_PARK_S);
}
END_TEST

START_TEST(dead_redis_never_says_send)
{
    char err[256];
    ck_assert_int_eq(redis_server_kill(rs), 0);
    ck_assert_int_eq(notif_store_claim(ss, "s4:o1:t", "sms", 60, err, sizeof err), -EIO);
    ck_assert_ptr_nonnull(strstr(err, "SET NX"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("notif_store");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ids_are_checked);
    tcase_add_test(tc, one_claim_per_message_across_connections);
    tcase_add_test(tc, outcome_keeps_ttl_and_maps_the_provider_id);
    tcase_add_test(tc, release_only_while_sending);
    tcase_add_test(tc, release_gives_back_only_its_own_claim);
    tcase_add_test(tc, final_records_never_overwrite_a_live_claim);
    tcase_add_test(tc, records_read_back_exactly);
    tcase_add_test(tc, early_reports_wait_for_their_mapping);
    tcase_add_test(tc, dead_redis_never_says_send);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
