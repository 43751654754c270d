import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { loadManifests, parseManifests } from '../../../src/manifest/load-manifest.js';
import type { PodManifest } from '../../../src/manifest/types.js';
import { generateName } from '../../../src/manifest/validate.js';

const SEED = `apiVersion: v1
kind: Pod
metadata:
  name: nginx-busybox-pod
spec:
  shareProcessNamespace: true
  containers:
  - name: nginx
    image: nginx
    volumeMounts:
    - {name: nginx-log, mountPath: /var/log/nginx}
    - {name: nginx-html, mountPath: /usr/share/nginx/html}
    ports: [{containerPort: 80}]
  - name: busybox
    image: yauritux/busybox-curl
    command: ["/bin/sh", "-c", "while true; do sleep 1h; done;"]
    volumeMounts:
    - {name: nginx-log, mountPath: /var/log/nginx}
  volumes:
  - {name: nginx-log, emptyDir: {}}
  - {name: nginx-html, emptyDir: {}}
`;

const SEED_POD: PodManifest = {
  file: 'pod.yaml',
  metadata: { name: 'nginx-busybox-pod', namespace: 'default', labels: {}, annotations: {} },
  spec: {
    shareProcessNamespace: true,
    terminationGracePeriodSeconds: 30,
    restartPolicy: 'Always',
    securityContext: { supplementalGroups: [], sysctls: [] },
    hostNetwork: false,
    hostIPC: false,
    hostPID: false,
    hostUsers: true,
    dnsPolicy: 'ClusterFirst',
    hostAliases: [],
    containers: [
      {
        name: 'nginx',
        image: 'nginx',
        env: [],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        volumeMounts: [
          { name: 'nginx-log', mountPath: '/var/log/nginx', readOnly: false },
          { name: 'nginx-html', mountPath: '/usr/share/nginx/html', readOnly: false },
        ],
      },
      {
        name: 'busybox',
        image: 'yauritux/busybox-curl',
        command: ['/bin/sh', '-c', 'while true; do sleep 1h; done;'],
        env: [],
        ports: [],
        volumeMounts: [{ name: 'nginx-log', mountPath: '/var/log/nginx', readOnly: false }],
      },
    ],
    volumes: [
      { name: 'nginx-log', emptyDir: { medium: '' } },
      { name: 'nginx-html', emptyDir: { medium: '' } },
    ],
  },
};

