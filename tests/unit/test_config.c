#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/event.h"
#include "config/scalar.h"
#include "config/schema.h"
#include "config/yaml_tree.h"

#include "tests/support/check_run.h"

static char *fixture(const char *name)
{
    const char *src = getenv("FAROL_SRCDIR");
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/data/config/%s", src ? src : ".", name);
    return path;
}

/* Loads a fixture expecting failure; returns the diag (caller frees). */
static struct config_diag load_bad(const char *name, int want_rc)
{
    struct config cfg;
    struct config_diag d;
    config_diag_init(&d);
    int rc = config_load(fixture(name), &cfg, &d);
    for (size_t i = 0; rc != want_rc && i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    ck_assert_int_eq(rc, want_rc);
    return d;
}

/* ---- every class of bad config, with the exact FILE:LINE:COL message(s) ---- */

static const struct {
    const char *file;
    const char *msgs[16]; /* "LINE:COL: message", NULL-terminated */
} bad[] = {
    {"syntax.yaml",
     {"4:6: syntax error: did not find expected ',' or ']' (while parsing a flow sequence)"}},
    {"wrong_type.yaml", {"3:7: redis.db: expected an integer, got 'abc'"}},
    {"out_of_range.yaml",
     {"2:7: redis.db: 16 is out of range 0..15",
      "4:16: bus.queue_limit: 0 is out of range 1..10000000"}},
    {"bad_enum.yaml",
     {"2:10: log.level: 'verbose' is not one of: debug, info, warn, error",
      "3:11: log.format: 'jsn' is not one of: text, json (did you mean 'json'?)"}},
    {"bad_duration.yaml",
     {"2:18: daemon.drain_timeout: bad duration '10x' (expected a number with a unit: ms, s, "
      "m, h, d; e.g. 30s)"}},
    {"unknown_key.yaml",
     {"2:3: unknown key 'levle' (did you mean 'level'?)",
      "3:1: unknown key 'notifyer' (did you mean 'notifier'?)"}},
    {"missing_required.yaml", {"3:1: bus.kafka.brokers is required when bus.transport is kafka"}},
    {"bad_reference.yaml",
     {"2:18: redis.password_file: cannot read 'does-not-exist.txt': No such file or "
      "directory"}},
    {"unset_env.yaml",
     {"2:13: redis.password: environment variable 'FAROL_TEST_UNSET_VAR' is not set"}},
    {"duplicate_key.yaml", {"3:3: duplicate key 'level' (first defined at line 2)"}},
    {"multi_doc.yaml", {"3:1: only one YAML document is allowed"}},
    {"alias.yaml", {"5:14: YAML aliases (*addr) are not supported; write the value out"}},
    {"not_mapping.yaml", {"1:1: expected a mapping, got a sequence"}},
    {"exclusive.yaml", {"3:3: redis.password and redis.password_file are mutually exclusive"}},
    {"notifier_bad.yaml",
     {"3:7: notifier.channels[0]: a kannel channel needs username and password",
      "4:13: notifier.channels[0].kind: 'kanel' is not one of: kannel, twilio, http, infobip, "
      "whatsapp, telegram (did you mean 'kannel'?)",
      "6:7: notifier.channels[1]: a kannel channel needs username and password",
      "8:12: notifier.channels[1].url: 'ftp://gateway' is not an http:// or https:// URL",
      "10:13: duplicate channel 'sms' (first defined at line 3)",
      "15:13: notifier.channels[2].rate: -1 is out of range 0..100000"}},
    {"notifier_channels_bad.yaml",
     {"3:7: notifier.channels[0]: an infobip channel needs password (the API key)",
      "3:7: missing required key 'notifier.channels[0].url'",
      "6:7: notifier.channels[1]: a whatsapp channel needs password (the access token), "
      "phone_number_id and template",
      "9:17: notifier.channels[1].template: 'Farol-Notice' is not a template name (lowercase "
      "letters, digits and '_')",
      "10:20: notifier.channels[1].api_version: '21' is not a Graph API version (e.g. v21.0)",
      "11:26: notifier.channels[1].template_language: 'pt-BR' is not a WhatsApp language code "
      "(e.g. en, pt_BR)",
      "12:7: notifier.channels[2]: a telegram channel needs password (the bot token)",
      "12:7: notifier.channels[2]: phone_number_id, template and template_language are for kind "
      "whatsapp"}},
    {"collector_bad.yaml",
     {"2:3: collector.icmp: timeout x (retries + 1) = 1200 ms does not fit in the interval of "
      "1000 ms",
      "9:13: duplicate device 'olt-sp-01' (first defined at line 7)",
      "10:16: collector.devices[1].address: 'olt.example' is not a numeric IPv4 or IPv6 address",
      "11:7: missing required key 'collector.devices[2].name'",
      "12:13: collector.devices[2].icmp: expected true or false, got 'maybe'",
      "13:7: collector.devices[3]: a device with a profile needs credentials",
      "13:13: collector.devices[3].name: 'sw 1': a device name is non-empty, without spaces, "
      "'|' or '/'",
      "15:16: collector.devices[3].profile: unknown profile 'huawei'",
      "17:7: collector.credentials[0]: authPriv needs a priv_password",
      "23:7: collector.profiles[0].onus: list the status values that mean online",
      "25:18: collector.profiles[0].onus.los[1]: expected an integer, got 'x'",
      "27:15: collector.profiles[1].uptime: 'sysUpTime.0' is not a numeric OID (e.g. "
      "1.3.6.1.2.1.1.3.0); MIB names are not loaded",
      "30:15: collector.profiles[1].counters.bits: 16 is out of range 32..64"}},
    {"traps_bad.yaml",
     {"7:17: collector.profiles[0].traps[0].oid: 'linkDown' is not a numeric OID (e.g. "
      "1.3.6.1.2.1.1.3.0); MIB names are not loaded",
      "8:11: collector.profiles[0].traps[1]: index suffix needs the varbind that carries it",
      "8:42: collector.profiles[0].traps[1].kind: 'onu los': an alarm kind is letters, digits, "
      "'-' and '_'",
      "8:61: collector.profiles[0].traps[1].action: 'toggle' is not one of: raise, clear",
      "10:50: collector.devices[0].engine_id: '0x8000' is not an snmpEngineID (5 to 32 octets "
      "in hex, e.g. 0x80001f8803...)",
      "12:13: collector.traps.listen: 'localhost:162' is not IP:PORT or [IPv6]:PORT",
      "13:18: collector.traps.credentials: unknown credentials 'nosuch'",
      "14:16: collector.traps.engine_id: '0xZZ00000000' is not an snmpEngineID (5 to 32 octets "
      "in hex, e.g. 0x80001f8803...)"}},
    /* several errors in one file: all of them, in file order */
    {"many_errors.yaml",
     {"3:10: log.level: 'loud' is not one of: debug, info, warn, error",
      "4:3: unknown key 'formt' (did you mean 'format'?)",
      "6:18: daemon.drain_timeout: 11m is out of range 0..10m",
      "8:12: redis.address: 'localhost' is not host:port or unix:/path",
      "9:7: redis.db: -1 is out of range 0..15",
      "11:18: redis.reconnect_max (1s) must be >= redis.reconnect_min (10s)",
      "12:1: bus.kafka.brokers is required when bus.transport is kafka",
      "15:13: bus.topics.alarms: bad topic name 'bad topic!' (1 to 249 characters from A-Z "
      "a-z 0-9 . _ -)",
      "16:5: unknown key 'pagers'"}},
};

START_TEST(bad_config_reports_exact_positions)
{
    unsetenv("FAROL_TEST_UNSET_VAR");
    struct config_diag d = load_bad(bad[_i].file, -EINVAL);
    size_t n = 0;
    while (n < 16 && bad[_i].msgs[n])
        n++;
    for (size_t i = 0; d.n != n && i < d.n; i++)
        fprintf(stderr, "%s: got %s\n", bad[_i].file, d.msgs[i]);
    ck_assert_uint_eq(d.n, n);
    for (size_t i = 0; i < n; i++) {
        char want[8192];
        snprintf(want, sizeof want, "%s:%s", fixture(bad[_i].file), bad[_i].msgs[i]);
        ck_assert_str_eq(d.msgs[i], want);
    }
    config_diag_deinit(&d);
}
END_TEST

START_TEST(unopenable_file_is_enoent_or_eisdir)
{
    struct config_diag d = load_bad("no-such-file.yaml", -ENOENT);
    char want[4200];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
             fixture("no-such-file.yaml"));
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.msgs[0], want);
    config_diag_deinit(&d);
    d = load_bad(".", -EISDIR);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(unreadable_file_is_eacces)
{
    if (geteuid() == 0)
        return; /* root reads anything: nothing to assert */
    char path[] = "/tmp/farol-cfgXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    chmod(path, 0);
    struct config cfg;
    struct config_diag d;
    config_diag_init(&d);
    int rc = config_load(path, &cfg, &d);
    unlink(path);
    ck_assert_int_eq(rc, -EACCES);
    ck_assert_uint_eq(d.n, 1);
    config_diag_deinit(&d);
}
END_TEST

