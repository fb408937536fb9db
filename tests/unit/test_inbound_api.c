/* test_inbound_api: the cloud providers' status receivers on a real httpd (127.0.0.1:0) over a
 * private redis-server, driven by libcurl with provider-format bodies: reports update the
 * message's record, failures keep their error, signatures (computed here with OpenSSL, and
 * Twilio's published example) guard the routes, unknown ids are answered 200 (a provider id not
 * mapped yet waits for its send), a dead Redis gives 503, and no late report moves a record
 * backwards. Registered in tests/integration/meson.build: it needs redis-server. */
#include <check.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/httpd.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "notifier/channel.h"
#include "notifier/inbound_api.h"
#include "notifier/notif_store.h"
#include "tests/support/check_run.h"
#include "tests/support/redis_server.h"

#define DEADLINE_MS 10000
#define APP_SECRET "app-secret-0123"
#define VERIFY_TOKEN "verify-me-please"
/* Twilio's published signature example: this URL and token. */
#define TW_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define TW_TOKEN "12345"

static struct {
    struct redis_server *rs;
    struct store_sync *ss;
    struct loop *loop;
    struct httpd *h;
    struct inbound_api *api;
    int db_down, db_failures;
    char base[64];
} fx;

static struct store_sync *db_get(void *arg)
{
    (void)arg;
    return fx.db_down ? NULL : fx.ss;
}

static void db_failed(void *arg, const char *err)
{
    (void)arg;
    (void)err;
    fx.db_failures++;
}

static void setup(void)
{
    char err[256];
    signal(SIGPIPE, SIG_IGN);
    memset(&fx, 0, sizeof fx);
    fx.rs = redis_server_start(NULL, NULL, err, sizeof err);
    ck_assert_msg(fx.rs != NULL, "%s", err);
    fx.ss = redis_server_sync(fx.rs, 2000, err, sizeof err);
    ck_assert_msg(fx.ss != NULL, "%s", err);
    fx.loop = loop_new();
    fx.h = httpd_new(fx.loop, "127.0.0.1:0", 0, err, sizeof err);
    ck_assert_msg(fx.h != NULL, "%s", err);
    struct inbound_api_config cfg = {.prefix = "/hooks/",
                                     .infobip_channel = "infobip",
                                     .whatsapp_channel = "wa",
                                     .whatsapp_verify_token = VERIFY_TOKEN,
                                     .whatsapp_app_secret = APP_SECRET,
                                     .twilio_channel = "tw",
                                     .twilio_auth_token = TW_TOKEN,
                                     .twilio_status_url = TW_URL};
    struct inbound_db db = {db_get, db_failed, NULL};
    fx.api = inbound_api_new(fx.h, &cfg, &db, err, sizeof err);
    ck_assert_msg(fx.api != NULL, "%s", err);
    snprintf(fx.base, sizeof fx.base, "http://127.0.0.1:%d/hooks", httpd_port(fx.h));
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    httpd_free(fx.h);
    inbound_api_free(fx.api);
    loop_free(fx.loop);
    store_sync_free(fx.ss);
    redis_server_free(fx.rs);
    curl_global_cleanup();
}

/* ---- a client on a thread while this thread runs the loop ---- */

struct exchange {
    const char *method, *url, *body;
    const char *const *headers;
    long status;
    char resp[512];
    size_t resp_len;
    int pipe[2];
};

static size_t on_body(char *data, size_t sz, size_t n, void *arg)
{
    struct exchange *x = arg;
    size_t k = sz * n, room = sizeof x->resp - 1 - x->resp_len;
    memcpy(x->resp + x->resp_len, data, k < room ? k : room);
    x->resp_len += k < room ? k : room;
    return k;
}

