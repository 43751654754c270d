/*
 * Processes podns did not start in this process: a shim that takes a pod over from a dead one watches the
 * pause and the containers through pidfds (poll(2) works for any process; waitid(P_PIDFD) only for our own
 * children), and takes the fds the pause holds for it with pidfd_getfd(2) (in addon.cc). Plain C, in the
 * caller (no fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidfd.h"

/* uapi/linux/pidfd.h of Linux 6.15 (Debian 12's headers predate it); the first version of the struct. */
#define PODNS_PIDFD_INFO_EXIT (1ULL << 3)
struct podns_pidfd_info {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
};
#define PODNS_PIDFD_GET_INFO _IOWR(0xFF, 11, struct podns_pidfd_info)

struct proc_stat {
  char state;
  unsigned long long start_time; /* field 22 */
  long long exit_code;           /* field 52 (Linux 3.5+); -1 when absent */
};

/* Parses /proc/<pid>/stat read through `fd`; -errno when it cannot be read (ESRCH once the process is reaped). */
static int read_stat(int fd, struct proc_stat *out) {
  char buf[1024];
  ssize_t n;
  do n = pread(fd, buf, sizeof buf - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  buf[n] = '\0';
  /* comm (field 2) may hold spaces and parentheses: the fields start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return -EIO;
  p += 2;
  out->state = *p;
  out->start_time = 0;
  out->exit_code = -1;
  for (int field = 3; *p; field++) {
    if (field == 22) out->start_time = strtoull(p, NULL, 10);
    if (field == 52) out->exit_code = strtoll(p, NULL, 10);
    char *space = strchr(p, ' ');
    if (!space) break;
    p = space + 1;
  }
  return 0;
}

int podns_pidfd_open_verified(pid_t pid, unsigned long long start_time, int *stat_fd) {
  /* The pidfd first, the check after: if the check passes, the pid was not recycled in between, so the
   * pidfd names the process that was checked (systemd's order). */
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return -errno;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno == ENOENT ? ESRCH : errno;
    close(pidfd);
    return -err;
  }
  struct proc_stat st;
  int rc = read_stat(fd, &st);
  if (rc == 0 && st.start_time != start_time) rc = -ESRCH;
  if (rc < 0) {
    close(fd);
    close(pidfd);
    return rc;
  }
  if (stat_fd) *stat_fd = fd;
  else close(fd);
  return pidfd;
}

static int exit_info(int pidfd) {
  struct podns_pidfd_info info;
  memset(&info, 0, sizeof info);
  info.mask = PODNS_PIDFD_INFO_EXIT;
  /* ENOTTY/EINVAL before Linux 6.13; no EXIT bit before 6.15 or while the zombie is not reaped yet. */
  if (ioctl(pidfd, PODNS_PIDFD_GET_INFO, &info) == 0 && (info.mask & PODNS_PIDFD_INFO_EXIT)) return info.exit_code;
  return -ENODATA;
}

int podns_exit_status(int pidfd, int stat_fd) {
  int status = exit_info(pidfd);
  if (status >= 0) return status;
  struct proc_stat st;
  if (stat_fd >= 0 && read_stat(stat_fd, &st) == 0 && (st.state == 'Z' || st.state == 'X') && st.exit_code >= 0)
    return (int)st.exit_code;
  /* Reaped between the two reads: the kernel may have kept it for the pidfd by now. */
  return exit_info(pidfd);
}
