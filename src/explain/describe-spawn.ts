/**
 * Turns the addon's trace of a spawn (the steps that succeeded, in order, with the index of the mount,
 * namespace or sysctl each one used) into readable steps: what the kernel did, and the command that does the
 * same by hand. Everything shown comes from the request the addon executed; nothing is re-planned here.
 */
import { CAPABILITIES } from '../security/capabilities.js';
import { CLONE, JOIN_ORDER, MS, type SpawnRequest } from '../kernel/types.js';
import type { Step } from './step-log.js';

export interface TracedStep {
  step: string;
  index: number;
}

/** The namespaces a clone makes; a new cgroup namespace is an unshare() once in the cgroup (unshare-cgroupns). */
const CLONE_NAMES: [number, string, string][] = [
  // First: the kernel makes the user namespace before the others, which it then owns.
  [CLONE.NEWUSER, 'CLONE_NEWUSER', '--user'],
  [CLONE.NEWNS, 'CLONE_NEWNS', '--mount'],
  [CLONE.NEWUTS, 'CLONE_NEWUTS', '--uts'],
  [CLONE.NEWIPC, 'CLONE_NEWIPC', '--ipc'],
  [CLONE.NEWNET, 'CLONE_NEWNET', '--net'],
  [CLONE.NEWPID, 'CLONE_NEWPID', '--pid --fork'],
];

const MOUNT_FLAGS: [number, string][] = [
  [MS.RDONLY, 'ro'],
  [MS.NOSUID, 'nosuid'],
  [MS.NODEV, 'nodev'],
  [MS.NOEXEC, 'noexec'],
  [MS.STRICTATIME, 'strictatime'],
];

function flagOptions(flags: number, data?: string): string[] {
  return [...MOUNT_FLAGS.filter(([bit]) => flags & bit).map(([, name]) => name), ...(data ? [data] : [])];
}

function capNames(mask: bigint): string {
  const names = CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return names.length === CAPABILITIES.length ? 'all' : names.length ? names.map((n) => n.toLowerCase()).join(',') : 'none';
}