/* ---- valid files ---- */

START_TEST(valid_file_gives_typed_values)
{
    setenv("FAROL_TEST_REDIS_PASSWORD", "pa$$word", 1);
    struct config c;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("valid.yaml"), &c, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_str_eq(c.path, fixture("valid.yaml"));
    ck_assert_int_eq(c.log.level, LOG_LEVEL_DEBUG);
    ck_assert_int_eq(c.log.format, LOG_FORMAT_JSON);
    ck_assert_int_eq(c.daemon.drain_timeout_ms, 90000);
    ck_assert_str_eq(c.redis.address, "[::1]:6380");
    ck_assert_str_eq(c.redis.password, "pa$$word"); /* env values are not expanded again */
    ck_assert_int_eq(c.redis.db, 3);
    ck_assert_str_eq(c.redis.prefix, "test$farol:");
    ck_assert_int_eq(c.redis.connect_timeout_ms, 500);
    ck_assert_int_eq(c.redis.command_timeout_ms, 3000);
    ck_assert_int_eq(c.redis.reconnect_min_ms, 200);
    ck_assert_int_eq(c.redis.reconnect_max_ms, 3600000);
    ck_assert_int_eq(c.bus.transport, BUS_KAFKA);
    ck_assert_uint_eq(c.bus.queue_limit, 5000);
    ck_assert_str_eq(c.bus.topics[BUS_ALARMS], "isp.alarms");
    ck_assert_str_eq(c.bus.topics[BUS_DEADLETTER], "isp.dead_letter-1");
    ck_assert_ptr_null(c.bus.topics[BUS_OUTAGES]);
    ck_assert_str_eq(c.bus.brokers, "127.0.0.1:9092,127.0.0.1:9093");
    ck_assert_str_eq(c.bus.client_id, "farol-test");
    ck_assert_str_eq(c.bus.group_prefix, "isp");
    ck_assert_int_eq(c.bus.flush_timeout_ms, 45000);
    ck_assert_uint_eq(c.bus.n_properties, 3);
    ck_assert_str_eq(c.bus.properties[0].key, "linger.ms");
    ck_assert_str_eq(c.bus.properties[0].value, "5");
    ck_assert_str_eq(c.bus.properties[1].key, "enable.idempotence");
    ck_assert_str_eq(c.bus.properties[1].value, "true");
    ck_assert_str_eq(c.bus.properties[2].value, "lz4");
    config_deinit(&c);
    ck_assert_ptr_null(c.redis.address);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(infobip_whatsapp_telegram_channels)
{
    struct config c;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("notifier_channels_ok.yaml"), &c, &d), 0);
    ck_assert_uint_eq(c.notifier.n_channels, 3);
    const struct channel_config *ib = &c.notifier.channels[0], *wa = ib + 1, *tg = ib + 2;
    ck_assert_int_eq(ib->kind, CHANNEL_KIND_INFOBIP);
    ck_assert_str_eq(notifier_config_kind_name(ib->kind), "infobip");
    ck_assert_str_eq(ib->url, "https://xyz12.api.infobip.com");
    ck_assert_str_eq(ib->password, "ib-api-key");
    ck_assert_str_eq(ib->dlr_url, "http://127.0.0.1:8080/infobip/dlr");
    ck_assert_int_eq(wa->kind, CHANNEL_KIND_WHATSAPP);
    ck_assert_ptr_null(wa->url); /* the public Graph API */
    ck_assert_str_eq(wa->phone_number_id, "106540352242922");
    ck_assert_str_eq(wa->api_version, "v21.0");
    ck_assert_str_eq(wa->template_name, "farol_notice");
    ck_assert_str_eq(wa->template_language, "pt_BR");
    ck_assert_int_eq(tg->kind, CHANNEL_KIND_TELEGRAM);
    ck_assert_str_eq(notifier_config_kind_name(tg->kind), "telegram");
    ck_assert_str_eq(tg->password, "123456:ABC-DEF");
    ck_assert_int_eq(tg->timeout_ms, 5000);
    ck_assert_str_eq(notifier_config_kind_name(99), "?");
    config_deinit(&c);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(collector_section_gives_devices_and_icmp_defaults)
{
    struct config cfg;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("collector_ok.yaml"), &cfg, &d), 0);
    ck_assert_int_eq(cfg.collector.icmp.interval_ms, 5000);
    ck_assert_int_eq(cfg.collector.icmp.timeout_ms, 1000);
    ck_assert_int_eq(cfg.collector.icmp.retries, 1);
    ck_assert_int_eq(cfg.collector.icmp.down_after, 4);
    ck_assert_int_eq(cfg.collector.icmp.up_after, 2);
    ck_assert_uint_eq(cfg.collector.n_devices, 2);
    ck_assert_str_eq(cfg.collector.devices[0].name, "olt-sp-01");
    ck_assert_str_eq(cfg.collector.devices[0].address, "10.99.0.2");
    ck_assert_int_eq(cfg.collector.devices[0].icmp, 1);
    ck_assert_str_eq(cfg.collector.devices[1].address, "2001:db8::1");
    ck_assert_int_eq(cfg.collector.devices[1].icmp, 0);
    config_deinit(&cfg);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(traps_section_and_profile_trap_mappings)
{
    struct config cfg;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("traps_ok.yaml"), &cfg, &d), 0);
    const struct collector_config *c = &cfg.collector;
    ck_assert_str_eq(c->traps.listen, "127.0.0.1:1162, [::1]:1162");
    ck_assert_int_eq(c->traps.log_interval_ms, 10000);
    ck_assert_str_eq(c->devices[0].engine_id, "0x80001F8803AABBCCDDEE");
    const struct profile *p = &c->profiles[0];
    ck_assert_uint_eq(p->n_traps, 4);
    /* without an object, a mapping takes the object of the poll rule reporting its kind */
    ck_assert_str_eq(p->traps[0].object, "port:{index}");
    ck_assert_int_eq(p->traps[0].action, PROFILE_TRAP_RAISE);
    ck_assert_int_eq(p->traps[0].index, PROFILE_INDEX_SUFFIX);
    ck_assert_int_eq(p->traps[0].severity, SEV_MAJOR);
    ck_assert_str_eq(p->traps[1].object, "ont:{index}");
    ck_assert_int_eq(p->traps[1].action, PROFILE_TRAP_CLEAR);
    ck_assert_int_eq(p->traps[1].index, PROFILE_INDEX_VALUE);
    ck_assert_int_eq(p->traps[1].severity, SEV_CRITICAL);
    ck_assert_str_eq(p->traps[2].object, ""); /* no index: the device itself */
    ck_assert_str_eq(p->traps[3].object, "psu{index}");

    unsigned char eid[32];
    ck_assert_int_eq(collector_config_engine_id(c->traps.engine_id, eid, sizeof eid), 9);
    ck_assert_int_eq(eid[0], 0x80);
    ck_assert_int_eq(eid[8], 0x04);
    ck_assert_int_eq(collector_config_engine_id("0x80001F8803AABBCCDDEE", eid, sizeof eid), 10);
    ck_assert_int_eq(eid[9], 0xee);
    ck_assert_int_eq(collector_config_engine_id("0x800", eid, sizeof eid), -EINVAL);

    char item[64], host[64];
    int port;
    const char *cur = c->traps.listen;
    ck_assert_int_eq(collector_config_list_next(&cur, item, sizeof item), 1);
    ck_assert_int_eq(collector_config_endpoint(item, host, sizeof host, &port), AF_INET);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(collector_config_list_next(&cur, item, sizeof item), 1);
    ck_assert_str_eq(item, "[::1]:1162");
    ck_assert_int_eq(collector_config_endpoint(item, host, sizeof host, &port), AF_INET6);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 1162);
    ck_assert_int_eq(collector_config_list_next(&cur, item, sizeof item), 0);
    ck_assert_int_eq(collector_config_endpoint("::1:162", host, sizeof host, &port), -EINVAL);
    config_deinit(&cfg);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(empty_file_gives_defaults)
{
    struct config c;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("empty.yaml"), &c, &d), 0);
    ck_assert_int_eq(c.log.level, LOG_LEVEL_INFO);
    ck_assert_int_eq(c.log.format, LOG_FORMAT_TEXT);
    ck_assert_int_eq(c.daemon.drain_timeout_ms, 10000);
    ck_assert_str_eq(c.redis.address, "127.0.0.1:6379");
    ck_assert_ptr_null(c.redis.password);
    ck_assert_int_eq(c.redis.db, 0);
    ck_assert(c.redis.prefix == NULL || strcmp(c.redis.prefix, "farol:") == 0);
    ck_assert_int_eq(c.redis.connect_timeout_ms, 1000);
    ck_assert_int_eq(c.redis.command_timeout_ms, 2000);
    ck_assert_int_eq(c.redis.reconnect_min_ms, 100);
    ck_assert_int_eq(c.redis.reconnect_max_ms, 5000);
    ck_assert_int_eq(c.bus.transport, BUS_INPROC);
    ck_assert_uint_eq(c.bus.queue_limit, 100000);
    ck_assert_int_eq(c.bus.flush_timeout_ms, 10000);
    config_deinit(&c);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(example_file_is_valid)
{
    const char *src = getenv("FAROL_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/config/farol.example.yaml", src ? src : ".");
    struct config c;
    struct config_diag d;
    config_diag_init(&d);
    int rc = config_load(path, &c, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    ck_assert_int_eq(rc, 0);
    config_deinit(&c);
    config_diag_deinit(&d);
}
END_TEST

START_TEST(password_file_first_line_is_the_password)
{
    struct config c;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("password_file.yaml"), &c, &d), 0);
    ck_assert_str_eq(c.redis.password, "s3cret-from-file");
    ck_assert_str_eq(c.redis.address, "unix:/run/redis/redis.sock");
    config_deinit(&c);
    config_diag_deinit(&d);
}
END_TEST