/** The one-line message parseManifests throws for `text`. */
function errorOf(text: string): string {
  try {
    parseManifests('pod.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    const message = (err as ManifestError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ManifestError');
}

/** A minimal valid pod with `extra` spliced in as container fields (indented for `  - name: c`). */
function withContainer(extra: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox
${extra}`;
}

describe('parseManifests: the seed manifest', () => {
  it('parses to the expected PodManifest with defaults and no warnings', () => {
    const loaded = parseManifests('pod.yaml', SEED);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.pods).toEqual([SEED_POD]);
  });

  it('reads the same pod from JSON', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nginx-busybox-pod' }, spec: {
      shareProcessNamespace: true,
      containers: SEED_POD.spec.containers.map(({ env: _e, ports, volumeMounts, ...c }) => ({
        ...c,
        ...(ports.length ? { ports: ports.map((p) => ({ containerPort: p.containerPort })) } : {}),
        volumeMounts: volumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath })),
      })),
      volumes: [{ name: 'nginx-log', emptyDir: {} }, { name: 'nginx-html', emptyDir: {} }],
    } }, null, '\t');
    expect(parseManifests('pod.yaml', json).pods).toEqual([SEED_POD]);
  });
});

describe('parseManifests: honoured fields', () => {
  it('carries every honoured field into the PodManifest', () => {
    const { pods, warnings } = parseManifests('pod.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: web.example
  namespace: team-a
  uid: 1234-abcd
  labels: {app: web, example.com/tier: front}
  annotations: {note: "any text: at all"}
spec:
  hostname: web
  subdomain: sub
  terminationGracePeriodSeconds: 5
  restartPolicy: OnFailure
  containers:
  - name: web
    image: nginx:1.27
    args: [-g, daemon off;]
    command: []
    workingDir: /srv
    imagePullPolicy: IfNotPresent
    env: [{name: A, value: "1"}, {name: B}]
    ports: [{containerPort: 53, protocol: UDP, name: dns}]
    volumeMounts: [{name: host, mountPath: /h, readOnly: true, subPath: a/b}]
  volumes:
  - name: host
    hostPath: {path: /var/data, type: DirectoryOrCreate}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 64Mi}
`);
    expect(warnings).toEqual([]);
    expect(pods[0]!.metadata).toEqual({
      name: 'web.example', namespace: 'team-a', uid: '1234-abcd',
      labels: { app: 'web', 'example.com/tier': 'front' }, annotations: { note: 'any text: at all' },
    });
    const { containers, volumes, ...rest } = pods[0]!.spec;
    expect(rest).toEqual({ hostname: 'web', subdomain: 'sub', terminationGracePeriodSeconds: 5, restartPolicy: 'OnFailure', shareProcessNamespace: false, securityContext: { supplementalGroups: [], sysctls: [] },
      hostNetwork: false, hostIPC: false, hostPID: false, hostUsers: true, dnsPolicy: 'ClusterFirst', hostAliases: [] });
    expect(containers).toEqual([{
      name: 'web', image: 'nginx:1.27', args: ['-g', 'daemon off;'], workingDir: '/srv', imagePullPolicy: 'IfNotPresent',
      env: [{ name: 'A', value: '1' }, { name: 'B', value: '' }],
      ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }],
      volumeMounts: [{ name: 'host', mountPath: '/h', readOnly: true, subPath: 'a/b' }],
    }]);
    expect(volumes).toEqual([
      { name: 'host', hostPath: { path: '/var/data', type: 'DirectoryOrCreate' } },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    ]);
  });

  it('treats a null value as an absent field', () => {
    const pod = parseManifests('pod.yaml', withContainer('    command:\n    env: ~\n')).pods[0]!;
    expect(pod.spec.containers[0]).toEqual({ name: 'c', image: 'busybox', env: [], ports: [], volumeMounts: [] });
  });

  it('follows YAML anchors and aliases', () => {
    const pod = parseManifests('pod.yaml', withContainer('    command: &cmd [sleep, "1"]\n    args: *cmd\n')).pods[0]!;
    expect(pod.spec.containers[0]!.args).toEqual(['sleep', '1']);
  });
});

describe('parseManifests: documents', () => {
  const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: busybox}]}\n`;

  it('returns every Pod of a multi-document file and skips empty documents', () => {
    const { pods } = parseManifests('pod.yaml', `---\n${pod('a')}---\n---\n# only a comment\n---\n${pod('b')}`);
    expect(pods.map((p) => p.metadata.name)).toEqual(['a', 'b']);
  });

  it('rejects a second pod with the same name', () => {
    expect(errorOf(`${pod('a')}---\n${pod('a')}`)).toBe('pod.yaml:8: metadata.name: duplicate pod "default/a" (first at line 3)');
  });

  it('rejects other kinds, naming the line of kind', () => {
    expect(errorOf(`${pod('a')}---\napiVersion: v1\nkind: Serivce\nmetadata: {name: x}\n`)).toBe('pod.yaml:7: kind Serivce is not supported (only Pod, ConfigMap, Secret, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job)');
  });

  it("skips, with a warning, the kinds a bundle carries beside its pods (Service, Ingress, RBAC, ...)", () => {
    const loaded = parseManifests(
      'pod.yaml',
      `${pod('a')}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\n`,
    );
    expect(loaded.pods.map((p) => p.metadata.name)).toEqual(['a']);
    expect(loaded.warnings).toEqual([
      'pod.yaml:7: kind Service: skipped: there are no Services (publish a port with hostPort)',
      'pod.yaml:12: kind Ingress: skipped: podns runs pods on this host; there is no cluster to give it meaning',
    ]);
    expect(errorOf('apiVersion: v1\nkind: Service\nmetadata: {name: web}\n')).toBe('pod.yaml: no Pod found (the file has only Service)');
  });

  it('rejects a file without a Pod', () => {
    expect(errorOf('---\n# nothing\n')).toBe('pod.yaml: no Pod found (the file has no documents)');
    expect(errorOf('')).toBe('pod.yaml: no Pod found (the file has no documents)');
  });

  it('rejects a document that is not a mapping', () => {
    expect(errorOf(`${pod('a')}---\n- a\n- b\n`)).toBe('pod.yaml:6: a document must be a mapping (an object with apiVersion, kind, metadata and spec)');
  });

  it('rejects apiVersion other than v1', () => {
    expect(errorOf(pod('a').replace('apiVersion: v1', 'apiVersion: apps/v1'))).toBe('pod.yaml:1: apiVersion: must be "v1" for a Pod, got "apps/v1"');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorOf('apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   bad: indent\n')).toBe('pod.yaml:4: yaml: Nested mappings are not allowed in compact mappings (is the next line indented too far?)');
    expect(errorOf('apiVersion: v1\nkind: Pod\nkind: Pod\n')).toBe('pod.yaml:3: yaml: Map keys must be unique');
  });
});

