// See netns-connect.h. Plain C, run on a thread of its own (addon.cc ConnectInNetns).
#include "netns-connect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int connect_to(int family, int port, int timeout_ms, int *err, const char **step) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno;
    *step = "socket";
    return -1;
  }
  // A blocking connect waits SO_SNDTIMEO at most (socket(7)); a SYN to a full backlog would otherwise retry for
  // two minutes. Cleared again afterwards: the fd goes to Node, which makes it non-blocking anyway.
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (family == AF_INET) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    do rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    while (rc < 0 && errno == EINTR);
  } else {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((unsigned short)port);
    a.sin6_addr = in6addr_loopback;
    do rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    while (rc < 0 && errno == EINTR);
  }
  if (rc < 0) {
    // SO_SNDTIMEO ran out: connect(2) says EINPROGRESS then.
    *err = errno == EINPROGRESS ? ETIMEDOUT : errno;
    *step = "connect";
    close(fd);
    return -1;
  }
  struct timeval none = {0, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  return fd;
}

int podns_netns_connect(int ns_fd, int port, int timeout_ms, int *err, const char **step) {
  if (setns(ns_fd, CLONE_NEWNET) < 0) {
    *err = errno;
    *step = "setns";
    return -1;
  }
  int err4 = 0;
  const char *step4 = 0;
  int fd = connect_to(AF_INET, port, timeout_ms, &err4, &step4);
  if (fd >= 0) return fd;
  int err6 = 0;
  const char *step6 = 0;
  fd = connect_to(AF_INET6, port, timeout_ms, &err6, &step6);
  if (fd >= 0) return fd;
  // The IPv4 error says more (ECONNREFUSED), unless the namespace has no IPv4 at all.
  int v4_missing = err4 == EAFNOSUPPORT || err4 == EADDRNOTAVAIL || err4 == ENETUNREACH;
  *err = v4_missing ? err6 : err4;
  *step = v4_missing ? step6 : step4;
  return -1;
}
