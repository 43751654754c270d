/*
 * Puts native/pause-seccomp.h to the kernel, without root: no_new_privs and the pause's own filter in a child,
 * then system calls the pause makes and some it must not, each line "label: result" (ok, or the errno's name).
 *   probe list   the allowed calls as the header spells them: "name nr arg values..."
 *   probe calls  each call under the filter (a child; its stderr, the only fd it may write, is piped to stdout)
 *   probe abi    a call of another ABI (x32's number, i386's int 0x80) under the filter: how the child ended
 * Built by test/unit/native/pause-seccomp.test.ts with each C compiler the pause is built with.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pause-seccomp.h"

static const char *result(long r) {
  if (r >= 0) return "ok";
  switch (errno) {
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ECHILD: return "ECHILD";
    case ENOTTY: return "ENOTTY";
    case EINVAL: return "EINVAL";
    default: return "other";
  }
}

/* Under the filter only write(2, ...) reaches anyone. */
static void report(const char *label, long r) {
  const char *what = result(r);
  char line[128];
  int n = snprintf(line, sizeof line, "%s: %s\n", label, what);
  if (n > 0) (void)!write(2, line, (size_t)n);
}

static int install(void) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
  return (int)pause_seccomp_install();
}

static void calls(void) {
  int store[2], other[2], pipefd[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, store) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, other) < 0 || pipe(pipefd) < 0) _exit(3);
  /* The store's receiving end is fd 3 in the pause; the other socket sits above it. */
  if (dup2(store[0], 3) < 0 || dup2(other[0], 9) < 0) _exit(3);
  if (install() < 0) {
    perror("install");
    _exit(4);
  }
  int n = 0;
  struct stat st;
  char byte;
  struct iovec iov = {&byte, 1};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  struct timespec zero = {0, 0};

  /* What the pause does. */
  report("write 2", syscall(SYS_write, 2, "", 0));
  report("writev 2", syscall(SYS_writev, 2, &iov, 0));
  report("recvmsg 3", syscall(SYS_recvmsg, 3, &msg, MSG_DONTWAIT));
  report("ioctl FIONREAD", syscall(SYS_ioctl, pipefd[0], FIONREAD, &n));
  report("fcntl F_GETFL", syscall(SYS_fcntl, pipefd[0], F_GETFL));
  report("fcntl F_GETFD", syscall(SYS_fcntl, pipefd[0], F_GETFD));
  report("fstat", syscall(SYS_fstat, pipefd[0], &st));
  report("newfstatat AT_EMPTY_PATH", syscall(SYS_newfstatat, pipefd[0], "", &st, AT_EMPTY_PATH));
  report("close", syscall(SYS_close, pipefd[1]));
  report("wait4", syscall(SYS_wait4, -1, NULL, WNOHANG, NULL));
  report("poll", syscall(SYS_poll, NULL, 0, 0));
  report("ppoll", syscall(SYS_ppoll, NULL, 0, &zero, NULL, 8));

  /* The same calls used another way. */
  report("write 1", syscall(SYS_write, 1, "", 0));
  report("writev 1", syscall(SYS_writev, 1, &iov, 0));
  report("recvmsg 9", syscall(SYS_recvmsg, 9, &msg, MSG_DONTWAIT));
  report("ioctl TIOCGWINSZ", syscall(SYS_ioctl, pipefd[0], TIOCGWINSZ, &n));
  report("fcntl F_SETFL", syscall(SYS_fcntl, pipefd[0], F_SETFL, 0));
  report("fcntl F_DUPFD", syscall(SYS_fcntl, pipefd[0], F_DUPFD, 0));

  /* What it never does. */
  report("getpid", syscall(SYS_getpid));
  report("openat", syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY));
  report("socket", syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
  report("sendmsg 3", syscall(SYS_sendmsg, 3, &msg, MSG_DONTWAIT));
  report("kill", syscall(SYS_kill, 0, 0));
  report("prctl", syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  report("setuid", syscall(SYS_setuid, 0));
  report("mmap", syscall(SYS_mmap, NULL, 4096, 3, 0x22, -1, 0));
  report("statx", syscall(SYS_statx, pipefd[0], "", AT_EMPTY_PATH, 0, &st));
  report("execve", syscall(SYS_execve, "/bin/true", NULL, NULL));
  syscall(SYS_exit_group, 0);
}

/* How a child that ran `call` under the filter ended. */
static void run_filtered(const char *label, void (*call)(void), int filtered) {
  pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    if (filtered && install() < 0) _exit(4);
    call();
    _exit(0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) printf("%s: %s\n", label, WTERMSIG(status) == SIGSYS ? "SIGSYS" : WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "signal");
  else printf("%s: exit %d\n", label, WEXITSTATUS(status));
  fflush(stdout);
}

static void x32_getpid(void) { syscall(__NR_getpid | PAUSE_X32_SYSCALL_BIT); }

/* i386's getpid (20) through int 0x80: the kernel hands such a call to its 32-bit table (IA32 emulation), and to
 * seccomp as AUDIT_ARCH_I386. Without IA32 emulation the instruction faults (SIGSEGV). */
static void i386_getpid(void) {
  long eax = 20;
  __asm__ volatile("int $0x80" : "+a"(eax) : : "memory");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "list") == 0) {
    for (size_t i = 0; i < PAUSE_N_SYSCALLS; i++) {
      const struct pause_syscall *s = &pause_syscalls[i];
      printf("%s %u %d", s->name, s->nr, s->arg);
      for (int v = 0; v < s->n_values; v++) printf(" %u", s->values[v]);
      printf("\n");
    }
    return 0;
  }
  if (strcmp(mode, "calls") == 0) {
    int out[2];
    if (pipe(out) < 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out[1], 2);
      close(out[0]);
      calls();
      _exit(5);
    }
    close(out[1]);
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    int status;
    waitpid(pid, &status, 0);
    printf("exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
  }
  if (strcmp(mode, "abi") == 0) {
    run_filtered("x32 getpid, filtered", x32_getpid, 1);
    run_filtered("i386 getpid, unfiltered", i386_getpid, 0);
    run_filtered("i386 getpid, filtered", i386_getpid, 1);
    return 0;
  }
  fprintf(stderr, "usage: %s list|calls|abi\n", argv[0]);
  return 2;
}
