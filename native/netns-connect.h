#ifndef PODNS_NETNS_CONNECT_H
#define PODNS_NETNS_CONNECT_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A TCP connection to localhost:`port` inside the network namespace `ns_fd` names (an nsfs file: a pod's netns
 * pin), for port-forward. Call it on a thread made for it, never on the event loop's nor a libuv pool thread:
 * it moves the calling thread into that namespace (setns(CLONE_NEWNET) moves only the calling thread) and leaves
 * it there, and the connect blocks (bounded by `timeout_ms` through SO_SNDTIMEO). A socket keeps the namespace it
 * was created in, so the fd works from any thread afterwards. 127.0.0.1 first, then ::1 when that fails, as
 * containerd's portForward dials (tcp4, then tcp6).
 * Returns the connected fd (blocking mode, close-on-exec), or -1 with `*err` the errno and `*step` the failed call
 * ("setns", "socket", "connect"; a connect that timed out is ETIMEDOUT). The error of the IPv4 attempt is the one
 * reported when both fail, unless IPv4 is not there at all.
 */
int podns_netns_connect(int ns_fd, int port, int timeout_ms, int *err, const char **step);

#ifdef __cplusplus
}
#endif
#endif
