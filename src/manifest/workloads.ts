/**
 * Workload objects (Deployment, ReplicaSet, DaemonSet, StatefulSet, Job) as `podman kube play` treats them
 * without a cluster: their pod template runs once, as one pod. There is no controller, so replicas, rollouts,
 * selectors and retries have nothing to act on (check-fields warns about them); what a pod of the workload
 * would get is kept: the template's labels and annotations, the workload's namespace, a name made from the
 * workload's (podman's <name>-pod; a StatefulSet's first ordinal, <name>-0, its stable identity), a
 * StatefulSet's claim templates as named volumes, a Job's deadline. The pod is then validated as any Pod, its
 * paths and lines those of the template in the file (spec.template.spec...).
 */
import type { Plain } from './check-fields.js';
import type { WorkloadKind } from './pod-schema.js';
import type { Reporter } from './reporter.js';

/** The raw Pod (metadata, spec) a workload's template stands for, and the warnings its counts call for. */
export function workloadPod(kind: WorkloadKind, raw: Plain, r: Reporter, warn: (path: string, message: string) => void): Plain {
  const metadata = raw.metadata as Plain;
  const spec = raw.spec as Plain;
  const template = spec.template as Plain;
  const name = metadata.name as string;
  const podSpec = { ...(template.spec as Plain) };
  const policy = (podSpec.restartPolicy as string | undefined) ?? '';

  // The API server's rules for the template of each kind (ValidatePodTemplateSpecForReplicaSet & co., Job).
  if (kind === 'Job') {
    if (policy !== 'OnFailure' && policy !== 'Never') {
      r.fail('spec.template.spec.restartPolicy', policy === '' ? 'required value: valid values: "OnFailure", "Never"' : `unsupported value ${JSON.stringify(policy)}: supported values: "OnFailure", "Never"`);
    }
    for (const field of ['parallelism', 'completions'] as const) {
      if ((spec[field] as number | undefined) !== undefined && (spec[field] as number) > 1) warn(`spec.${field}`, `${spec[field]}: one pod is run (podns has no Job controller)`);
    }
    if (spec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds === undefined) podSpec.activeDeadlineSeconds = spec.activeDeadlineSeconds;
  } else if (policy !== '' && policy !== 'Always') {
    r.fail('spec.template.spec.restartPolicy', `unsupported value ${JSON.stringify(policy)}: supported values: "Always"`);
  }
  if ((spec.replicas as number | undefined) !== undefined && (spec.replicas as number) > 1) {
    warn('spec.replicas', `${spec.replicas}: limiting the replica count to 1 (podns runs one pod, as podman kube play does)`);
  }

  const podName = kind === 'StatefulSet' ? `${name}-0` : `${name}-pod`;
  const templateMeta = (template.metadata as Plain | undefined) ?? {};
  if (kind === 'StatefulSet') {
    // Each claim template is the volume of its name, bound to the claim <template>-<statefulset>-<ordinal>.
    const claims = ((spec.volumeClaimTemplates as Plain[] | undefined) ?? []).map((t) => ((t.metadata as Plain).name as string) ?? '');
    const volumes = [...((podSpec.volumes as Plain[] | undefined) ?? [])];
    for (const [i, claim] of claims.entries()) {
      if (claim === '') r.fail(`spec.volumeClaimTemplates[${i}].metadata.name`, 'required value');
      if (volumes.some((v) => v.name === claim)) r.fail(`spec.volumeClaimTemplates[${i}].metadata.name`, `duplicate value ${JSON.stringify(claim)}: the template also has a volume of that name`);
      volumes.push({ name: claim, persistentVolumeClaim: { claimName: `${claim}-${podName}` } });
    }
    podSpec.volumes = volumes;
    // The StatefulSet controller's identity: hostname = pod name, subdomain = the governing service's name.
    if (podSpec.hostname === undefined) podSpec.hostname = podName;
    if (spec.serviceName && podSpec.subdomain === undefined) podSpec.subdomain = spec.serviceName;
  }
  return {
    metadata: {
      ...templateMeta,
      name: podName,
      ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
      // The template's own name/generateName/namespace never apply to the pods a controller makes.
      generateName: undefined,
    },
    spec: podSpec,
  };
}