describe('parseManifests: field classes', () => {
  it('names unknown fields with a did-you-mean', () => {
    expect(errorOf(withContainer('    workdir: /srv\n'))).toBe('pod.yaml:9: spec.containers[0]: unknown field "workdir" (did you mean "workingDir"?)');
    expect(errorOf(withContainer('    volumemounts: []\n'))).toBe('pod.yaml:9: spec.containers[0]: unknown field "volumemounts" (did you mean "volumeMounts"?)');
    expect(errorOf(withContainer('    imgae: x\n'))).toBe('pod.yaml:9: spec.containers[0]: unknown field "imgae" (did you mean "image"?)');
    expect(errorOf(withContainer('    frobnicate: 1\n'))).toBe('pod.yaml:9: spec.containers[0]: unknown field "frobnicate"');
    expect(errorOf('apiVersion: v1\nkind: Pod\nmetadata: {name: a, lables: {}}\nspec: {containers: [{name: c, image: i}]}\n'))
      .toBe('pod.yaml:3: metadata: unknown field "lables" (did you mean "labels"?)');
  });

  it('rejects known fields podns does not implement', () => {
    expect(errorOf(withContainer('    securityContext:\n      seLinuxOptions: {level: "s0:c1"}\n'))).toBe("pod.yaml:10: spec.containers[0].securityContext.seLinuxOptions: SELinux labels are not supported by podns; containers run with the host's default label");
    expect(errorOf(withContainer('    env:\n    - name: A\n      valueFrom: {fileKeyRef: {path: a, key: b, volumeName: v}}\n'))).toBe('pod.yaml:11: spec.containers[0].env[0].valueFrom.fileKeyRef: not supported by podns yet');
    expect(errorOf(withContainer('  volumes:\n  - name: v\n    csi: {driver: x}\n'))).toBe('pod.yaml:11: spec.volumes[0].csi: not supported by podns yet');
    expect(errorOf(withContainer('  volumes:\n  - name: v\n    projected:\n      sources:\n      - clusterTrustBundle: {signerName: x, path: b}\n'))).toBe('pod.yaml:13: spec.volumes[0].projected.sources[0].clusterTrustBundle: ClusterTrustBundle objects come from an API server, which podns does not have');
    expect(errorOf(withContainer('  hostUsers: false\n  hostPID: true\n'))).toBe('pod.yaml:10: spec.hostPID: forbidden: when `pod.Spec.HostUsers` is false');
    expect(errorOf(withContainer('  ephemeralContainers: [{name: i, image: busybox}]\n'))).toBe('pod.yaml:9: spec.ephemeralContainers: not supported by podns yet');
    expect(errorOf(withContainer('    resources: {limits: {hugepages-2Mi: 1Gi}}\n'))).toMatch(/^pod\.yaml:9: spec\.containers\[0\]\.resources\.limits\.hugepages-2Mi: podns honours cpu and memory only/);
  });

  it('takes hostUsers: false, and procMount Unmasked with it only', () => {
    const { pods } = parseManifests('pod.yaml', withContainer('    securityContext: {procMount: Unmasked}\n  hostUsers: false\n'));
    expect(pods[0]!.spec.hostUsers).toBe(false);
    expect(pods[0]!.spec.containers[0]!.securityContext?.procMount).toBe('Unmasked');
    expect(errorOf(withContainer('    securityContext: {procMount: Unmasked}\n'))).toBe('pod.yaml:9: spec.containers[0].securityContext.procMount: invalid value "Unmasked": `hostUsers` must be false to use `Unmasked`');
  });

  it('accepts rejected fields silently when they hold the Kubernetes default', () => {
    const loaded = parseManifests('pod.yaml', withContainer('    resources: {}\n    securityContext: {}\n    tty: false\n  hostNetwork: false\n  hostUsers: true\n'));
    expect(loaded.warnings).toEqual([]);
  });

  it('reads the pod network fields: hostNetwork/IPC/PID, dnsPolicy, dnsConfig, hostAliases, hostPort', () => {
    const { pods } = parseManifests('pod.yaml', `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostIPC: true
  hostPID: true
  dnsPolicy: None
  dnsConfig:
    nameservers: [1.2.3.4]
    searches: [ns1.svc.cluster-domain.example, my.dns.search.suffix]
    options: [{name: ndots, value: "2"}, {name: edns0}]
  hostAliases:
  - {ip: 127.0.0.1, hostnames: [foo.local, bar.local]}
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 53, protocol: UDP, hostPort: 5353, hostIP: 127.0.0.1}]
`);
    const spec = pods[0]!.spec;
    expect(spec).toMatchObject({ hostNetwork: false, hostIPC: true, hostPID: true, dnsPolicy: 'None' });
    expect(spec.dnsConfig).toEqual({
      nameservers: ['1.2.3.4'],
      searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
      options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    });
    expect(spec.hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] }]);
    expect(spec.containers[0]!.ports).toEqual([
      { containerPort: 80, protocol: 'TCP', hostPort: 8080 },
      { containerPort: 53, protocol: 'UDP', hostPort: 5353, hostIP: '127.0.0.1' },
    ]);
  });

  it.each([
    ['dnsPolicy None without nameservers', '  dnsPolicy: None\n', 'spec.dnsConfig: required value: must provide at least one DNS nameserver when `dnsPolicy` is None'],
    ['a bad nameserver', '  dnsConfig: {nameservers: [dns.example]}\n', 'spec.dnsConfig.nameservers[0]: invalid value "dns.example": must be a valid IP address'],
    ['a bad hostAlias ip', '  hostAliases: [{ip: x, hostnames: [a]}]\n', 'spec.hostAliases[0].ip: invalid value "x": must be a valid IP address'],
    ['hostPort out of range', '    ports: [{containerPort: 80, hostPort: 70000}]\n', 'spec.containers[0].ports[0].hostPort: invalid value 70000: must be between 1 and 65535, inclusive'],
    ['hostIP without hostPort', '    ports: [{containerPort: 80, hostIP: 127.0.0.1}]\n', 'spec.containers[0].ports[0].hostIP: must not be set without hostPort'],
    ['hostNetwork with hostPort != containerPort', '  hostNetwork: true\n    ports: [{containerPort: 80, hostPort: 8080}]\n', 'spec.containers[0].ports[0].hostPort: invalid value 8080: must match `containerPort` when `hostNetwork` is true'],
  ])('%s is an error', (_what, extra, message) => {
    const yaml = extra.startsWith('  hostNetwork')
      ? `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: busybox\n${extra.split('\n')[1]}\n`
      : extra.startsWith('    ')
        ? withContainer(extra)
        : `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${extra}  containers:\n  - {name: c, image: busybox}\n`;
    expect(errorOf(yaml)).toMatch(new RegExp(`^pod\\.yaml:\\d+: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('warns about fields that are harmless to ignore on one node', () => {
    const loaded = parseManifests('pod.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: p
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  nodeSelector: {disk: ssd}
  dnsPolicy: ClusterFirst
  containers:
  - name: c
    image: busybox
    terminationMessagePath: /dev/termination-log
status:
  phase: Running
`);
    expect(loaded.warnings).toEqual([
      'pod.yaml:5: metadata.creationTimestamp: ignored: set by the API server',
      'pod.yaml:7: spec.nodeSelector: ignored: there is no scheduler; the pod runs on this host',
      'pod.yaml:13: status: ignored: status is written by the runtime, never read from a manifest',
    ]);
  });
});

