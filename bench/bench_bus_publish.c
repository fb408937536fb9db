/* bench_bus_publish: the bus transport alone. Reads "KEY<TAB>PAYLOAD" lines and publishes
 * each payload under its key through bus_publish() (no event decoding), then waits until
 * the transport has acknowledged everything. Compared with kcat -P in bench/bus_kafka.sh.
 *   bench_bus_publish --brokers B [-X prop=val]... TOPIC-ID FILE */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/loop.h"
#include "core/xmalloc.h"

static void add_property(struct bus_config *cfg, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq) {
        fprintf(stderr, "bad -X %s\n", kv);
        exit(2);
    }
    cfg->properties = xrealloc(cfg->properties, (cfg->n_properties + 1) * sizeof *cfg->properties);
    cfg->properties[cfg->n_properties++] =
        (struct bus_kv){.key = xstrndup(kv, (size_t)(eq - kv)), .value = xstrdup(eq + 1)};
}

static size_t publish_file(struct loop *loop, struct bus *bus, enum bus_topic topic, FILE *in)
{
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        const char *payload = tab + 1;
        while (bus_publish(bus, topic, line, payload, strlen(payload)) == -ENOBUFS)
            loop_run_once(loop, 1);
        n++;
    }
    free(line);
    return n;
}

int main(int argc, char **argv)
{
    struct bus_config cfg;
    bus_config_init(&cfg);
    cfg.transport = BUS_KAFKA;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--brokers"))
            cfg.brokers = xstrdup(argv[i + 1]);
        else if (!strcmp(argv[i], "-X"))
            add_property(&cfg, argv[i + 1]);
    }
    enum bus_topic topic;
    FILE *in = i + 2 == argc ? fopen(argv[i + 1], "r") : NULL;
    if (!cfg.brokers || !in || bus_topic_parse(argv[i], &topic) < 0) {
        fprintf(stderr, "usage: bench_bus_publish --brokers B [-X k=v]... TOPIC-ID FILE\n");
        return 2;
    }
    char err[256];
    struct loop *loop = loop_new();
    struct bus *bus = bus_new(loop, &cfg, err, sizeof err);
    if (!bus) {
        fprintf(stderr, "bus: %s\n", err);
        return 2;
    }
    size_t n = publish_file(loop, bus, topic, in);
    while (bus_pending(bus) > 0)
        loop_run_once(loop, 1);
    fprintf(stderr, "published %zu\n", n);
    fclose(in);
    bus_free(bus);
    loop_free(loop);
    bus_config_deinit(&cfg);
    return 0;
}
