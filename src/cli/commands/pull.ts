/**
 * `podns pull REF`: the registry pull with progress. On a terminal, one bar per layer redrawn in place; on
 * anything else (logs, CI), one plain line per layer event.
 */
import { ImageStore } from '../../image/image-store.js';
import { pullImage, type PullProgress, type PullResult } from '../../image/pull.js';
import { imagesDir, type Roots } from '../../state/paths.js';
import { SpawnRunner } from '../../sys/command.js';

export interface PullCommandOptions {
  authfile?: string;
  quiet?: boolean;
}

export async function pullCommand(roots: Roots, ref: string, opts: PullCommandOptions, out: NodeJS.WriteStream = process.stdout): Promise<PullResult> {
  const store = new ImageStore(imagesDir(roots), new SpawnRunner());
  const progress = opts.quiet ? undefined : out.isTTY ? new BarProgress(out) : linesProgress(out);
  const result = await pullImage(store, ref, { etcDir: roots.etc, authFile: opts.authfile, progress });
  if (progress instanceof BarProgress) progress.finish();
  if (!opts.quiet) {
    out.write(`${result.changed ? 'Downloaded newer image for' : 'Image is up to date for'} ${result.record.name}\n`);
    out.write(`Digest: ${result.record.digest}\n`);
  }
  return result;
}

const short = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

function linesProgress(out: NodeJS.WritableStream): PullProgress {
  const words = { exists: 'Already exists', downloading: 'Downloading', downloaded: 'Download complete', unpacked: 'Unpacked' };
  return {
    resolved: (name, digest, source) => out.write(`Pulling ${name} from ${source} (${digest})\n`),
    layer: (digest, size, state) => out.write(`${short(digest)}: ${words[state]}${state === 'downloading' && size ? ` (${formatBytes(size)})` : ''}\n`),
  };
}

/** Docker-style bars: one line per layer, redrawn with cursor movements, at most every 100 ms. */
class BarProgress implements PullProgress {
  private readonly rows: { digest: string; text: string }[] = [];
  private drawn = 0;
  private last = 0;
  constructor(private readonly out: NodeJS.WriteStream) {}

  resolved(name: string, digest: string, source: string): void {
    this.out.write(`Pulling ${name} from ${source} (${digest})\n`);
  }
  layer(digest: string, size: number | undefined, state: string): void {
    const label = { exists: 'Already exists', downloading: 'Downloading', downloaded: 'Download complete', unpacked: 'Pull complete' }[state] ?? state;
    this.set(digest, `${label}${state === 'downloading' && size ? ` ${formatBytes(size)}` : ''}`);
    this.draw(true);
  }
  bytes(digest: string, received: number, size: number | undefined): void {
    const width = 30;
    const fraction = size ? Math.min(received / size, 1) : 0;
    const bar = `[${'='.repeat(Math.max(0, Math.round(fraction * width) - 1))}>${' '.repeat(width - Math.max(1, Math.round(fraction * width)))}]`;
    this.set(digest, `Downloading ${bar} ${formatBytes(received)}${size ? `/${formatBytes(size)}` : ''}`);
    this.draw(false);
  }
  finish(): void {
    this.draw(true);
  }
  private set(digest: string, text: string): void {
    const row = this.rows.find((r) => r.digest === digest);
    if (row) row.text = text;
    else this.rows.push({ digest, text });
  }
  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const row of this.rows) text += `\x1b[2K${short(row.digest)}: ${row.text}\n`;
    this.drawn = this.rows.length;
    this.out.write(text);
  }
}

function formatBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}MB`;
  return `${(n / 1e9).toFixed(2)}GB`;
}