describe('parseManifests: value checks', () => {
  const cases: [string, string, string][] = [
    ['a string where an int is wanted', withContainer('    ports: [{containerPort: "80"}]\n'), 'pod.yaml:9: spec.containers[0].ports[0].containerPort: must be an integer, got string "80"'],
    ['a number where a string is wanted', withContainer('    env:\n    - name: A\n      value: 80\n'), 'pod.yaml:11: spec.containers[0].env[0].value: must be a string, got number 80 (quote it: "80")'],
    ['a string where a list is wanted', withContainer('    command: sleep 1\n'), 'pod.yaml:9: spec.containers[0].command: must be a list of strings, got string "sleep 1"'],
    ['a number inside a string list', withContainer('    args:\n    - sleep\n    - 1\n'), 'pod.yaml:11: spec.containers[0].args[1]: must be a string, got number 1 (quote it: "1")'],
    ['a string where a bool is wanted', withContainer('  shareProcessNamespace: "yes"\n'), 'pod.yaml:9: spec.shareProcessNamespace: must be a boolean (true or false), got string "yes"'],
    ['a list where a mapping is wanted', 'apiVersion: v1\nkind: Pod\nmetadata: [a]\nspec: {}\n', 'pod.yaml:3: metadata: must be a mapping, got a list'],
    ['a non-string label value', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    version: 2\n', 'pod.yaml:6: metadata.labels[version]: must be a string, got number 2 (quote it: "2")'],
    ['a missing metadata.name', 'apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {}\nspec: {containers: [{name: c, image: i}]}\n', 'pod.yaml:3: metadata.name: required value: name or generateName is required'],
    ['a missing spec', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n', 'pod.yaml:1: spec: required value'],
    ['a missing kind', 'apiVersion: v1\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n', 'pod.yaml:1: kind: required value'],
    ['no containers', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n', 'pod.yaml:5: spec.containers: required value: at least one container'],
    ['a container without image', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n', 'pod.yaml:6: spec.containers[0].image: required value'],
    ['a bad pod name', 'apiVersion: v1\nkind: Pod\nmetadata: {name: My_Pod}\nspec: {containers: [{name: c, image: i}]}\n', `pod.yaml:3: metadata.name: invalid value "My_Pod": must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.', starting and ending with a letter or digit)`],
    ['a bad container name', withContainer('  - name: Web.1\n    image: i\n'), `pod.yaml:9: spec.containers[1].name: invalid value "Web.1": must be a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter or digit)`],
    ['a duplicate container name', withContainer('  - name: c\n    image: i\n'), 'pod.yaml:9: spec.containers[1].name: duplicate container name "c" (first at line 7)'],
    ['a duplicate volume name', withContainer('  volumes:\n  - {name: v, emptyDir: {}}\n  - {name: v, emptyDir: {}}\n'), 'pod.yaml:11: spec.volumes[1].name: duplicate volume name "v" (first at line 10)'],
    ['a mount of a missing volume', withContainer('    volumeMounts:\n    - name: data\n      mountPath: /data\n'), 'pod.yaml:10: spec.containers[0].volumeMounts[0].name: not found: no volume named "data" in spec.volumes'],
    ['two mounts on one path', withContainer('    volumeMounts:\n    - {name: v, mountPath: /data}\n    - {name: v, mountPath: /data/}\n  volumes: [{name: v, emptyDir: {}}]\n'), 'pod.yaml:11: spec.containers[0].volumeMounts[1].mountPath: duplicate mountPath "/data" (first at line 10)'],
    ['a relative mountPath', withContainer('    volumeMounts: [{name: v, mountPath: data}]\n  volumes: [{name: v, emptyDir: {}}]\n'), 'pod.yaml:9: spec.containers[0].volumeMounts[0].mountPath: invalid value "data": must be an absolute path'],
    ['a subPath with ..', withContainer('    volumeMounts:\n    - name: v\n      mountPath: /d\n      subPath: a/../../etc\n  volumes: [{name: v, emptyDir: {}}]\n'), `pod.yaml:12: spec.containers[0].volumeMounts[0].subPath: invalid value "a/../../etc": must not contain '..'`],
    ['an absolute subPath', withContainer('    volumeMounts: [{name: v, mountPath: /d, subPath: /etc}]\n  volumes: [{name: v, emptyDir: {}}]\n'), 'pod.yaml:9: spec.containers[0].volumeMounts[0].subPath: invalid value "/etc": must be a relative path'],
    ['a port out of range', withContainer('    ports:\n    - containerPort: 70000\n'), 'pod.yaml:10: spec.containers[0].ports[0].containerPort: invalid value 70000: must be between 1 and 65535, inclusive'],
    ['a bad protocol', withContainer('    ports: [{containerPort: 80, protocol: tcp}]\n'), 'pod.yaml:9: spec.containers[0].ports[0].protocol: unsupported value "tcp": must be one of "TCP", "UDP", "SCTP"'],
    ['a duplicate port name', withContainer('    ports:\n    - {containerPort: 80, name: web}\n    - {containerPort: 81, name: web}\n'), 'pod.yaml:11: spec.containers[0].ports[1].name: duplicate port name "web" (first at line 10)'],
    ['an env name with =', withContainer('    env: [{name: "A=B", value: x}]\n'), `pod.yaml:9: spec.containers[0].env[0].name: invalid value "A=B": must consist of printable ASCII characters other than '='`],
    ['a bad restartPolicy', withContainer('  restartPolicy: always\n'), 'pod.yaml:9: spec.restartPolicy: unsupported value "always": must be one of "Always", "OnFailure", "Never"'],
    ['an image that is no reference', withContainer('  - name: d\n    image: UPPER/Case:tag with space\n'), 'pod.yaml:10: spec.containers[1].image: invalid image reference "UPPER/Case:tag with space": invalid tag format'],
    ['an image with an upper-case repository', withContainer('  initContainers:\n  - {name: i, image: Library/Nginx}\n'), 'pod.yaml:10: spec.initContainers[0].image: invalid image reference "Library/Nginx": repository name must be lowercase'],
    ['a bad imagePullPolicy', withContainer('    imagePullPolicy: Sometimes\n'), 'pod.yaml:9: spec.containers[0].imagePullPolicy: unsupported value "Sometimes": must be one of "Always", "IfNotPresent", "Never"'],
    ['a negative grace period', withContainer('  terminationGracePeriodSeconds: -1\n'), 'pod.yaml:9: spec.terminationGracePeriodSeconds: must be greater than or equal to 0'],
    ['a fractional grace period', withContainer('  terminationGracePeriodSeconds: 1.5\n'), 'pod.yaml:9: spec.terminationGracePeriodSeconds: must be an integer, got number 1.5'],
    ['a relative hostPath', withContainer('  volumes: [{name: v, hostPath: {path: data}}]\n'), 'pod.yaml:9: spec.volumes[0].hostPath.path: invalid value "data": must be an absolute path'],
    ['a bad hostPath type', withContainer('  volumes:\n  - name: v\n    hostPath:\n      path: /d\n      type: Dir\n'), 'pod.yaml:13: spec.volumes[0].hostPath.type: unsupported value "Dir": must be one of "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"'],
    ['a bad emptyDir medium', withContainer('  volumes: [{name: v, emptyDir: {medium: Disk}}]\n'), 'pod.yaml:9: spec.volumes[0].emptyDir.medium: unsupported value "Disk": must be one of "", "Memory"'],
    ['a bad sizeLimit', withContainer('  volumes:\n  - name: v\n    emptyDir: {sizeLimit: 1GB}\n'), 'pod.yaml:11: spec.volumes[0].emptyDir.sizeLimit: invalid quantity "1GB" (expected a number with an optional suffix such as 128Mi, 1G, 500m or 1e3)'],
    ['a volume with no type', withContainer('  volumes:\n  - name: v\n'), 'pod.yaml:10: spec.volumes[0]: must specify a volume type (podns supports emptyDir, hostPath, configMap, secret, downwardAPI, projected and persistentVolumeClaim)'],
    ['a volume with two types', withContainer('  volumes:\n  - name: v\n    emptyDir: {}\n    hostPath: {path: /x}\n'), 'pod.yaml:12: spec.volumes[0].hostPath: may not specify more than 1 volume type'],
  ];
  it.each(cases)('rejects %s with a one-line message and its line', (_what, text, expected) => {
    expect(errorOf(text)).toBe(expected);
  });
});

describe('loadManifests', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads and parses a file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'podns-manifest-'));
    const file = join(dir, 'pod.yaml');
    await writeFile(file, SEED);
    const loaded = await loadManifests(file);
    expect(loaded.pods[0]).toEqual({ ...SEED_POD, file });
  });

  it('reports a missing file in one line', async () => {
    await expect(loadManifests('/nonexistent/pod.yaml')).rejects.toThrow(new ManifestError('/nonexistent/pod.yaml', undefined, '', 'no such file or directory (ENOENT)'));
  });
});

