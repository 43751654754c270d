/**
 * The pause's own steps after its execve: it drops every privilege first thing (native/pause.c,
 * drop_privileges). The addon cannot trace them (they happen in the pause, after the spawn is done), so each
 * step states what pause.c does and shows what /proc/<pid>/status said afterwards, beside what it started with.
 */
import type { ProcessPrivileges } from '../state/pod-state.js';
import type { Step } from './step-log.js';

type Field = keyof ProcessPrivileges;

/** "0 0 0 0" (real, effective, saved, filesystem) reads as "0" when all four agree. */
function shown(value: string | undefined): string {
  if (value === undefined) return '?';
  const parts = value.split(' ');
  return parts.every((p) => p === parts[0]) ? parts[0]! : value;
}

function changes(fields: Field[], before: ProcessPrivileges | undefined, after: ProcessPrivileges): string {
  return fields.map((f) => `${f} ${shown(before?.[f])} → ${shown(after[f])}`).join(', ');
}

/** The pause is done once its filter is in (its last step); until then it is still dropping, or does not drop. */
export function pauseHasDropped(now: ProcessPrivileges): boolean {
  return now.Seccomp === '2';
}

export function describePauseDrop(pid: number, startedWith: ProcessPrivileges | undefined, now: ProcessPrivileges): Step[] {
  const actor = 'pause';
  if (!pauseHasDropped(now)) {
    return [
      {
        actor,
        what: `the pause (pid ${pid}) has not dropped its privileges: ${changes(['Uid', 'CapEff', 'NoNewPrivs', 'Seccomp'], startedWith, now)}`,
        command: `grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/${pid}/status`,
      },
    ];
  }
  return [
    {
      actor,
      what:
        'drop every capability and root: prctl(PR_SET_SECUREBITS, noroot|no_setuid_fixup|keep_caps|no_cap_ambient_raise, each locked), ' +
        'PR_CAPBSET_DROP each, PR_CAP_AMBIENT_CLEAR_ALL, setgroups([]), setresgid(65535), setresuid(65535), capset(0, 0, 0): ' +
        changes(['Uid', 'Gid', 'CapPrm', 'CapEff', 'CapBnd', 'CapInh', 'CapAmb'], startedWith, now),
      command:
        'setpriv --securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked,+keep_caps_locked ' +
        '--bounding-set=-all --ambient-caps=-all --inh-caps=-all --clear-groups --regid=65535 --reuid=65535 /pause',
    },
    {
      actor,
      what:
        'prctl(PR_SET_DUMPABLE, 0), prctl(PR_SET_NO_NEW_PRIVS, 1), seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG): ' +
        `only the calls it still makes, the rest EPERM (native/pause-seccomp.h): ${changes(['NoNewPrivs', 'Seccomp', 'Seccomp_filters'], startedWith, now)}`,
      command: `setpriv --nnp /pause   # no command installs a seccomp filter; see it with: grep Seccomp /proc/${pid}/status`,
    },
  ];
}
