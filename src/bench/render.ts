/** The bench report as text tables. Pure; unit-tested in test/unit/bench/render.test.ts. */
import { renderNetwork } from './network-bench.js';
import { renderCri } from './cri-bench.js';
import { renderPull } from './pull-bench.js';
import { describeCounts, type BenchReport, type MemoryRow, type TimingRow } from './report.js';
import type { Summary } from './stats.js';
import { describeTarget, QUOTED } from './targets.js';
import { formatMs, formatRatio, formatTable } from './table.js';

const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'MISSED');
const mbText = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const spread = (s: Summary, f: (x: number) => string) => (s.n > 1 ? `${f(s.min)}–${f(s.max)}` : '');
const msSpread = (s: Summary) => spread(s, formatMs);

/** Quoted podman figures for the rows that have one (issue 12's side-by-side; never measured here). */
const PODMAN: Partial<Record<string, number>> = {
  runToRunning: QUOTED.podman.runToRunning,
  runToHttp: QUOTED.podman.runToHttp,
  exec: QUOTED.podman.exec,
  rmForce: QUOTED.podman.rmForce,
  ps: QUOTED.podman.ps,
  logs: QUOTED.podman.logs,
};

function timingTable(rows: [string, TimingRow][]): string {
  return formatTable(
    ['measurement (ms)', 'median', 'min–max', '/floor', '/node', 'target', 'verdict', 'podman*'],
    rows.map(([key, t]) => [
      t.label,
      formatMs(t.median),
      msSpread(t),
      formatRatio(t.ratioToFloor),
      formatRatio(t.ratioToNode),
      t.target ? describeTarget(t.target) : '',
      verdict(t.met),
      PODMAN[key] !== undefined ? String(PODMAN[key]) : '',
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'right'],
  );
}

function memoryTable(rows: MemoryRow[], targetMb: number): string {
  return formatTable(
    ['pods', 'read', 'supervision processes', 'RSS', 'PSS', 'PSS min–max', 'per pod PSS', 'min–max', `≤ ${targetMb}`],
    rows.map((r) => [
      String(r.pods),
      r.source,
      describeCounts(r.processes),
      mbText(r.rssMb.median),
      mbText(r.pssMb.median),
      spread(r.pssMb, mbText),
      r.perPodPssMb ? mbText(r.perPodPssMb.median) : '',
      r.perPodPssMb ? spread(r.perPodPssMb, mbText) : '',
      verdict(r.met),
    ]),
    ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`podns bench · network mode: ${m.network}${m.network === 'bridge' ? " (podns's default)" : ''}, podns in network namespace ${m.netns} · process model found: ${m.processModel}`);
  out.push(`node ${m.node} · kernel ${m.kernel} · ${m.cpus} x ${m.cpuModel} · parts: ${m.parts.join(', ')}`);
  out.push(`pod: ${m.manifest}`);
  out.push(`every command timed from spawn to exit, through ${m.wrapper}, the anchors too\n`);

  const t = r.timings;
  const pick = (keys: string[]) => keys.filter((k) => t[k as keyof typeof t]).map((k) => [k, t[k as keyof typeof t]!] as [string, TimingRow]);
  if (Object.keys(t).length) {
    out.push(`timings: ${m.runs} runs${t.floor ? ` (+${m.warmup} warm-up); floor, nsenter and node twice per run` : ''}; network ${m.network}`);
    out.push(timingTable(pick(['floor', 'nsenter', 'node', 'runToRunning', 'runToHttp', 'exec', 'rmForce', 'psAtScale'])));
    const everyday = pick(['ps', 'logs', 'images', 'inspect', 'stop']);
    if (everyday.length) {
      out.push('everyday commands (target: median within 1.3x of node -e 0 in the same run)');
      out.push(timingTable(everyday));
    }
    if (r.httpProbe) {
      out.push(
        `nginx answers: ${r.httpProbe.method}; ${r.httpProbe.attempts.median} attempt(s) (median, max ${r.httpProbe.attempts.max}); resolution ~${formatMs(r.httpProbe.resolutionMs.median)} ms`,
      );
    }
    out.push(`* podman: ${QUOTED.source}\n`);
  }

  if (r.memory) {
    const mem = r.memory;
    out.push(`memory of supervision (MB; PSS and RSS from /proc/PID/smaps_rollup), model: ${mem.model}`);
    out.push('supervision = the supervisor (<run>/supervisor.pid) or every Node process of the bench\'s root (per-pod shims), plus each pod\'s pause');
    out.push(`per pod = (supervision PSS − ${Number.isFinite(mem.baseline.pssMb) ? mbText(mem.baseline.pssMb) : 'its no-pod PSS'}) / pods; baseline: ${mem.baseline.source || 'each seed run\'s own no-pod read'}`);
    out.push(memoryTable(mem.rows, mem.perPodTargetMb));
    out.push(
      mem.supervisorIdleRssMb
        ? `supervisor with no pod: ${mbText(mem.supervisorIdleRssMb.median)} MB RSS (${spread(mem.supervisorIdleRssMb, mbText) || 'one read'}); target ≤ ${mem.supervisorIdleTargetMb} MB: ${verdict(mem.supervisorIdleRssMb.median <= mem.supervisorIdleTargetMb)}`
        : `supervisor with no pod: none runs (${mem.model}: supervision comes and goes with each pod); target ≤ ${mem.supervisorIdleTargetMb} MB RSS: not applicable`,
    );
    out.push(`quoted anchors, ${mem.quoted}\n`);
  }

  if (r.scale) {
    const s = r.scale;
    const seq = s.sequential;
    out.push(`scale: copies of the article's pod, network ${m.network}`);
    out.push(
      `${seq.started}/${s.pods} started by sequential podns run in ${seq.totalS.toFixed(1)} s` +
        (seq.targetS !== undefined ? ` (target ≤ ${seq.targetS} s: ${verdict(seq.met)})` : ` (the ≤ 15 s target is for 100 pods)`) +
        `; per run ${formatMs(seq.runs.median)} ms (${msSpread(seq.runs)}); first ten ${formatMs(seq.firstTenMs.median)} ms, last ten ${formatMs(seq.lastTenMs.median)} ms (medians)`,
    );
    if (seq.failure) out.push(`  stopped: ${seq.failure}`);
    const c = s.concurrent;
    out.push(
      `${c.succeeded}/${c.requested} concurrent podns run succeeded in ${formatMs(c.wallMs)} ms wall; per run ${formatMs(c.runs.median)} ms (${msSpread(c.runs)})` +
        (c.failures.length ? `\n  ${c.failures.join('\n  ')}` : ''),
    );
    const a = s.addresses;
    if ('skipped' in a) out.push(`pod addresses: not checked (${a.skipped})`);
    else {
      out.push(`pod addresses: ${a.checked} pods running, ${a.distinct} distinct addresses${a.duplicates.length ? `; SHARED: ${a.duplicates.join('; ')}` : ''}${a.failures.length ? `; no address: ${a.failures.join('; ')}` : ''}`);
    }
    if (s.removal) {
      out.push(`podns rm -f of ${s.removal.pods} pods in one command: ${s.removal.failure ? `FAILED: ${s.removal.failure}` : `${formatMs(s.removal.ms)} ms (${formatMs(s.removal.perPodMs)} ms per pod)`}`);
    }
    const l = s.leftovers;
    if (!l.atReturn.length) out.push('left behind when rm -f returned: nothing (pod dirs, netns pins, veths, leases, hostPorts, mounts, processes, cgroups)');
    else {
      out.push(`left behind when rm -f returned: ${l.atReturn.length}: ${l.atReturn.slice(0, 10).join('; ')}${l.atReturn.length > 10 ? '; ...' : ''}`);
      out.push(`  2 s later: ${l.after2s?.length ? `${l.after2s.length}: ${l.after2s.slice(0, 10).join('; ')}${l.after2s.length > 10 ? '; ...' : ''}` : 'nothing'}`);
    }
    out.push('');
  }

  if (r.pull) out.push(renderPull(r.pull));
  if (r.network) out.push(renderNetwork(r.network));
  if (r.cri) out.push(renderCri(r.cri));
  for (const f of r.failures) out.push(`FAILED: ${f}`);
  for (const p of r.cleanupProblems) out.push(`clean-up: ${p}`);
  return out.join('\n').replace(/\n*$/, '\n');
}
