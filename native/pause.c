/*
 * pause — holds a pod's namespaces and reaps its orphans.
 *
 * Behaves like Kubernetes' build/pause/linux/pause.c: PID 1 of the pod's PID namespace, exits 0 on SIGINT or
 * SIGTERM, reaps every child handed to it on SIGCHLD (orphans re-parented to PID 1 in a shared PID namespace
 * would otherwise stay zombies), warns when it is not PID 1, prints its version for -v, and otherwise sleeps.
 * Written for podns; statically linked so it runs in an empty root.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PODNS_VERSION
#define PODNS_VERSION "dev"
#endif

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

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcasecmp(argv[i], "-v") == 0) {
      printf("pause.c (podns) %s\n", PODNS_VERSION);
      return 0;
    }
  }

  if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1 (pid %d); orphans will not be reaped here\n", (int)getpid());

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_terminate;
  if (sigaction(SIGINT, &sa, NULL) < 0) return 1;
  if (sigaction(SIGTERM, &sa, NULL) < 0) return 2;

  /* No SA_RESTART: pause() should return so the loop goes on; SA_NOCLDSTOP: stops are not exits. */
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) return 3;

  /* Children that exited before the handler was installed. */
  on_child(SIGCHLD);

  for (;;) pause();
  fprintf(stderr, "pause: error: infinite loop terminated\n");
  return 42;
}
