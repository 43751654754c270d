#ifndef PODNS_CGROUP_BPF_H
#define PODNS_CGROUP_BPF_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Loads `n_insns` eBPF instructions as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup v2
 * directory `cgroup_dir` (BPF_F_ALLOW_MULTI). 0, or -errno; the verifier's log goes to `log` when given. */
int podns_attach_device_filter(const char *cgroup_dir, const void *insns, size_t n_insns, char *log, size_t log_size);

#ifdef __cplusplus
}
#endif
#endif
