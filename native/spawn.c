/*
 * spawn.c — the code that runs between fork and exec. See spawn.h for the shape and the reasons.
 *
 * Rules for everything after a fork in this file: the parent is multi-threaded, so the child may only use
 * async-signal-safe calls — raw system calls through syscall(2) or the thin glibc wrappers, stack buffers,
 * no malloc, no stdio, no locks. Errors go to the report pipe and the child _exit()s.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "spawn.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* <linux/mount.h> clashes with glibc's <sys/mount.h>: the open_tree/move_mount flags used, as the kernel has them. */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef CLONE_NEWUSER
#define CLONE_NEWUSER 0x10000000
#endif
#define PODNS_MOUNT_ATTR_RDONLY 0x00000001
#define PODNS_MOUNT_ATTR_IDMAP 0x00100000

/* struct mount_attr of <linux/mount.h> (which clashes with glibc's <sys/mount.h>), as the kernel lays it out. */
struct podns_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static const int ns_clone_flag[PODNS_NS_COUNT] = {
    [PODNS_NS_IPC] = CLONE_NEWIPC, [PODNS_NS_UTS] = CLONE_NEWUTS,       [PODNS_NS_NET] = CLONE_NEWNET,
    [PODNS_NS_PID] = CLONE_NEWPID, [PODNS_NS_CGROUP] = CLONE_NEWCGROUP, [PODNS_NS_MNT] = CLONE_NEWNS,
    [PODNS_NS_USER] = CLONE_NEWUSER,
};

const char *podns_step_name(int step) {
  switch (step) {
    case PODNS_STEP_PIPE: return "pipe2";
    case PODNS_STEP_FORK: return "fork";
    case PODNS_STEP_SETNS: return "setns";
    case PODNS_STEP_CLONE: return "clone";
    case PODNS_STEP_MOUNT_PRIVATE: return "make-rprivate";
    case PODNS_STEP_SETHOSTNAME: return "sethostname";
    case PODNS_STEP_MKDIR: return "mkdir";
    case PODNS_STEP_MOUNT: return "mount";
    case PODNS_STEP_REMOUNT: return "remount";
    case PODNS_STEP_PIVOT_ROOT: return "pivot_root";
    case PODNS_STEP_UMOUNT_OLD_ROOT: return "umount-old-root";
    case PODNS_STEP_SETSID: return "setsid";
    case PODNS_STEP_DUP2: return "dup2";
    case PODNS_STEP_SETGROUPS: return "setgroups";
    case PODNS_STEP_SETGID: return "setgid";
    case PODNS_STEP_SETUID: return "setuid";
    case PODNS_STEP_CHDIR: return "chdir";
    case PODNS_STEP_EXEC: return "exec";
    case PODNS_STEP_READ_REPORT: return "read-report";
    case PODNS_STEP_RESOLVE: return "resolve";
    case PODNS_STEP_SYMLINK: return "symlink";
    case PODNS_STEP_LOOPBACK_UP: return "loopback-up";
    case PODNS_STEP_SYSCTL: return "sysctl";
    case PODNS_STEP_MASK: return "mask";
    case PODNS_STEP_READONLY_PATH: return "readonly-path";
    case PODNS_STEP_READONLY_ROOT: return "readonly-root";
    case PODNS_STEP_CAPBSET_DROP: return "capbset-drop";
    case PODNS_STEP_KEEPCAPS: return "keepcaps";
    case PODNS_STEP_CAPSET: return "capset";
    case PODNS_STEP_AMBIENT: return "ambient-clear";
    case PODNS_STEP_NO_NEW_PRIVS: return "no-new-privs";
    case PODNS_STEP_SECCOMP: return "seccomp";
    case PODNS_STEP_CGROUP_JOIN: return "cgroup-join";
    case PODNS_STEP_CONSOLE: return "console";
    case PODNS_STEP_PROPAGATION: return "propagation";
    case PODNS_STEP_RECURSIVE_READONLY: return "recursive-readonly";
    case PODNS_STEP_UNSHARE_CGROUP: return "unshare-cgroupns";
    case PODNS_STEP_OPEN_TREE: return "open_tree";
    case PODNS_STEP_USERNS_MAP: return "userns-map";
    case PODNS_STEP_IDMAP: return "mount_setattr-idmap";
    case PODNS_STEP_MOVE_MOUNT: return "move_mount";
    default: return "unknown";
  }
}

/* What travels on the report pipe; smaller than PIPE_BUF, so each write is atomic. */
struct report {
  int32_t kind; /* 'P': pid of the final process, 'E': failure */
  int32_t step;
  int32_t err;
  int32_t index;
  int32_t pid;
};

static void send_report(int fd, int32_t kind, int step, int err, int index, pid_t pid) {
  struct report r = {kind, step, err, index, (int32_t)pid};
  ssize_t n;
  do n = write(fd, &r, sizeof r);
  while (n < 0 && errno == EINTR);
}

/* The child's copy of the report fd when tracing (child memory only: the parent never sets it). */
static int trace_fd = -1;

/* A step succeeded: with tracing on, say so, in order, on the report pipe. */
static void done(int step, int index) {
  if (trace_fd >= 0) send_report(trace_fd, 'S', step, 0, index, 0);
}

static _Noreturn void fail(int report_fd, int step, int index) {
  send_report(report_fd, 'E', step, errno, index, 0);
  _exit(127);
}

