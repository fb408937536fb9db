#include "core/bus_outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define RETRY_MS 20

struct entry {
    enum bus_topic topic;
    char *key;
    char *payload;
    bus_confirm_fn cb; /* may be NULL */
    void *arg;
};

struct bus_outbox {
    struct loop *loop;
    struct bus *bus;
    struct entry *q; /* ring */
    size_t head, len, cap;
    struct loop_timer *retry;
};

static void grow(struct bus_outbox *o)
{
    size_t ncap = o->cap ? o->cap * 2 : 64;
    struct entry *n = xcalloc(ncap, sizeof *n);
    for (size_t i = 0; i < o->len; i++)
        n[i] = o->q[(o->head + i) % o->cap];
    free(o->q);
    o->q = n;
    o->cap = ncap;
    o->head = 0;
}

static void flush(void *arg)
{
    struct bus_outbox *o = arg;
    while (o->len) {
        struct entry *e = &o->q[o->head];
        int rc = bus_publish_confirmed(o->bus, e->topic, e->key, e->payload, strlen(e->payload),
                                       e->cb, e->arg);
        if (rc == -ENOBUFS) {
            loop_timer_start(o->retry, RETRY_MS, 0);
            return;
        }
        if (rc < 0) {
            log_error("bus", "%s message dropped: %s", bus_topic_id(e->topic), strerror(-rc));
            if (e->cb)
                e->cb(e->arg, rc);
        }
        free(e->key);
        free(e->payload);
        o->head = (o->head + 1) % o->cap;
        o->len--;
    }
}

struct bus_outbox *bus_outbox_new(struct loop *loop, struct bus *bus)
{
    struct bus_outbox *o = xcalloc(1, sizeof *o);
    o->loop = loop;
    o->bus = bus;
    o->retry = loop_timer_new(loop, flush, o);
    return o;
}

void bus_outbox_publish_confirmed(struct bus_outbox *o, enum bus_topic topic, const char *key,
                                  char *payload, bus_confirm_fn cb, void *arg)
{
    if (o->len == o->cap)
        grow(o);
    o->q[(o->head + o->len++) % o->cap] = (struct entry){
        .topic = topic, .key = xstrdup(key), .payload = payload, .cb = cb, .arg = arg};
    if (o->len == 1)
        flush(o);
}

void bus_outbox_publish(struct bus_outbox *o, enum bus_topic topic, const char *key, char *payload)
{
    bus_outbox_publish_confirmed(o, topic, key, payload, NULL, NULL);
}

int bus_outbox_publish_event(struct bus_outbox *o, const struct event *ev)
{
    char err[256], *buf = NULL;
    size_t len;
    if (event_encode(ev, &buf, &len, err, sizeof err) < 0) {
        log_error("bus", "cannot encode %s event: %s", event_type_name(ev->type), err);
        return -EINVAL;
    }
    bus_outbox_publish(o, bus_topic_for(ev->type), event_key(ev), buf);
    return 0;
}

size_t bus_outbox_pending(const struct bus_outbox *o)
{
    return o->len;
}

void bus_outbox_free(struct bus_outbox *o)
{
    if (!o)
        return;
    if (o->len)
        log_warn("bus", "%zu messages never reached the bus", o->len);
    for (size_t i = 0; i < o->len; i++) {
        struct entry *e = &o->q[(o->head + i) % o->cap];
        if (e->cb)
            e->cb(e->arg, -ECANCELED);
        free(e->key);
        free(e->payload);
    }
    free(o->q);
    loop_timer_free(o->retry);
    free(o);
}
