import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { normalizeCapability } from '../../../src/manifest/capabilities.js';
import { parseManifests } from '../../../src/manifest/load-manifest.js';
import { isNamespacedSysctl, normalizeSysctlName } from '../../../src/manifest/security-context.js';

/** A pod with `pod` spliced in as spec fields and `ctr` as fields of its one container. */
function manifest(pod: string, ctr = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
${pod}  containers:
  - name: c
    image: busybox
${ctr}`;
}

function errorOf(text: string): string {
  try {
    parseManifests('pod.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a ManifestError');
}

describe('spec.securityContext', () => {
  it('carries every honoured field into the PodManifest', () => {
    const { pods, warnings } = parseManifests('pod.yaml', manifest(`  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    runAsNonRoot: true
    supplementalGroups: [4000, 0]
    fsGroup: 2000
    sysctls:
    - {name: kernel.shm_rmid_forced, value: "1"}
    - {name: net/ipv4/ip_local_port_range, value: "1024 65000"}
    - {name: kernel.msgmax, value: "65536"}
    - {name: kernel.sem, value: "250 32000 100 128"}
    - {name: fs.mqueue.msg_max, value: "100"}
    seccompProfile: {type: Localhost, localhostProfile: profiles/audit.json}
    seLinuxOptions: {}
    appArmorProfile: {type: Unconfined}
    supplementalGroupsPolicy: Merge
`));
    expect(warnings).toEqual([]);
    expect(pods[0]!.spec.securityContext).toEqual({
      runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true, supplementalGroups: [4000, 0], fsGroup: 2000,
      sysctls: [
        { name: 'kernel.shm_rmid_forced', value: '1' },
        { name: 'net/ipv4/ip_local_port_range', value: '1024 65000' },
        { name: 'kernel.msgmax', value: '65536' },
        { name: 'kernel.sem', value: '250 32000 100 128' },
        { name: 'fs.mqueue.msg_max', value: '100' },
      ],
      seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' },
    });
  });

  it('defaults to no groups and no sysctls', () => {
    expect(parseManifests('pod.yaml', manifest('  securityContext: {}\n')).pods[0]!.spec.securityContext).toEqual({ supplementalGroups: [], sysctls: [] });
  });

  it('warns about fields that do not apply, and refuses their unknown values', () => {
    const { warnings } = parseManifests('pod.yaml', manifest(`  securityContext:
    fsGroup: 1
    fsGroupChangePolicy: OnRootMismatch
    seLinuxChangePolicy: Recursive
    windowsOptions: {runAsUserName: ContainerUser}
`));
    expect(warnings).toEqual([
      'pod.yaml:8: spec.securityContext.fsGroupChangePolicy: ignored: podns applies fsGroup to each new emptyDir, which is always empty; hostPath volumes are never changed',
      'pod.yaml:9: spec.securityContext.seLinuxChangePolicy: ignored: podns does not relabel volumes (no SELinux support)',
      'pod.yaml:10: spec.securityContext.windowsOptions: ignored: Windows options do not apply to Linux containers',
    ]);
    expect(errorOf(manifest('  securityContext: {fsGroupChangePolicy: Sometimes}\n'))).toBe('pod.yaml:6: spec.securityContext.fsGroupChangePolicy: "Sometimes" is not supported by podns yet');
  });

  const cases: [string, string, string][] = [
    ['a negative runAsUser', '    runAsUser: -1\n', 'pod.yaml:7: spec.securityContext.runAsUser: invalid value -1: must be between 0 and 2147483647, inclusive'],
    ['a runAsGroup past MaxInt32', '    runAsGroup: 2147483648\n', 'pod.yaml:7: spec.securityContext.runAsGroup: invalid value 2147483648: must be between 0 and 2147483647, inclusive'],
    ['a negative fsGroup', '    fsGroup: -5\n', 'pod.yaml:7: spec.securityContext.fsGroup: invalid value -5: must be between 0 and 2147483647, inclusive'],
    ['a string runAsUser', '    runAsUser: "1000"\n', 'pod.yaml:7: spec.securityContext.runAsUser: must be an integer, got string "1000"'],
    ['a negative supplemental group', '    supplementalGroups:\n    - 1\n    - -1\n', 'pod.yaml:9: spec.securityContext.supplementalGroups[1]: invalid value -1: must be between 0 and 2147483647, inclusive'],
    ['a string supplemental group', '    supplementalGroups: [wheel]\n', 'pod.yaml:7: spec.securityContext.supplementalGroups[0]: must be an integer, got string "wheel"'],
    ['a single supplemental group', '    supplementalGroups: 10\n', 'pod.yaml:7: spec.securityContext.supplementalGroups: must be a list of integers, got number 10'],
    ['a non-namespaced sysctl', '    sysctls:\n    - {name: vm.swappiness, value: "10"}\n', 'pod.yaml:8: spec.securityContext.sysctls[0].name: sysctl "vm.swappiness" is not namespaced: podns can set only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)'],
    ['kernel.panic', '    sysctls: [{name: kernel.panic, value: "1"}]\n', 'pod.yaml:7: spec.securityContext.sysctls[0].name: sysctl "kernel.panic" is not namespaced: podns can set only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)'],
    ['kernel.semx (only kernel.sem itself)', '    sysctls: [{name: kernel.semx, value: "1"}]\n', 'pod.yaml:7: spec.securityContext.sysctls[0].name: sysctl "kernel.semx" is not namespaced: podns can set only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)'],
    ['a bad sysctl name', '    sysctls: [{name: Net.IPv4.ip_forward, value: "1"}]\n', String.raw`pod.yaml:7: spec.securityContext.sysctls[0].name: invalid value "Net.IPv4.ip_forward": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`],
    ['an empty sysctl name', '    sysctls: [{name: "", value: "1"}]\n', 'pod.yaml:7: spec.securityContext.sysctls[0].name: required value'],
    ['a sysctl without value', '    sysctls:\n    - name: net.ipv4.ip_forward\n', 'pod.yaml:8: spec.securityContext.sysctls[0].value: required value'],
    ['a numeric sysctl value', '    sysctls: [{name: net.ipv4.ip_forward, value: 1}]\n', 'pod.yaml:7: spec.securityContext.sysctls[0].value: must be a string, got number 1 (quote it: "1")'],
    ['a sysctl given twice in two spellings', '    sysctls:\n    - {name: net.ipv4.ip_forward, value: "1"}\n    - {name: net/ipv4/ip_forward, value: "0"}\n', 'pod.yaml:9: spec.securityContext.sysctls[1].name: duplicate sysctl "net.ipv4.ip_forward" (first at line 8)'],
    ['a seccompProfile without type', '    seccompProfile: {}\n', 'pod.yaml:7: spec.securityContext.seccompProfile.type: required value'],
    ['an empty seccomp type', '    seccompProfile: {type: ""}\n', 'pod.yaml:7: spec.securityContext.seccompProfile.type: required value: type is required when seccompProfile is set'],
    ['a bad seccomp type', '    seccompProfile: {type: Default}\n', 'pod.yaml:7: spec.securityContext.seccompProfile.type: unsupported value "Default": must be one of "RuntimeDefault", "Localhost", "Unconfined"'],
    ['Localhost without a profile', '    seccompProfile:\n      type: Localhost\n', 'pod.yaml:7: spec.securityContext.seccompProfile.localhostProfile: required value: must be set when seccomp type is Localhost'],
    ['Localhost with an empty profile', '    seccompProfile:\n      type: Localhost\n      localhostProfile: ""\n', 'pod.yaml:9: spec.securityContext.seccompProfile.localhostProfile: required value: must be set when seccomp type is Localhost'],
    ['an absolute localhostProfile', '    seccompProfile: {type: Localhost, localhostProfile: /etc/p.json}\n', 'pod.yaml:7: spec.securityContext.seccompProfile.localhostProfile: invalid value "/etc/p.json": must be a relative path'],
    ['a localhostProfile with ..', '    seccompProfile: {type: Localhost, localhostProfile: a/../../p.json}\n', `pod.yaml:7: spec.securityContext.seccompProfile.localhostProfile: invalid value "a/../../p.json": must not contain '..'`],
    ['a localhostProfile with RuntimeDefault', '    seccompProfile: {type: RuntimeDefault, localhostProfile: p.json}\n', 'pod.yaml:7: spec.securityContext.seccompProfile.localhostProfile: invalid value "p.json": can only be set when seccomp type is Localhost'],
    ['seLinuxOptions', '    seLinuxOptions: {level: "s0:c123,c456"}\n', "pod.yaml:7: spec.securityContext.seLinuxOptions: SELinux labels are not supported by podns; containers run with the host's default label"],
    ['an AppArmor profile', '    appArmorProfile: {type: RuntimeDefault}\n', 'pod.yaml:7: spec.securityContext.appArmorProfile: podns has no AppArmor support: only type Unconfined is accepted'],
    ['supplementalGroupsPolicy Strict', '    supplementalGroupsPolicy: Strict\n', "pod.yaml:7: spec.securityContext.supplementalGroupsPolicy: only Merge (the default: groups from the image's /etc/group are kept) is supported by podns"],
    ['a misspelled field', '    runAsUsr: 1\n', 'pod.yaml:7: spec.securityContext: unknown field "runAsUsr" (did you mean "runAsUser"?)'],
    ['a container-only field', '    privileged: true\n', 'pod.yaml:7: spec.securityContext: unknown field "privileged"'],
  ];
  it.each(cases)('rejects %s', (_what, fields, expected) => {
    expect(errorOf(manifest(`  securityContext:\n${fields}`))).toBe(expected);
  });
});

describe('containers[*].securityContext', () => {
  const sc = (fields: string) => manifest('', `    securityContext:\n${fields}`);

  it('carries every honoured field, with capability names normalised', () => {
    const { pods, warnings } = parseManifests('pod.yaml', sc(`      runAsUser: 0
      runAsGroup: 10
      runAsNonRoot: false
      capabilities:
        add: [NET_ADMIN, cap_sys_time, CAP_BPF]
        drop: [all]
      privileged: false
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      procMount: Default
      seccompProfile: {type: RuntimeDefault}
      seLinuxOptions: {}
      appArmorProfile: {type: Unconfined}
`));
    expect(warnings).toEqual([]);
    expect(pods[0]!.spec.containers[0]!.securityContext).toEqual({
      runAsUser: 0, runAsGroup: 10, runAsNonRoot: false,
      capabilities: { add: ['NET_ADMIN', 'SYS_TIME', 'BPF'], drop: ['ALL'] },
      privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, procMount: 'Default',
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('leaves securityContext out when it sets nothing', () => {
    expect(parseManifests('pod.yaml', sc('      seLinuxOptions: {}\n')).pods[0]!.spec.containers[0]!.securityContext).toBeUndefined();
    expect(parseManifests('pod.yaml', sc('      capabilities: {}\n')).pods[0]!.spec.containers[0]!.securityContext).toEqual({ capabilities: { add: [], drop: [] } });
  });

  it('allows privileged with allowPrivilegeEscalation true, and SYS_ADMIN when escalation is allowed', () => {
    expect(() => parseManifests('pod.yaml', sc('      privileged: true\n      allowPrivilegeEscalation: true\n'))).not.toThrow();
    expect(() => parseManifests('pod.yaml', sc('      capabilities: {add: [SYS_ADMIN]}\n'))).not.toThrow();
  });

  it('warns about windowsOptions', () => {
    expect(parseManifests('pod.yaml', sc('      windowsOptions: {hostProcess: false}\n')).warnings).toEqual([
      'pod.yaml:10: spec.containers[0].securityContext.windowsOptions: ignored: Windows options do not apply to Linux containers',
    ]);
  });

  const cases: [string, string, string][] = [
    ['privileged with allowPrivilegeEscalation false', '      privileged: true\n      allowPrivilegeEscalation: false\n', 'pod.yaml:11: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true'],
    ['SYS_ADMIN with allowPrivilegeEscalation false', '      allowPrivilegeEscalation: false\n      capabilities: {add: [SYS_ADMIN]}\n', 'pod.yaml:10: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'],
    ['CAP_SYS_ADMIN with allowPrivilegeEscalation false', '      capabilities: {add: [CAP_SYS_ADMIN]}\n      allowPrivilegeEscalation: false\n', 'pod.yaml:11: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'],
    ['an unknown capability', '      capabilities:\n        add:\n        - NET_ADMN\n', 'pod.yaml:12: spec.containers[0].securityContext.capabilities.add[0]: unknown capability "NET_ADMN" (did you mean "NET_ADMIN"?)'],
    ['an unknown capability to drop', '      capabilities: {drop: [CAP_FROBNICATE]}\n', 'pod.yaml:10: spec.containers[0].securityContext.capabilities.drop[0]: unknown capability "CAP_FROBNICATE"'],
    ['CAP_ALL', '      capabilities: {drop: [CAP_ALL]}\n', 'pod.yaml:10: spec.containers[0].securityContext.capabilities.drop[0]: unknown capability "CAP_ALL" (did you mean "ALL"?)'],
    ['a capability list as a string', '      capabilities: {add: NET_ADMIN}\n', 'pod.yaml:10: spec.containers[0].securityContext.capabilities.add: must be a list of strings, got string "NET_ADMIN"'],
    ['a misspelled capabilities field', '      capabilities: {ad: [NET_ADMIN]}\n', 'pod.yaml:10: spec.containers[0].securityContext.capabilities: unknown field "ad" (did you mean "add"?)'],
    ['a negative runAsUser', '      runAsUser: -1\n', 'pod.yaml:10: spec.containers[0].securityContext.runAsUser: invalid value -1: must be between 0 and 2147483647, inclusive'],
    ['privileged: "true"', '      privileged: "true"\n', 'pod.yaml:10: spec.containers[0].securityContext.privileged: must be a boolean (true or false), got string "true"'],
    ['a bad procMount', '      procMount: Masked\n', 'pod.yaml:10: spec.containers[0].securityContext.procMount: unsupported value "Masked": must be one of "Default", "Unmasked"'],
    ['procMount Unmasked', '      procMount: Unmasked\n', 'pod.yaml:10: spec.containers[0].securityContext.procMount: invalid value "Unmasked": `hostUsers` must be false to use `Unmasked`'],
    ['Localhost seccomp without a profile', '      seccompProfile: {type: Localhost}\n', 'pod.yaml:10: spec.containers[0].securityContext.seccompProfile.localhostProfile: required value: must be set when seccomp type is Localhost'],
    ['seLinuxOptions', '      seLinuxOptions: {type: spc_t}\n', "pod.yaml:10: spec.containers[0].securityContext.seLinuxOptions: SELinux labels are not supported by podns; containers run with the host's default label"],
    ['an AppArmor Localhost profile', '      appArmorProfile: {type: Localhost, localhostProfile: k8s-deny-write}\n', 'pod.yaml:10: spec.containers[0].securityContext.appArmorProfile: podns has no AppArmor support: only type Unconfined is accepted'],
    ['a pod-only field', '      fsGroup: 1\n', 'pod.yaml:10: spec.containers[0].securityContext: unknown field "fsGroup"'],
  ];
  it.each(cases)('rejects %s', (_what, fields, expected) => {
    expect(errorOf(sc(fields))).toBe(expected);
  });
});

describe('capability and sysctl names', () => {
  it('normalises capability spellings', () => {
    expect(normalizeCapability('net_admin')).toEqual({ name: 'NET_ADMIN' });
    expect(normalizeCapability('CAP_NET_ADMIN')).toEqual({ name: 'NET_ADMIN' });
    expect(normalizeCapability('All')).toEqual({ name: 'ALL' });
    expect(normalizeCapability('CHECKPOINT_RESTORE')).toEqual({ name: 'CHECKPOINT_RESTORE' });
  });

  it('normalises slash-separated sysctl names as Kubernetes does', () => {
    expect(normalizeSysctlName('net/ipv4/conf/eth0.100/forwarding')).toBe('net.ipv4.conf.eth0/100.forwarding');
    expect(normalizeSysctlName('net.ipv4.conf.eth0/100.forwarding')).toBe('net.ipv4.conf.eth0/100.forwarding');
    expect(normalizeSysctlName('kernel')).toBe('kernel');
  });

  it('knows which sysctls are namespaced', () => {
    for (const n of ['kernel.shmmax', 'kernel.shm_rmid_forced', 'kernel.msgmnb', 'kernel.sem', 'fs.mqueue.queues_max', 'net.core.somaxconn']) expect(isNamespacedSysctl(n)).toBe(true);
    for (const n of ['kernel.panic', 'vm.swappiness', 'fs.file-max', 'kernel.hostname', 'kernel.sem_next_id', 'network.x']) expect(isNamespacedSysctl(n)).toBe(false);
  });
});