static void *client(void *arg)
{
    struct exchange *x = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    for (size_t i = 0; x->headers && x->headers[i]; i++)
        hl = curl_slist_append(hl, x->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, x->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
    if (x->body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DEADLINE_MS);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (write(x->pipe[1], "x", 1) != 1)
        abort(); /* the test thread would wait for its deadline: fail loudly instead */
    return NULL;
}

static void set_flag(void *arg)
{
    *(int *)arg = 1;
}

static void on_pipe(void *arg, int revents)
{
    (void)revents;
    *(int *)arg = 1;
}

/* method {base}{path} with body and headers; the status (0: no answer), x->resp the body. */
static long request(struct exchange *x, const char *method, const char *path, const char *body,
                    const char *const *headers)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", fx.base, path);
    *x = (struct exchange){.method = method, .url = url, .body = body, .headers = headers};
    ck_assert_int_eq(pipe(x->pipe), 0);
    int done = 0, expired = 0;
    struct loop_io *io = loop_io_new(fx.loop, x->pipe[0], LOOP_READ, on_pipe, &done);
    struct loop_timer *t = loop_timer_new(fx.loop, set_flag, &expired);
    loop_timer_start(t, DEADLINE_MS, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, client, x), 0);
    while (!done && !expired)
        loop_run_once(fx.loop, 1);
    loop_timer_free(t);
    loop_io_free(io);
    ck_assert_msg(done, "client did not finish within %d ms", DEADLINE_MS);
    pthread_join(th, NULL);
    close(x->pipe[0]);
    close(x->pipe[1]);
    return x->status;
}

static long post(const char *path, const char *body, const char *const *headers)
{
    struct exchange x;
    return request(&x, "POST", path, body, headers);
}

/* ---- records ---- */

/* A message the dispatcher sent through channel, with the provider's id mapped back. */
static void seed(const char *id, const char *channel, const char *pid)
{
    char err[256];
    ck_assert_int_eq(notif_store_claim(fx.ss, id, channel, 3600, err, sizeof err), 1);
    ck_assert_int_eq(notif_store_outcome(fx.ss, id, "sent", channel, pid, NULL, err, sizeof err),
                     0);
}

/* The record's status, and its error into errbuf ("" when none). */
static const char *status_of(const char *id, char *errbuf, size_t errsz)
{
    static char st[32];
    char err[256];
    struct notif_record r;
    ck_assert_int_eq(notif_store_get(fx.ss, id, &r, err, sizeof err), 0);
    snprintf(st, sizeof st, "%s", r.status);
    if (errbuf)
        snprintf(errbuf, errsz, "%s", r.error ? r.error : "");
    notif_record_deinit(&r);
    return st;
}

static struct inbound_api_stats stats(void)
{
    struct inbound_api_stats s;
    inbound_api_get_stats(fx.api, &s);
    return s;
}

/* ---- Infobip ---- */

static char *infobip_result(const char *id, const char *group, const char *name, int err_id,
                            const char *err_name)
{
    return xasprintf("{\"bulkId\":\"b-1\",\"messageId\":\"%s\",\"to\":\"5511987654321\","
                     "\"sentAt\":\"2024-05-02T10:00:00.000+0000\",\"doneAt\":\"2024-05-02T10:00:"
                     "04.000+0000\",\"smsCount\":1,\"price\":{\"pricePerMessage\":0.01,"
                     "\"currency\":\"EUR\"},\"status\":{\"groupId\":3,\"groupName\":\"%s\","
                     "\"id\":5,\"name\":\"%s\",\"description\":\"-\"},\"error\":{\"groupId\":0,"
                     "\"groupName\":\"OK\",\"id\":%d,\"name\":\"%s\",\"permanent\":false}}",
                     id, group, name, err_id, err_name);
}

static long infobip_post(const char *r1, const char *r2)
{
    char *body = xasprintf("{\"results\":[%s%s%s]}", r1, r2 ? "," : "", r2 ? r2 : "");
    long st = post("/infobip/dlr", body, (const char *[]){"Content-Type: application/json", NULL});
    free(body);
    return st;
}

