/** `podns gc`: see src/kubelet/garbage.ts. */
import { loadNetworkConfig } from '../../network/network-config.js';
import { collectGarbage } from '../../kubelet/garbage.js';
import type { Roots } from '../../state/paths.js';
import { SpawnRunner } from '../../sys/command.js';
import { nativeKernel } from '../../sys/native.js';

export async function runGarbageCollection(roots: Roots, report: (line: string) => void): Promise<void> {
  let removed = 0;
  await collectGarbage(roots, loadNetworkConfig(roots.etc), nativeKernel, new SpawnRunner(), (line) => {
    removed++;
    report(line);
  });
  if (removed === 0) report('nothing to remove');
}
