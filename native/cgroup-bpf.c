/*
 * The cgroup v2 device policy: cgroup v2 has no devices.allow/deny files; a BPF_PROG_TYPE_CGROUP_DEVICE program
 * attached to the cgroup decides every open and mknod of a device node instead (returning 0 refuses it with
 * EPERM). The program itself is generated in TypeScript (src/cgroup/device-filter.ts, the same shape as runc's
 * libcontainer/cgroups/devices/devicefilter.go); this file only loads and attaches it, in the caller (no fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-bpf.h"

static int sys_bpf(int cmd, union bpf_attr *attr) { return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr); }

int podns_attach_device_filter(const char *cgroup_dir, const void *insns, size_t n_insns, char *log, size_t log_size) {
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = (uint32_t)n_insns;
  load.license = (uint64_t)(uintptr_t) "Apache";
  if (log && log_size) {
    log[0] = 0;
    load.log_buf = (uint64_t)(uintptr_t)log;
    load.log_size = (uint32_t)log_size;
    load.log_level = 1;
  }
  int prog = sys_bpf(BPF_PROG_LOAD, &load);
  if (prog < 0) return -errno;

  int dir = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    int err = errno;
    close(prog);
    return -err;
  }
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = (uint32_t)dir;
  attach.attach_bpf_fd = (uint32_t)prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  /* ALLOW_MULTI, as runc: programs of the ancestors still run, and a child may add its own. */
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = sys_bpf(BPF_PROG_ATTACH, &attach);
  int err = errno;
  close(dir);
  /* The attachment holds the program; it goes when the cgroup is removed. */
  close(prog);
  return rc < 0 ? -err : 0;
}