START_TEST(infobip_reports_update_records)
{
    char e[256];
    seed("s1:o1:outage-opened", "infobip", NULL);
    seed("s2:o1:outage-opened", "infobip", NULL);
    char *ok =
        infobip_result("s1:o1:outage-opened", "DELIVERED", "DELIVERED_TO_HANDSET", 0, "NO_ERROR");
    char *ko = infobip_result("s2:o1:outage-opened", "UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED",
                              27, "EC_ABSENT_SUBSCRIBER");
    ck_assert_int_eq(infobip_post(ok, ko), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", e, sizeof e), "delivered");
    ck_assert_str_eq(e, "");
    ck_assert_str_eq(status_of("s2:o1:outage-opened", e, sizeof e), "failed");
    ck_assert_ptr_nonnull(strstr(e, "EC_ABSENT_SUBSCRIBER"));
    /* a late PENDING does not undo the delivery */
    char *late = infobip_result("s1:o1:outage-opened", "PENDING", "PENDING_ENROUTE", 0, "NO_ERROR");
    ck_assert_int_eq(infobip_post(late, NULL), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "delivered");
    /* an id farol never sent: answered 200 (Infobip would retry it forever), counted */
    char *unknown = infobip_result("nobody:o1:x", "DELIVERED", "DELIVERED_TO_HANDSET", 0, "OK");
    ck_assert_int_eq(infobip_post(unknown, NULL), 200);
    struct inbound_api_stats s = stats();
    ck_assert_uint_eq(s.reports, 4);
    ck_assert_uint_eq(s.updates, 2);
    ck_assert_uint_eq(s.stale, 1);
    ck_assert_uint_eq(s.unknown, 1);
    ck_assert_int_eq(post("/infobip/dlr", "{\"to\":\"+5511987654321\"}", NULL), 400);
    ck_assert_int_eq(post("/infobip/dlr", "not json", NULL), 400);
    ck_assert_uint_eq(stats().bad, 2);
    free(ok), free(ko), free(late), free(unknown);
}
END_TEST

/* ---- WhatsApp ---- */

static void hub_signature(const char *secret, const char *body, char *out, size_t outsz)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                               (const unsigned char *)body, strlen(body), mac, &n));
    int k = snprintf(out, outsz, "X-Hub-Signature-256: sha256=");
    for (unsigned int i = 0; i < n; i++)
        k += snprintf(out + k, outsz - (size_t)k, "%02x", mac[i]);
}

/* extra: more fields of the status object (",\"errors\":[...]"), or NULL */
static char *wa_body(const char *wamid, const char *status, const char *extra)
{
    return xasprintf(
        "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","
        "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
        "\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},"
        "\"statuses\":[{\"id\":\"%s\",\"status\":\"%s\",\"timestamp\":\"1714644000\","
        "\"recipient_id\":\"5511987654321\"%s}]},\"field\":\"messages\"}]}]}",
        wamid, status, extra ? extra : "");
}

/* POST a status signed with secret (NULL: unsigned). */
static long wa_post(const char *wamid, const char *status, const char *errors, const char *secret)
{
    char *x = errors ? xasprintf(",\"errors\":%s", errors) : NULL;
    char *body = wa_body(wamid, status, x), sig[128];
    free(x);
    if (secret)
        hub_signature(secret, body, sig, sizeof sig);
    const char *hdrs[] = {"Content-Type: application/json", secret ? sig : NULL, NULL};
    long st = post("/whatsapp/webhook", body, hdrs);
    free(body);
    return st;
}

#define WAMID1 "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjAxQjNGRDY3QjA0OUE4RkM4OAA="
#define WAMID2 "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjk5OTk5OTk5OTk5OTk5OTk5OQA="
#define WAMID3 "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjMzMzMzMzMzMzMzMzMzMzMzMwA="

START_TEST(whatsapp_statuses_update_records)
{
    char e[256];
    seed("s1:o1:outage-opened", "wa", WAMID1);
    seed("s2:o1:outage-opened", "wa", WAMID2);
    ck_assert_int_eq(wa_post(WAMID1, "delivered", NULL, APP_SECRET), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "delivered");
    ck_assert_int_eq(wa_post(WAMID1, "read", NULL, APP_SECRET), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "read");
    /* read outranks delivered, and both outrank a late sent */
    ck_assert_int_eq(wa_post(WAMID1, "delivered", NULL, APP_SECRET), 200);
    ck_assert_int_eq(wa_post(WAMID1, "sent", NULL, APP_SECRET), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "read");
    const char *errors = "[{\"code\":131026,\"title\":\"Message undeliverable\","
                         "\"message\":\"Message undeliverable\",\"error_data\":{\"details\":"
                         "\"Recipient 5511987654321 is not a WhatsApp user\"}}]";
    ck_assert_int_eq(wa_post(WAMID2, "failed", errors, APP_SECRET), 200);
    ck_assert_str_eq(status_of("s2:o1:outage-opened", e, sizeof e), "failed");
    ck_assert_ptr_nonnull(strstr(e, "131026"));
    ck_assert_ptr_nonnull(strstr(e, "Message undeliverable"));
    ck_assert_ptr_null(strstr(e, "5511987654321")); /* the number is masked */
    /* a wamid with no mapping yet is kept for the send's outcome, which then applies it */
    ck_assert_int_eq(wa_post(WAMID3, "delivered", NULL, APP_SECRET), 200);
    ck_assert_uint_eq(stats().parked, 1);
    ck_assert_uint_eq(stats().updates, 3);
    char err[256];
    ck_assert_int_eq(notif_store_claim(fx.ss, "s3:o1:outage-opened", "wa", 3600, err, sizeof err),
                     1);
    struct store_batch b;
    store_batch_init(&b, fx.ss);
    notif_store_settle_add(&b, "s3:o1:outage-opened", "sent", "wa", WAMID3, NULL);
    ck_assert_int_eq(store_batch_end(&b), 0);
    ck_assert_str_eq(status_of("s3:o1:outage-opened", NULL, 0), "delivered");
    ck_assert_uint_eq(stats().unknown, 0);
}
END_TEST

