import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { benchManifest } from '../../../src/bench/manifest-variant.js';
import { loadManifests } from '../../../src/manifest/load-manifest.js';

const seed = fs.readFileSync(fileURLToPath(new URL('../../../examples/nginx-busybox.yaml', import.meta.url)), 'utf8');

describe('benchManifest', () => {
  it('renames the pod and drops the emptyDir over nginx html, keeping the shared log volume', () => {
    const doc = parse(benchManifest(seed, 'bench-x-1'));
    expect(doc.metadata.name).toBe('bench-x-1');
    expect(doc.spec.volumes).toEqual([{ name: 'nginx-log', emptyDir: {} }]);
    expect(doc.spec.containers[0].volumeMounts).toEqual([{ name: 'nginx-log', mountPath: '/var/log/nginx' }]);
    expect(doc.spec.containers[1].volumeMounts).toEqual([{ name: 'nginx-log', mountPath: '/var/log/nginx' }]);
    expect(doc.spec.shareProcessNamespace).toBe(true);
    expect(doc.spec.containers[1].command).toEqual(['/bin/sh', '-c', 'while true; do sleep 1h; done;']);
  });
  it('keeps the seed unchanged but for the name when asked to drop nothing', () => {
    const doc = parse(benchManifest(seed, 'p', null));
    expect({ ...doc, metadata: {} }).toEqual({ ...parse(seed), metadata: {} });
  });
  it('gives a manifest podns accepts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-manifest-'));
    try {
      const file = path.join(dir, 'pod.yaml');
      fs.writeFileSync(file, benchManifest(seed, 'bench-x-2'));
      const { pods } = await loadManifests(file);
      expect(pods.map((p) => p.metadata.name)).toEqual(['bench-x-2']);
      expect(pods[0]!.spec.volumes.map((v) => v.name)).toEqual(['nginx-log']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses what is not a Pod', () => {
    expect(() => benchManifest('a: 1\n', 'p')).toThrow(/not a Pod/);
  });
});