/* ---- reloads and cleanup ---- */

/* Live allocations made by farol code: the test links with -Wl,--wrap for these four, so
 * every malloc in config/ and core/ (statically linked) goes through here. Exact, unlike
 * mallinfo, and independent of ASan. */
static long live_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t sz);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

void *__wrap_malloc(size_t n)
{
    void *p = __real_malloc(n);
    live_allocs += p != NULL;
    return p;
}

void *__wrap_calloc(size_t n, size_t sz)
{
    void *p = __real_calloc(n, sz);
    live_allocs += p != NULL;
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q = __real_realloc(p, n);
    live_allocs += !p && q;
    return q;
}

void __wrap_free(void *p)
{
    live_allocs -= p != NULL;
    __real_free(p);
}

START_TEST(failed_load_leaves_nothing_allocated)
{
    static const struct config zero;
    const char *files[] = {"many_errors.yaml", "syntax.yaml",        "bad_reference.yaml",
                           "alias.yaml",       "duplicate_key.yaml", "no-such-file.yaml"};
    int leftovers = 0;
    setenv("FAROL_TEST_REDIS_PASSWORD", "x", 1);
    long before = live_allocs;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct config c;
        struct config_diag d;
        config_diag_init(&d);
        int rc = config_load(fixture(files[i]), &c, &d);
        /* no config_deinit(): a failed load must leave nothing to free */
        leftovers += rc >= 0 || memcmp(&c, &zero, sizeof c) != 0;
        config_diag_deinit(&d);
    }
    long after_failures = live_allocs;
    struct config c;
    struct config_diag d;
    config_diag_init(&d);
    int rc = config_load(fixture("valid.yaml"), &c, &d);
    long while_loaded = live_allocs;
    config_deinit(&c);
    config_diag_deinit(&d);
    long after_all = live_allocs;
    ck_assert_int_eq(leftovers, 0);
    ck_assert_int_eq(after_failures, before);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_gt(while_loaded, before); /* the counter does see config's allocations */
    ck_assert_int_eq(after_all, before);
}
END_TEST

