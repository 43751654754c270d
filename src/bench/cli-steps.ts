/**
 * `node dist/bench/cli-steps.js ROOT MANIFEST`: what `podns run` does before it starts the supervisor, step by step
 * in a fresh process, timed in-process: loading commander, loading the run command's modules, parsing and
 * validating the manifest, looking the images up. Prints one JSON object of ms. Read-only: it starts nothing.
 */
import { performance } from 'node:perf_hooks';

const [root, manifest] = process.argv.slice(2);
const t: Record<string, number> = { bootstrapped: performance.now() };
let last = performance.now();
const step = (name: string) => {
  const now = performance.now();
  t[name] = now - last;
  last = now;
};
await import('commander');
step('import commander');
const { resolveRoots, imagesDir } = await import('../state/paths.js');
step('import state/paths');
await import('../cli/commands/run.js');
step('import cli/commands/run (+deps)');
const { loadManifests } = await import('../manifest/load-manifest.js');
const { pods } = await loadManifests(manifest!);
step('load + validate manifest');
const { ImageStore } = await import('../image/image-store.js');
const { ExecaRunner } = await import('../sys/command.js');
const store = new ImageStore(imagesDir(resolveRoots(root)), new ExecaRunner());
for (const c of pods[0]!.spec.containers) if (!(await store.get(c.image))) throw new Error(`no image ${c.image}`);
step('image lookup (2 images)');
const { randomUUID } = await import('node:crypto');
randomUUID();
step('randomUUID (crypto)');
t.total = performance.now();
process.stdout.write(JSON.stringify(t) + '\n');
