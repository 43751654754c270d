/*
 * pause-seccomp.h — the pause's seccomp filter: the system calls it still makes once it has dropped its
 * privileges (pause.c, drop_privileges), and nothing else.
 *
 * The allow list is what pause.c calls from its loop, its signal handlers and its fd store, as both libcs it is
 * built with (musl 1.2 when musl-gcc is there, else glibc 2.36, both static; scripts/build-native.sh) turn those
 * calls into system calls on x86_64 — checked with strace on both builds. Where they differ, both are listed
 * (fstat(3): musl's fstat, glibc's newfstatat with AT_EMPTY_PATH). Calls that take an fd or a command the pause
 * only ever uses one way are held to it: write/writev to stderr, recvmsg on the store's socket, ioctl FIONREAD,
 * fcntl F_GETFL (and F_GETFD: musl's fstat falls back to it on EBADF).
 *
 * What is not on the list fails with EPERM rather than killing the pause: the pause is PID 1 of the pod, and
 * its death takes the pod's namespaces and, in a shared PID namespace, every process of the pod with it. A
 * libc that one day turns a call into a system call not listed here (fstat into statx, say) makes that call
 * fail — the pause handles each failure, and the tests of its fd store and reaping catch it — instead of
 * SIGSYSing every pod at once. The filter is installed with SECCOMP_FILTER_FLAG_LOG, so such a refusal leaves
 * an audit record (`type=1326 ... syscall=N`) naming the call. A system call of another ABI (i386's int 0x80, x32)
 * kills: no build of the pause makes one, its numbers mean other calls, only injected code would.
 *
 * Self-contained: musl-gcc does not see the kernel's uapi headers (linux/filter.h, linux/seccomp.h,
 * linux/audit.h), so the few ABI constants are spelled out here with those headers' values.
 */
#ifndef PODNS_PAUSE_SECCOMP_H
#define PODNS_PAUSE_SECCOMP_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__) || defined(__ILP32__)
/* podns builds its containers' seccomp programs for x86 only (seccomp-build.c); the pause follows. */
#error "pause-seccomp.h: the pause's syscall list is written for x86_64 only"
#endif