START_TEST(load_can_be_repeated_like_a_reload)
{
    setenv("FAROL_TEST_REDIS_PASSWORD", "x", 1);
    struct config live, next;
    struct config_diag d;
    config_diag_init(&d);
    ck_assert_int_eq(config_load(fixture("valid.yaml"), &live, &d), 0);
    /* A bad reload fails without touching the live config... */
    ck_assert_int_eq(config_load(fixture("bad_enum.yaml"), &next, &d), -EINVAL);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_str_eq(live.redis.address, "[::1]:6380");
    /* ...and a good one gives an independent copy. */
    ck_assert_int_eq(config_load(fixture("valid.yaml"), &next, &d), 0);
    config_deinit(&live);
    ck_assert_str_eq(next.redis.address, "[::1]:6380");
    config_deinit(&next);
    config_diag_deinit(&d);
}
END_TEST

/* ---- scalars ---- */

START_TEST(durations_parse_and_format)
{
    int64_t ms;
    ck_assert_int_eq(scalar_parse_duration("500ms", &ms), 0);
    ck_assert_int_eq(ms, 500);
    ck_assert_int_eq(scalar_parse_duration("2d", &ms), 0);
    ck_assert_int_eq(ms, 2 * 86400000LL);
    ck_assert_int_eq(scalar_parse_duration("1h30m5s", &ms), 0);
    ck_assert_int_eq(ms, 5405000);
    ck_assert_int_eq(scalar_parse_duration("0", &ms), 0);
    ck_assert_int_eq(ms, 0);
    const char *bad_ones[] = {"",
                              "10",
                              "-1s",
                              "1.5h",
                              "5M",
                              "s",
                              "10 s",
                              "3ms5",
                              "1y",
                              "9999999999999999999d",
                              "106751991168d"};
    for (size_t i = 0; i < sizeof bad_ones / sizeof bad_ones[0]; i++)
        ck_assert_msg(scalar_parse_duration(bad_ones[i], &ms) == -EINVAL, "%s", bad_ones[i]);
    char buf[32];
    scalar_format_duration(600000, buf, sizeof buf);
    ck_assert_str_eq(buf, "10m");
    scalar_format_duration(1500, buf, sizeof buf);
    ck_assert_str_eq(buf, "1500ms");
}
END_TEST

