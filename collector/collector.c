/* collector: the stage that notices. Wires the sources (SNMP poller with profiles, trap
 * receiver through the same profiles, ICMP prober)
 * to alarm hygiene (alarm_state: one event per change, remembered in Redis) and publishes
 * usage samples. Sources report conditions; only alarm_state talks to the bus about alarms. */
#include "collector/collector.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alarm_state.h"
#include "collector/icmp_prober.h"
#include "collector/snmp_engine.h"
#include "collector/snmp_poller.h"
#include "collector/snmp_trap.h"
#include "config/config.h"
#include "core/bus.h"
#include "core/bus_outbox.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct collector {
    struct loop *loop;
    struct bus *bus;
    struct alarm_state *alarms;
    struct bus_outbox *out; /* usage samples */
    struct snmp_engine *snmp;
    struct snmp_poller *poller;
    struct icmp_prober *icmp;
    struct snmp_trap *traps; /* NULL without a collector.traps section */
    unsigned long handled;
};

static void on_alarm(void *arg, const struct alarm_report *r)
{
    struct collector *c = arg;
    c->handled++;
    alarm_state_report(c->alarms, r);
}

static void on_usage(void *arg, const char *device, const char *object, uint64_t rx, uint64_t tx,
                     int64_t interval_ms)
{
    struct collector *c = arg;
    struct event ev;
    event_init(&ev, EVENT_USAGE);
    ev.ts_ms = loop_wall_ms();
    ev.u.usage.device = xstrdup(device);
    ev.u.usage.object = xstrdup(object);
    ev.u.usage.observed_ms = ev.ts_ms;
    ev.u.usage.rx_octets = rx;
    ev.u.usage.tx_octets = tx;
    ev.u.usage.interval_ms = interval_ms;
    bus_outbox_publish_event(c->out, &ev);
    event_deinit(&ev);
}

/* A device that stops answering pings is "unreachable". Every transition is reported, the
 * first answer after start-up included: it clears an alarm remembered from before a restart,
 * and alarm_state turns a clear of nothing into no event. */
static void on_icmp_state(void *arg, uint32_t target, enum icmp_state old, enum icmp_state now,
                          void *user)
{
    struct collector *c = arg;
    const struct device_config *d = user;
    (void)target;
    (void)old;
    struct alarm_report r = {.device = d->name,
                             .object = "",
                             .kind = "unreachable",
                             .active = now == ICMP_STATE_DOWN,
                             .severity = SEV_CRITICAL,
                             .source = SRC_ICMP,
                             .observed_ms = loop_wall_ms()};
    on_alarm(c, &r);
}

