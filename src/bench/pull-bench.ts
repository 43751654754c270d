/**
 * The pull bench (issue 4): `podns pull` of the nginx test image from a local docker-registry, cold (empty
 * store) and warm (image present: one manifest request), against `skopeo copy docker://… oci:DIR` +
 * `umoci unpack` measured in the same run, in alternation so machine noise hits both alike. Targets: cold no
 * slower than skopeo+umoci, warm < 100 ms. The registry listens on 127.0.0.1 and a free port with a temp
 * storage; it and every temp dir are removed at the end. Part `pull` of `npm run bench`, or alone:
 * `node dist/bench/pull-bench.js [--runs N]`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { timed } from './spawn-timed.js';
import { ratio, series, type Series } from './stats.js';
import { formatMs, formatRatio, formatTable } from './table.js';
import { freePort } from './free-port.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const podnsBin = path.join(projectRoot, 'bin', 'podns');
const imageCache = process.env.PODNS_IMAGE_CACHE ?? '/var/cache/podns/test-images';

async function check(argv: string[]): Promise<number> {
  const done = await timed(argv, process.env, 120_000);
  if (done.code !== 0) throw new Error(`${argv.join(' ')}: exit ${done.code}: ${done.stderr.trim().split('\n').pop()}`);
  return done.ms;
}

export interface PullResult {
  registry: string;
  runs: number;
  /** podns pull into an empty store: download, verify, unpack. */
  cold: Series;
  /** podns pull of an image already present. */
  warm: Series;
  skopeoUmoci: Series;
  coldToSkopeoUmoci: number;
  warmTargetMs: number;
}

const WARM_TARGET_MS = 100;

/** Runs the comparison. Throws if a tool is missing. */
export async function runPullBench(runs = 5): Promise<PullResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-pull-bench-'));
  const port = await freePort();
  fs.writeFileSync(
    path.join(work, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${work}/registry\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const registry = spawn('docker-registry', ['serve', path.join(work, 'config.yml')], { stdio: 'ignore' });
  try {
    const host = `127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 200 || registry.exitCode !== null) throw new Error('docker-registry did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const ref = `${host}/library/nginx:latest`;
    await check(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci-archive:${path.join(imageCache, 'nginx.tar')}`, `docker://${ref}`]);

    const cold: number[] = [];
    const warm: number[] = [];
    const pair: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const root = path.join(work, `root-${i}`);
      const c = await check([podnsBin, '--root', root, 'pull', '-q', ref]);
      const w = await check([podnsBin, '--root', root, 'pull', '-q', ref]);
      const oci = path.join(work, `oci-${i}`);
      const bundle = path.join(work, `bundle-${i}`);
      const s = await check(['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${oci}:latest`]);
      const u = await check(['umoci', 'unpack', '--image', `${oci}:latest`, bundle]);
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(oci, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
      if (i === 0) continue; // warm-up: page cache, Node's compile cache
      cold.push(c);
      warm.push(w);
      pair.push(s + u);
    }
    const result = { registry: host, runs, cold: series(cold), warm: series(warm), skopeoUmoci: series(pair), coldToSkopeoUmoci: 0, warmTargetMs: WARM_TARGET_MS };
    result.coldToSkopeoUmoci = ratio(result.cold.median, result.skopeoUmoci.median);
    return result;
  } finally {
    registry.kill('SIGTERM');
    await new Promise((r) => (registry.exitCode !== null ? r(undefined) : registry.once('exit', r)));
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function renderPull(r: PullResult): string {
  const { cold: c, warm: w, skopeoUmoci: p } = r;
  const rows = [
    ['podns pull (cold: download + verify + unpack)', formatMs(c.median), formatMs(c.min), formatMs(c.max), formatRatio(r.coldToSkopeoUmoci)],
    ['skopeo copy docker:// oci: + umoci unpack', formatMs(p.median), formatMs(p.min), formatMs(p.max), '1.00x'],
    ['podns pull (warm: image present)', formatMs(w.median), formatMs(w.min), formatMs(w.max), `target < ${r.warmTargetMs} ms: ${w.median < r.warmTargetMs ? 'met' : 'MISSED'}`],
  ];
  return `pull: nginx test image from docker-registry on ${r.registry} (loopback), ${r.runs} runs (+1 warm-up)\n${formatTable(['', 'median', 'min', 'max', 'vs skopeo+umoci'], rows, ['left', 'right', 'right', 'right', 'right'])}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
  runPullBench(runs).then(
    (result) => process.stdout.write(renderPull(result)),
    (err: unknown) => {
      process.stderr.write(`pull bench: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