static pid_t raw_clone(unsigned long flags) {
  /* Raw clone rather than fork(): no atfork handlers (they may take locks other threads hold). */
  return (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
}

static void format_fd_path(char *buf, int fd) {
  /* "/proc/self/fd/<fd>" without snprintf. */
  static const char prefix[] = "/proc/self/fd/";
  memcpy(buf, prefix, sizeof prefix - 1);
  char digits[16];
  int n = 0;
  do digits[n++] = (char)('0' + fd % 10);
  while ((fd /= 10) > 0);
  char *p = buf + sizeof prefix - 1;
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
}

static int open_in_root(int root_fd, const char *rel, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
}

/*
 * Resolves rel (relative to the rootfs, symlinks confined to it) to an O_PATH fd, creating missing
 * directories, and the final file when create == PODNS_TARGET_FILE. Returns -1 with errno set.
 */
static int resolve_target(int root_fd, const char *rel, int create) {
  while (*rel == '/') rel++;
  if (*rel == '\0') return open_in_root(root_fd, ".", O_PATH | O_DIRECTORY);

  char buf[PATH_MAX];
  size_t len = strlen(rel);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, rel, len + 1);

  int fd = open_in_root(root_fd, buf, O_PATH);
  if (fd >= 0 || errno != ENOENT || create == PODNS_TARGET_EXISTS) return fd;

  /* Walk the components, creating what is missing; each step is resolved inside the root again. */
  for (size_t i = 0; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    int last = saved == '\0';
    if (buf[0] != '\0') {
      int probe = open_in_root(root_fd, buf, O_PATH);
      if (probe >= 0) {
        close(probe);
      } else if (errno == ENOENT) {
        /* Create the component in its parent, which is already resolved inside the root. */
        char *slash = strrchr(buf, '/');
        const char *name = slash ? slash + 1 : buf;
        int parent;
        if (slash) {
          *slash = '\0';
          parent = open_in_root(root_fd, buf, O_PATH | O_DIRECTORY);
          *slash = '/';
        } else {
          parent = open_in_root(root_fd, ".", O_PATH | O_DIRECTORY);
        }
        if (parent < 0) return -1;
        int rc;
        if (last && create == PODNS_TARGET_FILE) {
          rc = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
          if (rc >= 0) close(rc);
        } else {
          rc = mkdirat(parent, name, 0755);
        }
        int saved_errno = errno;
        close(parent);
        if (rc < 0 && saved_errno != EEXIST) {
          errno = saved_errno;
          return -1;
        }
      } else {
        return -1;
      }
    }
    buf[i] = saved;
  }
  return open_in_root(root_fd, rel, O_PATH);
}

static int mkdir_all(const char *path) {
  char buf[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
    buf[i] = saved;
  }
  return 0;
}

/* Masked and read-only paths (runc's maskPath / readonlyPath), resolved inside the root; missing: skipped. */
static void apply_mask_or_readonly(int root_fd, const struct podns_mount *m, int index, int report_fd) {
  int fd = resolve_target(root_fd, m->target, PODNS_TARGET_EXISTS);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(report_fd, PODNS_STEP_RESOLVE, index);
  }
  char fd_path[32];
  format_fd_path(fd_path, fd);
  struct stat st;
  if (fstat(fd, &st) < 0) fail(report_fd, PODNS_STEP_RESOLVE, index);
  if (m->kind == PODNS_MASK) {
    int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", fd_path, "tmpfs", MS_RDONLY, "size=0,mode=555")
                                 : mount("/dev/null", fd_path, NULL, MS_BIND, NULL);
    if (rc < 0) fail(report_fd, PODNS_STEP_MASK, index);
    done(PODNS_STEP_MASK, index);
  } else {
    if (mount(fd_path, fd_path, NULL, MS_BIND | MS_REC, NULL) < 0) fail(report_fd, PODNS_STEP_READONLY_PATH, index);
    /* Reopen: the old fd names what lies below the new bind. */
    close(fd);
    fd = resolve_target(root_fd, m->target, PODNS_TARGET_EXISTS);
    if (fd < 0) fail(report_fd, PODNS_STEP_RESOLVE, index);
    format_fd_path(fd_path, fd);
    if (mount(NULL, fd_path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      fail(report_fd, PODNS_STEP_READONLY_PATH, index);
    done(PODNS_STEP_READONLY_PATH, index);
  }
  close(fd);
}

/*
 * hostUsers: false. An idmapped mount can only be made of a detached mount (the kernel refuses one already
 * visible in a mount namespace: can_idmap_mount), and only by a process privileged over the filesystem's user
 * namespace — host root, here, before the final process joins the pod's user namespace. So: open_tree clones
 * the source (its whole tree with MS_REC, as a recursive bind), mount_setattr gives the clone the pod's
 * mapping ("0 <base> 65536": on-disk uid 0 is the container's root, kuid <base>), and the caller attaches it.
 * A filesystem that cannot be idmapped (overlayfs itself, proc, and tmpfs before Linux 6.3) fails
 * mount_setattr with EINVAL, which is reported as that step with the mount's index.
 */
static int open_idmapped_tree(const struct podns_spawn *spec, const struct podns_mount *m, int index, int report_fd) {
  unsigned int recursive = (m->flags & MS_REC) ? AT_RECURSIVE : 0;
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, m->source, OPEN_TREE_CLONE | O_CLOEXEC | recursive);
  if (fd < 0) fail(report_fd, PODNS_STEP_OPEN_TREE, index);
  struct podns_mount_attr attr = {PODNS_MOUNT_ATTR_IDMAP, 0, 0, (uint64_t)spec->ns_fds[PODNS_NS_USER]};
  if (spec->ns_fds[PODNS_NS_USER] < 0) errno = EINVAL;
  if (spec->ns_fds[PODNS_NS_USER] < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) < 0)
    fail(report_fd, PODNS_STEP_IDMAP, index);
  done(PODNS_STEP_IDMAP, index);
  return fd;
}