describe('parseManifests: empty strings Kubernetes defaults', () => {
  it('treats "" as unset for namespace, uid, hostname, restartPolicy, protocol and imagePullPolicy', () => {
    const pod = parseManifests('pod.yaml', `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: "", uid: ""}
spec:
  hostname: ""
  restartPolicy: ""
  containers:
  - {name: c, image: i, imagePullPolicy: "", ports: [{containerPort: 1, protocol: "", name: ""}]}
`).pods[0]!;
    expect(pod.metadata).toEqual({ name: 'p', namespace: 'default', labels: {}, annotations: {} });
    expect(pod.spec.hostname).toBeUndefined();
    expect(pod.spec.restartPolicy).toBe('Always');
    expect(pod.spec.containers[0]).toEqual({ name: 'c', image: 'i', env: [], ports: [{ containerPort: 1, protocol: 'TCP' }], volumeMounts: [] });
  });

  it('checks kind and apiVersion before the rest of the document', () => {
    expect(errorOf('apiVersion: apps/v1\nkind: CronJob\nspec: {schedule: x}\n')).toBe('pod.yaml:2: kind CronJob is not supported (only Pod, ConfigMap, Secret, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job)');
    expect(errorOf('apiVersion: v1\nkind: Deployment\nspec: {replicas: 2}\n')).toBe('pod.yaml:1: apiVersion: must be "apps/v1" for a Deployment, got "v1"');
    expect(errorOf('metadata: {nam: x}\napiVersion: v2\nkind: Pod\n')).toBe('pod.yaml:2: apiVersion: must be "v1" for a Pod, got "v2"');
  });
});

