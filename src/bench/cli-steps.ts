/**
 * `node dist/bench/cli-steps.js ROOT MANIFEST`: what `podns run` does before it starts the supervisor, step by step
 * in a fresh process, timed in-process: loading the run command's modules, parsing and validating the manifest,
 * looking the images up, making the pod's uid. Prints one JSON object of ms. Read-only: it starts nothing.
 */
import { performance } from 'node:perf_hooks';

// As main.ts does: V8's code cache on disk.
process.getBuiltinModule('node:module').enableCompileCache?.();

const [root, manifest] = process.argv.slice(2);
const t: Record<string, number> = { bootstrapped: performance.now() };
let last = performance.now();
const step = (name: string) => {
  const now = performance.now();
  t[name] = now - last;
  last = now;
};
const { resolveRoots, imagesDir } = await import('../state/paths.js');
step('import state/paths');
await import('../cli/commands/run.js');
step('import cli/commands/run (+deps)');
const { loadManifests } = await import('../manifest/load-manifest.js');
const { pods } = await loadManifests(manifest!);
step('load + validate manifest');
const { findImageRecord } = await import('../image/image-records.js');
const store = imagesDir(resolveRoots(root));
for (const c of pods[0]!.spec.containers) if (!findImageRecord(store, c.image)) throw new Error(`no image ${c.image}`);
step('image lookup (2 images)');
const { randomUuid } = await import('../sys/random-uuid.js');
randomUuid();
step('pod uid (random-uuid)');
t.total = performance.now();
process.stdout.write(JSON.stringify(t) + '\n');