/* The detached clones of the bind_as_peer mounts' sources, by mount index (clone_peer_sources). */
struct peer_trees {
  size_t n;
  int index[PODNS_MAX_PEER_BINDS];
  int fd[PODNS_MAX_PEER_BINDS];
};

/*
 * mountPropagation Bidirectional. A new mount namespace starts as a copy whose mounts are peers of the host's
 * shared ones; "/" is then made private (or slave) so that nothing the container mounts reaches the host, and
 * with that every peer link is gone. So each Bidirectional source is cloned first, while its copy is still a
 * peer: open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) gives a detached tree whose mounts are peers of the source's
 * (the kernel's clone_mnt keeps a shared mount's peer group), and do_mounts attaches it at the target with
 * move_mount. Only that tree is shared with the host; runc gets the same by making "/" rshared and the rootfs's
 * parent mount private, which would also leave every other host mount shared until pivot_root.
 */
static void clone_peer_sources(const struct podns_spawn *spec, struct peer_trees *trees, int report_fd) {
  trees->n = 0;
  for (size_t i = 0; i < spec->n_mounts; i++) {
    if (!spec->mounts[i].bind_as_peer) continue;
    if (trees->n == PODNS_MAX_PEER_BINDS) {
      errno = E2BIG;
      fail(report_fd, PODNS_STEP_OPEN_TREE, (int)i);
    }
    int fd;
    if (spec->mounts[i].idmap) {
      fd = open_idmapped_tree(spec, &spec->mounts[i], (int)i, report_fd);
    } else {
      fd = (int)syscall(SYS_open_tree, AT_FDCWD, spec->mounts[i].source, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
      if (fd < 0) fail(report_fd, PODNS_STEP_OPEN_TREE, (int)i);
    }
    done(PODNS_STEP_OPEN_TREE, (int)i);
    trees->index[trees->n] = (int)i;
    trees->fd[trees->n++] = fd;
  }
}

static int peer_tree_of(const struct peer_trees *trees, size_t index) {
  for (size_t k = 0; k < trees->n; k++)
    if (trees->index[k] == (int)index) return trees->fd[k];
  return -1;
}

static void do_mounts(const struct podns_spawn *spec, const struct peer_trees *trees, int report_fd) {
  int root_fd = -1;
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct podns_mount *m = &spec->mounts[i];
    char fd_path[32];
    const char *target = m->target;
    int target_fd = -1;

    if (m->in_rootfs) {
      /* Opened lazily: the rootfs is usually itself the target of an earlier (overlay) mount. */
      if (root_fd < 0 && (root_fd = open(spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        fail(report_fd, PODNS_STEP_RESOLVE, (int)i);
      if (m->kind == PODNS_MASK || m->kind == PODNS_READONLY) {
        apply_mask_or_readonly(root_fd, m, (int)i, report_fd);
        continue;
      }
      if (m->kind == PODNS_SYMLINK) {
        /* Parent resolved inside the root; the link itself is created, never followed. */
        const char *slash = strrchr(m->target, '/');
        char parent_path[PATH_MAX];
        size_t plen = slash ? (size_t)(slash - m->target) : 0;
        if (plen >= sizeof parent_path) {
          errno = ENAMETOOLONG;
          fail(report_fd, PODNS_STEP_RESOLVE, (int)i);
        }
        memcpy(parent_path, m->target, plen);
        parent_path[plen] = '\0';
        int parent = resolve_target(root_fd, parent_path, PODNS_TARGET_DIR);
        if (parent < 0) fail(report_fd, PODNS_STEP_RESOLVE, (int)i);
        /* O_PATH fds work as dirfd for symlinkat. */
        if (symlinkat(m->source, parent, slash ? slash + 1 : m->target) < 0 && errno != EEXIST)
          fail(report_fd, PODNS_STEP_SYMLINK, (int)i);
        done(PODNS_STEP_SYMLINK, (int)i);
        close(parent);
        continue;
      }
      target_fd = resolve_target(root_fd, m->target, m->create);
      if (target_fd < 0) fail(report_fd, m->create ? PODNS_STEP_MKDIR : PODNS_STEP_RESOLVE, (int)i);
      format_fd_path(fd_path, target_fd);
      target = fd_path;
    } else if (m->create == PODNS_TARGET_DIR && mkdir_all(m->target) < 0) {
      fail(report_fd, PODNS_STEP_MKDIR, (int)i);
    }

    int tree = peer_tree_of(trees, i);
    if (tree < 0 && m->idmap) {
      /* Cloned and idmapped now, attached below like a peer tree. */
      tree = open_idmapped_tree(spec, m, (int)i, report_fd);
    }
    if (tree >= 0) {
      /* The clone taken before "/" went private, attached here: it stays a peer of the host's mount. */
      int rc = target_fd >= 0 ? (int)syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                              : (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
      if (rc < 0) fail(report_fd, m->idmap ? PODNS_STEP_MOVE_MOUNT : PODNS_STEP_MOUNT, (int)i);
      close(tree);
    } else if (mount(m->source, target, m->fstype, m->flags, m->data) < 0) {
      fail(report_fd, PODNS_STEP_MOUNT, (int)i);
    }
    done(PODNS_STEP_MOUNT, (int)i);
    if ((m->remount_flags || m->propagation) && target_fd >= 0) {
      /* The fd still names the directory under the new mount; open the target again to reach the mount. */
      close(target_fd);
      target_fd = resolve_target(root_fd, m->target, PODNS_TARGET_EXISTS);
      if (target_fd < 0) fail(report_fd, PODNS_STEP_RESOLVE, (int)i);
      format_fd_path(fd_path, target_fd);
    }
    if (m->remount_flags) {
      if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | m->remount_flags, NULL) < 0)
        fail(report_fd, PODNS_STEP_REMOUNT, (int)i);
      done(PODNS_STEP_REMOUNT, (int)i);
    }
    if (m->propagation) {
      if (mount(NULL, target, NULL, m->propagation, NULL) < 0) fail(report_fd, PODNS_STEP_PROPAGATION, (int)i);
      done(PODNS_STEP_PROPAGATION, (int)i);
    }
    if (m->recursive_readonly) {
      struct podns_mount_attr attr = {PODNS_MOUNT_ATTR_RDONLY, 0, 0, 0};
      if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr) == 0) {
        done(PODNS_STEP_RECURSIVE_READONLY, (int)i);
      } else if (m->recursive_readonly == 2) {
        fail(report_fd, PODNS_STEP_RECURSIVE_READONLY, (int)i);
      }
    }
    if (target_fd >= 0) close(target_fd);
    if (m->fstype && strcmp(m->fstype, "overlay") == 0 && root_fd >= 0) {
      /* Not expected (the overlay comes first), but a stale root fd would point below the overlay. */
      close(root_fd);
      root_fd = -1;
    }
  }
  if (root_fd >= 0) close(root_fd);
}

