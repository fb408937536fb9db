/* kafka_mock: a Kafka-protocol endpoint for tests, built on librdkafka's mock cluster.
 *
 *   kafka_mock [-b BROKERS] [-t TOPIC:PARTITIONS]... -o FILE [-c FIFO]
 *
 * Creates the topics, writes the bootstrap address to FILE (atomically: tests wait for it to
 * appear) and runs until SIGTERM/SIGINT. Failure injection: one command per line on stdin,
 * or on the control FIFO given with -c (created if missing):
 *   down B | up B                 broker B (1-based id) stops/starts answering
 *   reqerr APIKEY CODE COUNT      the next COUNT requests of APIKEY fail with CODE
 *   topicerr TOPIC CODE           metadata reports CODE for TOPIC (0 clears)
 *   leader TOPIC PARTITION B      move a partition's leadership to broker B
 * Each command answers "ok ..." or "error ..." on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: kafka_mock [-b BROKERS] [-r REPLICAS] [-t TOPIC:PARTITIONS]... "
                    "-o FILE [-c FIFO]\n");
    exit(2);
}

static int write_atomically(const char *path, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -errno;
    return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec, int replicas)
{
    char name[256];
    int parts = 1;
    const char *colon = strrchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0 || n >= sizeof name)
        return -EINVAL;
    memcpy(name, spec, n);
    name[n] = '\0';
    if (colon && (parts = atoi(colon + 1)) <= 0)
        return -EINVAL;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, replicas);
    if (e) {
        fprintf(stderr, "kafka_mock: topic %s: %s\n", name, rd_kafka_err2str(e));
        return -EINVAL;
    }
    return 0;
}

static rd_kafka_resp_err_t run_command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char a[256];
    int x, y, z;
    if (sscanf(line, "down %d", &x) == 1)
        return rd_kafka_mock_broker_set_down(mc, x);
    if (sscanf(line, "up %d", &x) == 1)
        return rd_kafka_mock_broker_set_up(mc, x);
    if (sscanf(line, "reqerr %d %d %d", &x, &y, &z) == 3) {
        if (z < 1 || z > 1000)
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        rd_kafka_resp_err_t errs[1000];
        for (int i = 0; i < z; i++)
            errs[i] = (rd_kafka_resp_err_t)y;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)x, (size_t)z, errs);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (sscanf(line, "topicerr %255s %d", a, &x) == 2) {
        rd_kafka_mock_topic_set_error(mc, a, (rd_kafka_resp_err_t)x);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (sscanf(line, "leader %255s %d %d", a, &x, &y) == 3)
        return rd_kafka_mock_partition_set_leader(mc, a, x, y);
    return RD_KAFKA_RESP_ERR__INVALID_ARG;
}

/* Split what was read into lines and run each; keeps a partial line for the next read. */
static void feed(rd_kafka_mock_cluster_t *mc, char *buf, size_t *used)
{
    char *nl;
    while ((nl = memchr(buf, '\n', *used)) != NULL) {
        *nl = '\0';
        if (buf[0]) {
            rd_kafka_resp_err_t e = run_command(mc, buf);
            fprintf(stderr, "kafka_mock: %s %s%s%s\n", e ? "error" : "ok", buf, e ? ": " : "",
                    e ? rd_kafka_err2str(e) : "");
        }
        size_t rest = *used - (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, rest);
        *used = rest;
    }
    if (*used >= 1023)
        *used = 0; /* an overlong line is garbage */
}

static void serve(rd_kafka_mock_cluster_t *mc, int fd)
{
    char buf[1024];
    size_t used = 0;
    while (!stop) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, fd >= 0 ? 1 : 0, 500) <= 0)
            continue;
        ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
        if (n <= 0) {
            fd = -1; /* stdin closed: keep running without commands */
            continue;
        }
        used += (size_t)n;
        feed(mc, buf, &used);
    }
}

static int open_fifo(const char *path)
{
    if (mkfifo(path, 0600) < 0 && errno != EEXIST)
        return -1;
    /* read-write so the FIFO never reports end-of-file between writers */
    return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

int main(int argc, char **argv)
{
    int brokers = 1, replicas = 1, opt;
    const char *out = NULL, *fifo = NULL;
    char *topics[64];
    int ntopics = 0;
    while ((opt = getopt(argc, argv, "b:r:t:o:c:h")) != -1) {
        switch (opt) {
        case 'b':
            brokers = atoi(optarg);
            break;
        case 'r':
            replicas = atoi(optarg);
            break;
        case 't':
            if (ntopics < 64)
                topics[ntopics++] = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'c':
            fifo = optarg;
            break;
        default:
            usage();
        }
    }
    if (!out || brokers < 1 || replicas < 1 || replicas > brokers)
        usage();

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        return 1;
    }
    for (int i = 0; i < ntopics; i++)
        if (create_topic(mc, topics[i], replicas) < 0) {
            fprintf(stderr, "kafka_mock: bad topic spec %s\n", topics[i]);
            return 2;
        }

    int fd = fifo ? open_fifo(fifo) : STDIN_FILENO;
    if (fifo && fd < 0) {
        fprintf(stderr, "kafka_mock: %s: %s\n", fifo, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    if (write_atomically(out, boot) < 0) {
        fprintf(stderr, "kafka_mock: %s: %s\n", out, strerror(errno));
        return 1;
    }
    fprintf(stderr, "kafka_mock: %d broker(s) at %s\n", brokers, boot);
    serve(mc, fd);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    if (fifo) {
        close(fd);
        unlink(fifo);
    }
    return 0;
}
