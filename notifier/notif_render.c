#include "notifier/notif_render.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "notifier/template_file.h"

const char *notif_hash_get(struct notif_hash h, const char *field)
{
    const redisReply *r = h.r;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->str && !strcmp(r->element[i]->str, field))
            return r->element[i + 1]->str;
    return NULL;
}

struct vars {
    const struct template_file *tf;
    const struct notif_render_in *in;
    const char *locale, *tz;
    char eta[64], start[64], end[64], used[32], cap[32];
};

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static void when(struct vars *v, const char *field, char *buf, size_t sz)
{
    int64_t ms = num(notif_hash_get(v->in->ctx, field));
    buf[0] = '\0';
    if (ms > 0 && template_format_time((time_t)(ms / 1000), v->tz, v->locale, buf, sz) < 0)
        template_format_time((time_t)(ms / 1000), "UTC", v->locale, buf, sz);
}

/* "12.3 GB": caps are sold in decimal units. */
static void bytes(const char *s, char *buf, size_t sz)
{
    double b = s ? strtod(s, NULL) : 0;
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    while (b >= 1000 && u + 1 < sizeof unit / sizeof unit[0])
        b /= 1000, u++;
    snprintf(buf, sz, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static const char *lookup(const char *var, void *arg)
{
    struct vars *v = arg;
    const struct notif_render_in *in = v->in;
    if (!strcmp(var, "name"))
        return notif_hash_get(in->sub, "name");
    if (!strcmp(var, "area"))
        return notif_hash_get(in->ctx, "area");
    if (!strcmp(var, "message"))
        return notif_hash_get(in->ctx, "message");
    if (!strcmp(var, "outage_id"))
        return in->msg->base;
    if (!strcmp(var, "percent"))
        return notif_hash_get(in->vars, "percent");
    if (!strcmp(var, "cause")) {
        int64_t c = num(notif_hash_get(in->ctx, "cause"));
        return template_file_cause(v->tf, v->locale, (enum outage_cause)c);
    }
    if (!strcmp(var, "eta"))
        return v->eta[0] ? v->eta : NULL;
    if (!strcmp(var, "start"))
        return v->start[0] ? v->start : NULL;
    if (!strcmp(var, "end"))
        return v->end[0] ? v->end : NULL;
    if (!strcmp(var, "used"))
        return v->used;
    if (!strcmp(var, "cap"))
        return v->cap;
    return NULL;
}

int notif_render(const struct template_file *tf, const struct notif_render_in *in, char **out)
{
    struct vars v = {.tf = tf, .in = in};
    v.locale = notif_hash_get(in->sub, "locale");
    v.tz = notif_hash_get(in->sub, "timezone");
    if (!v.tz || !*v.tz)
        v.tz = "UTC";
    const struct template_msg *tpl = template_set_find(template_file_set(tf), in->msg->type,
                                                       v.locale && *v.locale ? v.locale : NULL);
    if (!tpl)
        return -ENOENT;
    v.locale = template_locale(tpl);
    when(&v, "eta_ms", v.eta, sizeof v.eta);
    when(&v, "start_ms", v.start, sizeof v.start);
    when(&v, "end_ms", v.end, sizeof v.end);
    bytes(notif_hash_get(in->vars, "used"), v.used, sizeof v.used);
    bytes(notif_hash_get(in->vars, "cap"), v.cap, sizeof v.cap);
    *out = NULL;
    return template_render(tpl, lookup, &v, out);
}