describe('parseManifests: generateName', () => {
  const pod = (meta: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n${meta}spec:\n  containers: [{name: c, image: busybox}]\n`;

  it('makes the name from the prefix and 5 characters of the API server alphabet; name wins when both are set', () => {
    const name = parseManifests('pod.yaml', pod('  generateName: web-\n')).pods[0]!.metadata.name;
    expect(name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(parseManifests('pod.yaml', pod('  name: fixed\n  generateName: web-\n')).pods[0]!.metadata.name).toBe('fixed');
    expect(generateName('x'.repeat(70), () => 0)).toBe(`${'x'.repeat(58)}bbbbb`);
  });

  it('needs one of them, and a valid prefix', () => {
    expect(() => parseManifests('pod.yaml', pod('  labels: {a: b}\n'))).toThrow(/metadata\.name: required value: name or generateName is required/);
    expect(() => parseManifests('pod.yaml', pod('  generateName: Web_\n'))).toThrow(/pod\.yaml:4: metadata\.generateName: invalid value "Web_"/);
  });
});

describe('parseManifests: persistentVolumeClaim volumes', () => {
  const pod = (volume: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox, volumeMounts: [{name: data, mountPath: /data}]}]\n  volumes:\n  - name: data\n${volume}`;

  it('keeps the claim (the named volume) and readOnly', () => {
    const v = parseManifests('pod.yaml', pod('    persistentVolumeClaim: {claimName: web-data, readOnly: true}\n')).pods[0]!.spec.volumes[0]!;
    expect(v).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'web-data', readOnly: true } });
  });

  it('refuses a claim name that is not an object name (it names a directory)', () => {
    expect(() => parseManifests('pod.yaml', pod('    persistentVolumeClaim: {claimName: ../etc}\n'))).toThrow(/pod\.yaml:8: spec\.volumes\[0\]\.persistentVolumeClaim\.claimName: invalid value "\.\.\/etc"/);
    expect(() => parseManifests('pod.yaml', pod('    persistentVolumeClaim: {readOnly: true}\n'))).toThrow(/persistentVolumeClaim\.claimName: required value/);
  });
});
