/* test_topology: the in-memory model and its readers: YAML and CSV fixtures, every validation
 * error with its line, redundancy-aware impact (dominators) and multi-node cuts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlator/topology.h"
#include "correlator/topology_load.h"
#include "tests/support/check_run.h"

static char *fixture(const char *name)
{
    static char buf[4][1024];
    static int i;
    const char *src = getenv("FAROL_SRCDIR");
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/tests/unit/data/topology/%s", src ? src : ".", name);
    return buf[i];
}

static struct topology *load(const char *const *names, size_t n, struct topology_errs *e)
{
    const char *paths[8];
    for (size_t i = 0; i < n; i++)
        paths[i] = fixture(names[i]);
    return topology_load_files(paths, n, NULL, e);
}

static struct topology *good(const char *which)
{
    struct topology_errs e = {0};
    static const char *yaml[] = {"good.yaml"};
    static const char *csv[] = {"nodes.csv", "links.csv", "subscribers.csv", "bindings.csv"};
    struct topology *t = !strcmp(which, "yaml") ? load(yaml, 1, &e) : load(csv, 4, &e);
    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "%s\n", e.msgs[i]);
    ck_assert_uint_eq(e.n, 0);
    ck_assert_ptr_nonnull(t);
    topology_errs_deinit(&e);
    return t;
}

static uint32_t N(const struct topology *t, const char *id)
{
    uint32_t i = topology_find_node(t, id);
    ck_assert_msg(i != TOPOLOGY_NONE, "no node %s", id);
    return i;
}

/* The ids of n node indexes, sorted and joined, for comparisons. */
static char *ids(const struct topology *t, const uint32_t *v, size_t n)
{
    static char out[1024];
    const char *s[64];
    for (size_t i = 0; i < n; i++)
        s[i] = topology_node(t, v[i])->id;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(s[j - 1], s[j]) > 0; j--) {
            const char *x = s[j];
            s[j] = s[j - 1], s[j - 1] = x;
        }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(strcat(out, i ? " " : ""), s[i]);
    return out;
}

static void check_model(struct topology *t)
{
    ck_assert_uint_eq(topology_node_count(t), 12);
    ck_assert_uint_eq(topology_sub_count(t), 3);
    const struct topology_node *sw1 = topology_node(t, N(t, "sw-1"));
    ck_assert_uint_eq(sw1->nparents, 2);
    ck_assert_str_eq(sw1->name, "Aggregation 1");
    const struct topology_node *cab = topology_node(t, N(t, "cab-1"));
    ck_assert_int_eq(cab->kind, TOPOLOGY_CUSTOM);
    ck_assert_str_eq(cab->label, "cabinet");
    const struct topology_sub *s1 = topology_sub(t, topology_find_sub(t, "sub-1"));
    ck_assert_str_eq(s1->phones[0], "+5511987654321");
    ck_assert_str_eq(s1->channels, "whatsapp,sms");
    ck_assert_str_eq(s1->locale, "pt-BR");
    ck_assert_str_eq(s1->timezone, "America/Sao_Paulo");
    ck_assert_int_eq(s1->quiet_start, 22 * 60);
    ck_assert_int_eq(s1->quiet_end, 7 * 60);
    ck_assert_uint_eq(s1->cap_bytes, 500000000000ull);
    ck_assert_int_eq(s1->cycle_day, 5);
    ck_assert_str_eq(s1->plan, "fibra-300");
    ck_assert_int_eq(topology_sub(t, topology_find_sub(t, "sub-3"))->opt_out, 1);
    ck_assert_str_eq(topology_sub(t, topology_find_sub(t, "sub-2"))->telegram, "123456");
    ck_assert_uint_eq(topology_bind_lookup(t, "olt-1", "onu:0/1/1:1"), N(t, "onu-1"));
    ck_assert_uint_eq(topology_bind_lookup(t, "olt-1", NULL), N(t, "olt-1"));
    ck_assert_uint_eq(topology_bind_lookup(t, "olt-1", "onu:0/1/1:2"), TOPOLOGY_NONE);
}

