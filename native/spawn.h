/*
 * spawn — start a process inside namespaces, in plain C.
 *
 * Node is multi-threaded, and setns(CLONE_NEWNS), unshare(CLONE_NEWNS) and user-namespace changes fail in a
 * multi-threaded process, while setns of net/uts/ipc would move only the calling thread. So nothing here
 * changes the caller's namespaces: podns_spawn() forks, and only the single-threaded child calls setns,
 * mount, pivot_root and execve. Everything the child needs is prepared by the caller before the fork; after
 * the fork the child uses raw system calls only (no malloc, no locks, no stdio).
 *
 * Two shapes:
 *  - direct: clone(new namespaces) → child sets up and execs. Used for the pause process, which creates the
 *    pod's namespaces and becomes PID 1 of the new PID namespace.
 *  - staged: fork an intermediate child → it setns()es into the namespaces given as fds → it clones the
 *    final process with CLONE_PARENT (so the caller, i.e. the shim, is its parent and can reap it) and the
 *    new namespaces asked for → reports the pid and exits. The extra stage exists because setns(CLONE_NEWPID)
 *    only affects the children of the caller, never the caller itself.
 *
 * Failures travel back on a CLOEXEC pipe as (step, errno, index); a successful execve closes the pipe.
 */
#ifndef PODNS_SPAWN_H
#define PODNS_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum podns_ns {
  PODNS_NS_IPC,
  PODNS_NS_UTS,
  PODNS_NS_NET,
  PODNS_NS_PID,
  PODNS_NS_CGROUP,
  PODNS_NS_MNT, /* joined last by the intermediate: after it the old /proc paths no longer resolve */
  /* The pod's user namespace (hostUsers: false): joined by the final process itself, after its mounts and
   * pivot_root and before its user and capabilities are set (see run_final). */
  PODNS_NS_USER,
  PODNS_NS_COUNT
};

/* The step that failed; podns_step_name() gives the name shown to people. */
enum podns_step {
  PODNS_STEP_NONE = 0,
  PODNS_STEP_PIPE,
  PODNS_STEP_FORK,
  PODNS_STEP_SETNS,
  PODNS_STEP_CLONE,
  PODNS_STEP_MOUNT_PRIVATE,
  PODNS_STEP_SETHOSTNAME,
  PODNS_STEP_MKDIR,
  PODNS_STEP_MOUNT,
  PODNS_STEP_REMOUNT,
  PODNS_STEP_PIVOT_ROOT,
  PODNS_STEP_UMOUNT_OLD_ROOT,
  PODNS_STEP_SETSID,
  PODNS_STEP_DUP2,
  PODNS_STEP_SETGROUPS,
  PODNS_STEP_SETGID,
  PODNS_STEP_SETUID,
  PODNS_STEP_CHDIR,
  PODNS_STEP_EXEC,
  PODNS_STEP_READ_REPORT,
  PODNS_STEP_RESOLVE,
  PODNS_STEP_SYMLINK,
  PODNS_STEP_LOOPBACK_UP,
  PODNS_STEP_SYSCTL,
  PODNS_STEP_MASK,
  PODNS_STEP_READONLY_PATH,
  PODNS_STEP_READONLY_ROOT,
  PODNS_STEP_CAPBSET_DROP,
  PODNS_STEP_KEEPCAPS,
  PODNS_STEP_CAPSET,
  PODNS_STEP_AMBIENT,
  PODNS_STEP_NO_NEW_PRIVS,
  PODNS_STEP_SECCOMP,
  PODNS_STEP_CGROUP_JOIN,
  PODNS_STEP_CONSOLE,
  PODNS_STEP_PROPAGATION,
  PODNS_STEP_RECURSIVE_READONLY,
  PODNS_STEP_UNSHARE_CGROUP,
  PODNS_STEP_OPEN_TREE,
  PODNS_STEP_USERNS_MAP,
  PODNS_STEP_IDMAP,
  PODNS_STEP_MOVE_MOUNT,
};

enum podns_mount_target { PODNS_TARGET_EXISTS = 0, PODNS_TARGET_DIR = 1, PODNS_TARGET_FILE = 2 };
/* MASK: hide the target (a read-only empty tmpfs on a directory, /dev/null on a file); READONLY: bind the
 * target on itself read-only. Both skip a target that does not exist, as runc does. */