/* A status carrying farol's id (biz_opaque_callback_data, as farol sends it) settles the
 * message with no wamid mapping: after a crash between the send and its outcome the claim is
 * still "sending" and nothing maps the wamid, yet "delivered" must end it, so no takeover
 * sends it again. */
START_TEST(whatsapp_status_with_farols_id_needs_no_mapping)
{
    char err[256];
    ck_assert_int_eq(notif_store_claim(fx.ss, "s4:o1:outage-opened", "wa", 3600, err, sizeof err),
                     1);
    char *body = wa_body("wamid.NEVER-MAPPED", "delivered",
                         ",\"biz_opaque_callback_data\":\"s4:o1:outage-opened\""),
         sig[128];
    hub_signature(APP_SECRET, body, sig, sizeof sig);
    const char *hdrs[] = {"Content-Type: application/json", sig, NULL};
    ck_assert_int_eq(post("/whatsapp/webhook", body, hdrs), 200);
    free(body);
    ck_assert_str_eq(status_of("s4:o1:outage-opened", NULL, 0), "delivered");
    ck_assert_uint_eq(stats().parked, 0);
    ck_assert_uint_eq(stats().updates, 1);
}
END_TEST

START_TEST(whatsapp_signature_is_required)
{
    seed("s1:o1:outage-opened", "wa", WAMID1);
    ck_assert_int_eq(wa_post(WAMID1, "delivered", NULL, NULL), 401);
    ck_assert_int_eq(wa_post(WAMID1, "delivered", NULL, "another-secret"), 401);
    /* a signature of another body */
    char *body = wa_body(WAMID1, "delivered", NULL), sig[128];
    hub_signature(APP_SECRET, "{}", sig, sizeof sig);
    ck_assert_int_eq(post("/whatsapp/webhook", body, (const char *[]){sig, NULL}), 401);
    /* the right one cut short */
    hub_signature(APP_SECRET, body, sig, sizeof sig);
    sig[strlen(sig) - 1] = '\0';
    ck_assert_int_eq(post("/whatsapp/webhook", body, (const char *[]){sig, NULL}), 401);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "sent");
    ck_assert_uint_eq(stats().unauthorized, 4);
    ck_assert_uint_eq(stats().reports, 0);
    /* hex digits in either case */
    hub_signature(APP_SECRET, body, sig, sizeof sig);
    for (char *p = strchr(sig, '=') + 1; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    ck_assert_int_eq(post("/whatsapp/webhook", body, (const char *[]){sig, NULL}), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "delivered");
    free(body);
}
END_TEST

START_TEST(whatsapp_subscription_check)
{
    struct exchange x;
    ck_assert_int_eq(request(&x, "GET",
                             "/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444"
                             "&hub.verify_token=" VERIFY_TOKEN,
                             NULL, NULL),
                     200);
    ck_assert_str_eq(x.resp, "1158201444");
    const char *refused[] = {
        "/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
        "/whatsapp/"
        "webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" VERIFY_TOKEN "x",
        "/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444",
        "/whatsapp/"
        "webhook?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=" VERIFY_TOKEN,
        "/whatsapp/webhook"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_int_eq(request(&x, "GET", refused[i], NULL, NULL), 403);
        ck_assert_ptr_null(strstr(x.resp, "1158201444"));
    }
}
END_TEST

