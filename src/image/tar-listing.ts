/**
 * Reads `tar -tv --quoting-style=c` output and refuses archives whose entries would land outside the
 * directory they are extracted into. GNU tar already strips a leading `/` and skips `..` members, but it
 * only warns; podns refuses the whole layer so a hostile image never half-loads.
 */
import type { CommandRunner } from '../sys/command.js';
import { PodnsError } from '../errors.js';

export interface TarEntry {
  /** First character of the `ls -l` mode: `-` file, `d` dir, `l` symlink, `h` hard link, `c`, `b`, `p`. */
  type: string;
  name: string;
  /** Symlink or hard link target. */
  target?: string;
}

/** Lists an archive (gzip/zstd/plain, tar detects which) without extracting it. */
export async function listTar(runner: CommandRunner, file: string, step: string): Promise<TarEntry[]> {
  const { stdout } = await runner.run(['tar', '-t', '-v', '-f', file, '--numeric-owner', '--quoting-style=c'], {
    env: { LC_ALL: 'C' },
    step,
  });
  return parseTarListing(stdout);
}

/** Parses verbose listing lines: `-rw-r--r-- 0/0   3 2024-01-01 00:00 "name" [-> "target" | link to "target"]`. */
export function parseTarListing(text: string): TarEntry[] {
  const entries: TarEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // Mode, owner, size and date never contain '"', so the first one opens the quoted name.
    const open = line.indexOf('"');
    if (open === -1) throw new Error(`unexpected tar listing line: ${line}`);
    const [name, end] = readCQuoted(line, open);
    const entry: TarEntry = { type: line[0]!, name };
    const rest = line.slice(end);
    const link = /^ (?:->|link to) "/.exec(rest);
    if (link) entry.target = readCQuoted(rest, link[0].length - 1)[0];
    entries.push(entry);
  }
  return entries;
}

/** The entries that would escape the extraction directory: absolute names, `..` in names or hard-link targets. */
export function findEscapingEntries(entries: TarEntry[]): TarEntry[] {
  const escapes = (p: string): boolean => p.startsWith('/') || p.split('/').includes('..');
  // Symlink targets are not checked: they resolve inside the container's root at run time, and GNU tar
  // defers creating absolute or `..` symlinks until the end of extraction so nothing is written through them.
  return entries.filter((e) => escapes(e.name) || (e.type === 'h' && e.target !== undefined && escapes(e.target)));
}

/** Lists `file` and throws if any entry escapes. */
export async function assertTarContained(runner: CommandRunner, file: string, step: string): Promise<TarEntry[]> {
  const entries = await listTar(runner, file, step);
  const bad = findEscapingEntries(entries);
  if (bad.length > 0) {
    const shown = bad.slice(0, 3).map((e) => `"${e.name}"${e.type === 'h' ? ` (link to "${e.target}")` : ''}`);
    throw new PodnsError(step, `refusing archive "${file}": entries escape the extraction directory: ${shown.join(', ')}${bad.length > 3 ? ', ...' : ''}`);
  }
  return entries;
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, '"': 34, '?': 63 };

/** Decodes the C-style string starting at `line[start] === '"'`; returns it and the index after the closing quote. */
function readCQuoted(line: string, start: number): [string, number] {
  const bytes: number[] = [];
  let i = start + 1;
  while (i < line.length && line[i] !== '"') {
    const ch = line[i]!;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      i++;
      continue;
    }
    const next = line[i + 1] ?? '';
    const octal = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8) & 0xff);
      i += 1 + octal[0].length;
    } else {
      bytes.push(SIMPLE_ESCAPES[next] ?? next.charCodeAt(0));
      i += 2;
    }
  }
  if (line[i] !== '"') throw new Error(`unterminated quoted name in tar listing: ${line}`);
  return [Buffer.from(bytes).toString('utf8'), i + 1];
}