export function describeSpawn(request: SpawnRequest, traced: TracedStep[], actor: string, pid: number): Step[] {
  const root = request.rootfs ?? '';
  const inRoot = (t: string) => (root ? `${root}${t}` : t);
  const steps: Step[] = [];
  const add = (what: string, command: string) => steps.push({ actor, what, command });
  for (const { step, index } of traced) {
    const m = index >= 0 ? request.mounts?.[index] : undefined;
    switch (step) {
      case 'setns': {
        const kind = JOIN_ORDER[index]!;
        const path = request.joinNamespaces?.[kind] ?? '?';
        if (kind === 'user') {
          add(`setns(${path}, CLONE_NEWUSER): into the pod's user namespace, after the mounts (host root made them)`, `nsenter --user=${path}`);
          break;
        }
        add(`setns(${path}, CLONE_NEW${kind === 'mnt' ? 'NS' : kind.toUpperCase()})`, `nsenter --${kind === 'mnt' ? 'mount' : kind}=${path}`);
        break;
      }
      case 'clone': {
        const flags = CLONE_NAMES.filter(([bit]) => (request.cloneFlags ?? 0) & bit);
        const joined = Object.keys(request.joinNamespaces ?? {}).length > 0;
        add(
          `clone(${[...(joined ? ['CLONE_PARENT'] : []), ...flags.map(([, n]) => n), 'SIGCHLD'].join('|')}) = pid ${pid}`,
          flags.length ? `unshare ${flags.map(([, , opt]) => opt).join(' ')}` : '(a plain fork in the joined namespaces)',
        );
        break;
      }
      case 'cgroup-join':
        add(`join cgroup ${request.cgroupProcsFiles?.[index] ?? request.cgroupProcsFile}`, `echo ${pid} > ${request.cgroupProcsFiles?.[index] ?? request.cgroupProcsFile}`);
        break;
      case 'unshare-cgroupns':
        add('unshare(CLONE_NEWCGROUP): its cgroup is the namespace\'s root', 'unshare --cgroup');
        break;
      case 'make-rprivate':
        if (request.rootPropagation === MS.SLAVE) add('mount(NULL, "/", NULL, MS_REC|MS_SLAVE)', 'mount --make-rslave /');
        else add('mount(NULL, "/", NULL, MS_REC|MS_PRIVATE)', 'mount --make-rprivate /');
        break;
      case 'recursive-readonly':
        if (m) add(`read-only, recursively: ${inRoot(m.target)}`, `mount -o remount,bind,ro=recursive ${inRoot(m.target)}   # util-linux 2.39+: mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)`);
        break;
      case 'propagation':
        if (m) {
          const p = m.propagation ?? 0;
          const mode = p & MS.SHARED ? 'rshared' : p & MS.SLAVE ? 'rslave' : 'rprivate';
          add(`${mode} ${inRoot(m.target)}`, `mount --make-${mode} ${inRoot(m.target)}`);
        }
        break;
      case 'open_tree':
        if (m) add(`open_tree(${m.source}, OPEN_TREE_CLONE|AT_RECURSIVE): a peer of the host's mount, attached at ${inRoot(m.target)} with move_mount`, `mount --rbind ${m.source} ${inRoot(m.target)}   # before / is made rslave`);
        break;
      case 'userns-map': {
        const u = request.userns;
        const line = u ? `0 ${u.uidBase} ${u.size}` : '?';
        add(
          `uid_map "${line}", gid_map "0 ${u?.gidBase} ${u?.size}", written by the supervisor (host root) for the new user namespace`,
          `echo '${line}' > /proc/${pid}/uid_map && echo '0 ${u?.gidBase} ${u?.size}' > /proc/${pid}/gid_map`,
        );
        break;
      }
      case 'mount_setattr-idmap':
        if (m) {
          const userns = request.joinNamespaces?.user ?? '?';
          add(
            `idmapped clone of ${m.source}: open_tree(OPEN_TREE_CLONE${(m.flags ?? 0) & MS.REC ? '|AT_RECURSIVE' : ''}) + mount_setattr(MOUNT_ATTR_IDMAP, ${userns})`,
            `mount ${(m.flags ?? 0) & MS.REC ? '--rbind' : '--bind'} -o X-mount.idmap=${userns} ${m.source} ${m.inRootfs ? inRoot(m.target) : m.target}   # util-linux 2.39+`,
          );
        }
        break;
      case 'sethostname':
        add(`sethostname("${request.hostname}")`, `hostname ${request.hostname}`);
        break;
      case 'loopback-up':
        add('ioctl(SIOCSIFFLAGS, lo, IFF_UP)', 'ip link set lo up');
        break;
      case 'sysctl': {
        const s = request.sysctls?.[index];
        add(`write ${s?.path} = ${JSON.stringify(s?.value)}`, `echo ${JSON.stringify(s?.value)} > ${s?.path}`);
        break;
      }
      case 'mount': {
        if (!m) break;
        const target = m.inRootfs ? inRoot(m.target) : m.target;
        const opts = flagOptions(m.flags ?? 0, m.data);
        if (m.idmap) add(`attach the idmapped ${m.source} on ${target}`, `move_mount(<the clone>, ${target})   # done by the mount -o X-mount.idmap above`);
        else if (m.fstype) add(`mount ${m.fstype} on ${target}`, `mount -t ${m.fstype} ${m.source ?? 'none'} ${target}${opts.length ? ` -o ${opts.join(',')}` : ''}`);
        else add(`bind ${m.source} on ${target}`, `mount ${(m.flags ?? 0) & MS.REC ? '--rbind' : '--bind'} ${m.source} ${target}`);
        break;
      }
      case 'remount':
        if (m) add(`remount ${m.inRootfs ? inRoot(m.target) : m.target} ${flagOptions(m.remountFlags ?? 0).join(',')}`, `mount -o remount,bind,${flagOptions(m.remountFlags ?? 0).join(',')} ${m.inRootfs ? inRoot(m.target) : m.target}`);
        break;
      case 'symlink':
        if (m) add(`symlink ${inRoot(m.target)} -> ${m.source}`, `ln -s ${m.source} ${inRoot(m.target)}`);
        break;
      case 'mask':
        if (m) add(`mask ${m.target}`, `mount --bind /dev/null ${inRoot(m.target)}   # a directory: mount -t tmpfs -o ro tmpfs ${inRoot(m.target)}`);
        break;
      case 'readonly-path':
        if (m) add(`read-only ${m.target}`, `mount --bind ${inRoot(m.target)} ${inRoot(m.target)} && mount -o remount,bind,ro ${inRoot(m.target)}`);
        break;
      case 'pivot_root':
        add(`pivot_root("${root}")`, `cd ${root} && pivot_root . . && umount -l .`);
        break;
      case 'readonly-root':
        add('remount / read-only', 'mount -o remount,bind,ro /');
        break;
      case 'setsid':
        add('setsid()', 'setsid');
        break;
      case 'console':
        add(
          'terminal: open /dev/ptmx (the container\'s devpts), peer via TIOCGPTPEER as fds 0-2 and controlling tty (TIOCSCTTY); master sent to the supervisor',
          'script -q -c <command> /dev/null   # a pty whose master stays with the caller',
        );
        break;
      case 'capbset-drop':
        add(`bounding set = ${capNames(request.security!.bounding)}`, `capsh --drop=<every capability but ${capNames(request.security!.bounding)}> --`);
        break;
      case 'seccomp':
        add(`seccomp filter (${(request.security?.seccompFilter?.length ?? 0) / 8} BPF instructions)`, 'prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ...)   # no shell equivalent');
        break;
      case 'setuid':
        if (!request.user) {
          add(`setgroups([]) setresgid(0) setresuid(0) in the new user namespace: host uid ${request.userns?.uidBase}`, 'setpriv --regid=0 --clear-groups --reuid=0 --   # inside the user namespace');
          break;
        }
        add(`setresgid(${request.user?.gid}) setgroups(${request.user?.groups.join(',')}) setresuid(${request.user?.uid})`, `setpriv --regid=${request.user?.gid} --groups=${request.user?.groups.join(',') || '-'} --reuid=${request.user?.uid} --`);
        break;
      case 'capset': {
        const sec = request.security!;
        add(`capabilities: effective=${capNames(sec.effective)} permitted=${capNames(sec.permitted)} inheritable=${capNames(sec.inheritable)}`, `capsh --caps="${capNames(sec.effective)}+eip" --`);
        break;
      }
      case 'ambient-clear':
        add('ambient capabilities cleared', 'setpriv --ambient-caps=-all --');
        break;
      case 'no-new-privs':
        add('prctl(PR_SET_NO_NEW_PRIVS)', 'setpriv --no-new-privs --');
        break;
      case 'chdir':
        add(`chdir("${request.cwd}")`, `cd ${request.cwd}`);
        break;
      case 'exec':
        add(`execve(${JSON.stringify(request.execFile ?? request.path ?? request.argv[0])}, ${JSON.stringify(request.argv)})`, `exec ${request.argv.map((a) => (/^[\w./:=-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`);
        break;
      default:
        add(step, '');
    }
  }
  return steps;
}
