/*
 * seccomp-build — see seccomp-build.h. Runs in the parent, never after fork: libseccomp mallocs.
 */
#include "seccomp-build.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
  const char *name;
  int kind;
} action_names[] = {
    {"SCMP_ACT_ALLOW", PODNS_SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", PODNS_SCMP_ACT_ERRNO},
    {"SCMP_ACT_KILL", PODNS_SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", PODNS_SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", PODNS_SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", PODNS_SCMP_ACT_TRAP},
    {"SCMP_ACT_LOG", PODNS_SCMP_ACT_LOG},
};

static const struct {
  const char *name;
  int op;
} op_names[] = {
    {"SCMP_CMP_NE", PODNS_SCMP_CMP_NE}, {"SCMP_CMP_LT", PODNS_SCMP_CMP_LT},
    {"SCMP_CMP_LE", PODNS_SCMP_CMP_LE}, {"SCMP_CMP_EQ", PODNS_SCMP_CMP_EQ},
    {"SCMP_CMP_GE", PODNS_SCMP_CMP_GE}, {"SCMP_CMP_GT", PODNS_SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", PODNS_SCMP_CMP_MASKED_EQ},
};

int podns_seccomp_action_from_name(const char *name) {
  for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
    if (strcmp(name, action_names[i].name) == 0) return action_names[i].kind;
  return -1;
}

int podns_seccomp_op_from_name(const char *name) {
  for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
    if (strcmp(name, op_names[i].name) == 0) return op_names[i].op;
  return -1;
}

static int set_error(struct podns_seccomp_error *error, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(error->message, sizeof error->message, fmt, ap);
  va_end(ap);
  error->err = err;
  if (err) {
    size_t len = strlen(error->message);
    snprintf(error->message + len, sizeof error->message - len, ": %s", strerror(err));
  }
  return -1;
}

/* libseccomp's action word; 0 with *ok = 0 when the kind is unknown. */
static uint32_t scmp_action(struct podns_seccomp_action a, int *ok) {
  *ok = 1;
  switch (a.kind) {
    case PODNS_SCMP_ACT_ALLOW: return SCMP_ACT_ALLOW;
    /* ERRNO takes 16 bits in the filter's return value (SECCOMP_RET_DATA). */
    case PODNS_SCMP_ACT_ERRNO: return SCMP_ACT_ERRNO((uint32_t)a.errno_ret);
    case PODNS_SCMP_ACT_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
    case PODNS_SCMP_ACT_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case PODNS_SCMP_ACT_TRAP: return SCMP_ACT_TRAP;
    case PODNS_SCMP_ACT_LOG: return SCMP_ACT_LOG;
    default: *ok = 0; return 0;
  }
}

static const enum scmp_compare scmp_ops[] = {
    [PODNS_SCMP_CMP_NE] = SCMP_CMP_NE, [PODNS_SCMP_CMP_LT] = SCMP_CMP_LT,
    [PODNS_SCMP_CMP_LE] = SCMP_CMP_LE, [PODNS_SCMP_CMP_EQ] = SCMP_CMP_EQ,
    [PODNS_SCMP_CMP_GE] = SCMP_CMP_GE, [PODNS_SCMP_CMP_GT] = SCMP_CMP_GT,
    [PODNS_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static const char *const default_arches[] = {"x86_64", "x86", "x32"};

static int add_rule(scmp_filter_ctx ctx, const struct podns_seccomp_rule *rule, uint32_t action, int nr,
                    struct podns_seccomp_error *error) {
  struct scmp_arg_cmp cmps[6];
  int repeated = 0;
  for (size_t i = 0; i < rule->n_args; i++) {
    const struct podns_seccomp_arg *a = &rule->args[i];
    if (a->index > 5) return set_error(error, 0, "seccomp rule for \"%s\": argument index %u out of range 0-5", rule->syscall, a->index);
    if (a->op < 0 || a->op > PODNS_SCMP_CMP_MASKED_EQ)
      return set_error(error, 0, "seccomp rule for \"%s\": unknown comparison %d", rule->syscall, a->op);
    for (size_t j = 0; j < i; j++)
      if (rule->args[j].index == a->index) repeated = 1;
    /* For MASKED_EQ libseccomp's datum_a is the mask and datum_b the value: Docker's value and valueTwo. */
    cmps[i] = (struct scmp_arg_cmp){a->index, scmp_ops[a->op], a->value, a->value_two};
  }
  int rc;
  if (!repeated) {
    /* Not the _exact variant: libseccomp translates the number for every architecture in the filter and
     * leaves out the ones without this syscall (chown32 exists on x86 only). */
    rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)rule->n_args, rule->n_args ? cmps : NULL);
  } else {
    /* libseccomp refuses two comparisons on one argument in a rule; runc then adds one rule per comparison,
     * which turns the AND into an OR. We do the same, so Docker profiles mean here what they mean there. */
    rc = 0;
    for (size_t i = 0; i < rule->n_args && rc == 0; i++) rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
  }
  if (rc < 0) return set_error(error, -rc, "seccomp rule for \"%s\": seccomp_rule_add", rule->syscall);
  return 0;
}

/* seccomp_export_bpf() writes to an fd; a memfd keeps the bytes off the filesystem. */
static int export_bpf(scmp_filter_ctx ctx, void **out, size_t *out_len, struct podns_seccomp_error *error) {
  int fd = memfd_create("podns-seccomp", MFD_CLOEXEC);
  if (fd < 0) return set_error(error, errno, "seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    close(fd);
    return set_error(error, -rc, "seccomp: seccomp_export_bpf");
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    return set_error(error, err, "seccomp: fstat memfd");
  }
  size_t len = (size_t)st.st_size;
  char *buf = malloc(len ? len : 1);
  if (!buf) {
    close(fd);
    return set_error(error, ENOMEM, "seccomp: export");
  }
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      free(buf);
      close(fd);
      return set_error(error, err, "seccomp: read exported filter");
    }
    got += (size_t)n;
  }
  close(fd);
  *out = buf;
  *out_len = len;
  return 0;
}

int podns_seccomp_build(const struct podns_seccomp_profile *profile, void **out, size_t *out_len,
                        struct podns_seccomp_error *error) {
  memset(error, 0, sizeof *error);
  int ok;
  uint32_t def = scmp_action(profile->default_action, &ok);
  if (!ok) return set_error(error, 0, "seccomp: unknown default action %d", profile->default_action.kind);

  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) return set_error(error, ENOMEM, "seccomp: seccomp_init");
  /* The filter is only exported here; spawn.c sets no_new_privs itself when asked (as runc clears
   * SCMP_FLTATR_CTL_NNP and applies it on its own terms). */
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);

  const char *const *arches = profile->arches ? profile->arches : default_arches;
  size_t n_arches = profile->arches ? profile->n_arches : sizeof default_arches / sizeof default_arches[0];
  for (size_t i = 0; i < n_arches; i++) {
    uint32_t token = seccomp_arch_resolve_name(arches[i]);
    if (token == 0) {
      seccomp_release(ctx);
      return set_error(error, 0, "seccomp: unknown architecture \"%s\"", arches[i]);
    }
    /* The native architecture is in a new filter already: EEXIST is expected for it. */
    int rc = seccomp_arch_add(ctx, token);
    if (rc < 0 && rc != -EEXIST) {
      seccomp_release(ctx);
      return set_error(error, -rc, "seccomp: seccomp_arch_add %s", arches[i]);
    }
  }

  for (size_t i = 0; i < profile->n_rules; i++) {
    const struct podns_seccomp_rule *rule = &profile->rules[i];
    uint32_t action = scmp_action(rule->action, &ok);
    if (!ok) {
      seccomp_release(ctx);
      return set_error(error, 0, "seccomp rule for \"%s\": unknown action %d", rule->syscall, rule->action.kind);
    }
    if (rule->n_args > 6) {
      seccomp_release(ctx);
      return set_error(error, 0, "seccomp rule for \"%s\": %zu argument comparisons (at most 6)", rule->syscall, rule->n_args);
    }
    /* Same as the default: redundant, and libseccomp would refuse it (EACCES). runc skips these too. */
    if (action == def) continue;
    /* A name libseccomp does not know on any architecture: skip it (a newer syscall than this libseccomp,
     * or another architecture's). Names known only on a sub-architecture resolve to a pseudo number (< 0)
     * that libseccomp maps back for that architecture. */
    int nr = seccomp_syscall_resolve_name(rule->syscall);
    if (nr == __NR_SCMP_ERROR) continue;
    if (add_rule(ctx, rule, action, nr, error) < 0) {
      seccomp_release(ctx);
      return -1;
    }
  }

  int rc = export_bpf(ctx, out, out_len, error);
  seccomp_release(ctx);
  return rc;
}
