/**
 * The bench's own network namespace: podns makes its bridge, veths, nft table and forwarding sysctls there,
 * never on the host (as test/kernel/harness.ts does for createPodns({network: 'private'})). Every command the
 * bench times runs through `nsenter --net=/run/netns/<name>`, the anchors too, so the wrapper's cost is the
 * same on both sides of every ratio.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export class BenchNetns {
  readonly path: string;

  private constructor(readonly name: string) {
    this.path = `/run/netns/${name}`;
  }

  /** `ip netns add NAME` and loopback up; throws (with nothing left behind) when either fails. */
  static create(name: string): BenchNetns {
    const ns = new BenchNetns(name);
    execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      ns.remove();
      throw err;
    }
    return ns;
  }

  /** argv, run in this namespace. */
  wrap(argv: readonly string[]): string[] {
    return ['nsenter', `--net=${this.path}`, ...argv];
  }

  /** Deletes the namespace (and with it every veth end and the bridge still in it); returns what failed. */
  remove(): string[] {
    if (!fs.existsSync(this.path)) return [];
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: ['ignore', 'ignore', 'pipe'] });
      return [];
    } catch (err) {
      return [`ip netns del ${this.name}: ${(err as Error).message.split('\n')[0]}`];
    }
  }
}