START_TEST(env_expansion_and_escapes)
{
    char err[256];
    setenv("FAROL_T_A", "alpha", 1);
    unsetenv("FAROL_T_NOPE1");
    unsetenv("FAROL_T_NOPE2");
    char *s = scalar_expand_env("x${FAROL_T_A}y $$HOME $HOME $$${FAROL_T_A}", err, sizeof err);
    ck_assert_str_eq(s, "xalphay $HOME $HOME $alpha");
    free(s);
    ck_assert_ptr_null(scalar_expand_env("${FAROL_T_NOPE1}:${FAROL_T_NOPE2}", err, sizeof err));
    ck_assert_str_eq(err, "environment variables 'FAROL_T_NOPE1', 'FAROL_T_NOPE2' are not set");
    ck_assert_ptr_null(scalar_expand_env("a${FAROL_T_A", err, sizeof err));
    ck_assert_str_eq(err, "unterminated '${' (write '$$' for a literal '$')");
    ck_assert_ptr_null(scalar_expand_env("${1X}", err, sizeof err));
    ck_assert_str_eq(err, "bad environment variable name '1X'");
}
END_TEST

/* ---- the generic machinery later sections rely on: lists, references, bools ---- */

struct test_profile {
    char *name;
    int64_t interval_ms;
};
struct device {
    char *name;
    char *profile;
    int enabled;
};
struct inventory {
    struct test_profile *profiles;
    size_t n_profiles;
    struct device *devices;
    size_t n_devices;
};

