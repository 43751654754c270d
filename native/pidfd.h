#ifndef PODNS_PIDFD_H
#define PODNS_PIDFD_H
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A pidfd for `pid`, only if it still names the process that started at `start_time` (clock ticks after boot,
 * /proc/<pid>/stat field 22): a recycled pid is never taken for the process podns recorded. A zombie of that
 * process counts (its exit can still be read). With `stat_fd`, also returns its /proc/<pid>/stat, open: bound
 * to that very process, it reads the zombie's exit code later without a path lookup that a new process could
 * answer. Returns the pidfd, or -errno (ESRCH: gone, or the pid names another process now).
 */
int podns_pidfd_open_verified(pid_t pid, unsigned long long start_time, int *stat_fd);

/*
 * The exit status (as waitpid reports it) of the exited process behind `pidfd`, which need not be our child:
 * PIDFD_GET_INFO with PIDFD_INFO_EXIT (Linux 6.15+; it survives the reaping by the real parent), else the
 * zombie's exit_code (/proc/<pid>/stat field 52, read through `stat_fd`) while it is still there. -ENODATA
 * when both are gone: the status is lost.
 */
int podns_exit_status(int pidfd, int stat_fd);

#ifdef __cplusplus
}
#endif
#endif
