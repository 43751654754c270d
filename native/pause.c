/*
 * pause — holds a pod's namespaces and reaps its orphans.
 *
 * Behaves like Kubernetes' build/pause/linux/pause.c: PID 1 of the pod's PID namespace, exits 0 on SIGINT or
 * SIGTERM, reaps every child handed to it on SIGCHLD (orphans re-parented to PID 1 in a shared PID namespace
 * would otherwise stay zombies), warns when it is not PID 1, prints its version for -v, and otherwise sleeps.
 * Written for podns; statically linked so it runs in an empty root.
 *
 * With PODNS_FD_STORE=1 in its environment (podns asks for it so, and its command line stays "/pause", as ps
 * shows Kubernetes' pause; without it nothing below runs) it is also the pod's fd store: it keeps
 * copies of the fds the shim sends it — the read ends of the containers' output pipes — so that a pipe never
 * loses its last reader when the shim dies. A container then never gets SIGPIPE/EPIPE: its output waits in the
 * pipe until a new shim takes the fds back (pidfd_getfd(2) on this process) and reads on. It never reads them.
 *   fd 3: the receiving end of a SOCK_SEQPACKET socketpair; each message is one byte and fds (SCM_RIGHTS):
 *         'h': hold these (none: a nudge, "look at the parked fds again"); 'd': drop the held fds that are the
 *         same open files as these (a container's stdin the shim closes on purpose: EOF must reach it).
 *   fd 4: the sending end of the same pair, kept only so that a later shim can take a copy and send on it.
 * Each held fd is closed once all its writers are gone (POLLHUP/POLLERR), so nothing accumulates across
 * container restarts — unless output is still unread in it: then it is parked (left out of poll, which would
 * report the hang-up forever) until a nudge finds it drained, so that a container's last words, written while
 * no shim ran, wait for the next shim.
 *
 * Least privilege (drop_privileges): podns starts it as root with every capability, since the namespaces, the
 * sysctls written in them, the mounts and the pivot into its empty root are made by the spawn before its execve.
 * Nothing after that needs a privilege, so the first thing it does is give them all up, for good: securebits
 * locked so root means nothing to the kernel again, the bounding and ambient sets emptied, uid and gid 65535 (as
 * Kubernetes' pause image runs) with no supplementary groups, permitted/effective/inheritable emptied, not
 * dumpable, no_new_privs, and a seccomp filter that allows only the calls it still makes (pause-seccomp.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pause-seccomp.h"

#ifndef PODNS_VERSION
#define PODNS_VERSION "dev"
#endif

#define STORE_FD 3
#define STORE_SEND_FD 4
/* Two per container run; a pod with hundreds of containers is not something podns expects. */
#define MAX_HELD 1024
/* The shim sends at most this many fds per message (src/sys/native.ts FD_STORE_MAX_PER_MESSAGE). */
#define MAX_PER_MESSAGE 16

static void on_terminate(int sig) {
  /* write(2) rather than stdio: async-signal-safe. */
  const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  char msg[64];
  int n = snprintf(msg, sizeof msg, "pause: shutting down, got %s\n", name);
  if (n > 0) (void)!write(STDERR_FILENO, msg, (size_t)n);
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  /* One SIGCHLD may stand for many exits: reap until nothing is left. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

struct held {
  int fd;
  int parked; /* hung up with output unread: not polled until a nudge finds it drained */
};

static struct held held[MAX_HELD];
static size_t n_held;

/* Output still unread in a pipe or pty (FIONREAD); a write end (a container's stdin) has nothing to keep. */
static int has_unread_output(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY) return 0;
  int n = 0;
  return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

static void hold(int fd) {
  if (n_held == MAX_HELD) {
    fprintf(stderr, "pause: fd store full (%d fds): not holding another\n", MAX_HELD);
    close(fd);
    return;
  }
  held[n_held].fd = fd;
  held[n_held].parked = 0;
  n_held++;
}

/* The open file an fd refers to, as far as the store needs to tell: inode and access mode (both ends of a pipe
 * share the inode; the store never holds both). */
struct identity {
  dev_t dev;
  ino_t ino;
  int mode;
};

static int identify(int fd, struct identity *id) {
  struct stat st;
  int flags = fcntl(fd, F_GETFL);
  if (fstat(fd, &st) < 0 || flags < 0) return -1;
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  id->mode = flags & O_ACCMODE;
  return 0;
}

/* Closes every held fd that is the same open file as `fd` (and `fd` itself, the sender's copy). */
static void drop(int fd) {
  struct identity wanted, id;
  if (identify(fd, &wanted) == 0) {
    for (size_t i = 0; i < n_held; i++) {
      if (held[i].fd < 0 || identify(held[i].fd, &id) < 0) continue;
      if (id.dev != wanted.dev || id.ino != wanted.ino || id.mode != wanted.mode) continue;
      close(held[i].fd);
      held[i].fd = -1;
    }
  }
  close(fd);
}

