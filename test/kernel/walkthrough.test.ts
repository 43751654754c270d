/**
 * docs/walkthrough.md is generated from a real run by scripts/walkthrough.ts; this test runs it, so every CI
 * run regenerates the walkthrough (in CI it is written to docs/, elsewhere to a temp file) and checks that the
 * story holds. Requires: root, the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelSkip, projectRoot } from './harness.js';

describe.skipIf(kernelSkip)('docs/walkthrough.md', () => {
  it('is generated from a real run and tells the whole story', async () => {
    const tmp = process.env.CI ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'podns-walk-'));
    const out = tmp ? path.join(tmp, 'walkthrough.md') : path.join(projectRoot, 'docs', 'walkthrough.md');
    let doc: string;
    try {
      await execa(process.execPath, [path.join(projectRoot, 'scripts', 'walkthrough.ts'), out], { env: { PODNS_NODE: process.execPath } });
      doc = fs.readFileSync(out, 'utf8');
    } finally {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
    for (const heading of ['## 1. Run it, and see every kernel step', '## 3. The namespace map', '## 4. The processes, seen from the sidecar', '## 6. Why the pause exists', '## 7. Nothing is left behind']) {
      expect(doc).toContain(heading);
    }
    expect(doc).toMatch(/\[pause\] clone\(CLONE_NEWNS\|CLONE_NEWUTS\|CLONE_NEWIPC\|CLONE_NEWNET\|CLONE_NEWPID\|SIGCHLD\)/);
    expect(doc).toMatch(/^\s+1 65535\s+\/pause$/m); // the pause, as Kubernetes' pause image's uid once it dropped root
    expect(doc).toContain('hello pod');
    expect(doc).toMatch(/busybox\s+Exited \(137\)/);
    expect(doc).toMatch(/\$ podns ps\nPOD\s+CONTAINER\s+STATUS\s+PID\s+IMAGE\s+AGE\n```/);
  }, 120_000);
});