static const struct schema_field profile_fields[] = {
    {"name", SCHEMA_STRING, offsetof(struct test_profile, name), .flags = SCHEMA_REQUIRED},
    {"interval", SCHEMA_DURATION, offsetof(struct test_profile, interval_ms), SCHEMA_DEFAULT,
     .def = 30000, .min = 1000, .max = 3600000},
    {0}};
static const struct schema_section profile_section = {.fields = profile_fields,
                                                      .size = sizeof(struct test_profile),
                                                      .defines = "profile",
                                                      .name_key = "name"};
static const struct schema_field device_fields[] = {
    {"name", SCHEMA_STRING, offsetof(struct device, name), .flags = SCHEMA_REQUIRED},
    {"profile", SCHEMA_STRING, offsetof(struct device, profile), SCHEMA_REQUIRED, .ref = "profile"},
    {"enabled", SCHEMA_BOOL, offsetof(struct device, enabled), SCHEMA_DEFAULT, .def = 1},
    {0}};
static const struct schema_section device_section = {.fields = device_fields,
                                                     .size = sizeof(struct device)};
static const struct schema_field inventory_fields[] = {
    {"profiles", SCHEMA_LIST, offsetof(struct inventory, profiles), 0, .sub = &profile_section,
     .count_offset = offsetof(struct inventory, n_profiles)},
    {"devices", SCHEMA_LIST, offsetof(struct inventory, devices), 0, .sub = &device_section,
     .count_offset = offsetof(struct inventory, n_devices)},
    {0}};