/* The SIOCSIFFLAGS equivalent of `ip link set lo up`, done in place: no second process needed. */
static int bring_loopback_up(void) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  int rc = ioctl(sock, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(sock, SIOCSIFFLAGS, &ifr);
  }
  int saved = errno;
  close(sock);
  errno = saved;
  return rc;
}

static void write_sysctls(const struct podns_spawn *spec, int report_fd) {
  for (size_t i = 0; i < spec->n_sysctls; i++) {
    /* /proc/sys/net/... and the IPC ones act on the namespaces of the process that opens them: ours. */
    int fd = open(spec->sysctls[i].path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(report_fd, PODNS_STEP_SYSCTL, (int)i);
    size_t len = strlen(spec->sysctls[i].value);
    if (write(fd, spec->sysctls[i].value, len) != (ssize_t)len) fail(report_fd, PODNS_STEP_SYSCTL, (int)i);
    done(PODNS_STEP_SYSCTL, (int)i);
    close(fd);
  }
}

static void install_seccomp(const struct podns_security *sec, int report_fd) {
  struct sock_fprog prog = {(unsigned short)sec->seccomp_len, (struct sock_filter *)sec->seccomp_filter};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) fail(report_fd, PODNS_STEP_SECCOMP, -1);
  done(PODNS_STEP_SECCOMP, -1);
}

static void drop_bounding_set(const struct podns_security *sec, int report_fd) {
  for (int cap = 0; cap < 64; cap++) {
    if (sec->bounding & (1ULL << cap)) continue;
    /* EINVAL: the kernel knows no such capability; nothing to drop. */
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) fail(report_fd, PODNS_STEP_CAPBSET_DROP, cap);
  }
  done(PODNS_STEP_CAPBSET_DROP, -1);
}

static void set_capabilities(const struct podns_security *sec, int report_fd) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(sec->effective >> (32 * i));
    data[i].permitted = (uint32_t)(sec->permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(sec->inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) < 0) fail(report_fd, PODNS_STEP_CAPSET, -1);
  done(PODNS_STEP_CAPSET, -1);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_AMBIENT, -1);
  done(PODNS_STEP_AMBIENT, -1);
}

static void reset_signals(void) {
  /* Node ignores SIGPIPE and may block signals; ignored dispositions and the mask survive execve. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, NULL); /* fails harmlessly for glibc-reserved signals */
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void setup_stdio(const struct podns_spawn *spec, int report_fd) {
  /* Move the sources out of 0..2 first, so that stdio = {2, 1, 0} cannot clobber itself. */
  int moved[3];
  for (int i = 0; i < 3; i++) {
    moved[i] = -1;
    if (spec->stdio[i] < 0) continue;
    moved[i] = fcntl(spec->stdio[i], F_DUPFD_CLOEXEC, 10);
    if (moved[i] < 0) fail(report_fd, PODNS_STEP_DUP2, i);
  }
  for (int i = 0; i < 3; i++) {
    if (moved[i] < 0) {
      /* Inherited as it is; but the caller's own 0..2 may be close-on-exec (whoever started it decides). */
      int flags = fcntl(i, F_GETFD);
      if (flags >= 0 && (flags & FD_CLOEXEC)) fcntl(i, F_SETFD, flags & ~FD_CLOEXEC);
      continue;
    }
    if (dup2(moved[i], i) < 0) fail(report_fd, PODNS_STEP_DUP2, i); /* dup2 clears CLOEXEC on i */
    close(moved[i]);
  }
}

/*
 * The terminal, made where the process will see it: /dev/ptmx here is the container's own devpts instance
 * (newinstance), so `tty` names a /dev/pts/N that exists inside the container. The peer is opened from the
 * master with TIOCGPTPEER (no path lookup through a /dev/pts the container could have changed), the master
 * goes to the caller over the console socket, and the peer becomes 0, 1, 2 and the controlling terminal.
 * index: 0 open /dev/ptmx, 1 unlock, 2 open the peer, 3 send the master, 4 dup2, 5 TIOCSCTTY.
 */
static void setup_console(const struct podns_spawn *spec, int report_fd) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(report_fd, PODNS_STEP_CONSOLE, 0);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(report_fd, PODNS_STEP_CONSOLE, 1);
  int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0) fail(report_fd, PODNS_STEP_CONSOLE, 2);

  char data = 'M';
  struct iovec iov = {.iov_base = &data, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
  ssize_t sent;
  do sent = sendmsg(spec->console_socket, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent != 1) fail(report_fd, PODNS_STEP_CONSOLE, 3);
  close(master);
  close(spec->console_socket);

  for (int i = 0; i < 3; i++)
    if (dup2(peer, i) < 0) fail(report_fd, PODNS_STEP_CONSOLE, 4);
  if (peer > 2) close(peer);
  if (ioctl(0, TIOCSCTTY, 0) < 0) fail(report_fd, PODNS_STEP_CONSOLE, 5);
  done(PODNS_STEP_CONSOLE, -1);
}

