/** Workload kinds: their pod template as one pod, named as podman kube play names it, validated at its own lines. */
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../src/manifest/load-manifest.js';

const errorOf = (text: string) => {
  try {
    parseManifests('w.yaml', text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('parsed without error');
};

const deployment = (template: string, spec = '  replicas: 1\n') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
${spec}  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {note: kept}
    spec:
${template}`;
const CONTAINERS = '      containers:\n      - name: app\n        image: nginx\n';

describe('workload kinds', () => {
  it('a Deployment runs its template once as <name>-pod, with the template labels and the namespace', () => {
    const { pods, warnings } = parseManifests('w.yaml', deployment(CONTAINERS, '  replicas: 3\n'));
    expect(pods).toHaveLength(1);
    expect(pods[0]!.metadata).toMatchObject({ name: 'web-pod', namespace: 'shop', labels: { app: 'web' }, annotations: { note: 'kept' } });
    expect(pods[0]!.spec.containers[0]!.image).toBe('nginx');
    expect(warnings).toEqual([
      'w.yaml:6: spec.selector: ignored: there is no controller: podns runs the pod template once, as one pod',
      'w.yaml:5: spec.replicas: 3: limiting the replica count to 1 (podns runs one pod, as podman kube play does)',
    ]);
  });

  it("reports a template's problems at its path and line in the file", () => {
    expect(errorOf(deployment('      containers:\n      - name: app\n        imagePullPolicy: Sometimes\n        image: nginx\n'))).toBe(
      'w.yaml:14: spec.template.spec.containers[0].imagePullPolicy: unsupported value "Sometimes": must be one of "Always", "IfNotPresent", "Never"',
    );
    expect(errorOf(deployment(`${CONTAINERS}      restartPolicy: Never\n`))).toBe('w.yaml:15: spec.template.spec.restartPolicy: unsupported value "Never": supported values: "Always"');
    expect(errorOf(deployment('      containers:\n      - name: app\n        image: "nginx:"\n'))).toBe('w.yaml:14: spec.template.spec.containers[0].image: invalid image reference "nginx:": invalid tag format');
    expect(errorOf(deployment('      containers: []\n'))).toMatch(/^w\.yaml:12: spec\.template\.spec\.containers: required value/);
  });

  it('a Job needs OnFailure or Never; its activeDeadlineSeconds becomes the pod\'s', () => {
    const job = (policy: string, extra = '') => `apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec:\n${extra}  template:\n    spec:\n${policy}      containers: [{name: pi, image: perl}]\n`;
    const pod = parseManifests('w.yaml', job('      restartPolicy: Never\n', '  activeDeadlineSeconds: 100\n  completions: 5\n')).pods[0]!;
    expect(pod.metadata.name).toBe('pi-pod');
    expect(pod.spec).toMatchObject({ restartPolicy: 'Never', activeDeadlineSeconds: 100 });
    expect(errorOf(job(''))).toBe('w.yaml:6: spec.template.spec.restartPolicy: required value: valid values: "OnFailure", "Never"');
    expect(errorOf(job('      restartPolicy: Always\n'))).toBe('w.yaml:7: spec.template.spec.restartPolicy: unsupported value "Always": supported values: "OnFailure", "Never"');
  });

  it("a StatefulSet is its first ordinal, <name>-0, its claim templates named volumes <claim>-<name>-0", () => {
    const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  template:
    spec:
      containers: [{name: pg, image: postgres, volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`;
    const pod = parseManifests('w.yaml', sts).pods[0]!;
    expect(pod.metadata.name).toBe('db-0');
    // The controller's identity: hostname = the pod's name, subdomain = the governing service.
    expect([pod.spec.hostname, pod.spec.subdomain]).toEqual(['db-0', 'db']);
    expect(pod.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0', readOnly: false } }]);
  });

  it('DaemonSet and ReplicaSet run their template once too', () => {
    for (const kind of ['DaemonSet', 'ReplicaSet']) {
      const pod = parseManifests('w.yaml', `apiVersion: apps/v1\nkind: ${kind}\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: busybox}]\n`).pods[0]!;
      expect(pod.metadata.name).toBe('agent-pod');
    }
  });
});
