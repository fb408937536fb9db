/* redis_server: start, freeze, kill and restart a private redis-server for tests. */
#include "tests/support/redis_server.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/store.h"
#include "core/xmalloc.h"

#define READY_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 5000

struct redis_server {
    char *dir;
    char *socket;
    char *address;
    char **argv; /* NULL-terminated, owned */
    pid_t pid;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char **build_argv(const struct redis_server *rs, const char *const *extra)
{
    const char *fixed[] = {"redis-server", "--port",       "0",        "--bind",
                           "127.0.0.1",    "--unixsocket", rs->socket, "--unixsocketperm",
                           "700",          "--save",       "",         "--appendonly",
                           "no",           "--daemonize",  "no",       "--dir",
                           rs->dir,        "--logfile",    "redis.log"};
    size_t nfixed = sizeof fixed / sizeof fixed[0], nextra = 0;
    while (extra && extra[nextra])
        nextra++;
    char **argv = xcalloc(nfixed + nextra + 1, sizeof *argv);
    for (size_t i = 0; i < nfixed; i++)
        argv[i] = xstrdup(fixed[i]);
    for (size_t i = 0; i < nextra; i++)
        argv[nfixed + i] = xstrdup(extra[i]);
    return argv;
}

static void exec_child(const struct redis_server *rs, pid_t parent)
{
    /* Die with the test: a failing Check child must not leave a server running. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    if (chdir(rs->dir) < 0)
        _exit(127);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    execvp(rs->argv[0], rs->argv);
    _exit(127);
}

/* One PING attempt: 1 when the server answered, 0 when not (yet). */
static int answers_ping(const char *path, int wait_ms)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && write(fd, "PING\r\n", 6) == 6) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char buf[64];
        if (poll(&p, 1, wait_ms) == 1 && read(fd, buf, sizeof buf) > 0)
            ok = buf[0] == '+' || buf[0] == '-';
    }
    close(fd);
    return ok;
}

static int wait_ready(struct redis_server *rs, char *err, size_t errsz)
{
    int64_t deadline = now_ms() + READY_TIMEOUT_MS;
    while (now_ms() < deadline) {
        int status;
        if (waitpid(rs->pid, &status, WNOHANG) == rs->pid) {
            rs->pid = -1;
            snprintf(err, errsz, "redis-server exited during start (status %d); see %s/redis.log",
                     status, rs->dir);
            return -ECHILD;
        }
        if (answers_ping(rs->socket, 200))
            return 0;
        poll(NULL, 0, 5); /* the socket appears within ~25 ms; don't spin */
    }
    snprintf(err, errsz, "redis-server did not answer PING within %d ms", READY_TIMEOUT_MS);
    return -ETIMEDOUT;
}

static int spawn(struct redis_server *rs, char *err, size_t errsz)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errsz, "fork: %s", strerror(errno));
        return -errno;
    }
    if (pid == 0)
        exec_child(rs, parent);
    rs->pid = pid;
    int rc = wait_ready(rs, err, errsz);
    if (rc < 0)
        redis_server_kill(rs);
    return rc;
}

struct redis_server *redis_server_start(const char *base, const char *const *extra, char *err,
                                        size_t errsz)
{
    if (!base)
        base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    struct redis_server *rs = xcalloc(1, sizeof *rs);
    rs->pid = -1;
    rs->dir = xasprintf("%s/farol-redis-XXXXXX", base);
    if (!mkdtemp(rs->dir)) {
        snprintf(err, errsz, "mkdtemp %s: %s", rs->dir, strerror(errno));
        free(rs->dir);
        free(rs);
        return NULL;
    }
    rs->socket = xasprintf("%s/redis.sock", rs->dir);
    rs->address = xasprintf("unix:%s", rs->socket);
    rs->argv = build_argv(rs, extra);
    if (spawn(rs, err, errsz) < 0) {
        redis_server_free(rs);
        return NULL;
    }
    return rs;
}

const char *redis_server_address(const struct redis_server *rs)
{
    return rs->address;
}

const char *redis_server_socket(const struct redis_server *rs)
{
    return rs->socket;
}

pid_t redis_server_pid(const struct redis_server *rs)
{
    return rs->pid;
}

int redis_server_kill(struct redis_server *rs)
{
    if (rs->pid < 0)
        return -ESRCH;
    kill(rs->pid, SIGKILL);
    int rc = waitpid(rs->pid, NULL, 0) == rs->pid ? 0 : -errno;
    rs->pid = -1;
    return rc;
}

int redis_server_stop(struct redis_server *rs)
{
    if (rs->pid < 0)
        return -ESRCH;
    kill(rs->pid, SIGCONT); /* a frozen server cannot act on SIGTERM */
    kill(rs->pid, SIGTERM);
    int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (waitpid(rs->pid, NULL, WNOHANG) == rs->pid) {
            rs->pid = -1;
            return 0;
        }
        poll(NULL, 0, 5);
    }
    return redis_server_kill(rs);
}

/* Send sig and wait for the matching state change, so the caller acts on a server that is
 * really stopped (or running). */
static int signal_and_wait(struct redis_server *rs, int sig, int flag)
{
    if (rs->pid < 0)
        return -ESRCH;
    if (kill(rs->pid, sig) < 0)
        return -errno;
    int status;
    if (waitpid(rs->pid, &status, flag) != rs->pid)
        return -errno;
    return 0;
}

int redis_server_freeze(struct redis_server *rs)
{
    return signal_and_wait(rs, SIGSTOP, WUNTRACED);
}

int redis_server_thaw(struct redis_server *rs)
{
    return signal_and_wait(rs, SIGCONT, WCONTINUED);
}

int redis_server_restart(struct redis_server *rs, char *err, size_t errsz)
{
    if (rs->pid >= 0)
        redis_server_stop(rs);
    return spawn(rs, err, errsz);
}

void redis_server_free(struct redis_server *rs)
{
    if (!rs)
        return;
    if (rs->pid >= 0)
        redis_server_kill(rs);
    redis_server_rmtree(rs->dir);
    for (char **a = rs->argv; a && *a; a++)
        free(*a);
    free(rs->argv);
    free(rs->dir);
    free(rs->socket);
    free(rs->address);
    free(rs);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

int redis_server_rmtree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

struct store_sync *redis_server_sync(const struct redis_server *rs, int64_t command_timeout_ms,
                                     char *err, size_t errsz)
{
    struct store_config cfg;
    store_config_init(&cfg);
    free(cfg.address);
    cfg.address = xstrdup(redis_server_address(rs));
    if (command_timeout_ms)
        cfg.command_timeout_ms = command_timeout_ms;
    struct store_sync *ss = store_sync_connect(&cfg, err, errsz);
    store_config_deinit(&cfg);
    return ss;
}
