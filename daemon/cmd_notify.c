#include "daemon/cmd_notify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "notifier/channel_build.h"
#include "notifier/http_client.h"
#include "notifier/sms_text.h"
#include "notifier/template_file.h"

struct opts {
    const char *config, *channel, *to, *text, *template, *locale, *tz;
};

struct sample {
    const char *cause;
    char eta[64], start[64], end[64];
};

static void help(FILE *f)
{
    fprintf(f,
            "usage: farol notify test --config FILE --channel NAME --to ADDRESS\n"
            "                         (--text TEXT | --template TYPE [--locale L] [--tz ZONE])\n\n"
            "Send one message through a configured channel and print the gateway's answer.\n"
            "TYPE is a message type (outage-opened, restored, maintenance-notice, ...); the\n"
            "template is rendered from notifier.templates with sample values.\n"
            "Exit status: 0 sent or queued, 1 refused or failed, 2 usage or configuration.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"channel", required_argument, NULL, 'C'},
                                          {"to", required_argument, NULL, 't'},
                                          {"text", required_argument, NULL, 'x'},
                                          {"template", required_argument, NULL, 'T'},
                                          {"locale", required_argument, NULL, 'l'},
                                          {"tz", required_argument, NULL, 'z'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:C:t:x:T:l:z:h", longs, NULL)) != -1;) {
        const char **slot[] = {
            ['c'] = &o->config,   ['C'] = &o->channel, ['t'] = &o->to, ['x'] = &o->text,
            ['T'] = &o->template, ['l'] = &o->locale,  ['z'] = &o->tz};
        if (c == 'h') {
            help(stdout);
            return 0;
        }
        if (c < 0 || c > 'z' || !slot[c]) {
            help(stderr);
            return 2;
        }
        *slot[c] = optarg;
    }
    if (optind >= argc || strcmp(argv[optind], "test") || !o->config || !o->channel || !o->to ||
        !o->text == !o->template) {
        help(stderr);
        return 2;
    }
    return -1;
}

static const char *lookup(const char *var, void *arg)
{
    const struct sample *s = arg;
    static const struct {
        const char *var, *value;
    } fixed[] = {{"name", "Maria"},  {"area", "Centro"}, {"percent", "80"},
                 {"used", "400 GB"}, {"cap", "500 GB"},  {"outage_id", "o-test"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(var, fixed[i].var))
            return fixed[i].value;
    if (!strcmp(var, "cause"))
        return s->cause && *s->cause ? s->cause : NULL;
    if (!strcmp(var, "eta"))
        return s->eta;
    if (!strcmp(var, "start"))
        return s->start;
    if (!strcmp(var, "end"))
        return s->end;
    return NULL;
}

/* The template rendered with sample values, or NULL (the reason printed). */
static char *render(const struct config *cfg, const struct opts *o)
{
    enum template_type type;
    if (template_type_parse(o->template, &type) < 0) {
        fprintf(stderr, "farol notify: unknown message type '%s'\n", o->template);
        return NULL;
    }
    if (!cfg->notifier.templates) {
        fprintf(stderr, "farol notify: --template needs notifier.templates in %s\n", o->config);
        return NULL;
    }
    char **msgs;
    size_t n;
    struct template_file *tf = template_file_load(cfg->notifier.templates, &msgs, &n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s\n", msgs[i]), free(msgs[i]);
    free(msgs);
    const struct template_msg *tpl =
        tf ? template_set_find(template_file_set(tf), type, o->locale) : NULL;
    char *out = NULL;
    if (tpl) {
        time_t now = time(NULL);
        struct sample s = {.cause = template_file_cause(tf, o->locale, CAUSE_FIBER_CUT)};
        template_format_time(now + 7200, o->tz, o->locale, s.eta, sizeof s.eta);
        template_format_time(now + 86400, o->tz, o->locale, s.start, sizeof s.start);
        template_format_time(now + 86400 + 7200, o->tz, o->locale, s.end, sizeof s.end);
        template_render(tpl, lookup, &s, &out);
    } else if (tf) {
        fprintf(stderr, "farol notify: no %s template for '%s'\n", o->template,
                o->locale ? o->locale : "the default locale");
    }
    template_file_free(tf);
    return out;
}

struct result {
    int done;
    enum channel_status status;
};

static void on_done(void *arg, const struct channel_result *r)
{
    struct result *res = arg;
    printf("answer: %s, HTTP %d%s%s\n", channel_status_name(r->status), r->http_status,
           r->error ? ": " : "", r->error ? r->error : "");
    res->status = r->status;
    res->done = 1;
}

static int send_text(const struct channel_config *cc, const struct opts *o, const char *text)
{
    struct sms_text_info info;
    if (sms_text_analyze(text, strlen(text), &info) == 0)
        printf("text: %s, %zu characters, %u SMS part(s)\n%s\n",
               info.encoding == SMS_ENC_GSM7 ? "GSM-7" : "UCS-2", info.chars, info.segments, text);
    struct loop *loop = loop_new();
    struct http_client *http = http_client_new(loop, NULL);
    char err[256] = "";
    struct channel *ch = channel_build(cc, http, err, sizeof err);
    struct result res = {0};
    /* the locale and type matter to channels that send templates (WhatsApp's language) */
    struct channel_msg m = {
        .id = "notify-test", .to = o->to, .text = text, .locale = o->locale, .type = o->template};
    int rc = ch ? channel_send(ch, &m, on_done, &res) : -1;
    if (rc < 0)
        fprintf(stderr, "farol notify: cannot send: %s\n", ch ? "invalid text" : err);
    while (rc == 0 && !res.done)
        loop_run_once(loop, 1);
    http_client_free(http); /* a send still in flight reports through its channel */
    channel_free(ch);
    loop_free(loop);
    return rc < 0 ? 2 : res.status == CHANNEL_SENT || res.status == CHANNEL_QUEUED ? 0 : 1;
}

static const struct channel_config *find_channel(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->notifier.n_channels; i++)
        if (!strcmp(cfg->notifier.channels[i].name, name))
            return &cfg->notifier.channels[i];
    return NULL;
}

int cmd_notify(int argc, char **argv)
{
    struct opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct config cfg;
    struct config_diag diag;
    config_diag_init(&diag);
    if (config_load(o.config, &cfg, &diag) < 0) {
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "%s\n", diag.msgs[i]);
        config_diag_deinit(&diag);
        return 2;
    }
    config_diag_deinit(&diag);
    const struct channel_config *cc = find_channel(&cfg, o.channel);
    char *text = NULL;
    if (!cc)
        fprintf(stderr, "farol notify: no channel '%s' in %s\n", o.channel, o.config);
    else
        text = o.text ? xstrdup(o.text) : render(&cfg, &o);
    printf("channel %s (%s) to %s\n", o.channel, cc ? notifier_config_kind_name(cc->kind) : "?",
           o.to);
    rc = cc && text ? send_text(cc, &o, text) : 2;
    free(text);
    config_deinit(&cfg);
    return rc;
}