/* Every message waiting on the store; returns 0 when the store itself failed. */
static int receive(void) {
  for (;;) {
    char byte;
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int) * MAX_PER_MESSAGE)];
    } control;
    struct iovec iov = {&byte, 1};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(STORE_FD, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    /* The kernel closed whatever did not fit. */
    if (msg.msg_flags & MSG_CTRUNC) fprintf(stderr, "pause: fd store: a message carried more than %d fds; the rest were closed\n", MAX_PER_MESSAGE);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int fds[MAX_PER_MESSAGE];
      memcpy(fds, CMSG_DATA(c), count * sizeof(int));
      for (size_t i = 0; i < count; i++) {
        if (byte == 'd') drop(fds[i]);
        else hold(fds[i]);
      }
    }
  }
}

/* Drops the entries whose fd was closed (-1), keeping the order of the rest. */
static void compact(void) {
  size_t kept = 0;
  for (size_t i = 0; i < n_held; i++)
    if (held[i].fd >= 0) held[kept++] = held[i];
  n_held = kept;
}

/* The fd store's loop (see the top of the file); returns only if the store socket itself fails. */
static void serve_fd_store(void) {
  static struct pollfd fds[1 + MAX_HELD];
  static size_t which[MAX_HELD];
  for (;;) {
    nfds_t n = 1;
    fds[0].fd = STORE_FD;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    for (size_t i = 0; i < n_held; i++) {
      if (held[i].parked) continue;
      /* No events asked for: poll reports POLLHUP and POLLERR whatever is asked. */
      fds[n].fd = held[i].fd;
      fds[n].events = 0;
      fds[n].revents = 0;
      which[n - 1] = i;
      n++;
    }
    /* SIGCHLD interrupts the wait (EINTR): the handler has reaped, the loop goes on. Any other failure would
     * fail again at once: rather than spin, the store stops here (its fds stay held). */
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "pause: fd store: poll: %s; holding what it has\n", strerror(errno));
      return;
    }
    for (nfds_t k = 1; k < n; k++) {
      struct held *h = &held[which[k - 1]];
      if (!(fds[k].revents & (POLLHUP | POLLERR | POLLNVAL))) continue;
      if (!(fds[k].revents & POLLNVAL) && has_unread_output(h->fd)) {
        h->parked = 1;
        continue;
      }
      if (!(fds[k].revents & POLLNVAL)) close(h->fd);
      h->fd = -1;
    }
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      fprintf(stderr, "pause: fd store socket failed; holding what it has\n");
      return;
    }
    if (fds[0].revents & POLLIN) {
      if (!receive()) {
        fprintf(stderr, "pause: fd store: recvmsg: %s; holding what it has\n", strerror(errno));
        return;
      }
      /* Any message is a chance that a shim has drained a parked fd meanwhile. */
      for (size_t i = 0; i < n_held; i++) {
        if (!held[i].parked || has_unread_output(held[i].fd)) continue;
        close(held[i].fd);
        held[i].fd = -1;
      }
    }
    compact();
  }
}

/* The uid and gid of Kubernetes' pause image (build/pause/Dockerfile: USER 65535:65535). */
#define PAUSE_UID 65535
#define PAUSE_GID 65535

/* linux/securebits.h and linux/capability.h (musl-gcc does not see the kernel's uapi headers). */
#define PAUSE_SECBIT_NOROOT (1 << 0)
#define PAUSE_SECBIT_NOROOT_LOCKED (1 << 1)
#define PAUSE_SECBIT_NO_SETUID_FIXUP (1 << 2)
#define PAUSE_SECBIT_NO_SETUID_FIXUP_LOCKED (1 << 3)
#define PAUSE_SECBIT_KEEP_CAPS_LOCKED (1 << 5)
#define PAUSE_SECBIT_NO_CAP_AMBIENT_RAISE (1 << 6)
#define PAUSE_SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1 << 7)
#define PAUSE_CAPABILITY_VERSION_3 0x20080522
#define PAUSE_CAP_SETGID 6
#define PAUSE_CAP_SETUID 7
#define PAUSE_CAP_SETPCAP 8
struct pause_cap_header {
  uint32_t version;
  int pid;
};
struct pause_cap_data {
  uint32_t effective;
  uint32_t permitted;
  uint32_t inheritable;
};

static int has_capability(const struct pause_cap_data caps[2], int cap) {
  return (caps[cap / 32].effective >> (cap % 32)) & 1;
}