static void check_impact(struct topology *t)
{
    struct topology_impact im;
    /* core-1 alone: sw-1 and olt-2 keep a path through core-2 */
    topology_impact(t, N(t, "core-1"), &im);
    ck_assert_str_eq(ids(t, im.nodes, im.nnodes), "cab-1 core-1 sw-2");
    ck_assert_uint_eq(im.nsubs, 0);
    topology_impact(t, N(t, "sw-1"), &im);
    ck_assert_str_eq(ids(t, im.nodes, im.nnodes), "olt-1 onu-1 onu-2 pon-1 sw-1");
    ck_assert_uint_eq(im.nsubs, 2);
    ck_assert_uint_eq(im.count[TOPOLOGY_ONU], 2);
    ck_assert_uint_eq(im.count[TOPOLOGY_SWITCH], 1);
    topology_impact(t, N(t, "pon-2"), &im);
    ck_assert_uint_eq(im.nsubs, 1);
    ck_assert_str_eq(topology_sub(t, im.subs[0])->id, "sub-3");
}

START_TEST(yaml_model)
{
    struct topology *t = good("yaml");
    check_model(t);
    check_impact(t);
    topology_free(t);
}
END_TEST

START_TEST(csv_model)
{
    struct topology *t = good("csv");
    check_model(t);
    check_impact(t);
    ck_assert_str_eq(topology_sub(t, topology_find_sub(t, "sub-1"))->name, "Silva, Maria");
    topology_free(t);
}
END_TEST

START_TEST(cut_is_redundancy_aware)
{
    struct topology *t = good("yaml");
    struct topology_cut c;
    uint32_t f1[] = {N(t, "core-1")};
    topology_cut(t, f1, 1, &c);
    ck_assert_str_eq(ids(t, c.nodes, c.nnodes), "cab-1 core-1 sw-2");
    topology_cut_deinit(&c);
    uint32_t f2[] = {N(t, "sw-1"), N(t, "sw-2")}; /* both uplinks of olt-2 */
    topology_cut(t, f2, 2, &c);
    ck_assert_str_eq(ids(t, c.nodes, c.nnodes),
                     "cab-1 olt-1 olt-2 onu-1 onu-2 onu-3 pon-1 pon-2 sw-1 sw-2");
    ck_assert_uint_eq(c.nsubs, 3);
    ck_assert_uint_eq(c.count[TOPOLOGY_OLT], 2);
    topology_cut_deinit(&c);
    uint32_t f3[] = {N(t, "core-1"), N(t, "core-2"), N(t, "core-1")};
    topology_cut(t, f3, 3, &c);
    ck_assert_uint_eq(c.nnodes, 12);
    topology_cut_deinit(&c);
    uint32_t f4[] = {N(t, "sw-1")}; /* repeated cuts reuse the scratch state */
    topology_cut(t, f4, 1, &c);
    ck_assert_str_eq(ids(t, c.nodes, c.nnodes), "olt-1 onu-1 onu-2 pon-1 sw-1");
    topology_cut_deinit(&c);
    topology_free(t);
}
END_TEST

static int has(const struct topology_errs *e, const char *needle)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], needle))
            return 1;
    return 0;
}

static void dump(const struct topology_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "  %s\n", e->msgs[i]);
}

#define HAS(e, s) ck_assert_msg(has(e, s), "missing error: %s", s)

START_TEST(yaml_errors_all_listed)
{
    struct topology_errs e = {0};
    static const char *f[] = {"bad.yaml"};
    ck_assert_ptr_null(load(f, 1, &e));
    dump(&e);
    HAS(&e, "bad.yaml:3: node 's1': unknown parent 'r9'");
    HAS(&e, "bad.yaml:4: node 's1': duplicate id (first defined at");
    HAS(&e, "bad.yaml:5: node 'o1': unknown kind 'olx'");
    HAS(&e, "bad.yaml:9: subscriber 'u1': phone number '******' is not E.164");
    HAS(&e, "bad.yaml:9: subscriber 'u1': unknown node 'nowhere'");
    HAS(&e, "bad.yaml:10: subscriber 'u2': cycle_day must be 1 to 28");
    HAS(&e, "bad.yaml:10: subscriber 'u2': unknown channel 'fax'");
    HAS(&e, "bad.yaml:11: subscriber 'u3': channel telegram needs a telegram chat id");
    HAS(&e, "bad.yaml:13: binding of 'dev1': unknown node 'ghost'");
    /* the parent cycle is found although other records failed */
    ck_assert(has(&e, "parent cycle: a -> b -> a") || has(&e, "parent cycle: b -> a -> b"));
    ck_assert(!has(&e, "5511987654321")); /* phone numbers never echoed in full */
    topology_errs_deinit(&e);
}
END_TEST

