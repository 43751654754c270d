/**
 * The bench's pod: the seed manifest (examples/nginx-busybox.yaml) renamed per iteration, and without the
 * nginx-html emptyDir over /usr/share/nginx/html, so nginx serves the image's own index.html and "run→HTTP"
 * needs no extra exec to write a page. Pure; unit-tested in test/unit/bench/manifest-variant.test.ts.
 */
import { parse, stringify } from 'yaml';

interface VolumeMount {
  name: string;
  mountPath: string;
}
interface Manifest {
  metadata: { name: string };
  spec: { containers: { name: string; volumeMounts?: VolumeMount[] }[]; volumes?: { name: string }[] };
}

/** Renames the pod and drops every volume mounted at `mountPath` (default: nginx's html directory), and its mounts. */
export function benchManifest(seedYaml: string, podName: string, dropMountPath: string | null = '/usr/share/nginx/html'): string {
  const doc = parse(seedYaml) as Manifest;
  if (!doc?.metadata || !doc.spec?.containers) throw new Error('the seed manifest is not a Pod');
  doc.metadata.name = podName;
  if (dropMountPath !== null) {
    const dropped = new Set<string>();
    for (const c of doc.spec.containers) {
      for (const m of c.volumeMounts ?? []) if (m.mountPath === dropMountPath) dropped.add(m.name);
    }
    for (const c of doc.spec.containers) {
      if (c.volumeMounts) c.volumeMounts = c.volumeMounts.filter((m) => !dropped.has(m.name));
    }
    if (doc.spec.volumes) doc.spec.volumes = doc.spec.volumes.filter((v) => !dropped.has(v.name));
  }
  return stringify(doc);
}