/*
 * The extra fds become 3, 4, ... as the stdio fds become 0..2. What the final process still needs after this
 * step (the report pipe, the executable's fd) is first moved above that range so that dup2 cannot clobber it,
 * and the sources are moved there too, so that extra = {4, 3} cannot clobber itself.
 */
static void setup_extra_fds(const struct podns_spawn *spec, int *report_fd, int *exec_fd) {
  if (spec->n_extra_fds == 0) return;
  int floor = 3 + (int)spec->n_extra_fds;
  if (*report_fd < floor) {
    int moved = fcntl(*report_fd, F_DUPFD_CLOEXEC, floor);
    if (moved < 0) fail(*report_fd, PODNS_STEP_DUP2, 3);
    if (trace_fd == *report_fd) trace_fd = moved;
    *report_fd = moved;
  }
  if (*exec_fd >= 0 && *exec_fd < floor) {
    *exec_fd = fcntl(*exec_fd, F_DUPFD_CLOEXEC, floor);
    if (*exec_fd < 0) fail(*report_fd, PODNS_STEP_DUP2, 3);
  }
  int moved[PODNS_MAX_EXTRA_FDS];
  for (size_t i = 0; i < spec->n_extra_fds; i++) {
    moved[i] = fcntl(spec->extra_fds[i], F_DUPFD_CLOEXEC, floor);
    if (moved[i] < 0) fail(*report_fd, PODNS_STEP_DUP2, 3 + (int)i);
  }
  for (size_t i = 0; i < spec->n_extra_fds; i++) {
    if (dup2(moved[i], 3 + (int)i) < 0) fail(*report_fd, PODNS_STEP_DUP2, 3 + (int)i); /* clears CLOEXEC */
    close(moved[i]);
  }
}

static void exec_program(const struct podns_spawn *spec, int exec_fd, int report_fd) {
  if (exec_fd >= 0) {
    syscall(SYS_execveat, exec_fd, "", spec->argv, spec->envp, AT_EMPTY_PATH);
    fail(report_fd, PODNS_STEP_EXEC, -1);
  }
  if (strchr(spec->path, '/') || !spec->search_path) {
    execve(spec->path, spec->argv, spec->envp);
    fail(report_fd, PODNS_STEP_EXEC, -1);
  }
  /* PATH search as execvp does it, but in the container's root and with the container's PATH. */
  int seen_eacces = 0;
  size_t name_len = strlen(spec->path);
  const char *p = spec->search_path;
  for (;;) {
    const char *end = strchr(p, ':');
    size_t dir_len = end ? (size_t)(end - p) : strlen(p);
    char buf[PATH_MAX];
    if (dir_len + 1 + name_len < sizeof buf) {
      size_t n = 0;
      if (dir_len == 0) buf[n++] = '.';
      else {
        memcpy(buf, p, dir_len);
        n = dir_len;
      }
      buf[n++] = '/';
      memcpy(buf + n, spec->path, name_len + 1);
      execve(buf, spec->argv, spec->envp);
      if (errno == EACCES) seen_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE) fail(report_fd, PODNS_STEP_EXEC, -1);
    }
    if (!end) break;
    p = end + 1;
  }
  errno = seen_eacces ? EACCES : ENOENT;
  fail(report_fd, PODNS_STEP_EXEC, -1);
}

/*
 * The pause of a pod with hostUsers: false was cloned with CLONE_NEWUSER: it is in a user namespace of its own
 * (and the other namespaces made with it are owned by that one), with the full capability set of that namespace
 * and none over the host. It waits for the caller to write uid_map and gid_map (podns_spawn_begin) before it does
 * anything with them.
 */
static void wait_for_id_maps(int sync_fd) {
  char go;
  ssize_t n;
  do n = read(sync_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  /* EOF: the caller could not write the map; it reports that itself and reaps us. */
  if (n != 1) _exit(127);
  close(sync_fd);
  done(PODNS_STEP_USERNS_MAP, -1);
}

/*
 * Then, once it stands in its new root's directory, it becomes root of its namespace (host uid <base>). Not
 * sooner: until then its ids are still host root's, which own the 0700 directories on the way to its root (the run
 * directory); <base> could not even pass through them. And not later: the IPC sysctls answer only the
 * namespace's root (ipc_permissions compares the euid), and they are written now, through the host's /proc,
 * before pivot_root takes it away. setgroups needs no "deny": the maps were written by a process privileged in
 * the parent namespace.
 */
static void become_userns_root(int report_fd) {
  if (syscall(SYS_setgroups, 0, NULL) < 0) fail(report_fd, PODNS_STEP_SETGROUPS, -1);
  if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_SETGID, -1);
  if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_SETUID, -1);
  done(PODNS_STEP_SETUID, -1);
}