START_TEST(csv_errors_all_listed)
{
    struct topology_errs e = {0};
    static const char *f[] = {"bad_nodes.csv", "bad_subscribers.csv", "bad_header.csv"};
    ck_assert_ptr_null(load(f, 3, &e));
    dump(&e);
    HAS(&e, "bad_nodes.csv:3: node 's1': parent 'r1' listed twice");
    HAS(&e, "bad_nodes.csv:4: unterminated or misplaced quote");
    HAS(&e, "bad_subscribers.csv:2: subscriber 'u1': phone number");
    HAS(&e, "bad_subscribers.csv:3: subscriber 'u1': duplicate id (first defined at ");
    HAS(&e, "bad_subscribers.csv:4: 2 cells, the header has 3");
    HAS(&e, "bad_header.csv:1: header names no known layout");
    topology_errs_deinit(&e);
}
END_TEST

START_TEST(missing_file_reported)
{
    struct topology_errs e = {0};
    const char *p[] = {"/nonexistent/topo.yaml"};
    ck_assert_ptr_null(topology_load_files(p, 1, NULL, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.msgs[0], "/nonexistent/topo.yaml: cannot open: No such file or directory");
    topology_errs_deinit(&e);
}
END_TEST

START_TEST(e164_and_kinds)
{
    ck_assert(topology_e164_valid("+5511987654321"));
    ck_assert(topology_e164_valid("+14155550100"));
    ck_assert(!topology_e164_valid("5511987654321"));
    ck_assert(!topology_e164_valid("+0511987654321"));
    ck_assert(!topology_e164_valid("+5511987654321123")); /* 16 digits */
    ck_assert(!topology_e164_valid("+55 11 98765"));
    ck_assert(!topology_e164_valid("+123456"));
    enum topology_kind k;
    const char *label;
    ck_assert_int_eq(topology_kind_parse("pon", &k, &label), 0);
    ck_assert_int_eq(k, TOPOLOGY_PON);
    ck_assert_int_eq(topology_kind_parse("custom:dslam", &k, &label), 0);
    ck_assert_str_eq(label, "dslam");
    ck_assert_int_lt(topology_kind_parse("custom:", &k, &label), 0);
    ck_assert_int_lt(topology_kind_parse("Router", &k, &label), 0);
}
END_TEST

/* A diamond below a chain: dominators must skip both arms. */
START_TEST(diamond_dominator)
{
    struct topology *t = topology_new();
    struct topology_errs e = {0};
    const char *file = topology_file(t, "mem");
    const char *spec[][3] = {{"r", "router", NULL},
                             {"a", "switch", "r"},
                             {"b", "switch", "r"},
                             {"o", "olt", "a"},
                             {"x", "onu", "o"}};
    for (size_t i = 0; i < 5; i++) {
        struct topology_field f[4] = {{"id", spec[i][0], 1}, {"kind", spec[i][1], 1}};
        size_t n = 2;
        if (spec[i][2])
            f[n++] = (struct topology_field){"parents", spec[i][2], 1};
        if (!strcmp(spec[i][0], "o"))
            f[n++] = (struct topology_field){"parents", "b", 1};
        ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_NODE, f, n, file, (int)i + 1, &e), 0);
    }
    ck_assert_int_eq(topology_finish(t, &e), 0);
    ck_assert_uint_eq(topology_node(t, N(t, "o"))->idom, N(t, "r"));
    struct topology_impact im;
    topology_impact(t, N(t, "a"), &im);
    ck_assert_uint_eq(im.nnodes, 1);
    topology_impact(t, N(t, "r"), &im);
    ck_assert_uint_eq(im.nnodes, 5);
    topology_free(t);
}
END_TEST

/* Records in any order (children before parents, subscribers and bindings before their nodes)
 * resolve at topology_finish(), through index growth; repeated values are stored once. */