/* linux/filter.h */
struct pause_sock_filter {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
struct pause_sock_fprog {
  unsigned short len;
  struct pause_sock_filter *filter;
};
/* linux/bpf_common.h: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JGE|BPF_K, BPF_RET|BPF_K */
#define PAUSE_BPF_LOAD 0x20
#define PAUSE_BPF_JEQ 0x15
#define PAUSE_BPF_JGE 0x35
#define PAUSE_BPF_RET 0x06

/* linux/seccomp.h */
#define PAUSE_SECCOMP_SET_MODE_FILTER 1
#define PAUSE_SECCOMP_FILTER_FLAG_LOG (1U << 1)
#define PAUSE_SECCOMP_RET_KILL_PROCESS 0x80000000U
#define PAUSE_SECCOMP_RET_ERRNO 0x00050000U
#define PAUSE_SECCOMP_RET_ALLOW 0x7fff0000U
/* struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }: offsets; an argument's
 * low 32 bits (little-endian), which is all the kernel reads of an int fd or an unsigned int command. */
#define PAUSE_DATA_NR 0
#define PAUSE_DATA_ARCH 4
#define PAUSE_DATA_ARG_LOW(i) (16 + 8 * (i))

/* linux/audit.h: AUDIT_ARCH_X86_64. x32 calls carry the same arch, with __X32_SYSCALL_BIT in their number. */
#define PAUSE_AUDIT_ARCH 0xc000003eU
#define PAUSE_X32_SYSCALL_BIT 0x40000000U

/* One allowed system call; with `arg` >= 0 only when that argument (its low 32 bits) is one of `values`. */
struct pause_syscall {
  const char *name;
  uint32_t nr;
  int arg;
  uint32_t values[2];
  int n_values;
};

#define PAUSE_ANY(call) {#call, __NR_##call, -1, {0, 0}, 0}
#define PAUSE_ONLY(call, index, v) {#call, __NR_##call, index, {(uint32_t)(v), 0}, 1}
#define PAUSE_ONLY2(call, index, v1, v2) {#call, __NR_##call, index, {(uint32_t)(v1), (uint32_t)(v2)}, 2}

/* The store's receiving end (pause.c STORE_FD; native/README.md, "The fd store"). */
#define PAUSE_SECCOMP_STORE_FD 3

static const struct pause_syscall pause_syscalls[] = {
    /* Signals: the return from the SIGCHLD and SIGTERM/SIGINT handlers; the kernel's restart of a wait that a
     * stop interrupted (SIGSTOP/SIGCONT, a ptrace stop, the cgroup v2 freezer) goes through restart_syscall. */
    PAUSE_ANY(rt_sigreturn),
    PAUSE_ANY(restart_syscall),
    /* The wait: pause(2) without the fd store, poll(2) with it. ppoll can do no more than those two; it is what
     * both libcs call on architectures without them, and listed so that a libc making the same switch on x86_64
     * cannot leave the loop spinning on EPERM. */
    PAUSE_ANY(pause),
    PAUSE_ANY(poll),
    PAUSE_ANY(ppoll),
    /* Reaping: waitpid(-1, WNOHANG) is wait4 in both libcs. */
    PAUSE_ANY(wait4),
    /* Its messages (stderr is unbuffered in both libcs; musl's stdio writes with writev). */
    PAUSE_ONLY(write, 0, 2),
    PAUSE_ONLY(writev, 0, 2),
    /* SIGTERM/SIGINT: _exit is exit_group (exit: what both libcs fall back to should it return). */
    PAUSE_ANY(exit_group),
    PAUSE_ANY(exit),
    /* The fd store: receive fds, close the ones whose writers are gone, tell the open files apart. */
    PAUSE_ONLY(recvmsg, 0, PAUSE_SECCOMP_STORE_FD),
    PAUSE_ANY(close),
    PAUSE_ONLY(ioctl, 1, FIONREAD),
    PAUSE_ONLY2(fcntl, 1, F_GETFL, F_GETFD),
    PAUSE_ANY(fstat),
    PAUSE_ANY(newfstatat),
};

#define PAUSE_N_SYSCALLS (sizeof pause_syscalls / sizeof pause_syscalls[0])
/* Three instructions per value-checked call and one per call at most, plus the checks up front and the end. */
#define PAUSE_SECCOMP_MAX_PROGRAM (8 + 7 * PAUSE_N_SYSCALLS)

static inline struct pause_sock_filter pause_bpf(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
  struct pause_sock_filter f = {code, jt, jf, k};
  return f;
}

/*
 * Writes the filter program into `out` (room for PAUSE_SECCOMP_MAX_PROGRAM instructions) and returns its length:
 *   arch != x86_64 → kill; nr has the x32 bit → kill;
 *   for each allowed call: nr == call → (no argument check: allow) | load the argument, allow on each value,
 *   else EPERM; no call matched → EPERM.
 */
static inline size_t pause_seccomp_program(struct pause_sock_filter *out) {
  size_t n = 0;
  out[n++] = pause_bpf(PAUSE_BPF_LOAD, 0, 0, PAUSE_DATA_ARCH);
  out[n++] = pause_bpf(PAUSE_BPF_JEQ, 1, 0, PAUSE_AUDIT_ARCH);
  out[n++] = pause_bpf(PAUSE_BPF_RET, 0, 0, PAUSE_SECCOMP_RET_KILL_PROCESS);
  out[n++] = pause_bpf(PAUSE_BPF_LOAD, 0, 0, PAUSE_DATA_NR);
  out[n++] = pause_bpf(PAUSE_BPF_JGE, 0, 1, PAUSE_X32_SYSCALL_BIT);
  out[n++] = pause_bpf(PAUSE_BPF_RET, 0, 0, PAUSE_SECCOMP_RET_KILL_PROCESS);
  for (size_t i = 0; i < PAUSE_N_SYSCALLS; i++) {
    const struct pause_syscall *s = &pause_syscalls[i];
    if (s->arg < 0) {
      out[n++] = pause_bpf(PAUSE_BPF_JEQ, 0, 1, s->nr);
      out[n++] = pause_bpf(PAUSE_BPF_RET, 0, 0, PAUSE_SECCOMP_RET_ALLOW);
      continue;
    }
    /* Matched: the accumulator is overwritten by the argument, so the decision is made here, in full. */
    uint8_t block = (uint8_t)(1 + 2 * s->n_values + 1);
    out[n++] = pause_bpf(PAUSE_BPF_JEQ, 0, block, s->nr);
    out[n++] = pause_bpf(PAUSE_BPF_LOAD, 0, 0, PAUSE_DATA_ARG_LOW(s->arg));
    for (int v = 0; v < s->n_values; v++) {
      out[n++] = pause_bpf(PAUSE_BPF_JEQ, 0, 1, s->values[v]);
      out[n++] = pause_bpf(PAUSE_BPF_RET, 0, 0, PAUSE_SECCOMP_RET_ALLOW);
    }
    out[n++] = pause_bpf(PAUSE_BPF_RET, 0, 0, PAUSE_SECCOMP_RET_ERRNO | EPERM);
  }
  out[n++] = pause_bpf(PAUSE_BPF_RET, 0, 0, PAUSE_SECCOMP_RET_ERRNO | EPERM);
  return n;
}

/* Installs the filter on the calling thread; no_new_privs must be set first (or CAP_SYS_ADMIN held). The flag
 * LOG has the kernel's audit log record each refused call (kernel.seccomp.actions_logged permitting). */
static inline long pause_seccomp_install(void) {
  struct pause_sock_filter program[PAUSE_SECCOMP_MAX_PROGRAM];
  struct pause_sock_fprog fprog = {(unsigned short)pause_seccomp_program(program), program};
  return syscall(SYS_seccomp, PAUSE_SECCOMP_SET_MODE_FILTER, PAUSE_SECCOMP_FILTER_FLAG_LOG, &fprog);
}

#endif