static const struct schema_section inventory_section = {.fields = inventory_fields};

/* Applies the inventory schema to text; returns the number of problems (kept in errs). */
static size_t apply_text(const char *text, struct inventory *inv, struct yaml_tree_errs *errs)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct yaml_tree *root;
    memset(inv, 0, sizeof *inv);
    *errs = (struct yaml_tree_errs){.file = "mem"};
    ck_assert_int_eq(yaml_tree_load(f, &root, errs), 0);
    fclose(f);
    schema_init(&inventory_section, inv);
    schema_apply(&inventory_section, inv, root, errs);
    yaml_tree_free(root);
    return errs->n;
}

START_TEST(lists_and_references_fill_arrays)
{
    struct inventory inv;
    struct yaml_tree_errs errs;
    ck_assert_uint_eq(apply_text("profiles:\n  - name: olt\n    interval: 10s\n  - name: cpe\n"
                                 "devices:\n  - {name: d1, profile: cpe, enabled: false}\n"
                                 "  - {name: d2, profile: olt}\n",
                                 &inv, &errs),
                      0);
    ck_assert_uint_eq(inv.n_profiles, 2);
    ck_assert_int_eq(inv.profiles[0].interval_ms, 10000);
    ck_assert_int_eq(inv.profiles[1].interval_ms, 30000);
    ck_assert_uint_eq(inv.n_devices, 2);
    ck_assert_str_eq(inv.devices[0].profile, "cpe");
    ck_assert_int_eq(inv.devices[0].enabled, 0);
    ck_assert_int_eq(inv.devices[1].enabled, 1);
    schema_free(&inventory_section, &inv);
    ck_assert_ptr_null(inv.devices);
    yaml_tree_errs_deinit(&errs);
}
END_TEST