/* ---- Twilio ---- */

static void twilio_signature(const char *signed_text, char *out, size_t outsz)
{
    unsigned char mac[EVP_MAX_MD_SIZE], b64[64];
    unsigned int n = 0;
    ck_assert_ptr_nonnull(HMAC(EVP_sha1(), TW_TOKEN, 5, (const unsigned char *)signed_text,
                               strlen(signed_text), mac, &n));
    EVP_EncodeBlock(b64, mac, (int)n);
    snprintf(out, outsz, "X-Twilio-Signature: %s", b64);
}

/* A status callback as Twilio posts it (its own field order, not sorted), signed over the
 * same fields sorted by name, written out here by hand. */
static long twilio_post(const char *sid, const char *status, const char *code, const char *sig)
{
    char *body = xasprintf("SmsSid=%s&SmsStatus=%s&MessageStatus=%s&To=%%2B5511987654321"
                           "&MessageSid=%s&AccountSid=AC0123&From=%%2B15005550006"
                           "&ApiVersion=2010-04-01%s%s",
                           sid, status, status, sid, code ? "&ErrorCode=" : "", code ? code : "");
    char *text = xasprintf(TW_URL "AccountSidAC0123ApiVersion2010-04-01%s%sFrom+15005550006"
                                  "MessageSid%sMessageStatus%sSmsSid%sSmsStatus%sTo+5511987654321",
                           code ? "ErrorCode" : "", code ? code : "", sid, status, sid, status);
    char good[128];
    twilio_signature(text, good, sizeof good);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", sig ? sig : good,
                          NULL};
    long st = post("/twilio/status", body, hdrs);
    free(body);
    free(text);
    return st;
}

/* A callback to the URL farol gave for one message (the configured one plus farol_id) names the
 * message itself: it settles a claim whose SID was never mapped (a crash between the send and
 * its outcome), and it is signed over that URL. */
START_TEST(twilio_callback_with_farols_id_needs_no_mapping)
{
    char err[256], sig[128];
    ck_assert_int_eq(notif_store_claim(fx.ss, "s4:o1:outage-opened", "tw", 3600, err, sizeof err),
                     1);
    const char *sid = "SM44444444444444444444444444444444";
    char *body = xasprintf("MessageSid=%s&MessageStatus=delivered&To=%%2B5511987654321", sid);
    char *text = xasprintf(TW_URL "&farol_id=s4%%3Ao1%%3Aoutage-opened"
                                  "MessageSid%sMessageStatusdeliveredTo+5511987654321",
                           sid);
    twilio_signature(text, sig, sizeof sig);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", sig, NULL};
    /* signed without the farol_id it carries: refused */
    ck_assert_int_eq(post("/twilio/status?farol_id=s5%3Ao1%3Aoutage-opened", body, hdrs), 401);
    ck_assert_int_eq(post("/twilio/status?farol_id=s4%3Ao1%3Aoutage-opened", body, hdrs), 200);
    free(body);
    free(text);
    ck_assert_str_eq(status_of("s4:o1:outage-opened", NULL, 0), "delivered");
    ck_assert_uint_eq(stats().parked, 0);
    ck_assert_uint_eq(stats().updates, 1);
}
END_TEST

