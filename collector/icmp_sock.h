/* icmp_sock: one ICMP socket for one address family, non-blocking: raw (IPPROTO_ICMP /
 * IPPROTO_ICMPV6) when permitted, else an unprivileged datagram ICMP socket when the system's
 * ping_group_range allows it. Raw sockets are filtered to echo replies in the kernel.
 * The struct is owned by the caller; the fd by the struct (icmp_sock_close). */
#ifndef FAROL_ICMP_SOCK_H
#define FAROL_ICMP_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum icmp_sock_mode { ICMP_SOCK_AUTO, ICMP_SOCK_RAW, ICMP_SOCK_DGRAM };

struct icmp_sock {
    int fd;     /* -1 when closed */
    int family; /* AF_INET or AF_INET6 */
    int raw;    /* 1: raw (IPv4 replies carry the IP header; our identifier survives) */
};

/* One received datagram; buf belongs to the caller's batch. */
struct icmp_rx {
    uint8_t *buf;
    size_t len;
    struct sockaddr_storage from;
    uint64_t rx_ns; /* kernel receive time (CLOCK_REALTIME ns), or read time without it */
};

enum { ICMP_RX_BUF = 2048 };

/* Open and configure the socket (buffers of bufsize bytes each way); 0 or -errno with a
 * sentence in err. */
int icmp_sock_open(struct icmp_sock *s, int family, enum icmp_sock_mode mode, int bufsize,
                   char *err, size_t errsz);
/* Close (safe on a closed socket). */
void icmp_sock_close(struct icmp_sock *s);
/* Send one packet: 0, or -errno (-EAGAIN/-ENOBUFS when the socket buffer is full). */
int icmp_sock_send(const struct icmp_sock *s, const void *pkt, size_t len,
                   const struct sockaddr *to, socklen_t tolen);
/* Receive up to n datagrams into rx[i].buf (ICMP_RX_BUF bytes each, caller-provided) without
 * blocking: returns the count (0 when nothing is waiting) or -errno. */
int icmp_sock_recv(const struct icmp_sock *s, struct icmp_rx *rx, unsigned n);
/* CLOCK_REALTIME in nanoseconds (the clock of rx_ns). */
uint64_t icmp_sock_now_ns(void);

#endif
