/* icmp_sock: socket setup, send and batched receive (recvmmsg) with kernel timestamps. */
#include "collector/icmp_sock.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* linux/icmp.h, which clashes with the netinet headers */
#endif

enum { RX_BATCH_MAX = 256, CMSG_SPACE_TS = 64 };

uint64_t icmp_sock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Only echo replies reach a raw socket: on loopback it would otherwise see our own requests. */
static void filter_replies(const struct icmp_sock *s)
{
    if (s->family == AF_INET) {
        uint32_t block = ~(uint32_t)(1u << 0 /* ICMP_ECHOREPLY */);
        setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &block, sizeof block);
    } else {
        struct icmp6_filter f;
        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
        setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    }
}

static void set_buffers(int fd, int bytes)
{
    /* FORCE passes rmem_max/wmem_max when privileged; the plain option is the fallback. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

static int open_fd(int family, int raw)
{
    int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    return socket(family, (raw ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
}

int icmp_sock_open(struct icmp_sock *s, int family, enum icmp_sock_mode mode, int bufsize,
                   char *err, size_t errsz)
{
    s->family = family;
    s->raw = mode != ICMP_SOCK_DGRAM;
    s->fd = open_fd(family, s->raw);
    int e = errno;
    if (s->fd < 0 && mode == ICMP_SOCK_AUTO && (e == EPERM || e == EACCES)) {
        s->raw = 0;
        s->fd = open_fd(family, 0);
        e = errno;
    }
    const char *fam = family == AF_INET ? "IPv4" : "IPv6";
    if (s->fd < 0) {
        snprintf(err, errsz,
                 "cannot open an %s ICMP socket: %s (raw sockets need CAP_NET_RAW; "
                 "datagram ones need the group in net.ipv4.ping_group_range)",
                 fam, strerror(e));
        return -e;
    }
    if (s->raw)
        filter_replies(s);
    set_buffers(s->fd, bufsize);
    int on = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    return 0;
}

void icmp_sock_close(struct icmp_sock *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

int icmp_sock_send(const struct icmp_sock *s, const void *pkt, size_t len,
                   const struct sockaddr *to, socklen_t tolen)
{
    ssize_t n = sendto(s->fd, pkt, len, 0, to, tolen);
    if (n < 0)
        return -errno;
    return 0;
}

static uint64_t rx_time(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        }
    return icmp_sock_now_ns();
}

int icmp_sock_recv(const struct icmp_sock *s, struct icmp_rx *rx, unsigned n)
{
    struct mmsghdr msgs[RX_BATCH_MAX];
    struct iovec iov[RX_BATCH_MAX];
    union {
        char buf[CMSG_SPACE_TS];
        struct cmsghdr align;
    } ctl[RX_BATCH_MAX];
    if (n > RX_BATCH_MAX)
        n = RX_BATCH_MAX;
    for (unsigned i = 0; i < n; i++) {
        iov[i] = (struct iovec){rx[i].buf, ICMP_RX_BUF};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &rx[i].from,
                                          .msg_namelen = sizeof rx[i].from,
                                          .msg_iov = &iov[i],
                                          .msg_iovlen = 1,
                                          /* the kernel fills it: passing it unset is the point */
                                          // cppcheck-suppress legacyUninitvar
                                          .msg_control = ctl[i].buf,
                                          .msg_controllen = sizeof ctl[i].buf};
    }
    int got = recvmmsg(s->fd, msgs, n, MSG_DONTWAIT, NULL);
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
    for (int i = 0; i < got; i++) {
        rx[i].len = msgs[i].msg_len;
        rx[i].rx_ns = rx_time(&msgs[i].msg_hdr);
    }
    return got;
}