static int add_icmp_devices(struct collector *c, const struct collector_config *cc, char *err,
                            size_t errsz)
{
    struct icmp_prober_opts po = {.on_state = on_icmp_state, .arg = c};
    const struct icmp_config *ic = &cc->icmp;
    struct icmp_target_opts to = {.interval_ms = (unsigned)ic->interval_ms,
                                  .timeout_ms = (unsigned)ic->timeout_ms,
                                  .retries = (unsigned)ic->retries,
                                  .down_after = (unsigned)ic->down_after,
                                  .up_after = (unsigned)ic->up_after};
    for (size_t i = 0; i < cc->n_devices; i++) {
        const struct device_config *d = &cc->devices[i];
        if (!d->icmp)
            continue;
        if (!c->icmp && !(c->icmp = icmp_prober_new(c->loop, &po, err, errsz)))
            return -EINVAL;
        struct sockaddr_storage ss = {0};
        struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
        socklen_t len = sizeof *v4;
        if (inet_pton(AF_INET, d->address, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
        } else {
            inet_pton(AF_INET6, d->address, &v6->sin6_addr); /* checked at config load */
            v6->sin6_family = AF_INET6;
            len = sizeof *v6;
        }
        /* The config outlives the collector: the device record is the callback's user. */
        if (icmp_prober_add(c->icmp, d->name, (struct sockaddr *)&ss, len, &to, (void *)d, err,
                            errsz) < 0)
            return -EINVAL;
    }
    return 0;
}

static const char *const auth_names[] = {"MD5", "SHA", "SHA-256", "SHA-512"};
static const char *const priv_names[] = {"DES", "AES", "AES-256"};

static void device_cfg(const struct collector_config *cc, const struct device_config *d,
                       const struct snmp_credentials_config *cr, struct snmp_device_cfg *out,
                       char *addr, size_t addrsz)
{
    int v6 = strchr(d->address, ':') != NULL;
    snprintf(addr, addrsz, v6 ? "[%s]:%d" : "%s:%d", d->address, d->snmp_port);
    *out = (struct snmp_device_cfg){
        .name = d->name,
        .address = addr,
        .version = cr->version == 1   ? SNMP_V1
                   : cr->version == 2 ? SNMP_V2C
                                      : SNMP_V3,
        .community = cr->community,
        .user = cr->user,
        .level = (enum snmp_seclevel)(cr->security_level + 1),
        .auth_proto = auth_names[cr->auth_protocol],
        .auth_pass = cr->auth_password,
        .priv_proto = priv_names[cr->priv_protocol],
        .priv_pass = cr->priv_password,
        .timeout_ms = (int)cc->snmp.timeout_ms,
        .retries = cc->snmp.retries,
        .max_repetitions = cc->snmp.max_repetitions,
        .max_in_flight = cc->snmp.max_in_flight,
        .max_rate = cc->snmp.max_rate,
    };
}

static const void *find_named(const void *items, size_t n, size_t size, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        const char *const *item_name = (const char *const *)((const char *)items + i * size);
        if (strcmp(*item_name, name) == 0)
            return (const char *)items + i * size;
    }
    return NULL;
}

static int add_snmp_devices(struct collector *c, const struct collector_config *cc, char *err,
                            size_t errsz)
{
    for (size_t i = 0; i < cc->n_devices; i++) {
        const struct device_config *d = &cc->devices[i];
        if (!d->profile)
            continue;
        /* Names were checked at load: both exist. */
        const struct profile *p = find_named(cc->profiles, cc->n_profiles, sizeof *p, d->profile);
        const struct snmp_credentials_config *cr =
            find_named(cc->credentials, cc->n_credentials, sizeof *cr, d->credentials);
        struct snmp_device_cfg dc;
        char addr[80];
        device_cfg(cc, d, cr, &dc, addr, sizeof addr);
        if (snmp_poller_add(c->poller, d->name, &dc, p, cc->snmp.interval_ms, err, errsz) < 0)
            return -EINVAL;
    }
    return 0;
}

struct collector *collector_new(struct loop *loop, struct bus *bus, struct store *store,
                                const struct config *cfg, char *err, unsigned long errsz)
{
    struct collector *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->bus = bus;
    c->alarms = alarm_state_new(loop, bus, store);
    c->out = bus_outbox_new(loop, bus);
    c->snmp = snmp_engine_new(loop, NULL);
    struct profile_sink sink = {.alarm = on_alarm, .usage = on_usage, .arg = c};
    c->poller = snmp_poller_new(loop, c->snmp, &sink);
    err[0] = '\0';
    c->traps = snmp_trap_new(loop, &cfg->collector, &sink, err, errsz);
    if ((!c->traps && err[0]) || add_snmp_devices(c, &cfg->collector, err, errsz) < 0 ||
        add_icmp_devices(c, &cfg->collector, err, errsz) < 0) {
        collector_free(c);
        return NULL;
    }
    log_info("collector", "started: %zu devices", cfg->collector.n_devices);
    return c;
}

void collector_stop_sources(struct collector *c)
{
    snmp_poller_stop(c->poller);
    icmp_prober_free(c->icmp); /* nothing in flight matters once we are stopping */
    c->icmp = NULL;
    snmp_trap_free(c->traps);
    c->traps = NULL;
}

unsigned long collector_handled(const struct collector *c)
{
    return c->handled;
}

void collector_free(struct collector *c)
{
    if (!c)
        return;
    icmp_prober_free(c->icmp);
    snmp_trap_free(c->traps);
    snmp_poller_free(c->poller);
    snmp_engine_free(c->snmp);
    alarm_state_free(c->alarms);
    bus_outbox_free(c->out);
    free(c);
}