enum podns_mount_kind { PODNS_MOUNT = 0, PODNS_SYMLINK = 1, PODNS_MASK = 2, PODNS_READONLY = 3 };

/*
 * One step of building the container's root. Targets inside the rootfs are resolved with
 * openat2(RESOLVE_IN_ROOT), so a symlink in an image (/var/log -> /etc) can never make podns create or
 * mount anything outside the rootfs; the mount then goes through /proc/self/fd/N, as runc does.
 */
struct podns_mount {
  int kind;           /* enum podns_mount_kind; a symlink takes source as the link text */
  int in_rootfs;      /* target is relative to spec.rootfs (resolved safely); else an absolute host path */
  const char *source; /* NULL for none */
  const char *target;
  const char *fstype; /* NULL for a bind mount */
  unsigned long flags;
  const char *data; /* NULL for none */
  int create;       /* enum podns_mount_target: create the target (and its parents) first */
  /* Bind mounts ignore MS_RDONLY and friends on the first call; when set, a second
   * mount(MS_REMOUNT|MS_BIND|remount_flags) applies them. */
  unsigned long remount_flags;
  /* When set: mount(NULL, target, NULL, propagation) after the mount (MS_REC|MS_SLAVE for mountPropagation
   * HostToContainer, MS_REC|MS_PRIVATE to keep a bind private under a slave root). */
  unsigned long propagation;
  /* recursiveReadOnly: 1 IfPossible, 2 Enabled: mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY) on the target,
   * so the mounts below a read-only bind are read-only too; 2 fails when the kernel cannot (before 5.12). */
  int recursive_readonly;
  /* mountPropagation Bidirectional: the bind is a clone of the source's mount tree taken (open_tree) before "/"
   * of the new mount namespace is made private or slave, then attached at the target (move_mount), so it stays a
   * peer of the host's mount: what the container mounts below it reaches the host, and the host's mounts reach
   * it. Nothing else of the container's mount namespace propagates anywhere. At most PODNS_MAX_PEER_BINDS. */
  int bind_as_peer;
  /* hostUsers: false: the bind is an idmapped mount — open_tree(OPEN_TREE_CLONE) of the source, then
   * mount_setattr(MOUNT_ATTR_IDMAP) with the pod's user namespace (ns_fds[PODNS_NS_USER]), then move_mount onto
   * the target — so that a file's owner on disk reads the same inside the user namespace (uid 0 on disk is the
   * container's root) and nothing is ever chowned. With MS_REC in flags the whole tree below is idmapped. */
  int idmap;
};

#define PODNS_MAX_PEER_BINDS 16

/*
 * Confinement of the final process, applied after pivot_root in runc's order: bounding set, seccomp (while
 * CAP_SYS_ADMIN is still held, when no_new_privs is off), user, capability sets, no_new_privs, seccomp (when
 * no_new_privs is on: as late as possible, so the filter sees only the program's own syscalls).
 */
struct podns_security {
  int apply;           /* 0: inherit the caller's capabilities (the pause, which drops nothing it needs) */
  uint64_t bounding;   /* bit n = capability n */
  uint64_t effective;
  uint64_t permitted;
  uint64_t inheritable;
  int no_new_privs;
  const void *seccomp_filter; /* struct sock_filter[], NULL: none */
  size_t seccomp_len;         /* number of instructions */
  int readonly_root;          /* remount / read-only after pivot_root */
};

struct podns_sysctl {
  const char *path; /* /proc/sys/... */
  const char *value;
};

#define PODNS_MAX_CGROUP_FDS 16
/* Inherited fds beyond stdio (the pause's fd store takes two). */
#define PODNS_MAX_EXTRA_FDS 8

