import { describe, expect, it } from 'vitest';
import { netnsPinName, netnsPinPath, netnsPinPrefix, podPaths, resolveRoots } from '../../src/state/paths.js';

describe('network namespace pins', () => {
  const a = resolveRoots('/tmp/root-a');
  const b = resolveRoots('/tmp/root-b');

  it('name the pod, and differ between roots for the same pod', () => {
    expect(netnsPinName(a, 'web')).toMatch(/^podns-[0-9a-f]{8}-web$/);
    expect(netnsPinName(a, 'kube-system_dns')).toMatch(/^podns-[0-9a-f]{8}-kube-system_dns$/);
    expect(netnsPinName(a, 'web')).not.toBe(netnsPinName(b, 'web'));
    expect(netnsPinName({ run: '/run/podns' }, 'web'), 'the default root has a hash too').toMatch(/^podns-[0-9a-f]{8}-web$/);
    expect(netnsPinPath(a, 'web')).toBe(`/run/netns/${netnsPinName(a, 'web')}`);
    expect(podPaths(a, 'web', 'default_web_u').netnsPin).toBe(netnsPinPath(a, 'web'));
  });

  it('every pin of a root begins with its prefix, and only its pins', () => {
    expect(netnsPinName(a, 'web').startsWith(netnsPinPrefix(a))).toBe(true);
    expect(netnsPinName(b, 'web').startsWith(netnsPinPrefix(a))).toBe(false);
  });

  it('stay within NAME_MAX (255) for the longest ids, still distinct and still naming the pod', () => {
    const ns = 'n'.repeat(63);
    const long1 = `${ns}_${'x'.repeat(252)}a`;
    const long2 = `${ns}_${'x'.repeat(252)}b`;
    for (const id of [long1, long2]) {
      const name = netnsPinName(a, id);
      expect(name.length).toBeLessThanOrEqual(255);
      expect(name.startsWith(`${netnsPinPrefix(a)}${ns}_xxx`)).toBe(true);
    }
    expect(netnsPinName(a, long1)).not.toBe(netnsPinName(a, long2));
    const fits = 'y'.repeat(255 - netnsPinPrefix(a).length);
    expect(netnsPinName(a, fits)).toBe(`${netnsPinPrefix(a)}${fits}`);
  });
});