START_TEST(bad_references_and_list_items_are_reported)
{
    struct inventory inv;
    struct yaml_tree_errs errs;
    const char *text = "devices:\n"
                       "  - {name: d1, profile: olt, enabled: yes}\n"
                       "  - profile: cpe\n"
                       "profiles:\n"
                       "  - name: cpe\n"
                       "  - name: cpe\n";
    ck_assert_uint_eq(apply_text(text, &inv, &errs), 4);
    /* reported in discovery order; config_load sorts them by position */
    ck_assert_str_eq(errs.v[0].msg, "devices[0].enabled: expected true or false, got 'yes'");
    ck_assert_int_eq(errs.v[0].line, 2);
    ck_assert_int_eq(errs.v[0].col, 39);
    ck_assert_str_eq(errs.v[1].msg, "missing required key 'devices[1].name'");
    ck_assert_int_eq(errs.v[1].line, 3);
    ck_assert_int_eq(errs.v[1].col, 5);
    ck_assert_str_eq(errs.v[2].msg, "duplicate profile 'cpe' (first defined at line 5)");
    ck_assert_int_eq(errs.v[2].line, 6);
    ck_assert_str_eq(errs.v[3].msg, "devices[0].profile: unknown profile 'olt'");
    ck_assert_int_eq(errs.v[3].line, 2);
    ck_assert_int_eq(errs.v[3].col, 25);
    schema_free(&inventory_section, &inv);
    yaml_tree_errs_deinit(&errs);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_loop_test(tc, bad_config_reports_exact_positions, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, unopenable_file_is_enoent_or_eisdir);
    tcase_add_test(tc, unreadable_file_is_eacces);
    tcase_add_test(tc, valid_file_gives_typed_values);
    tcase_add_test(tc, empty_file_gives_defaults);
    tcase_add_test(tc, collector_section_gives_devices_and_icmp_defaults);
    tcase_add_test(tc, infobip_whatsapp_telegram_channels);
    tcase_add_test(tc, traps_section_and_profile_trap_mappings);
    tcase_add_test(tc, example_file_is_valid);
    tcase_add_test(tc, password_file_first_line_is_the_password);
    tcase_add_test(tc, failed_load_leaves_nothing_allocated);
    tcase_add_test(tc, load_can_be_repeated_like_a_reload);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("schema");
    tcase_add_test(ts, durations_parse_and_format);
    tcase_add_test(ts, env_expansion_and_escapes);
    tcase_add_test(ts, lists_and_references_fill_arrays);
    tcase_add_test(ts, bad_references_and_list_items_are_reported);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    return check_run(config_suite(), CK_FORK_GETENV);
}