struct podns_spawn {
  /* Namespaces to join (-1: keep); staged shape when any is set. The cgroup namespace is joined by the final
   * process once it is in its cgroup (see run_final), the others by the intermediate. */
  int ns_fds[PODNS_NS_COUNT];
  /* CLONE_NEW* for the final process. CLONE_NEWCGROUP is not a clone flag here but an unshare() the final
   * process does once it is in its cgroup, so that the namespace's root is that cgroup. */
  int clone_flags;
  int new_session;            /* setsid() in the final process */
  /* Propagation of "/" in a new mount namespace, set first (after the open_tree of bind_as_peer mounts):
   * MS_PRIVATE (0: the default) or MS_SLAVE, which containerd asks for when a mount is HostToContainer (host mount
   * events then reach the container). */
  unsigned long root_propagation;
  const char *hostname;       /* sethostname() when set (needs a new UTS namespace) */
  int loopback_up;            /* bring up "lo" (a new network namespace starts with it down) */
  const struct podns_mount *mounts;
  size_t n_mounts;
  const char *rootfs; /* pivot_root into it when set */
  const char *cwd;    /* chdir() after pivot; NULL: stay */
  int set_user;
  uid_t uid;
  gid_t gid;
  const gid_t *groups;
  size_t n_groups;
  int stdio[3];     /* fds to become 0, 1, 2 (-1: inherit); ignored with a console */
  /* >= 0: the process gets a terminal, as runc's process.terminal: a pty pair is made in the container's own
   * devpts (/dev/ptmx after pivot_root or the mount-namespace join), the master is sent on this unix socket
   * (SCM_RIGHTS), and the peer becomes stdin/stdout/stderr and the controlling terminal (needs new_session). */
  int console_socket;
  /* fds to become 3, 4, ... in the final process, in order; every other fd of the caller is closed at exec */
  int extra_fds[PODNS_MAX_EXTRA_FDS];
  size_t n_extra_fds;
  int exec_fd;      /* >= 0: execveat(exec_fd, "", AT_EMPTY_PATH) */
  const char *path; /* else: the program; searched in search_path when it has no '/' */
  const char *search_path;
  char *const *argv;
  char *const *envp;
  struct podns_security security;
  const struct podns_sysctl *sysctls; /* written after the namespaces exist, before the mounts */
  size_t n_sysctls;
  /* The final process writes "0" to each of these first (cgroup.procs files: one per hierarchy on cgroup v1),
   * joining those cgroups before it does anything else. */
  int cgroup_procs_fds[PODNS_MAX_CGROUP_FDS];
  size_t n_cgroup_procs_fds;
  int trace; /* report each successful step on the report pipe (see struct podns_trace) */
  /* With CLONE_NEWUSER in clone_flags (direct shape only: the pause of a pod with hostUsers: false): the caller
   * writes "0 <base> <size>" to the child's uid_map and gid_map right after the clone — it is host root, so no
   * "setgroups deny" is needed — and only then lets the child go on; the child becomes uid/gid 0 of its new user
   * namespace before anything else that needs a privilege. */
  int userns_map;
  uint32_t userns_uid_base;
  uint32_t userns_gid_base;
  uint32_t userns_size;
};

/* With podns_spawn.trace set, every step that succeeded, in the order it happened (for `podns --explain`). */
struct podns_trace_step {
  int step;  /* enum podns_step */
  int index; /* which mount, namespace, sysctl or capability; -1 when none */
};

struct podns_trace {
  struct podns_trace_step *steps;
  size_t cap;
  size_t len;
};

struct podns_failure {
  int step;  /* enum podns_step */
  int err;   /* errno */
  int index; /* which mount or namespace, -1 when none */
};

/* Starts the process; returns its pid (in the caller's PID namespace) or -1 with *failure filled. Blocks until
 * the process has exec'd (or failed). */
pid_t podns_spawn(const struct podns_spawn *spec, struct podns_failure *failure, struct podns_trace *trace);

/* The same in three steps, for a caller that must not block while the child sets itself up (the supervisor's
 * event loop: a container's mounts, cgroup moves and seccomp load take milliseconds, a mount on a dead network
 * file system forever). begin forks and returns 0 (-1 with *failure filled); the caller then watches
 * pending->report_fd (it may set O_NONBLOCK on it) and calls read each time it is readable until read returns 1;
 * finish closes the pipe, reaps the intermediate, and returns the final pid or -1 with *failure filled. */
struct podns_pending {
  int report_fd; /* read end of the report pipe */
  pid_t child;   /* the forked child: the intermediate when staged, else the final process */
  int staged;
  pid_t final;   /* the final process, once known */
  int failed;
};
int podns_spawn_begin(const struct podns_spawn *spec, struct podns_failure *failure, struct podns_pending *pending);
int podns_spawn_read(struct podns_pending *pending, struct podns_failure *failure, struct podns_trace *trace);
pid_t podns_spawn_finish(struct podns_pending *pending, struct podns_failure *failure);

const char *podns_step_name(int step);

#endif
