/**
 * Two podns roots on one host: /run/netns is one directory for the whole host, so each pod's network namespace
 * pin carries a hash of its root (`podns-<hash>-<pod>`). Proves: two roots run a pod of the same name at the same
 * time (each in a test network namespace of its own, bridge networking), both pinned, both listed by `ip netns`,
 * each pin the pod's own network namespace; `podns gc` removes a pin of its own root that no pod owns and never
 * another root's; both removed leave nothing. Requires: root, the native build, dist/, the test images, ip.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETNS_DIR, netnsPinPrefix, resolveRoots } from '../../src/state/paths.js';
import { createPodns, findLeaks, inspect, kernelSkip, nsInodes, pinOf, podName, type Podns } from './harness.js';
import { BUSYBOX, SLEEPER, shOk } from './support.js';

describe.skipIf(kernelSkip)('two roots', () => {
  let a: Podns;
  let b: Podns;
  const pod = podName('web');
  const strays: string[] = [];
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: ${pod}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: ${BUSYBOX}, command: ${SLEEPER}}
`;

  beforeAll(async () => {
    [a, b] = await Promise.all([createPodns({ network: 'private' }), createPodns({ network: 'private' })]);
  });
  afterAll(async () => {
    for (const p of strays) fs.rmSync(p, { force: true });
    for (const podns of [a, b]) await podns?.run(['rm', '-f', pod]);
    await Promise.all([a?.dispose(), b?.dispose()]);
  });

  it('run a pod of the same name at once, each pinned at a name of its own that ip netns lists', async () => {
    await Promise.all([a.ok(['run', a.writeManifest(pod, manifest)]), b.ok(['run', b.writeManifest(pod, manifest)])]);
    const pins = [pinOf(a.root, pod), pinOf(b.root, pod)];
    expect(pins[0]).not.toBe(pins[1]);
    const listed = String((await execa('ip', ['netns', 'list'])).stdout).split('\n').map((l) => l.split(' ')[0]);
    for (const [podns, pin] of [[a, pins[0]!], [b, pins[1]!]] as const) {
      const state = await inspect(podns, pod);
      expect(state.paths.netnsPin).toBe(pin);
      expect(path.basename(pin)).toMatch(new RegExp(`^podns-[0-9a-f]{8}-${pod}$`));
      expect(listed).toContain(path.basename(pin));
      expect(fs.statSync(pin).ino).toBe(nsInodes(state.pause.pid).net);
      // Each pod has its address on its own root's bridge (each root runs in a test network namespace of its own).
      expect(await shOk(podns, pod, 'c', 'ip -4 -o addr show eth0')).toMatch(/inet 10\.89\.0\.\d+\/16/);
    }
    expect(fs.statSync(pins[0]!).ino).not.toBe(fs.statSync(pins[1]!).ino);
  });

  it("gc removes a pin of its own root that no pod owns, never another root's", async () => {
    const mine = path.join(NETNS_DIR, `${netnsPinPrefix(resolveRoots(a.root))}gone`);
    const theirs = path.join(NETNS_DIR, `${netnsPinPrefix(resolveRoots(b.root))}gone`);
    for (const p of [mine, theirs]) {
      fs.writeFileSync(p, '');
      strays.push(p);
    }
    expect(await a.ok(['gc'])).toContain(`removed network namespace pin ${mine} (no pod)`);
    expect(fs.existsSync(mine)).toBe(false);
    expect(fs.existsSync(theirs)).toBe(true);
    // The running pods' pins stay.
    expect(fs.existsSync(pinOf(a.root, pod))).toBe(true);
    expect(fs.existsSync(pinOf(b.root, pod))).toBe(true);
    fs.rmSync(theirs);
  });

  it('both removed leave nothing', async () => {
    await Promise.all([a.ok(['rm', '-f', pod]), b.ok(['rm', '-f', pod])]);
    for (const podns of [a, b]) {
      expect(fs.existsSync(pinOf(podns.root, pod))).toBe(false);
      expect(findLeaks(podns.root, [pod])).toEqual([]);
    }
  });
});
