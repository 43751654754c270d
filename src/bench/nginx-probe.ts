/**
 * "run → nginx answers": the time from the start of `podns run` to nginx's first HTTP answer.
 *   bridge  an HTTP GET to the pod's IP from the bench's network namespace, as a client on the node would,
 *           polled every millisecond by http-probe.js. The address is podns's lease for the pod (a file read,
 *           so asking starts within a millisecond of `podns run` returning), else eth0's in the pod's netns;
 *   none    the pod has loopback only: `curl http://127.0.0.1/` in the pod's network namespace (nsenter into
 *           its /run/netns pin), polled back to back; the resolution is one curl start (printed beside it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { NetworkMode } from './args.js';
import type { BenchNetns } from './bench-netns.js';
import type { ProbeAnswer } from './http-probe.js';
import { describe, timed } from './spawn-timed.js';
import { projectPath } from '../sys/project-path.js';
import { DEFAULT_NETWORK } from '../network/network-config.js';
import { listLeases } from '../network/ipam.js';

export interface NginxAnswer {
  /** hrtime (ns) of the first answer. */
  atNs: bigint;
  attempts: number;
  /** How late the answer may be seen: the gap between attempts (about 1 ms), or one curl's run (ms). */
  resolutionMs: number;
}

/** Which pod to ask: its id (for its lease), its netns pin, podns's data root. */
export interface ProbeTarget {
  podId: string;
  netnsPin: string;
  libRoot: string;
}

export const PROBE_METHOD: Record<NetworkMode, string> = {
  bridge: "HTTP GET to the pod IP from the bench's network namespace, polled every 1 ms (a fresh connection each)",
  none: 'curl http://127.0.0.1/ in the pod network namespace (nsenter), polled back to back',
};

/** The pod's IPv4 address on eth0, read from the kernel in the pod's network namespace. */
export async function podAddress(netnsPin: string): Promise<string> {
  const argv = ['nsenter', `--net=${netnsPin}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'];
  const r = await timed(argv, process.env, 10_000);
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`no IPv4 address on eth0 in ${netnsPin} (is the pod bridged?): ${describe(argv, r)}`);
  return m[1]!;
}

export class NginxProbe {
  private helper?: ChildProcess;
  private readonly waiting = new Map<number, (a: ProbeAnswer) => void>();
  private nextId = 1;

  private constructor(
    readonly mode: NetworkMode,
    private readonly netns: BenchNetns,
  ) {}

  static async start(mode: NetworkMode, netns: BenchNetns): Promise<NginxProbe> {
    const probe = new NginxProbe(mode, netns);
    if (mode === 'bridge') await probe.startHelper();
    return probe;
  }

  private async startHelper(): Promise<void> {
    const child = spawn('nsenter', [`--net=${this.netns.path}`, process.execPath, projectPath('dist/bench/http-probe.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.helper = child;
    const lines = readline.createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`http-probe exited (${code}) before it was ready`)));
      lines.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(`http-probe: ${l}`))));
    });
    child.removeAllListeners('exit');
    child.on('exit', () => {
      for (const w of this.waiting.values()) w({ id: 0, ok: false, error: 'http-probe exited' });
      this.waiting.clear();
    });
    lines.on('line', (l) => {
      const a = JSON.parse(l) as ProbeAnswer;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  /** The helper's pid (not counted as podns's), if any. */
  get pid(): number | undefined {
    return this.helper?.pid;
  }

  /** Waits for nginx in the pod to answer. */
  async firstAnswer(target: ProbeTarget, timeoutMs: number): Promise<NginxAnswer> {
    if (this.mode === 'bridge') {
      const lease = listLeases(target.libRoot, process.env.PODNS_BRIDGE ?? DEFAULT_NETWORK.bridge).find((l) => l.podId === target.podId);
      const url = `http://${lease?.ip ?? (await podAddress(target.netnsPin))}/`;
      const id = this.nextId++;
      const answer = await new Promise<ProbeAnswer>((resolve) => {
        this.waiting.set(id, resolve);
        this.helper!.stdin!.write(JSON.stringify({ id, url, timeoutMs }) + '\n');
      });
      if (!answer.ok) throw new Error(answer.error);
      return { atNs: BigInt(answer.atNs), attempts: answer.attempts, resolutionMs: 1 };
    }
    const argv = ['nsenter', `--net=${target.netnsPin}`, 'curl', '-s', '-o', '/dev/null', '--max-time', '2', 'http://127.0.0.1/'];
    const deadline = process.hrtime.bigint() + BigInt(timeoutMs) * 1_000_000n;
    for (let attempts = 1; ; attempts++) {
      const r = await timed(argv, process.env, 5_000);
      if (r.code === 0) return { atNs: r.end, attempts, resolutionMs: r.ms };
      if (r.end > deadline) throw new Error(`nginx did not answer within ${timeoutMs} ms (${attempts} attempts; last: ${describe(argv, r)})`);
    }
  }

  close(): void {
    this.helper?.stdin?.end();
    this.helper?.kill('SIGTERM');
  }
}