/*
 * A container (or exec) of a pod with hostUsers: false joins the pod's user namespace last, after everything it
 * does as host root: the idmapped mounts (only host root may make them), the mount namespace's other mounts and
 * pivot_root, the terminal. runc's nsexec joins it first, but there the mount namespace is made inside it; here
 * the container's mount namespace (and its own PID namespace, without shareProcessNamespace) is made by host root
 * and owned by the host's user namespace, so that the idmapped mounts can go into it — and then root in the
 * container holds no capability over it: it cannot mount or unmount anything there, whatever its capabilities.
 * setns(CLONE_NEWUSER) grants the full capability set of the target namespace; the security steps that follow
 * cut it down to the container's, and its ids are set inside the namespace (uid 0 there is host uid <base>).
 */
static void join_user_namespace(const struct podns_spawn *spec, int report_fd) {
  if (spec->ns_fds[PODNS_NS_USER] < 0) return;
  if (setns(spec->ns_fds[PODNS_NS_USER], CLONE_NEWUSER) < 0) fail(report_fd, PODNS_STEP_SETNS, PODNS_NS_USER);
  done(PODNS_STEP_SETNS, PODNS_NS_USER);
  if (spec->set_user) return; /* set below, as for any container */
  /* Host root's ids mean nothing here (they read as the overflow id 65534): be the namespace's root. */
  if (syscall(SYS_setgroups, 0, NULL) < 0) fail(report_fd, PODNS_STEP_SETGROUPS, -1);
  if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_SETGID, -1);
  if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_SETUID, -1);
}

/* The final process: everything from its own namespaces to execve. Never returns. userns_sync_fd: see
 * become_userns_root (-1: none). */
