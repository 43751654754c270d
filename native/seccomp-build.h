/*
 * seccomp-build — compile a seccomp policy into a classic BPF program, with libseccomp, in the PARENT.
 *
 * libseccomp allocates, so it must never run between fork and execve (spawn.c is async-signal-safe). Instead
 * the caller describes the policy in the plain structures below, podns_seccomp_build() compiles it for the
 * architectures asked for (x86_64 with its x86 and x32 ABIs, as Docker's default profile does), exports the
 * BPF with seccomp_export_bpf() into a memfd and hands back the bytes: an array of struct sock_filter that
 * spawn.c installs with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) as the last step before execve.
 *
 * The vocabulary follows the OCI runtime spec and Docker's JSON profiles (SCMP_ACT_*, SCMP_CMP_*), and so do
 * the semantics: a syscall name unknown to libseccomp is skipped (runc: "assume it is not supported by this
 * kernel"), and a rule whose action is the default action is skipped as redundant.
 */
#ifndef PODNS_SECCOMP_BUILD_H
#define PODNS_SECCOMP_BUILD_H

#include <stddef.h>
#include <stdint.h>

enum podns_scmp_act {
  PODNS_SCMP_ACT_ALLOW,
  PODNS_SCMP_ACT_ERRNO,
  PODNS_SCMP_ACT_KILL_THREAD, /* Docker's SCMP_ACT_KILL */
  PODNS_SCMP_ACT_KILL_PROCESS,
  PODNS_SCMP_ACT_TRAP,
  PODNS_SCMP_ACT_LOG,
};

enum podns_scmp_op {
  PODNS_SCMP_CMP_NE,
  PODNS_SCMP_CMP_LT,
  PODNS_SCMP_CMP_LE,
  PODNS_SCMP_CMP_EQ,
  PODNS_SCMP_CMP_GE,
  PODNS_SCMP_CMP_GT,
  PODNS_SCMP_CMP_MASKED_EQ, /* (arg & value) == value_two */
};

struct podns_seccomp_action {
  int kind;      /* enum podns_scmp_act */
  int errno_ret; /* for PODNS_SCMP_ACT_ERRNO */
};

struct podns_seccomp_arg {
  unsigned index; /* 0..5 */
  int op;         /* enum podns_scmp_op */
  uint64_t value;
  uint64_t value_two;
};

struct podns_seccomp_rule {
  const char *syscall;
  struct podns_seccomp_action action;
  const struct podns_seccomp_arg *args;
  size_t n_args; /* at most 6; all must match (AND), unless one index repeats: then any (one rule each, as runc) */
};

struct podns_seccomp_profile {
  struct podns_seccomp_action default_action;
  const char *const *arches; /* libseccomp names: "x86_64", "x86", "x32"; NULL: those three */
  size_t n_arches;
  const struct podns_seccomp_rule *rules;
  size_t n_rules;
};

struct podns_seccomp_error {
  int err;           /* errno, 0 when the description itself is wrong */
  char message[512]; /* names the rule or the libseccomp call that failed */
};

/* Returns 0 with *out (malloc'd, free() it) holding *out_len bytes of struct sock_filter, or -1 with *error. */
int podns_seccomp_build(const struct podns_seccomp_profile *profile, void **out, size_t *out_len,
                        struct podns_seccomp_error *error);

/* Docker/OCI names → enums; -1 when unknown. "SCMP_ACT_KILL" is SCMP_ACT_KILL_THREAD. */
int podns_seccomp_action_from_name(const char *name);
int podns_seccomp_op_from_name(const char *name);

#endif