/*
 * Gives up every privilege, in the only order that works: what needs CAP_SETPCAP (securebits, the bounding set)
 * and CAP_SETUID/CAP_SETGID (the ids) while it still has them; SECBIT_NO_SETUID_FIXUP keeps the kernel from
 * half-clearing the capability sets at the uid change, so that capset empties them all at once after it; then
 * what needs no privilege (dumpable, no_new_privs); the seccomp filter last, since it allows none of these.
 * A step that needs a capability the pause was not given (run by hand as a user) is skipped: there is nothing to
 * drop. Returns the step that failed, or NULL.
 */
static const char *drop_privileges(void) {
  struct pause_cap_header header = {PAUSE_CAPABILITY_VERSION_3, 0};
  struct pause_cap_data caps[2];
  if (syscall(SYS_capget, &header, caps) < 0) return "capget";

  if (has_capability(caps, PAUSE_CAP_SETPCAP)) {
    /* Locked: root (uid 0, or a setuid-root file) grants no capabilities at execve, a uid change never restores
     * them, and no ambient capability can be raised — not even by a later holder of CAP_SETPCAP. */
    unsigned long bits = PAUSE_SECBIT_NOROOT | PAUSE_SECBIT_NOROOT_LOCKED | PAUSE_SECBIT_NO_SETUID_FIXUP |
                         PAUSE_SECBIT_NO_SETUID_FIXUP_LOCKED | PAUSE_SECBIT_KEEP_CAPS_LOCKED |
                         PAUSE_SECBIT_NO_CAP_AMBIENT_RAISE | PAUSE_SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0) return "prctl(PR_SET_SECUREBITS)";
    /* Up to the kernel's last capability (CAPBSET_READ fails with EINVAL past it: there is no /proc here to read
     * cap_last_cap from). */
    for (unsigned long cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return "prctl(PR_CAPBSET_DROP)";
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";

  /* Raw system calls: the libc wrappers exist to change every thread's ids (musl's pulls in its whole
   * synchronised-call machinery, 10 KB of a 44 KB pause); the pause has one thread. */
  if (has_capability(caps, PAUSE_CAP_SETUID) && has_capability(caps, PAUSE_CAP_SETGID)) {
    if (syscall(SYS_setgroups, 0, NULL) < 0) return "setgroups";
    if (syscall(SYS_setresgid, PAUSE_GID, PAUSE_GID, PAUSE_GID) < 0) return "setresgid";
    if (syscall(SYS_setresuid, PAUSE_UID, PAUSE_UID, PAUSE_UID) < 0) return "setresuid";
  }

  memset(caps, 0, sizeof caps);
  if (syscall(SYS_capset, &header, caps) < 0) return "capset";

  /* Not dumpable: ptrace, /proc/<pid>/fd and pidfd_getfd on it need CAP_SYS_PTRACE (the supervisor, host root,
   * has it). With no capabilities left, the kernel's other guard — a tracer must hold every capability its
   * tracee holds — no longer stands in the way of a process of the same uid; in a shared PID namespace that is
   * any container that runs as 65535. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return "prctl(PR_SET_DUMPABLE)";
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return "prctl(PR_SET_NO_NEW_PRIVS)";

  if (pause_seccomp_install() < 0) return "seccomp(SECCOMP_SET_MODE_FILTER)";
  return NULL;
}

static int is_socket(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcasecmp(argv[i], "-v") == 0) {
      printf("pause.c (podns) %s\n", PODNS_VERSION);
      return 0;
    }
  }
  const char *store = getenv("PODNS_FD_STORE");
  int fd_store = store && strcmp(store, "1") == 0;
  if (fd_store && !(is_socket(STORE_FD) && is_socket(STORE_SEND_FD))) {
    fprintf(stderr, "pause: PODNS_FD_STORE: fds %d and %d must be the store's socket pair\n", STORE_FD, STORE_SEND_FD);
    return 4;
  }

  if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1 (pid %d); orphans will not be reaped here\n", (int)getpid());

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_terminate;
  if (sigaction(SIGINT, &sa, NULL) < 0) return 1;
  if (sigaction(SIGTERM, &sa, NULL) < 0) return 2;

  /* No SA_RESTART: pause() and poll() should return so the loop goes on; SA_NOCLDSTOP: stops are not exits. */
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) return 3;

  /* After the handlers (rt_sigaction is not on the filter's list), before anything else. */
  const char *failed = drop_privileges();
  if (failed) {
    fprintf(stderr, "pause: dropping privileges: %s: %s\n", failed, strerror(errno));
    return 5;
  }

  /* Children that exited before the handler was installed. */
  on_child(SIGCHLD);

  if (fd_store) serve_fd_store();
  for (;;) pause();
  fprintf(stderr, "pause: error: infinite loop terminated\n");
  return 42;
}