static _Noreturn void run_final(const struct podns_spawn *spec, int report_fd, int userns_sync_fd) {
  if (spec->trace) trace_fd = report_fd;
  /* Its own creation is the final process's first step: so it comes after the setns steps, in order. */
  done(PODNS_STEP_CLONE, -1);
  reset_signals();

  /* Into the container's cgroup before anything else, so every page and process it makes is accounted. */
  for (size_t i = 0; i < spec->n_cgroup_procs_fds; i++) {
    if (write(spec->cgroup_procs_fds[i], "0", 1) != 1) fail(report_fd, PODNS_STEP_CGROUP_JOIN, (int)i);
    done(PODNS_STEP_CGROUP_JOIN, (int)i);
  }
  int new_userns = userns_sync_fd >= 0;
  if (new_userns) wait_for_id_maps(userns_sync_fd);
  /*
   * The cgroup namespace only now, in the cgroup: a new cgroup namespace's root is the cgroup its creator is in
   * when it is made (cgroup_namespaces(7)), so the container sees its own cgroup as "/" (0::/ in
   * /proc/self/cgroup) and a cgroup2 mounted below shows only its subtree. runc orders it so too: its parent
   * moves runc init into the cgroup before sending the config that makes it unshare. An exec joins the
   * container's namespace after joining the cgroup as well: the cgroup.procs write is then checked from the
   * host's namespace, where both the old and the new cgroup are visible (before Linux 5.16 the writer's own
   * namespace counted, and the container's would hide the cgroup the exec comes from: ENOENT).
   */
  if (spec->ns_fds[PODNS_NS_CGROUP] >= 0) {
    if (setns(spec->ns_fds[PODNS_NS_CGROUP], CLONE_NEWCGROUP) < 0) fail(report_fd, PODNS_STEP_SETNS, PODNS_NS_CGROUP);
    done(PODNS_STEP_SETNS, PODNS_NS_CGROUP);
  } else if (spec->clone_flags & CLONE_NEWCGROUP) {
    if (unshare(CLONE_NEWCGROUP) < 0) fail(report_fd, PODNS_STEP_UNSHARE_CGROUP, -1);
    done(PODNS_STEP_UNSHARE_CGROUP, -1);
  }

  struct peer_trees trees;
  clone_peer_sources(spec, &trees, report_fd);
  if (spec->clone_flags & CLONE_NEWNS) {
    /* Nothing we mount may propagate back to the host (or to other pods), but below a Bidirectional bind. */
    unsigned long root = spec->root_propagation ? spec->root_propagation : MS_PRIVATE;
    if (mount(NULL, "/", NULL, MS_REC | root, NULL) < 0) fail(report_fd, PODNS_STEP_MOUNT_PRIVATE, -1);
    done(PODNS_STEP_MOUNT_PRIVATE, -1);
  }
  if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
    fail(report_fd, PODNS_STEP_SETHOSTNAME, -1);
  if (spec->hostname) done(PODNS_STEP_SETHOSTNAME, -1);
  if (spec->loopback_up && bring_loopback_up() < 0) fail(report_fd, PODNS_STEP_LOOPBACK_UP, -1);
  if (spec->loopback_up) done(PODNS_STEP_LOOPBACK_UP, -1);
  if (!new_userns) write_sysctls(spec, report_fd);

  do_mounts(spec, &trees, report_fd);

  if (spec->rootfs && chdir(spec->rootfs) < 0) fail(report_fd, PODNS_STEP_PIVOT_ROOT, -1);
  if (new_userns) {
    become_userns_root(report_fd);
    write_sysctls(spec, report_fd);
  }
  if (spec->rootfs) {
    /* pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then drops it
     * (the trick runc uses; it needs no directory for the old root inside the new one). */
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail(report_fd, PODNS_STEP_PIVOT_ROOT, -1);
    if (umount2(".", MNT_DETACH) < 0) fail(report_fd, PODNS_STEP_UMOUNT_OLD_ROOT, -1);
    done(PODNS_STEP_PIVOT_ROOT, -1);
    if (chdir("/") < 0) fail(report_fd, PODNS_STEP_CHDIR, -1);
    if (spec->security.readonly_root &&
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
      fail(report_fd, PODNS_STEP_READONLY_ROOT, -1);
    if (spec->security.readonly_root) done(PODNS_STEP_READONLY_ROOT, -1);
  }

  if (spec->new_session && setsid() < 0) fail(report_fd, PODNS_STEP_SETSID, -1);
  if (spec->new_session) done(PODNS_STEP_SETSID, -1);
  if (spec->console_socket >= 0) setup_console(spec, report_fd);
  else setup_stdio(spec, report_fd);
  int exec_fd = spec->exec_fd;
  setup_extra_fds(spec, &report_fd, &exec_fd);
  join_user_namespace(spec, report_fd);

  const struct podns_security *sec = &spec->security;
  int has_seccomp = sec->seccomp_filter != NULL && sec->seccomp_len > 0;
  if (sec->apply) {
    drop_bounding_set(sec, report_fd);
    /* Without no_new_privs a filter needs CAP_SYS_ADMIN, which goes with the capset below. */
    if (has_seccomp && !sec->no_new_privs) install_seccomp(sec, report_fd);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_KEEPCAPS, -1);
  }
  if (spec->set_user) {
    /* Raw syscalls: glibc's setgroups/setgid/setuid signal every thread (there is one here, but the
     * thread list copied by fork is not to be trusted). */
    if (syscall(SYS_setgroups, spec->n_groups, spec->groups) < 0) fail(report_fd, PODNS_STEP_SETGROUPS, -1);
    if (syscall(SYS_setresgid, spec->gid, spec->gid, spec->gid) < 0) fail(report_fd, PODNS_STEP_SETGID, -1);
    if (syscall(SYS_setresuid, spec->uid, spec->uid, spec->uid) < 0) fail(report_fd, PODNS_STEP_SETUID, -1);
    done(PODNS_STEP_SETUID, -1);
  }
  if (sec->apply) {
    set_capabilities(sec, report_fd);
    if (sec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(report_fd, PODNS_STEP_NO_NEW_PRIVS, -1);
    if (sec->no_new_privs) done(PODNS_STEP_NO_NEW_PRIVS, -1);
    if (has_seccomp && sec->no_new_privs) install_seccomp(sec, report_fd);
  }
  if (spec->cwd && chdir(spec->cwd) < 0) fail(report_fd, PODNS_STEP_CHDIR, -1);
  if (spec->cwd) done(PODNS_STEP_CHDIR, -1);
  /* The last word before execve: a successful one closes the pipe, a failed one reports after this. */
  done(PODNS_STEP_EXEC, -1);

  exec_program(spec, exec_fd, report_fd);
  _exit(127);
}

static int has_namespaces_to_join(const struct podns_spawn *spec) {
  for (int i = 0; i < PODNS_NS_COUNT; i++)
    if (spec->ns_fds[i] >= 0) return 1;
  return 0;
}

/* Reads one report; returns 1 with *r filled, 0 at end of file, -1 on error. */
static int read_report(int fd, struct report *r) {
  size_t got = 0;
  while (got < sizeof *r) {
    ssize_t n = read(fd, (char *)r + got, sizeof *r - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return got == 0 ? 0 : -1;
    got += (size_t)n;
  }
  return 1;
}

static void reap(pid_t pid) {
  while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
  }
}

static void trace_add(struct podns_trace *trace, int step, int index) {
  if (!trace || trace->len >= trace->cap) return;
  trace->steps[trace->len].step = step;
  trace->steps[trace->len].index = index;
  trace->len++;
}

/*
 * uid_map and gid_map of a pause cloned with CLONE_NEWUSER: one line each, "0 <base> <size>", written by the
 * caller (host root: privileged in the parent namespace, so any range may be mapped and setgroups stays
 * allowed). Plain code in the caller, not after a fork. Returns -1 when done, else which file failed (0 uid_map,
 * 1 gid_map) with errno set.
 */
static int write_id_maps(pid_t child, const struct podns_spawn *spec) {
  static const char *const files[2] = {"uid_map", "gid_map"};
  uint32_t bases[2] = {spec->userns_uid_base, spec->userns_gid_base};
  for (int i = 0; i < 2; i++) {
    char path[64], line[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)child, files[i]);
    int len = snprintf(line, sizeof line, "0 %u %u\n", bases[i], spec->userns_size);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return i;
    ssize_t n = write(fd, line, (size_t)len);
    int saved = errno;
    close(fd);
    if (n != len) {
      errno = n < 0 ? saved : EIO;
      return i;
    }
  }
  return -1;
}