START_TEST(forward_references_and_shared_values)
{
    struct topology *t = topology_new();
    struct topology_errs e = {0};
    const char *file = topology_file(t, "mem");
    char id[32], parent[32], dev[32], obj[32];
    enum { ONUS = 3000 };
    for (int i = 0; i < ONUS; i++) { /* before everything they refer to */
        snprintf(id, sizeof id, "onu-%d", i);
        snprintf(parent, sizeof parent, "pon-%d", i / 32);
        struct topology_field f[] = {{"id", id, 1}, {"kind", "onu", 1}, {"parents", parent, 1}};
        ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_NODE, f, 3, file, i + 1, &e), 0);
        snprintf(dev, sizeof dev, "olt-%d", i / 512);
        snprintf(obj, sizeof obj, "onu:%d", i % 512);
        struct topology_field b[] = {{"device", dev, 1}, {"object", obj, 1}, {"node", id, 1}};
        ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_BIND, b, 3, file, i + 1, &e), 0);
    }
    struct topology_field sub[] = {
        {"id", "sub-1", 9}, {"node", "pon-0", 9}, {"timezone", "America/Sao_Paulo", 9}};
    ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_SUB, sub, 3, file, 9, &e), 0);
    for (int i = 0; i < ONUS / 32 + 1; i++) {
        snprintf(id, sizeof id, "pon-%d", i);
        struct topology_field f[] = {
            {"id", id, 1}, {"kind", "pon", 1}, {"area", "north", 1}, {"parents", "olt", 1}};
        ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_NODE, f, 4, file, i + 1, &e), 0);
    }
    struct topology_field olt[] = {{"id", "olt", 1}, {"kind", "olt", 1}};
    ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_NODE, olt, 2, file, 1, &e), 0);
    ck_assert_int_eq(topology_finish(t, &e), 0);
    ck_assert_uint_eq(e.n, 0);
    ck_assert_uint_eq(topology_node_count(t), ONUS + ONUS / 32 + 2);
    for (int i = 0; i < ONUS; i += 7) {
        snprintf(id, sizeof id, "onu-%d", i);
        snprintf(parent, sizeof parent, "pon-%d", i / 32);
        const struct topology_node *n = topology_node(t, N(t, id));
        ck_assert_uint_eq(n->nparents, 1);
        ck_assert_str_eq(topology_node(t, n->parents[0])->id, parent);
        snprintf(dev, sizeof dev, "olt-%d", i / 512);
        snprintf(obj, sizeof obj, "onu:%d", i % 512);
        ck_assert_uint_eq(topology_bind_lookup(t, dev, obj), N(t, id));
    }
    ck_assert_uint_eq(topology_bind_lookup(t, "olt-0", NULL), TOPOLOGY_NONE);
    ck_assert_uint_eq(topology_bind_lookup(t, "olt-0", "onu:512"), TOPOLOGY_NONE);
    ck_assert_uint_eq(topology_find_node(t, "onu-3000"), TOPOLOGY_NONE);
    const struct topology_sub *s = topology_sub(t, topology_find_sub(t, "sub-1"));
    ck_assert_uint_eq(s->node, N(t, "pon-0"));
    ck_assert_str_eq(s->timezone, "America/Sao_Paulo");
    ck_assert_ptr_eq(topology_node(t, N(t, "pon-1"))->area, topology_node(t, N(t, "pon-2"))->area);
    ck_assert_ptr_eq(topology_binding(t, 0)->device, topology_binding(t, 1)->device);
    struct topology_impact im;
    topology_impact(t, N(t, "pon-0"), &im);
    ck_assert_uint_eq(im.nnodes, 33);
    ck_assert_uint_eq(im.nsubs, 1);
    topology_free(t);
}
END_TEST

/* A node naming itself as parent, found although it was indexed before its parents were read. */
START_TEST(self_parent_reported)
{
    struct topology *t = topology_new();
    struct topology_errs e = {0};
    const char *file = topology_file(t, "mem");
    struct topology_field f[] = {{"id", "a", 3}, {"kind", "router", 3}, {"parents", "a", 4}};
    ck_assert_int_eq(topology_add(t, TOPOLOGY_REC_NODE, f, 3, file, 3, &e), 0);
    ck_assert_int_lt(topology_finish(t, &e), 0);
    ck_assert_uint_ge(e.n, 1);
    ck_assert_str_eq(e.msgs[0], "mem:4: node 'a' is its own parent");
    topology_errs_deinit(&e);
    topology_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("topology");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, yaml_model);
    tcase_add_test(tc, csv_model);
    tcase_add_test(tc, cut_is_redundancy_aware);
    tcase_add_test(tc, yaml_errors_all_listed);
    tcase_add_test(tc, csv_errors_all_listed);
    tcase_add_test(tc, missing_file_reported);
    tcase_add_test(tc, e164_and_kinds);
    tcase_add_test(tc, diamond_dominator);
    tcase_add_test(tc, forward_references_and_shared_values);
    tcase_add_test(tc, self_parent_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite(), CK_FORK);
}