START_TEST(twilio_callbacks_are_signed_and_update_records)
{
    char e[256];
    seed("s1:o1:outage-opened", "tw", "SM11111111111111111111111111111111");
    seed("s2:o1:outage-opened", "tw", "SM22222222222222222222222222222222");
    ck_assert_int_eq(twilio_post("SM11111111111111111111111111111111", "delivered", NULL,
                                 "X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
                     401);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "sent");
    ck_assert_uint_eq(stats().unauthorized, 1);
    ck_assert_int_eq(twilio_post("SM11111111111111111111111111111111", "delivered", NULL, NULL),
                     200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "delivered");
    /* a late "sent" (Twilio does not order its callbacks) keeps delivered */
    ck_assert_int_eq(twilio_post("SM11111111111111111111111111111111", "sent", NULL, NULL), 200);
    ck_assert_str_eq(status_of("s1:o1:outage-opened", NULL, 0), "delivered");
    ck_assert_int_eq(
        twilio_post("SM22222222222222222222222222222222", "undelivered", "30003", NULL), 200);
    ck_assert_str_eq(status_of("s2:o1:outage-opened", e, sizeof e), "failed");
    ck_assert_ptr_nonnull(strstr(e, "30003"));
    /* queued is the send's own business: answered, not recorded */
    ck_assert_int_eq(twilio_post("SM22222222222222222222222222222222", "queued", NULL, NULL), 200);
    ck_assert_str_eq(status_of("s2:o1:outage-opened", NULL, 0), "failed");
    ck_assert_uint_eq(stats().ignored, 1);
    ck_assert_int_eq(twilio_post("SM99", "delivered", NULL, NULL), 200);
    ck_assert_uint_eq(stats().parked, 1);
}
END_TEST

/* Twilio's documented example (URL, token, parameters, signature): the signature passes, and
 * then the body is no status callback (400); one character off and it is refused. */
START_TEST(twilio_documented_example_verifies)
{
    const char *body = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
                       "&From=%2B12349013030&To=%2B18005551212";
    ck_assert_int_eq(
        post("/twilio/status", body,
             (const char *[]){"X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=", NULL}),
        400);
    ck_assert_int_eq(
        post("/twilio/status", body,
             (const char *[]){"X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgR=", NULL}),
        401);
    ck_assert_int_eq(post("/twilio/status", body, NULL), 401);
}
END_TEST

/* ---- Redis ---- */

START_TEST(redis_down_answers_503)
{
    seed("s1:o1:outage-opened", "tw", "SM1");
    char *r = infobip_result("s1:o1:outage-opened", "DELIVERED", "DELIVERED_TO_HANDSET", 0, "OK");
    fx.db_down = 1; /* no connection at all */
    ck_assert_int_eq(infobip_post(r, NULL), 503);
    ck_assert_int_eq(fx.db_failures, 0);
    fx.db_down = 0;
    ck_assert_int_eq(redis_server_kill(fx.rs), 0); /* the connection breaks mid-use */
    ck_assert_int_eq(infobip_post(r, NULL), 503);
    ck_assert_int_eq(wa_post(WAMID1, "delivered", NULL, APP_SECRET), 503);
    ck_assert_int_eq(twilio_post("SM1", "delivered", NULL, NULL), 503);
    ck_assert_int_eq(fx.db_failures, 3);
    ck_assert_uint_eq(stats().errors, 4);
    free(r);
}
END_TEST

START_TEST(config_is_checked)
{
    char err[256];
    struct inbound_db db = {db_get, db_failed, NULL};
    struct inbound_api_config cfg = {.twilio_channel = "tw", .twilio_auth_token = "tok-SECRET"};
    ck_assert_ptr_null(inbound_api_new(fx.h, &cfg, &db, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "URL"));
    ck_assert_ptr_null(strstr(err, "SECRET"));
    /* the same routes twice */
    cfg = (struct inbound_api_config){.prefix = "/hooks", .infobip_channel = "infobip"};
    ck_assert_ptr_null(inbound_api_new(fx.h, &cfg, &db, err, sizeof err));
}
END_TEST

START_TEST(digit_runs_are_masked)
{
    char s[] = "to 5511987654321 code 131026 and +15005550006.";
    channel_mask_digits(s);
    ck_assert_str_eq(s, "to 55*********21 code 131026 and +15*******06.");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("inbound_api");
    TCase *tc = tcase_create("receivers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, infobip_reports_update_records);
    tcase_add_test(tc, whatsapp_statuses_update_records);
    tcase_add_test(tc, whatsapp_status_with_farols_id_needs_no_mapping);
    tcase_add_test(tc, whatsapp_signature_is_required);
    tcase_add_test(tc, whatsapp_subscription_check);
    tcase_add_test(tc, twilio_callbacks_are_signed_and_update_records);
    tcase_add_test(tc, twilio_callback_with_farols_id_needs_no_mapping);
    tcase_add_test(tc, twilio_documented_example_verifies);
    tcase_add_test(tc, redis_down_answers_503);
    tcase_add_test(tc, config_is_checked);
    tcase_add_test(tc, digit_runs_are_masked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