int podns_spawn_begin(const struct podns_spawn *spec, struct podns_failure *failure, struct podns_pending *pending) {
  failure->step = PODNS_STEP_NONE;
  failure->err = 0;
  failure->index = -1;
  pending->report_fd = -1;
  pending->failed = 0;

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    failure->step = PODNS_STEP_PIPE;
    failure->err = errno;
    return -1;
  }
  int staged = has_namespaces_to_join(spec);
  /* The cgroup namespace is the final process's unshare(), once it is in its cgroup (run_final). */
  unsigned long clone_flags = (unsigned long)spec->clone_flags & ~(unsigned long)CLONE_NEWCGROUP;
  /* A new user namespace only for the direct shape (the pause), whose id maps the caller writes (below). */
  int new_userns = (clone_flags & CLONE_NEWUSER) != 0;
  int syncfd[2] = {-1, -1};
  if (new_userns && (staged || !spec->userns_map)) {
    failure->step = PODNS_STEP_USERNS_MAP;
    failure->err = EINVAL;
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  if (new_userns && pipe2(syncfd, O_CLOEXEC) < 0) {
    failure->step = PODNS_STEP_PIPE;
    failure->err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }

  /* With CLONE_NEWUSER the kernel makes the user namespace first, so the other new ones are owned by it. */
  pid_t child = raw_clone(SIGCHLD | (staged ? 0 : clone_flags));
  if (child < 0) {
    failure->step = staged ? PODNS_STEP_FORK : PODNS_STEP_CLONE;
    failure->err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    if (new_userns) {
      close(syncfd[0]);
      close(syncfd[1]);
    }
    return -1;
  }
  if (child == 0) {
    close(pipefd[0]);
    if (new_userns) close(syncfd[1]);
    /* Everything the caller had open stays out of the container: mark it close-on-exec. */
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    if (!staged) run_final(spec, pipefd[1], new_userns ? syncfd[0] : -1);

    for (int i = 0; i < PODNS_NS_COUNT; i++) {
      /* cgroup: joined by the final process, after its cgroup; user: by the final process, after its mounts. */
      if (i == PODNS_NS_CGROUP || i == PODNS_NS_USER) continue;
      if (spec->ns_fds[i] >= 0 && setns(spec->ns_fds[i], ns_clone_flag[i]) < 0) fail(pipefd[1], PODNS_STEP_SETNS, i);
      if (spec->ns_fds[i] >= 0 && spec->trace) send_report(pipefd[1], 'S', PODNS_STEP_SETNS, 0, i, 0);
    }
    /* CLONE_PARENT: the final process becomes the caller's child, so the caller reaps it via its pidfd. */
    pid_t final = raw_clone(CLONE_PARENT | SIGCHLD | clone_flags);
    if (final < 0) fail(pipefd[1], PODNS_STEP_CLONE, -1);
    if (final == 0) run_final(spec, pipefd[1], -1);
    send_report(pipefd[1], 'P', 0, 0, -1, final);
    _exit(0);
  }

  close(pipefd[1]);
  if (new_userns) {
    close(syncfd[0]);
    int index = write_id_maps(child, spec);
    if (index >= 0) {
      /* The child sees EOF on the sync pipe and _exits; it must not stay a zombie. */
      failure->step = PODNS_STEP_USERNS_MAP;
      failure->err = errno;
      failure->index = index;
      close(syncfd[1]);
      kill(child, SIGKILL);
      reap(child);
      close(pipefd[0]);
      return -1;
    }
    ssize_t n;
    do n = write(syncfd[1], "g", 1);
    while (n < 0 && errno == EINTR);
    close(syncfd[1]);
  }
  pending->report_fd = pipefd[0];
  pending->child = child;
  pending->staged = staged;
  pending->final = staged ? -1 : child;
  return 0;
}

int podns_spawn_read(struct podns_pending *pending, struct podns_failure *failure, struct podns_trace *trace) {
  struct report r;
  int rc;
  /* Each report is one write of less than PIPE_BUF bytes, so a read returns whole reports. */
  while ((rc = read_report(pending->report_fd, &r)) > 0) {
    if (r.kind == 'S') {
      trace_add(trace, r.step, r.index);
    } else if (r.kind == 'P') {
      pending->final = r.pid;
    } else if (r.kind == 'E') {
      failure->step = r.step;
      failure->err = r.err;
      failure->index = r.index;
      pending->failed = 1;
      return 1;
    }
  }
  if (rc == 0) return 1; /* EOF: every writer is gone (exec'd, or exited) */
  if (errno == EAGAIN) return 0;
  failure->step = PODNS_STEP_READ_REPORT;
  failure->err = errno;
  pending->failed = 1;
  return 1;
}

pid_t podns_spawn_finish(struct podns_pending *pending, struct podns_failure *failure) {
  close(pending->report_fd);
  pending->report_fd = -1;
  if (pending->staged) reap(pending->child);
  if (pending->failed) {
    /* The final process reported its failure and _exit()s; it is our child either way. */
    if (pending->final > 0) reap(pending->final);
    return -1;
  }
  if (pending->final < 0) {
    /* The intermediate died without a word (killed?). */
    failure->step = PODNS_STEP_FORK;
    failure->err = ECHILD;
    return -1;
  }
  return pending->final;
}

pid_t podns_spawn(const struct podns_spawn *spec, struct podns_failure *failure, struct podns_trace *trace) {
  struct podns_pending pending;
  if (podns_spawn_begin(spec, failure, &pending) < 0) return -1;
  /* Blocking reads: podns_spawn_read returns 1 at the end of the reports. */
  while (!podns_spawn_read(&pending, failure, trace)) {
  }
  return podns_spawn_finish(&pending, failure);
}
